"""Do two runs of the same code on this machine agree? Run `gdbench bench` twice and find out.

    gdbench reproduce                        # two quick runs (~2 min on 2 cores)
    gdbench reproduce --full                 # two full sweeps (~30 min), the reference check
    gdbench reproduce --runs A.json B.json   # judge two runs made earlier
    gdbench reproduce --bench-args "--backends numpy-closed,numba-fused"   # options for both benches
    gdbench reproduce --load                 # a CPU-bound process runs during the second bench

--load measures compare's false flags on a busy machine: identical code, the second run disturbed
by a process that keeps one CPU busy (as when a machine gets busy between two runs).
Writes both JSON files (stored as pytest-benchmark stores runs, benchmarks/core/paths.py) and the
later run's REPORT.md (with its Reproducibility section) under --out, prints the section, and
exits 0 only when the runs agree: every regime recommends the same backend(s) or declares the same
tie, `gdbench compare` flags no case, and the fastest per-pass tₑ ÷ floor at N = 10⁷ agrees within
±15 % for full runs (benchmarks/report/reproducibility.py).
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks.core.paths import results_dir, rule, saved_runs
from benchmarks.core.results import load
from benchmarks.report.markdown import section
from benchmarks.report.reproducibility import agreement


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench reproduce``."""
    p.add_argument("--full", action="store_true", help="two full sweeps instead of two quick ones")
    p.add_argument(
        "--out", type=Path, default=results_dir() / "reproduce", help="storage folder for both runs"
    )
    p.add_argument(
        "--load",
        nargs="?",
        const="second",
        default="",
        choices=["second", "both"],
        help="keep one CPU busy with a CPU-bound process during the second bench (or both)",
    )
    p.add_argument("--runs", nargs=2, type=Path, metavar=("EARLIER", "LATER"), help="judge these two runs")
    p.add_argument(
        "--bench-args", default="", metavar="OPTIONS", help="options for both bench runs, quoted"
    )
    p.epilog = rule()


def main(args: argparse.Namespace) -> int:
    """Two benches back to back (or two given runs), then the verdict; 0 when they agree."""
    extra = shlex.split(args.bench_args)
    if args.runs:
        first, second = args.runs
    else:
        paths = []
        for i in (1, 2):
            loaded = args.load == "both" or (args.load == "second" and i == 2)
            print(f"reproduce: run {i} of 2 -> {args.out}" + (" (under load)" if loaded else ""), flush=True)
            cmd = [sys.executable, "-m", "benchmarks", "bench", "--out", str(args.out)]
            before = set(saved_runs(args.out))
            with cpu_load(loaded):
                rc = subprocess.call([*cmd, *([] if args.full else ["--quick"]), *extra])
            if rc != 0:
                print(f"reproduce: run {i} failed with status {rc}", file=sys.stderr)
                return rc
            paths += [p for p in saved_runs(args.out) if p not in before][-1:]
        first, second = paths
    rc = subprocess.call(
        [sys.executable, "-m", "benchmarks", "report", str(second), "--against", str(first), "--force"]
    )
    if rc != 0:
        return rc
    said, ok = agreement(load([second]), load([first]))
    print(section(said))
    print(f"reproduce: gdbench compare {first} {second}")
    return 0 if ok else 1


@contextlib.contextmanager
def cpu_load(on: bool) -> Iterator[None]:
    """A process spinning on one CPU while the block runs (nothing when ``on`` is False)."""
    if not on:
        yield
        return
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spin.kill()
        spin.wait()

