"""Which backend for my job, how long will it take, and how sure is that? Answered from saved runs.

The command around the cost model of benchmarks/core/costmodel.py: it finds the runs (the newest full
run in the results folder by default, benchmarks/core/paths.py), counts the epochs a --tol job
needs on the user's data, measures the leading candidates at exactly N on --measure, and prints
the ranked table or JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import impls
from benchmarks.core.costmodel import Prediction, candidates, predictions, recommended
from benchmarks.core.files import UsageError
from benchmarks.core.fmt import aligned, fmt_t
from benchmarks.core.paths import default_runs, results_dir, rule
from benchmarks.core.problems import DATA_FORMATS as FORMATS
from benchmarks.core.problems import load as load_xy
from benchmarks.core.results import load
from benchmarks.core.sweep import parse_size
from impls import plugins


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench choose``."""
    p.add_argument("--size", default="", help="N, the number of data points (e.g. 30000, 3e4)")
    p.add_argument("--features", type=int, default=1, help="d, features per point")
    p.add_argument("--epochs", type=int, default=0, help="E, epochs the job runs (or give --tol and --data)")
    p.add_argument("--tol", type=float, default=None, help="the job stops below this loss (with --data)")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help=f"your data, to count the epochs --tol needs and take N and d from: {FORMATS}",
    )
    p.add_argument("--lr", type=float, default=0.1, help="learning rate, with --tol and --data")
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--history", action="store_true", help="the job records loss, w and b every epoch")
    p.add_argument(
        "--runs",
        nargs="*",
        type=Path,
        default=[],
        help=f"saved runs (default: the newest full run under {results_dir()})",
    )
    p.add_argument(
        "--measure", action="store_true", help="time the leading candidates at exactly this N (seconds)"
    )
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.epilog = rule()


def epochs_needed(path: Path, tol: float, lr: float, dtype: str) -> tuple[int, int, int, bool]:
    """(N, d, epochs to reach tol, reached) on the user's data, by the cheap exact path (numpy-moments)."""
    import impls  # numpy only: numpy-moments needs no framework

    x, y = load_xy(str(path))
    cfg = impls.TrainConfig(lr=lr, epochs=1_000_000, tol=tol, dtype=dtype, record_history=False)
    res = impls.get_backend("numpy-moments").fit(x, y, cfg)
    if res.stop_reason == "diverged":
        raise UsageError(f"gradient descent diverges on {path} at lr = {lr}; choose a smaller --lr")
    return x.shape[0], x.shape[1], res.epochs, res.stop_reason == "tol"


def _measure(run_args: list[str]) -> Path:
    """Run a short bench in a temporary folder; the JSON it saved."""
    out = Path(tempfile.mkdtemp(prefix="gdbench-choose-"))
    cmd = [sys.executable, "-m", "benchmarks", "bench", *run_args, "--out", str(out), "--name", "choose.json"]
    cmd += [a for spec in plugins.specs_for_child().split(os.pathsep) if spec for a in ("--plugin", spec)]
    print("gdbench choose: measuring: " + " ".join(cmd[3:]), file=sys.stderr, flush=True)
    rc = subprocess.call(cmd, stdout=sys.stderr)
    if rc != 0 or not (out / "choose.json").exists():
        raise UsageError(f"the measurement failed (gdbench bench exited with status {rc})")
    return out / "choose.json"


