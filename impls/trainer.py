"""The training contract, written once: the epoch loop, the stop rule, history, divergence.

Backends that step from Python hand ``run_epochs`` a step function; backends that compile
the whole loop implement it in ``_prepare`` themselves and are held to the same contract by
the tests.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from .base import FitResult, StopReason, TrainConfig
from .checks import as_params, as_xy

P = TypeVar("P")
# One epoch: the loss at the current parameters, and a thunk that makes the update.
# The update is deferred so a fit that stops on tol never pays for the last backward pass.
Step = Callable[[P], tuple[Any, Callable[[], P]]]


@dataclass
class Problem:
    """Validated inputs in float64 on the host: x is (n, d), y is (n,)."""

    x: np.ndarray
    y: np.ndarray
    w0: np.ndarray
    b0: float

    @property
    def d(self) -> int:
        """Number of features."""
        return int(self.x.shape[1])


@dataclass
class Trace(Generic[P]):
    """What a training loop returns before it is turned into a FitResult."""

    params: P
    loss: float
    epochs: int
    stop_reason: StopReason
    losses: list[float] | None
    ws: list[np.ndarray] | None
    bs: list[float] | None
    seconds: float
    times: list[float] | None = None  # with history: seconds from the loop's start to each epoch's end


# Told (epoch, loss) after every epoch run_epochs makes in this thread; None (the default) costs one
# test per epoch. Loops that run on a device or in worker processes report nothing.
_watcher: ContextVar[Callable[[int, float], None] | None] = ContextVar("gdbench_watcher", default=None)


_HERE = os.path.dirname(os.path.abspath(__file__))


def _caller_level() -> int:
    """warnings.warn's stacklevel for the first frame outside impls: the user's fit() or run()."""
    frame: FrameType | None = sys._getframe(1)  # the function about to warn: level 1
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_HERE + os.sep):
        frame, level = frame.f_back, level + 1
    return level


@contextmanager
def watch(callback: Callable[[int, float], None]) -> Iterator[None]:
    """Call ``callback(epoch, loss)`` after each epoch of run_epochs inside the block (keep it cheap)."""
    token = _watcher.set(callback)
    try:
        yield
    finally:
        _watcher.reset(token)


def run_epochs(
    step: Step[P],
    params: P,
    cfg: TrainConfig,
    read: Callable[[P], tuple[np.ndarray, float]],
    sync: Callable[[P], object] = lambda p: None,
) -> Trace[P]:
    """Run up to cfg.epochs epochs of ``step`` under the shared stop rule, timing the loop."""
    history = cfg.record_history
    losses: list[float] = []
    ws: list[np.ndarray] = []
    bs: list[float] = []
    times: list[float] = []
    loss = math.nan
    stop: StopReason = "max_epochs"
    epoch = cfg.epochs
    told = _watcher.get()
    sync(params)
    start = time.perf_counter()
    for i in range(cfg.epochs):
        loss_t, update = step(params)
        loss = float(loss_t)
        if not math.isfinite(loss):
            stop, epoch = "diverged", i
            break
        if loss < cfg.tol:
            stop, epoch = "tol", i
            break
        params = update()
        if told is not None:
            told(i + 1, loss)
        if history:
            w, b = read(params)
            losses.append(loss)
            ws.append(w)
            bs.append(b)
            times.append(time.perf_counter() - start)  # after read(), which waits for the device
    sync(params)  # the clock stops when the device work is done
    seconds = time.perf_counter() - start
    return Trace(
        params,
        loss,
        epoch,
        stop,
        losses if history else None,
        ws if history else None,
        bs if history else None,
        seconds,
        times if history else None,
    )


class BackendBase(ABC):
    """Shared front half of every backend: validation, init, result and divergence handling."""

    name: ClassVar[str]
    framework: ClassVar[str]  # the package it needs, "numpy" for none beyond the core

    def fit(self, x: ArrayLike, y: ArrayLike, cfg: TrainConfig | None = None) -> FitResult:
        """Train from cfg's init on (x, y); see TrainConfig for the semantics."""
        return self.prepare(x, y, cfg)()

    def prepare(self, x: ArrayLike, y: ArrayLike, cfg: TrainConfig | None = None) -> Callable[[], FitResult]:
        """Validate (x, y, cfg) and put the data on the device; the callable trains from the init.

        Each call of the callable is one whole fit from cfg's init, so benchmarks can time
        training alone, again and again, with validation and host-to-device copies outside.
        """
        cfg = cfg if cfg is not None else TrainConfig()
        xs, ys = as_xy(x, y)
        w0, b0 = cfg.initial_params(xs.shape[1])
        device = self.resolve_device(cfg.device)
        train = self._prepare(Problem(xs, ys, w0, b0), cfg, device)
        return lambda: self._result(train(), cfg, device, xs.shape[1])

    def _result(self, trace: Trace[Any], cfg: TrainConfig, device: str, d: int) -> FitResult:
        """Turn a loop's Trace into a FitResult, flagging divergence the loop could not see."""
        w, b = self.read(trace.params)
        stop = trace.stop_reason
        if stop != "diverged" and not (np.all(np.isfinite(w)) and math.isfinite(b)):
            stop = "diverged"
        if stop == "diverged":
            warnings.warn(
                f"{self.name}: gradient descent diverged after {trace.epochs} epoch(s) "
                f"(lr={cfg.lr}); try a smaller learning rate",
                RuntimeWarning,
                stacklevel=_caller_level(),
            )
        return FitResult(
            w=np.asarray(w, dtype=np.float64).reshape(d),
            b=float(b),
            loss=float(trace.loss),
            epochs=trace.epochs,
            stop_reason=stop,
            losses=None if trace.losses is None else np.asarray(trace.losses, dtype=np.float64),
            ws=None if trace.ws is None else np.asarray(trace.ws, dtype=np.float64).reshape(-1, d),
            bs=None if trace.bs is None else np.asarray(trace.bs, dtype=np.float64),
            seconds=trace.seconds,
            times=None if trace.times is None else np.asarray(trace.times, dtype=np.float64),
            backend=self.name,
            device=device,
            dtype=cfg.dtype,
            info=self.fit_info(),
        )

    def loss_and_grad(
        self, w: ArrayLike, b: float, x: ArrayLike, y: ArrayLike
    ) -> tuple[float, np.ndarray, float]:
        """The backend's own (loss, dL/dw, dL/db) at (w, b), computed in float64 on the CPU."""
        xs, ys = as_xy(x, y)
        wa, ba = as_params(w, b, xs.shape[1])
        loss, gw, gb = self._loss_and_grad(wa, ba, xs, ys)
        return float(loss), np.asarray(gw, dtype=np.float64).reshape(xs.shape[1]), float(gb)

    def resolve_device(self, device: str) -> str:
        """Map "auto" to a device this backend can use; refuse one it cannot."""
        usable = self.devices()
        if device == "auto":
            return "cuda" if "cuda" in usable else "cpu"
        if device not in usable:
            raise ValueError(
                f"{self.name}: device {device!r} requested but not available here "
                f"(usable: {', '.join(usable)})"
            )
        return device

    def devices(self) -> list[str]:
        """Devices this backend can run on in this process."""
        return ["cpu"]

    def version(self) -> str:
        """Version of the framework this backend runs on."""
        return str(np.__version__)

    def fit_info(self) -> dict[str, object]:
        """Backend-specific facts about the last fit (compile counts, graph depth...)."""
        return {}

    @abstractmethod
    def read(self, params: Any) -> tuple[np.ndarray, float]:
        """Copy parameters in this backend's form to (w as float64 array, b as float)."""

    @abstractmethod
    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Any]]:
        """Put the data on ``device``; return a loop that starts from the init each call.

        The loop times itself (Trace.seconds) and stops the clock only when device work is done.
        """

    @abstractmethod
    def _loss_and_grad(self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any, Any]:
        """(loss, dL/dw, dL/db) in float64 on the CPU, by this backend's own means."""
