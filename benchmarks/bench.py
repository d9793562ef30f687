"""Time every backend (t₀ and tₑ per case, rounds interleaved over the run) and save the JSON.

The suite runs in a child pytest process so thread settings reach numpy, torch and JAX before
they load. The protocol (benchmarks/suite/protocol.py) prints a line per pass; pytest-benchmark's
tables then compare backends side by side per (N, dtype, device, mode). The JSON is
pytest-benchmark's own plus a "gdbench" section (sweep, protocol, backends' availability, failed
cases, wall time); `gdbench report` and `gdbench compare` read it.
A run never overwrites an earlier one: each gets a new timestamped name unless --name is given.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import impls

from .common import UsageError, atomic_write_json
from .suite import cases

SUITE = Path(__file__).resolve().parent / "suite" / "bench_fit.py"
DEFAULT_OUT = Path("results") / "run"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench bench``."""
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"sizes {','.join(map(cases.size_label, cases.QUICK_SIZES))}, float64, few rounds: < 1 min",
    )
    p.add_argument(
        "--backends", default="", help="comma-separated backend names (default: every registered one)"
    )
    p.add_argument(
        "--sizes", default="", help="comma-separated sizes, e.g. 100,1e4 (default: 1e2,1e4,1e6,1e7)"
    )
    p.add_argument("--dtypes", default="", help="comma-separated dtypes (default: float32,float64)")
    p.add_argument("--modes", default="", help="comma-separated modes: nohist, history (default: both)")
    p.add_argument(
        "--devices", default="", help="comma-separated devices (default: cpu, and cuda when present)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=cases.default_threads(),
        help="threads for every framework (OpenMP, BLAS, torch, XLA via CPU affinity)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds the measurement aims to end within; passes stop early once every case is precise "
        f"(default: {cases.policy(True).budget_s:.0f} quick, {cases.policy(False).budget_s:.0f} full)",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for the JSON")
    p.add_argument("--name", default="", help="file name for the JSON (default: bench-<date>-<time>.json)")
    p.add_argument("--force", action="store_true", help="overwrite --name if it exists")


def _csv(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _choose(text: str, valid: list[str] | tuple[str, ...], what: str) -> list[str]:
    picked = _csv(text)
    bad = [v for v in picked if v not in valid]
    if bad:
        raise UsageError(f"unknown {what} {', '.join(bad)}; choose from {', '.join(valid)}")
    return picked


def pytest_args(args: argparse.Namespace, json_path: Path) -> list[str]:
    """The child pytest's command line, after validating the selection (UsageError when bad)."""
    variants = [name for name, s in cases.SPECS.items() if s.base]  # e.g. torch-ddp-2
    backends = _choose(args.backends, impls.backend_names() + variants, "backend(s)")
    try:
        sizes = [cases.parse_size(s) for s in _csv(args.sizes)]
    except ValueError as e:
        raise UsageError(f"bad --sizes {args.sizes!r}: {e}") from None
    dtypes = _choose(args.dtypes, impls.DTYPES, "dtype(s)")
    modes = _choose(args.modes, cases.MODES, "mode(s)")
    devices = _choose(args.devices, ("cpu", "cuda"), "device(s)")
    if args.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {args.threads}")
    if args.budget is not None and not args.budget > 0:
        raise UsageError(f"--budget must be a number of seconds > 0, got {args.budget}")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "-v",
        "-p",
        "no:cacheprovider",
        f"--benchmark-json={json_path}",
        "--benchmark-columns=median,iqr,min,max,rounds",
        "--gd-backends=" + ",".join(backends),
        "--gd-sizes=" + ",".join(map(str, sizes)),
        "--gd-dtypes=" + ",".join(dtypes),
        "--gd-modes=" + ",".join(modes),
        "--gd-devices=" + ",".join(devices),
    ]
    if args.budget is not None:
        cmd.append(f"--gd-budget={args.budget}")
    return [*cmd, "--gd-quick"] if args.quick else cmd


def target_path(args: argparse.Namespace) -> Path:
    """Where the JSON goes; never an existing file unless --force."""
    name = args.name or f"bench-{datetime.now():%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}.json"
    if not name.endswith(".json") or "/" in name:
        raise UsageError(f"--name must be a plain file name ending in .json, got {name!r}")
    path = Path(args.out) / name
    if path.exists() and not args.force:
        raise UsageError(
            f"{path} exists: an earlier run is never overwritten (choose another --name, or --force)"
        )
    return path


def main(args: argparse.Namespace) -> int:
    """Run the suite; 0 when every case passed, 1 when one failed (its numbers are left out)."""
    path = target_path(args)
    partial = path.with_name(f".{path.name}.partial")
    cmd = pytest_args(args, partial)
    missing = [m for m in ("pytest", "pytest_benchmark") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"gdbench bench needs {' and '.join(missing)}: pip install -e .", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    env = cases.thread_env(args.threads, os.environ)
    print(
        f"gdbench bench: {'quick' if args.quick else 'full'} sweep, {args.threads} thread(s), -> {path}",
        flush=True,
    )
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    start = time.perf_counter()
    try:
        rc = subprocess.call(cmd, env=env, cwd=SUITE.parents[2])
    except BaseException:  # Ctrl-C: no half-written results left behind
        partial.unlink(missing_ok=True)
        raise
    wall = time.perf_counter() - start
    if rc not in (0, 1) or not partial.exists():
        partial.unlink(missing_ok=True)
        print(f"gdbench bench: pytest exited with status {rc} and saved no results", file=sys.stderr)
        return 1
    data: dict[str, Any] = json.loads(partial.read_text())
    meta = data.setdefault("gdbench", {})
    # Other processes on the machine disturb the timings: the report says how busy it was.
    meta.update(wall_seconds=wall, threads=args.threads, argv=sys.argv[1:], load_before=load_before)
    atomic_write_json(path, data)
    partial.unlink()
    print(f"gdbench bench: {len(data.get('benchmarks', []))} cases in {wall:.0f} s, saved {path}")
    if rc:
        print(
            f"gdbench bench: {len(meta.get('failed', []))} case(s) failed; their numbers are not in the JSON",
            file=sys.stderr,
        )
    return rc
