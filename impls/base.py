"""The trainer interface: configuration, result, and the Protocol every backend satisfies."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

DTYPES = ("float32", "float64")
DEVICES = ("cpu", "cuda", "auto")
StopReason = Literal["tol", "max_epochs", "diverged"]
Init = tuple[float | Sequence[float], float]


class BackendUnavailable(RuntimeError):
    """A backend cannot be built here: its framework is missing or broken."""


class PluginError(ValueError):
    """A plugin that cannot be loaded, or returned something wrong; the message is one line."""


@dataclass(frozen=True)
class TrainConfig:
    """Full-batch gradient descent on the mean squared error; defaults are the tutorial's."""

    lr: float = 0.1
    epochs: int = 500
    tol: float = 5e-5
    init: Init | None = None
    seed: int = 0
    dtype: str = "float64"
    device: str = "cpu"
    record_history: bool = True

    def __post_init__(self) -> None:
        if not _is_real(self.lr) or not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not _is_int(self.epochs) or self.epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not _is_real(self.tol) or math.isnan(self.tol) or self.tol < 0:
            raise ValueError(f"tol must be a number >= 0 (0 disables early stopping), got {self.tol!r}")
        if not _is_int(self.seed):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}; choose one of {', '.join(DTYPES)}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}")
        if self.init is not None:
            object.__setattr__(self, "init", _normalise_init(self.init))

    def initial_params(self, d: int) -> tuple[np.ndarray, float]:
        """(w0, b0) for d features: ``init`` if given, else U[0, 1) drawn from ``seed``."""
        if self.init is None:
            # A stream of its own, so the init is not the first draws of make_linear(seed=seed).
            rng = np.random.default_rng([self.seed, 1])
            return rng.random(d), float(rng.random())
        w0 = np.asarray(self.init[0], dtype=np.float64).reshape(-1)
        if w0.size != d:
            raise ValueError(f"init has {w0.size} weight(s) but x has {d} feature(s)")
        return w0, float(self.init[1])


@dataclass
class FitResult:
    """What one fit produced; history arrays have one row per update made."""

    w: np.ndarray
    b: float
    loss: float
    epochs: int
    stop_reason: StopReason
    losses: np.ndarray | None
    ws: np.ndarray | None
    bs: np.ndarray | None
    seconds: float
    # Seconds from the loop's start to the end of each recorded epoch (history only; None from a
    # backend whose whole loop is one compiled call, which has no per-epoch clock).
    times: np.ndarray | None = None
    backend: str = ""
    device: str = "cpu"
    dtype: str = "float64"
    info: dict[str, object] = field(default_factory=dict)

    def __repr__(self) -> str:
        """The outcome in one line; the history only as its length (it can hold millions of rows)."""
        hist = "none" if self.losses is None else f"{len(self.losses)} epochs"
        return (
            f"FitResult(backend={self.backend!r}, w={np.array2string(np.asarray(self.w), threshold=6)}, "
            f"b={self.b!r}, loss={self.loss!r}, epochs={self.epochs}, stop_reason={self.stop_reason!r}, "
            f"seconds={self.seconds:.4g}, device={self.device!r}, dtype={self.dtype!r}, history={hist}, "
            f"info={self.info!r})"
        )


@runtime_checkable
class Backend(Protocol):
    """A gradient-descent implementation behind the common interface."""

    name: str

    def fit(self, x: ArrayLike, y: ArrayLike, cfg: TrainConfig | None = None) -> FitResult:
        """Train from cfg's init on (x, y) and report what happened."""
        ...

    def prepare(self, x: ArrayLike, y: ArrayLike, cfg: TrainConfig | None = None) -> Callable[[], FitResult]:
        """Validate and place the data; each call of the result is one fit, timed alone."""
        ...

    def loss_and_grad(
        self, w: ArrayLike, b: float, x: ArrayLike, y: ArrayLike
    ) -> tuple[float, np.ndarray, float]:
        """The backend's own (loss, dL/dw, dL/db) at (w, b), float64 on the CPU."""
        ...


def _is_real(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _is_int(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _normalise_init(init: object) -> tuple[tuple[float, ...], float]:
    try:
        w0, b0 = cast(tuple[Any, Any], init)
        w = np.asarray(w0, dtype=np.float64).reshape(-1)
        b = float(b0)
    except (TypeError, ValueError):
        raise ValueError(
            f"init must be None or (w0, b0) with w0 a number or sequence, got {init!r}"
        ) from None
    if w.size == 0 or not np.all(np.isfinite(w)) or not math.isfinite(b):
        raise ValueError(f"init must hold finite values for w0 and b0, got {init!r}")
    return tuple(float(v) for v in w), b
