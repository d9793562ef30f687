"""Input validation, done once before any framework sees the data."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def as_xy(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return (x as float64 (n, d), y as float64 (n,)) or raise ValueError naming the problem."""
    xa = _as_float(x, "x")
    ya = _as_float(y, "y")
    if xa.ndim == 0 or xa.ndim > 2:
        raise ValueError(f"x must be 1-D (n,) or 2-D (n, d), got {xa.ndim} dimensions {xa.shape}")
    if ya.ndim != 1:
        raise ValueError(f"y must be 1-D (n,), got shape {ya.shape}")
    if xa.shape[0] == 0 or ya.shape[0] == 0 or (xa.ndim == 2 and xa.shape[1] == 0):
        raise ValueError(f"data is empty: x has shape {xa.shape}, y has shape {ya.shape}")
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"x and y have different lengths: {xa.shape[0]} and {ya.shape[0]}")
    for name, a in (("x", xa), ("y", ya)):
        bad = ~np.isfinite(a)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf), first at {first}"
            )
    return (xa.reshape(-1, 1) if xa.ndim == 1 else xa), ya


def as_params(w: ArrayLike, b: float, d: int) -> tuple[np.ndarray, float]:
    """Return (w as float64 (d,), b as float) or raise ValueError naming the problem."""
    wa = _as_float(w, "w").reshape(-1)
    if wa.size != d:
        raise ValueError(f"w has {wa.size} value(s) but x has {d} feature(s)")
    ba = _as_float(b, "b")
    if ba.size != 1:
        raise ValueError(f"b must be a scalar, got shape {ba.shape}")
    if not (np.all(np.isfinite(wa)) and np.isfinite(ba).all()):
        raise ValueError("w and b must be finite")
    return wa, float(ba.reshape(()))


def _as_float(a: ArrayLike, name: str) -> np.ndarray:
    try:
        out = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be numeric: {e}") from None
    return out