def main(args: argparse.Namespace) -> int:
    """Print the ranked table and the recommendation (or JSON); 0 on success."""
    mode = "history" if args.history else "nohist"
    note = ""
    if args.data is not None:
        if args.tol is None or args.tol <= 0:
            raise UsageError("--data needs --tol T > 0: the loss at which the job stops")
        n, d, epochs, reached = epochs_needed(args.data, args.tol, args.lr, args.dtype)
        note = (
            f"{epochs:,} epochs: what numpy-moments needs to bring the loss below {args.tol:g} on "
            f"{args.data.name} at lr {args.lr:g}"
            + ("" if reached else " (not reached within that limit: the prediction is for the limit)")
        )
    else:
        if not args.size or args.epochs < 1:
            raise UsageError("give --size N and --epochs E (>= 1), or --tol T and --data FILE")
        try:
            n = parse_size(args.size)
        except ValueError as e:
            raise UsageError(f"bad --size {args.size!r}: {e}") from None
        d, epochs = args.features, args.epochs
        if d < 1:
            raise UsageError(f"--features must be >= 1, got {d}")
    paths = list(args.runs) or default_runs()
    run = load(paths)
    preds = predictions(run, n, d, epochs, args.dtype, args.device, mode)
    if args.measure:
        if d != 1:
            raise UsageError("--measure times d = 1 only (the suite's data); drop --measure or --features")
        lead = [p.backend for p in candidates(preds) if p.kind == "per-pass"][:3]
        lead += [p.backend for p in preds if p.backend in recommended(preds) and p.backend not in lead]
        unloaded = {n: src for n, src in run.plugins().items() if n in lead and not impls.plugin_source(n)}
        if unloaded:  # the code a saved run names is never run unasked: the user names it again
            give = " ".join(f"--plugin {src}" for src in unloaded.values())
            raise UsageError(f"--measure times plugin(s) {', '.join(unloaded)} of that run: add {give}")
        select = ["--sizes", str(n), "--backends", ",".join(lead), "--dtypes", args.dtype]
        path = _measure([*select, "--devices", args.device, "--modes", mode, "--budget", "10"])
        paths, run = [path], load([path])
        preds = predictions(run, n, d, epochs, args.dtype, args.device, mode)
    best = recommended(preds)
    if args.json:
        out: dict[str, Any] = {"recommended": best, "epochs": epochs}
        out["predictions"] = [asdict(p) for p in preds]
        for p in out["predictions"]:
            p["extrapolated"] = bool(p["extrapolated"])
        print(json.dumps(out, indent=2))
        return 0
    where = f"{args.dtype} on {args.device}, {'with' if args.history else 'no'} history"
    print(f"gdbench choose: N = {n:,}, d = {d}, {epochs:,} epochs, {where}")
    print(f"from: {', '.join(_shown(p) for p in paths)}")
    if note:
        print(f"epochs: {note}")
    _table(preds, set(run.plugins()))
    flagged = [p for p in preds if p.extrapolated]
    if flagged:
        reasons = sorted({r for p in flagged for r in p.extrapolated})
        print(f"* extrapolated ({len(flagged)} backend(s)): " + "; ".join(reasons))
    if len(best) == 1:
        pool = candidates(preds)
        nxt = pool[1] if len(pool) > 1 else None
        print(
            f"recommended: {best[0]}"
            + (
                f" ({nxt.seconds / pool[0].seconds:.2g}× faster than {nxt.backend}; noise intervals apart)"
                if nxt
                else ""
            )
        )
    else:
        print(f"tie within noise: {', '.join(best)} (their noise intervals overlap)")
        mine = "".join(f" --plugin {src}" for name, src in run.plugins().items() if name in best)
        settle = f"gdbench choose{mine} --size {n} --epochs {epochs} --dtype {args.dtype} --measure"
        print(f"to settle it: {settle}  (or gdbench bench{mine} --sizes {n} --backends {','.join(best)})")
    return 0


def _shown(path: Path) -> str:
    """A path as given, or relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _table(preds: list[Prediction], mine: set[str]) -> None:
    head = ["backend", "predicted", "of which one-time", "interval (95 %)", "noise interval", ""]
    rows = [
        [
            p.backend
            + (" (algorithmic)" if p.kind == "algorithmic" else "")
            + (" (plugin)" if p.backend in mine else ""),
            fmt_t(p.seconds),
            fmt_t(p.first_result_seconds),
            f"{fmt_t(p.low)} – {fmt_t(p.high)}",
            f"{fmt_t(p.noise_low)} – {fmt_t(p.noise_high)}",
            "*" if p.extrapolated else "",
        ]
        for p in preds
    ]
    print("\n".join(aligned([head, *rows])))
