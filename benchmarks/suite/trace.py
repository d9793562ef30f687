"""Time per epoch against the epoch index, for backends stepped from Python (the tutorial's pattern).

impls has no per-epoch hook, so this drives the backend's own epoch function (``make_step``)
through the shared loop ``impls.trainer.run_epochs``, exactly as the backend does, and stamps the
clock as each epoch starts. Epoch i's time is from its start to the next one's: forward, backward,
update and the history read. Only torch loop backends have ``make_step``.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.core.sweep import LR, SEED, Work
from benchmarks.suite.harness import Bench, data
from impls import TrainConfig
from impls.checks import as_xy
from impls.trainer import run_epochs


def traceable(backend: object) -> bool:
    """Whether the backend exposes the epoch function this needs."""
    return (
        callable(getattr(type(backend), "make_step", None)) and getattr(backend, "framework", "") == "torch"
    )


def epoch_timer(backend: Any, x: np.ndarray, y: np.ndarray, cfg: TrainConfig) -> Callable[[], list[float]]:
    """Put the data on the device; the callable runs one fit from the init, returning each epoch's seconds."""
    import torch  # traceable backends are torch ones

    dt = {"float32": torch.float32, "float64": torch.float64}[cfg.dtype]
    xs, ys = as_xy(x, y)
    w0, b0 = cfg.initial_params(xs.shape[1])
    step = type(backend).make_step(
        torch.as_tensor(xs, dtype=dt, device=cfg.device),
        torch.as_tensor(ys, dtype=dt, device=cfg.device),
        cfg.lr,
    )

    def sync(p: Any) -> None:
        if cfg.device == "cuda":
            torch.cuda.synchronize()

    def fit() -> list[float]:
        stamps: list[float] = []

        def timed(p: Any) -> Any:
            stamps.append(time.perf_counter())
            return step(p)

        w = torch.tensor(w0, dtype=dt, device=cfg.device, requires_grad=True)
        b = torch.tensor(b0, dtype=dt, device=cfg.device, requires_grad=True)
        run_epochs(timed, (w, b), cfg, backend.read, sync)
        stamps.append(time.perf_counter())
        return [t1 - t0 for t0, t1 in itertools.pairwise(stamps)]

    return fit


def run_trace(bench: Bench, backend: Any, name: str, n: int, device: str, work: Work) -> dict[str, Any]:
    """Time every epoch of ``work.rounds`` fits with history; keep the per-epoch median over rounds."""
    x, y = data(n)
    cfg = TrainConfig(
        lr=LR, epochs=work.epochs, tol=0.0, seed=SEED, dtype="float64", device=device, record_history=True
    )
    fit = epoch_timer(backend, x, y, cfg)  # the copies to the device: not timed
    fit()  # first call apart, as for every timed case
    runs: list[list[float]] = []

    def target() -> None:
        runs.append(fit())

    bench.group = f"trace {device}"
    bench.extra_info.update(
        kind="trace",
        backend=name,
        n=n,
        dtype="float64",
        device=device,
        mode="history",
        epochs=work.epochs,
        rounds=work.rounds,
    )
    bench.pedantic(target, rounds=work.rounds, iterations=1)
    bench.extra_info["epoch_s"] = [statistics.median(col) for col in zip(*runs, strict=True)]
    return bench.extra_info
