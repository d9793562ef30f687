"""Time every backend (t₀ and tₑ per case, rounds interleaved over the run) and save the JSON.

The suite runs in a child pytest process so thread settings reach numpy, torch and JAX before
they load. The protocol (benchmarks/suite/protocol.py) prints a line per pass; pytest-benchmark's
tables then compare backends side by side per (N, dtype, device, mode). The JSON is
pytest-benchmark's own plus a "gdbench" section (sweep, protocol, backends' availability, failed
cases, wall time); `gdbench report` and `gdbench compare` read it.
Runs are stored as pytest-benchmark stores them (benchmarks/core/paths.py): --out/<machine id>/
NNNN_<commit>_<date>[_quick].json, numbered in order; a run never overwrites an earlier one.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import impls
from benchmarks.commands import _suite_output as output
from benchmarks.core import memory, sweep
from benchmarks.core.files import UsageError, atomic_write_json
from benchmarks.core.fmt import fmt_n
from benchmarks.core.paths import machine_id, next_number, results_dir, rule, run_name
from benchmarks.suite.machine import Busy
from impls import plugins

SUITE = Path(str(importlib.util.find_spec("benchmarks.suite.bench_fit").origin))  # type: ignore[union-attr]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench bench``."""
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"sizes {','.join(map(sweep.size_label, sweep.QUICK_SIZES))} (and d = 10 at 1e2), float64, "
        "few rounds: < 1 min",
    )
    p.add_argument(
        "--backends", default="", help="comma-separated backend names (default: every registered one)"
    )
    p.add_argument(
        "--sizes", default="", help="comma-separated sizes, e.g. 100,1e4 (default: 1e2,1e3,1e4,1e5,1e6,1e7)"
    )
    p.add_argument(
        "--features",
        default="",
        help="comma-separated feature counts d; with --sizes, every N at every d (default: 1 with --sizes; "
        f"else {','.join(map(str, sweep.FEATURES))}, d > 1 where N·d <= "
        f"{sweep.size_label(sweep.MAX_ELEMENTS)}, in float64 without history unless --dtypes, --modes say)",
    )
    p.add_argument("--dtypes", default="", help="comma-separated dtypes (default: float32,float64)")
    p.add_argument("--modes", default="", help="comma-separated modes: nohist, history (default: both)")
    p.add_argument(
        "--devices", default="", help="comma-separated devices (default: cpu, and cuda when present)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=sweep.default_threads(),
        help="threads for every framework (OpenMP, BLAS, torch, XLA via CPU affinity)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds the measurement aims to end within; passes stop early once every case is precise "
        f"(default: {sweep.policy(True).budget_s:.0f} quick, {sweep.policy(False).budget_s:.0f} full)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="run the sweep in this many processes one after another, sharing the budget, and pool "
        "their rounds, as pyperf does: each process draws its own memory layout and compiled code",
    )
    p.add_argument(
        "--startup",
        type=int,
        default=None,
        help="fresh processes per backend that time its one-time cost (import, compile or load, first "
        f"fit), cold and warm; 0: none (default: {sweep.policy(True).startup_rounds} quick, warm only; "
        f"up to {sweep.policy(False).startup_rounds} full)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=results_dir() / "bench",
        help="storage folder: the JSON goes in its folder for this machine, as pytest-benchmark stores runs",
    )
    p.add_argument(
        "--name",
        default="",
        help="save as --out/NAME instead (default: <machine id>/NNNN_<commit>_<date>[_quick].json)",
    )
    p.add_argument(
        "--label",
        default="",
        help="a word ending the file name (runs labelled other than quick are never read by default)",
    )
    p.add_argument("--force", action="store_true", help="overwrite --name if it exists")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="show pytest's and pytest-benchmark's own output"
    )
    p.epilog = rule()


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
    variants = [name for name, s in sweep.SPECS.items() if s.base]  # e.g. torch-ddp-2
    backends = _choose(args.backends, impls.backend_names() + variants, "backend(s)")
    try:
        sizes = [sweep.parse_size(s) for s in _csv(args.sizes)]
    except ValueError as e:
        raise UsageError(f"bad --sizes {args.sizes!r}: {e}") from None
    try:
        features = [_feature(v) for v in _csv(getattr(args, "features", ""))]
    except ValueError as e:
        raise UsageError(f"bad --features {args.features!r}: {e}") from None
    dtypes = _choose(args.dtypes, impls.DTYPES, "dtype(s)")
    modes = _choose(args.modes, sweep.MODES, "mode(s)")
    devices = _choose(args.devices, ("cpu", "cuda"), "device(s)")
    if args.threads < 1:
        raise UsageError(f"--threads must be >= 1, got {args.threads}")
    if args.budget is not None and not args.budget > 0:
        raise UsageError(f"--budget must be a number of seconds > 0, got {args.budget}")
    if processes(args) < 1:
        raise UsageError(f"--processes must be >= 1, got {args.processes}")
    startup = getattr(args, "startup", None)
    if startup is not None and startup < 0:
        raise UsageError(f"--startup must be a number of processes >= 0, got {startup}")
    check_cases(backends, sweep.grid_shapes(sizes, features, args.quick))
    fits_in_memory(backends, sweep.grid_shapes(sizes, features, args.quick), dtypes or list(impls.DTYPES))
    if "cuda" in devices:
        check_cuda(backends)
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
        "--gd-features=" + ",".join(map(str, features)),
        "--gd-dtypes=" + ",".join(dtypes),
        "--gd-modes=" + ",".join(modes),
        "--gd-devices=" + ",".join(devices),
    ]
    budget = args.budget if args.budget is not None else sweep.policy(args.quick).budget_s
    cmd.append(f"--gd-budget={budget / processes(args)}")  # the processes share the budget
    if startup is not None:
        cmd.append(f"--gd-startup={startup}")
    return [*cmd, "--gd-quick"] if args.quick else cmd


