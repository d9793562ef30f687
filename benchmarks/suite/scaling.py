"""Beyond one machine, measured: all-reduce latency and per-sample compute (torch-ddp over gloo).

The model these feed, and what each number means, is benchmarks/core/scaling.py. Every rank runs
one thread: this box is shared, and a rank whose OpenMP threads wait for a busy core measures the
neighbours, not the method.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import numpy as np

import impls
from benchmarks.core.scaling import ELEMENTS, SCHEMA
from benchmarks.suite.machine import versions

SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
QUICK_SIZES = (10**3, 10**5, 10**6)
WORLDS = (1, 2)


def epochs_for(n: int) -> int:
    """Epochs per timed fit: about 10⁸ samples' worth, 20 to 1000."""
    return max(20, min(1000, 10**8 // n))


def _allreduce_rank(rank: int, cmds: Any, results: Any, world: int, port: int, timeout: float) -> None:
    """A started rank that times all_reduce on request."""
    from impls import _dist

    _dist.serve(rank, cmds, results, lambda: _timing_rank(rank, world, port, timeout))


@contextmanager
def _timing_rank(rank: int, world: int, port: int, timeout: float) -> Iterator[Callable[[Any], list[float]]]:
    """This rank in a gloo group; each job (elements, repeats, warmup) returns per-call seconds."""
    import torch
    import torch.distributed as dist

    from impls.torch_ddp import process_group

    def timed(job: tuple[int, int, int]) -> list[float]:
        elements, repeats, warmup = job
        t = torch.zeros(elements, dtype=torch.float64)
        dist.barrier()
        for _ in range(warmup):
            dist.all_reduce(t)
        out = []
        for _ in range(repeats):
            start = time.perf_counter()
            dist.all_reduce(t)
            out.append(time.perf_counter() - start)
        return out

    with process_group(rank, world, port, "gloo", timeout, threads=1):
        yield timed


def measure_allreduce(world: int = 2, repeats: int = 2000, warmup: int = 200) -> list[dict[str, Any]]:
    """Per-call all_reduce time between ``world`` ranks on loopback, for each of ELEMENTS sizes."""
    from impls import _dist
    from impls.torch_ddp import rendezvous

    timeout = 60.0
    store = rendezvous(None, timeout)
    args = [(world, store.port, timeout)] * world
    pool = _dist.Pool("all-reduce timing", _allreduce_rank, args, timeout, keep=store, noun="rank")
    try:
        out = []
        for elements in ELEMENTS:
            times = np.array(pool.call((elements, repeats, warmup))[0])  # rank 0's clock
            p10, p50, p90 = np.percentile(times, [10, 50, 90])
            out.append(
                {
                    "world": world,
                    "elements": elements,
                    "bytes": 8 * elements,
                    "repeats": repeats,
                    "median_s": float(p50),
                    "p10_s": float(p10),
                    "p90_s": float(p90),
                    "min_s": float(times.min()),
                }
            )
        return out
    finally:
        pool.close()


def measure_epochs(
    sizes: tuple[int, ...], worlds: tuple[int, ...], rounds: int = 3, threads: int = 1
) -> list[dict[str, Any]]:
    """torch-ddp fits (tol=0, no history) at each (N, P): median time per epoch, split in two."""
    out: list[dict[str, Any]] = []
    for n in sizes:
        x, y = impls.make_linear(w=0.3, b=0.5, size=n, noise=0.01, seed=0)
        cfg = impls.TrainConfig(epochs=epochs_for(n), tol=0, record_history=False)
        for world in worlds:
            backend = impls.get_backend("torch-ddp", world_size=world, threads=threads)
            run = backend.prepare(x, y, cfg)
            try:
                fits = [run() for _ in range(rounds + 1)][1:]  # the first call warms caches up
            finally:
                backend.close()  # type: ignore[attr-defined]
            per_epoch = [f.seconds / f.epochs for f in fits]
            reduce = [_per_call(f.info) for f in fits]
            compute = [p - r for p, r in zip(per_epoch, reduce, strict=True)]
            out.append(
                {
                    "n": n,
                    "world": world,
                    "epochs": cfg.epochs,
                    "rounds": rounds,
                    "threads_per_rank": fits[0].info["threads_per_rank"],
                    "per_epoch_s": statistics.median(per_epoch),
                    "compute_s": statistics.median(compute),
                    "allreduce_s": statistics.median(reduce),
                }
            )
            print(f"  N={n:>9,} P={world}: {out[-1]['per_epoch_s'] * 1e6:9.1f} µs/epoch", file=sys.stderr)
    return out


def _per_call(info: dict[str, Any]) -> float:
    """Seconds per all_reduce call from a torch-ddp FitResult.info."""
    return float(info["allreduce_seconds"]) / int(info["allreduce_calls"])


def measure(quick: bool = False) -> dict[str, Any]:
    """Everything the model needs, as JSON-ready data."""
    load_before = _load()
    print("timing all_reduce (2 ranks, gloo, loopback)...", file=sys.stderr)
    allreduce = measure_allreduce(repeats=300 if quick else 1000, warmup=50 if quick else 100)
    print("timing epochs (torch-ddp, 1 thread per rank)...", file=sys.stderr)
    epochs = measure_epochs(QUICK_SIZES if quick else SIZES, WORLDS, rounds=2 if quick else 3)
    return {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": versions(),
        "cores": _cores(),
        "load_average_before": load_before,
        "load_average": _load(),  # after: with the one before, how busy the shared machine was
        "allreduce": allreduce,
        "epochs": epochs,
    }


def _load() -> list[float] | None:
    """1, 5 and 15 minute load averages when measuring: how busy the shared machine was."""
    import os

    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def _cores() -> int:
    """CPUs this process may run on."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
