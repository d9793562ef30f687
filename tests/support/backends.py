"""Building a backend for a test (or skipping with the reason), and exact answers to check it against."""

from __future__ import annotations

import numpy as np
import pytest

import impls


def build(name: str, device: str = "cpu") -> impls.BackendBase:
    """The backend ``name``, or a pytest skip saying why it cannot run on ``device`` here."""
    try:
        backend = impls.get_backend(name)
    except impls.BackendUnavailable as e:
        pytest.skip(f"{name} unavailable: {e}")
    assert isinstance(backend, impls.BackendBase)
    if device not in backend.devices():
        pytest.skip(f"{name}: no {device} device here (usable: {', '.join(backend.devices())})")
    return backend


def cuda_anywhere() -> bool:
    """Whether any available backend can use a CUDA device in this process."""
    for name in impls.backend_names():
        try:
            if "cuda" in impls.get_backend(name).devices():
                return True
        except impls.BackendUnavailable:
            continue
    return False


def lstsq(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact least-squares (w, b) for y ≈ x·w + b."""
    xs = x.reshape(len(y), -1)
    sol = np.linalg.lstsq(np.c_[xs, np.ones(len(y))], y, rcond=None)[0]
    return sol[:-1], float(sol[-1])


def optimal_lr(x: np.ndarray) -> tuple[float, float]:
    """(lr, contraction per epoch) of the fastest fixed step for this data's quadratic loss."""
    xs = x.reshape(x.shape[0], -1)
    a = np.c_[xs, np.ones(xs.shape[0])]
    ev = np.linalg.eigvalsh(2 * a.T @ a / xs.shape[0])
    return 2 / (ev[0] + ev[-1]), (ev[-1] - ev[0]) / (ev[-1] + ev[0])
