"""One benchmark case, fair by construction: prepare apart, first call apart, check, then the rounds.

Kept free of pytest so its order of events can be tested with a spy (tests/test_bench.py):
prepare (validation, host-to-device copies) -> one untimed first call (compile, first-call cost)
-> check against the exact float64 iterate -> ``benchmark.pedantic`` rounds of the prepared fit.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import numpy as np

import impls
from impls import FitResult, TrainConfig

from .. import floor
from .cases import CHECK_TOL, LR, SEED, Work, size_label, spec
from .memory import probe_for


class Bench(Protocol):
    """The part of pytest-benchmark's fixture the harness uses."""

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
    """One timed point: backend x size x dtype x device x mode."""

    backend: str
    n: int
    dtype: str
    device: str
    mode: str  # "nohist" or "history"
    work: Work

    @property
    def group(self) -> str:
        """pytest-benchmark group: backends side by side for one (N, dtype, device, mode)."""
        return f"fit {self.device} {self.dtype} N={size_label(self.n)} {self.mode}"

    def config(self) -> TrainConfig:
        """Fixed work: tol=0 so every backend makes exactly ``work.epochs`` updates."""
        return TrainConfig(
            lr=LR,
            epochs=self.work.epochs,
            tol=0.0,
            seed=SEED,
            dtype=self.dtype,
            device=self.device,
            record_history=self.mode == "history",
        )


@cache
def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's data at size n, made once per session and shared by every backend and dtype."""
    return impls.make_linear(w=0.3, b=0.5, size=n, noise=0.01, seed=SEED)


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


def run_fit(
    bench: Bench, backend: impls.Backend, x: np.ndarray, y: np.ndarray, case: FitCase
) -> dict[str, Any]:
    """Time one case and fill ``bench.extra_info``; raises CheckFailed before any round if it is wrong."""
    cfg = case.config()
    sync = device_sync(case.device)
    start = time.perf_counter()
    run = backend.prepare(x, y, cfg)  # validation, host-to-device copies (and any ahead-of-time compile)
    sync()
    prepare_s = time.perf_counter() - start
    start = time.perf_counter()
    first = run()  # compile or first-call cost, reported on its own
    sync()
    first_s = time.perf_counter() - start
    ref = reference(x, y, cfg)
    err = check(first, ref, cfg)  # before any round: a wrong backend is never timed

    probe = probe_for(case.device, getattr(backend, "framework", ""))
    loop_s: list[float] = []
    comm_s: list[float] = []  # all-reduce time inside each round's loop, for data-parallel backends
    peaks: list[int] = []

    def setup() -> None:
        if loop_s and probe is not None:
            peaks.append(probe.peak())  # the round just finished
        gc.collect()  # every round starts with the same garbage: none
        sync()
        if probe is not None:
            probe.reset()

    def target() -> FitResult:
        res = run()
        sync()
        loop_s.append(res.seconds)
        comm = res.info.get("allreduce_seconds")
        if isinstance(comm, (int, float)):
            comm_s.append(float(comm))
        return res

    bench.group = case.group
    info = bench.extra_info
    info.update(_case_info(case, backend, first, first_s, err), prepare_s=prepare_s)
    last = bench.pedantic(target, setup=setup, rounds=case.work.rounds, iterations=1)
    if probe is not None:
        peaks.append(probe.peak())
    try:
        check(last, ref, cfg)  # a backend right only on its first call does not count either
    except CheckFailed:
        bench.has_error = True  # pytest-benchmark then leaves the case out of the JSON
        raise
    per_epoch = [s / cfg.epochs for s in loop_s]
    q1, _, q3 = (
        statistics.quantiles(per_epoch, n=4, method="inclusive") if len(per_epoch) > 1 else (per_epoch * 3)
    )
    info.update(
        loop_s=loop_s,
        per_epoch_median_s=statistics.median(per_epoch),
        per_epoch_q1_s=q1,
        per_epoch_q3_s=q3,
        mem_peak_bytes=max(peaks) if peaks else None,
        mem_method=probe.method if probe is not None else None,
    )
    if len(comm_s) == len(loop_s):  # compute = the loop's time per epoch less its all-reduce
        info.update(allreduce_per_epoch_median_s=statistics.median(c / cfg.epochs for c in comm_s))
    return info


def _case_info(
    case: FitCase, backend: impls.Backend, first: FitResult, first_s: float, err: float
) -> dict[str, Any]:
    version = getattr(backend, "version", None)
    return {
        "kind": "fit",
        "backend": case.backend,
        "backend_kind": spec(case.backend).kind,
        "options": dict(spec(case.backend).options),
        "framework": getattr(backend, "framework", ""),
        "version": version() if callable(version) else "",
        "n": case.n,
        "dtype": case.dtype,
        "device": case.device,
        "mode": case.mode,
        "epochs": case.work.epochs,
        "rounds": case.work.rounds,
        "first_call_s": first_s,
        "first_call_loop_s": first.seconds,
        "check_err": err,
        "check_tol": CHECK_TOL[case.dtype],
        "data_bytes": floor.data_bytes(case.n, case.dtype),
        "fit_info": {k: v for k, v in first.info.items() if isinstance(v, (int, float, str, bool))},
    }


def run_floor(bench: Bench, n: int, dtype: str, device: str, rounds: int, iterations: int) -> dict[str, Any]:
    """Time one read of x and y (the memory floor) at size n and fill ``bench.extra_info``."""
    x, y = data(n)
    read = floor.reader(x, y, dtype, device)  # the cast and any copy to the device: not timed
    read()
    bench.group = f"floor {device} {dtype}"
    bench.extra_info.update(
        kind="floor",
        n=n,
        dtype=dtype,
        device=device,
        method=floor.METHOD[device],
        data_bytes=floor.data_bytes(n, dtype),
        iterations=iterations,
    )
    bench.pedantic(read, rounds=rounds, iterations=iterations)
    return bench.extra_info