def processes(args: argparse.Namespace) -> int:
    """How many suite processes the sweep runs in (1 by default: on 2 cores a second process's
    start-up and compilation cost about a pass of the sweep, more than its layout diversity buys)."""
    return int(getattr(args, "processes", 1))


def _feature(text: str) -> int:
    """A feature count d >= 1 ("100", "1e3"); ValueError otherwise."""
    try:
        return sweep.parse_size(text)
    except ValueError:
        raise ValueError(f"d must be an integer >= 1, got {text!r}") from None


def check_cases(backends: list[str], shapes: list[tuple[int, int]]) -> None:
    """UsageError when the selection holds no fit case (a backend benched only at other N or d)."""
    names = backends or impls.backend_names()
    if any(sweep.spec(v).runs_at(n, d) for v in sweep.expand(names) for n, d in shapes):
        return
    where = []
    for name in names:
        s = [sweep.spec(v) for v in sweep.expand([name])]
        only = sorted({n for v in s for n in (v.sizes or ())})
        at = f"N = {', '.join(map(sweep.size_label, only))}" if only else "other (N, d)"
        where.append(f"{name} only at {at}" + ("" if all(v.wide for v in s) else ", d = 1"))
    one = ", ".join(sweep.size_label(n) for n, d in shapes if d == 1)
    wide = ", ".join(f"N = {sweep.size_label(n)} d = {d}" for n, d in shapes if d > 1)
    picked = " and ".join(p for p in (one and f"N = {one}", wide) if p)
    raise UsageError(f"no case to run at {picked}: {'; '.join(where)} (choose --sizes among those)")


def fits_in_memory(
    backends: list[str],
    shapes: list[tuple[int, int]],
    dtypes: list[str],
    free: memory.Available | None = None,
) -> None:
    """UsageError, naming need and available, when the suite's largest case cannot fit here.

    The suite keeps every (N, d)'s data, and prepares a case at each epoch count at once: its
    copies of the data times the counts, and one fit's temporaries on top.
    """
    names = sweep.expand(backends or impls.backend_names())
    base = memory.together(names, 1).base
    data = sum(n * (d + 1) * 8 for n, d in shapes)
    worst, where = 0, ""
    for n, d in shapes:
        counts = sweep.epoch_counts(n, d)
        for dtype in dtypes:
            for name in (v for v in names if sweep.spec(v).runs_at(n, d)):
                p = memory.predict(name, n, d, dtype, epochs=max(counts), history=d == 1)
                if len(counts) * p.prepared + p.fit > worst:
                    worst, where = len(counts) * p.prepared + p.fit, f"N = {fmt_n(n)}, d = {d}, {dtype}"
    hint = "choose smaller --sizes or --features"
    memory.require(base + data + worst, f"gdbench bench (its largest case: {where})", free, hint)


def check_cuda(backends: list[str]) -> None:
    """UsageError when --devices cuda is asked for and no selected backend can use a GPU here."""
    bases = dict.fromkeys(sweep.spec(v).base or v for v in sweep.expand(backends or impls.backend_names()))
    usable: set[str] = set()
    for name in bases:
        try:
            be = impls.get_backend(name)
        except impls.BackendUnavailable:
            continue
        usable.update(be.devices() if hasattr(be, "devices") else ["cpu"])
    if "cuda" not in usable:
        raise UsageError(
            f"--devices cuda: no selected backend can use a CUDA device here "
            f"(usable: {', '.join(sorted(usable)) or 'none'})"
        )


def plugin_env(environ: dict[str, str]) -> dict[str, str]:
    """What the suite's process needs to load the plugins loaded here (files by absolute path).

    A plugin module is found from the working directory here; the suite runs elsewhere, so the
    directory goes on its PYTHONPATH, after the entries already there.
    """
    specs = plugins.specs_for_child()
    if not specs:
        return {}
    path = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p] + [os.getcwd()]
    return {plugins.ENV: specs, "PYTHONPATH": os.pathsep.join(path)}


