"""Synthetic data for y = x·w + b, drawn as in the tutorial but seeded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def make_linear(
    w: float | Sequence[float] = 0.3,
    b: float = 0.5,
    size: int = 100,
    noise: float = 0.01,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Return float64 (x, y) with x ~ U[0, 1) and y = x·w + b + U[-noise, noise].

    A scalar ``w`` gives x of shape (size,); a sequence of d weights gives (size, d).
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    w_arr = np.asarray(w, dtype=np.float64)
    if w_arr.ndim > 1 or w_arr.size == 0 or not np.all(np.isfinite(w_arr)):
        raise ValueError(f"w must be a finite scalar or a non-empty sequence of floats, got {w!r}")
    if not np.isfinite(b):
        raise ValueError(f"b must be finite, got {b!r}")
    rng = np.random.default_rng(seed)
    shape = (size,) if w_arr.ndim == 0 else (size, w_arr.size)
    x = rng.random(shape)
    y = (x * w_arr if w_arr.ndim == 0 else x @ w_arr) + b
    y = y + rng.uniform(-noise, noise, size=size)
    return x, y
