"""What every timed case shares: its definition, the data, the exact reference and the check.

The runners that time cases (``runners.py``), the scheduler (``protocol.py``) and the trace
(``trace.py``) build on these; all of it is kept free of pytest so it can be tested with spies.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import numpy as np

import impls
from benchmarks.core.sweep import CHECK_TOL, SEED, learning_rate, size_label, spec
from impls import FitResult, TrainConfig


class Bench(Protocol):
    """The part of pytest-benchmark's fixture the suite uses."""

    group: str | None
    extra_info: dict[str, Any]
    has_error: bool

    def pedantic(
        self,
        target: Callable[..., Any],
        *,
        setup: Callable[[], Any] | None = ...,
        rounds: int = ...,
        iterations: int = ...,
    ) -> Any:
        """Time ``target`` for ``rounds`` rounds, calling ``setup`` untimed before each."""
        ...


class CheckFailed(AssertionError):
    """A backend's result is wrong: its numbers must not count."""


@dataclass(frozen=True)
class FitCase:
    """One timed point: backend x size x features x dtype x device x mode, at several epoch counts."""

    backend: str
    n: int
    dtype: str
    device: str
    mode: str  # "nohist" or "history"
    counts: tuple[int, ...]  # epoch counts, ascending: t(E) = t0 + E·te is fitted through them
    d: int = 1  # features

    @property
    def shape(self) -> str:
        """N, and d when above 1: "N=1e4 d=100"."""
        return f"N={size_label(self.n)}" + (f" d={self.d}" if self.d > 1 else "")

    @property
    def group(self) -> str:
        """pytest-benchmark group: backends side by side for one (N, d, dtype, device, mode)."""
        return f"fit {self.device} {self.dtype} {self.shape} {self.mode}"

    @property
    def label(self) -> str:
        """A short name for progress lines and errors."""
        return f"{self.backend} {self.device} {self.dtype} {self.shape} {self.mode}"

    @property
    def data_bytes(self) -> int:
        """Bytes of x and y in this case's dtype: what one epoch of a per-pass backend reads."""
        return (self.n * self.d + self.n) * np.dtype(self.dtype).itemsize

    def config(self, epochs: int) -> TrainConfig:
        """Fixed work: tol=0 so every backend makes exactly ``epochs`` updates."""
        return TrainConfig(
            lr=learning_rate(self.d),
            epochs=epochs,
            tol=0.0,
            seed=SEED,
            dtype=self.dtype,
            device=self.device,
            record_history=self.mode == "history",
        )


@cache
def data(n: int, d: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's data at size n, made once per session and shared by every backend and dtype.

    d = 1: x of shape (n,), the tutorial's. d > 1: x of shape (n, d), every weight the tutorial's.
    """
    w = 0.3 if d == 1 else [0.3] * d
    return impls.make_linear(w=w, b=0.5, size=n, noise=0.01, seed=SEED)


def data_bytes(n: int, dtype: str) -> int:
    """Bytes of x and y together: what one read moves."""
    return 2 * n * np.dtype(dtype).itemsize


@cache
def built(name: str) -> tuple[Any, str | None]:
    """(backend, None), or (None, why it cannot be built here); built once per session."""
    try:
        s = spec(name)
        return impls.get_backend(s.base or name, **s.options), None
    except (impls.BackendUnavailable, TypeError, ValueError) as e:
        return None, str(e)


def reference(x: np.ndarray, y: np.ndarray, cfg: TrainConfig) -> tuple[np.ndarray, float]:
    """(w, b) after cfg.epochs exact gradient steps, from float64 moments: what every backend must reach."""
    xs = x.reshape(len(y), -1)
    n = len(y)
    sxx, sx, sxy, sy = xs.T @ xs / n, xs.mean(axis=0), xs.T @ y / n, float(y.mean())
    w, b = cfg.initial_params(xs.shape[1])
    for _ in range(cfg.epochs):  # tol=0: the loop never stops early, so the iterate is fixed
        gw, gb = 2 * (sxx @ w + sx * b - sxy), 2 * float(sx @ w + b - sy)
        w, b = w - cfg.lr * gw, b - cfg.lr * gb
    return w, b


def check(res: FitResult, ref: tuple[np.ndarray, float], cfg: TrainConfig) -> float:
    """Relative error of (w, b) against ``ref``; raise CheckFailed when the fit is wrong."""
    problems = []
    if res.stop_reason != "max_epochs" or res.epochs != cfg.epochs:
        problems.append(f"stopped after {res.epochs} epochs ({res.stop_reason}), expected {cfg.epochs}")
    if cfg.record_history and (res.losses is None or len(res.losses) != cfg.epochs):
        problems.append("history missing or of the wrong length")
    if not cfg.record_history and res.losses is not None:
        problems.append("history recorded although record_history=False")
    w_ref, b_ref = ref
    theta, theta_ref = np.append(res.w, res.b), np.append(w_ref, b_ref)
    err = float(np.max(np.abs(theta - theta_ref)) / max(1.0, float(np.max(np.abs(theta_ref)))))
    tol = CHECK_TOL[cfg.dtype]
    if not err <= tol:  # written so that NaN fails too
        problems.append(
            f"(w, b) = {theta.tolist()} is {err:.2e} from the exact iterate {theta_ref.tolist()}"
            f" (tolerance {tol:g})"
        )
    if problems:
        raise CheckFailed(f"{res.backend} {cfg.dtype}: " + "; ".join(problems))
    return err


def device_sync(device: str) -> Callable[[], None]:
    """Waits for queued device work; a no-op on the CPU, where every call returns finished."""
    if device == "cuda" and "torch" in sys.modules:
        torch = sys.modules["torch"]
        return lambda: torch.cuda.synchronize()
    # JAX needs nothing more: a FitResult holds host copies of w and b, so its work is done.
    return lambda: None
