"""Beyond one machine: measure all-reduce latency and per-sample compute here; model the rest.

Measured here with torch-ddp (gloo over 127.0.0.1):
  a₂   median time of one all_reduce of the packed sums (d + 2 = 3 float64) between 2 ranks;
  o, c compute per epoch of a 1-rank fit (loop time minus time inside all_reduce) = o + c·N;
  and whole epochs at P = 1, 2 ranks for several N, split into compute and all-reduce.
Every rank runs one thread: this box is shared, and a rank whose OpenMP threads wait for a busy
core measures the neighbours, not the method. A "node" below is one such core.
Modelled, for P nodes:
  t(N, P) = o + c·N/P + a(P),   a(P) = (P − 1)·a₂.
gloo's CPU all-reduce is a ring: a reduce-scatter and an all-gather of P − 1 steps each, so
2(P − 1) latencies, and a₂ is two of them. The message is 24 bytes, so the bandwidth term is
left out (the sweep over message sizes shows how small it is). A tree all-reduce would cost
log₂(P)·a₂ instead; it is given beside the ring. Below n* = a(P)/c samples per node an epoch
spends longer in the all-reduce than in arithmetic over its shard.

``python -m benchmarks.scaling --out DIR`` measures (~1-2 min) and writes DIR/scaling.json and the
figure; ``--from DIR/scaling.json`` redraws the figure and prints the report section without timing.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

import impls

from .common import UsageError, atomic_write_json, check_writable, out_dir, versions

SCHEMA = 1
SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
QUICK_SIZES = (10**3, 10**5, 10**6)
WORLDS = (1, 2)
ELEMENTS = (3, 1024, 65536)  # the packed sums for d = 1, then larger messages for the bandwidth term
MODEL_N = (10**4, 10**5, 10**6, 10**7, 10**8, 10**9)
MODEL_P = tuple(2**k for k in range(11))
DEFAULT_OUT = Path("results/scaling")


def epochs_for(n: int) -> int:
    """Epochs per timed fit: about 10⁸ samples' worth, 20 to 1000."""
    return max(20, min(1000, 10**8 // n))


# ---- measuring ---------------------------------------------------------------------------------


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


# ---- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """t(N, P) = o + c·N/P + a(P) from measured a₂ (2-rank all-reduce), o and c (1-rank compute)."""

    a2: float  # seconds per all-reduce of the packed sums, 2 ranks
    o: float  # seconds per epoch that do not scale with N (Python loop, dispatch)
    c: float  # seconds per sample per epoch, one node

    def allreduce(self, p: float, algo: str = "ring") -> float:
        """Modelled seconds of one all-reduce across p nodes: ring (p−1)·a₂ or tree log₂(p)·a₂."""
        return (p - 1) * self.a2 if algo == "ring" else math.log2(p) * self.a2

    def epoch(self, n: float, p: float, algo: str = "ring") -> float:
        """Modelled seconds per epoch with n samples spread over p nodes."""
        return self.o + self.c * n / p + self.allreduce(p, algo)

    def crossover(self, p: float, algo: str = "ring") -> float:
        """Samples per node below which the all-reduce takes longer than the arithmetic."""
        return self.allreduce(p, algo) / self.c


def model(data: dict[str, Any]) -> Model:
    """Fit the model to measured data: a₂ of the packed sums, o at the smallest N, c at the largest."""
    a2 = min(r["median_s"] for r in data["allreduce"] if r["world"] == 2 and r["elements"] == ELEMENTS[0])
    one = sorted((e for e in data["epochs"] if e["world"] == 1), key=lambda e: e["n"])
    o = one[0]["compute_s"]  # c·N is ~1 µs there: what is left is the per-epoch overhead
    c = (one[-1]["compute_s"] - o) / (one[-1]["n"] - one[0]["n"])
    return Model(a2=a2, o=o, c=c)


# ---- command line -------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``python -m benchmarks.scaling`` (and of a ``gdbench scaling`` if registered)."""
    p.add_argument("--out", type=out_dir, default=DEFAULT_OUT, help="folder for scaling.json and scaling.png")
    p.add_argument("--from", dest="source", type=Path, default=None, help="redraw from this JSON; no timing")
    p.add_argument("--quick", action="store_true", help="fewer sizes and repeats (for a smoke test)")


def main(args: argparse.Namespace) -> int:
    """Measure (unless --from), save the JSON, draw the figure, print the report section."""
    if args.source is not None:
        data = read(args.source)
        out = args.source.parent
    else:
        check_writable(args.out)  # before minutes of timing
        data = measure(quick=args.quick)
        out = args.out
        atomic_write_json(out / "scaling.json", data)
    from .report.scaling import plot, section  # presenting lives with the report's renderers

    fig = plot(data, out / "scaling.png")
    print(section(data, fig.name))
    return 0


def read(path: Path) -> dict[str, Any]:
    """Saved measurements; ValueError if the file is not this module's JSON."""
    import json

    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a scaling.json of schema {SCHEMA}")
    return data


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__)
    add_arguments(parser)
    try:
        sys.exit(main(parser.parse_args()))
    except UsageError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        sys.exit(2)