def commit_info() -> tuple[str, bool]:
    """The suite's commit and whether it has uncommitted changes, as pytest-benchmark finds them."""
    try:
        desc = subprocess.run(
            ["git", "describe", "--dirty", "--always", "--long", "--abbrev=40"],
            cwd=SUITE.parents[2],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unversioned", False
    parts = desc.stdout.strip().split("-")
    if desc.returncode or not parts[-1]:
        return "unversioned", False
    dirty = parts[-1] == "dirty"
    return parts[-2 if dirty else -1].strip("g"), dirty


def target_path(args: argparse.Namespace) -> Path:
    """Where the JSON goes; never an existing file unless --force."""
    if args.name:
        if not args.name.endswith(".json") or "/" in args.name:
            raise UsageError(f"--name must be a plain file name ending in .json, got {args.name!r}")
        path = Path(args.out) / args.name
    else:
        folder = Path(args.out) / machine_id()
        commit, dirty = commit_info()
        label = getattr(args, "label", "") or ("quick" if args.quick else "")
        if not label.replace("-", "").isalnum() and label:
            raise UsageError(f"--label must be letters, digits and dashes, got {label!r}")
        path = folder / run_name(next_number(folder), commit, dirty, datetime.now(timezone.utc), label)
    if path.exists() and not args.force:
        raise UsageError(
            f"{path} exists: an earlier run is never overwritten (choose another --name, or --force)"
        )
    return path


def _child(cmd: list[str], env: dict[str, str], part: Path, path: Path, verbose: bool) -> int:
    """Run one suite process writing ``part``; its exit status. Ctrl-C leaves no partial file."""
    cmd = [f"--benchmark-json={part}" if c.startswith("--benchmark-json=") else c for c in cmd]
    try:
        return output.run_suite(cmd, env, SUITE.parents[2], verbose, str(part), str(path))
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def main(args: argparse.Namespace) -> int:
    """Run the suite; 0 when every case passed, 1 when one failed (its numbers are left out)."""
    path = target_path(args)
    partial = Path(args.out) / f".{path.name}.partial"  # beside the machine's folder: made on success
    cmd = pytest_args(args, partial)
    if args.verbose and sys.stdout.isatty():  # the child writes to our pipe: it would not colour itself
        cmd.append("--color=yes")
    missing = [m for m in ("pytest", "pytest_benchmark") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"gdbench bench needs {' and '.join(missing)}: pip install -e .", file=sys.stderr)
        return 1
    from benchmarks.suite.merge import merge  # needs pytest-benchmark, checked just above

    partial.parent.mkdir(parents=True, exist_ok=True)
    # The suite is a pytest session of its own, never an xdist worker (as when a test runs this
    # under pytest -n): pytest-benchmark, seeing a worker's variables, would disable itself.
    ours = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    env = sweep.thread_env(args.threads, ours)
    env.update(plugin_env(ours))
    print(
        f"gdbench bench: {'quick' if args.quick else 'full'} sweep, {args.threads} thread(s), -> {path}",
        flush=True,
    )
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    busy = Busy()  # other processes' CPU time over the run: the load average lags by a minute
    start = time.perf_counter()
    k_all = processes(args)
    parts = [partial.with_name(f"{partial.name}{k}") for k in range(k_all)]
    datas, offsets, rc = [], [], 0
    for k, part in enumerate(parts):
        if k_all > 1:
            print(f"gdbench bench: process {k + 1} of {k_all}", flush=True)
        offsets.append(time.perf_counter() - start)
        # The one-time cost of a fresh process is measured once, by the first suite process.
        rc_k = _child(cmd if k == 0 else [*cmd, "--gd-startup=0"], env, part, path, args.verbose)
        if rc_k not in (0, 1) or not part.exists():
            for q in parts:
                q.unlink(missing_ok=True)
            print(f"gdbench bench: pytest exited with status {rc_k} and saved no results", file=sys.stderr)
            return 1
        rc = max(rc, rc_k)
        datas.append(json.loads(part.read_text()))
    wall, busy_during = time.perf_counter() - start, busy.others()
    partial.write_text(json.dumps(merge(datas, offsets) if len(datas) > 1 else datas[0]))
    for q in parts:
        q.unlink(missing_ok=True)
    data: dict[str, Any] = json.loads(partial.read_text())
    meta = data.setdefault("gdbench", {})
    # Other processes on the machine disturb the timings: the report says how busy it was.
    meta.update(
        wall_seconds=wall,
        threads=args.threads,
        argv=sys.argv[1:],
        load_before=load_before,
        busy_during=busy_during,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, data)
    partial.unlink()
    print(f"gdbench bench: {len(data.get('benchmarks', []))} cases in {wall:.0f} s, saved {path}")
    if not args.verbose:  # pytest-benchmark's tables said it otherwise
        print("\n".join(output.summary(path, meta.get("failed", []))))
    if rc:
        print(
            f"gdbench bench: {len(meta.get('failed', []))} case(s) failed; their numbers are not in the JSON",
            file=sys.stderr,
        )
    return rc
