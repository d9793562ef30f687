"""Which backend for my job, how long will it take, and how sure is that? Answered from saved runs.

The command around the cost model of benchmarks/core/costmodel.py: it finds the runs (the newest full
run in the results folder by default, benchmarks/core/paths.py), counts the epochs a --tol job
needs on the user's data, rules out backends that would not fit in memory, measures the leading
candidates at exactly (N, d) on --measure, and prints the ranked table or JSON
(benchmarks/commands/_choose_out.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import impls
from benchmarks.commands import _choose_out as out
from benchmarks.commands import _interrupt
from benchmarks.commands._suite_output import Relay, pump
from benchmarks.core import memory
from benchmarks.core.costmodel import Job, Prediction, candidates, peak_bytes, predictions, recommended
from benchmarks.core.files import UsageError
from benchmarks.core.paths import default_runs, own_runs, results_dir, rule, saved_runs
from benchmarks.core.problems import DATA_FORMATS as FORMATS
from benchmarks.core.problems import load as load_xy
from benchmarks.core.results import Run, load
from benchmarks.core.sweep import epoch_counts, parse_size
from impls import plugins

EPOCH_LIMIT = 1_000_000  # a --tol job not reached within this many epochs is predicted at the limit
BUDGET_S = 10.0  # --measure's bench budget
VISIT_S = 0.15  # a cheap case at one epoch count, per pass: its rounds within a visit, gc, checks
OVERHEAD_S = 5.0  # a bench process: Python, pytest and the data, before any backend


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
        "--fits",
        type=int,
        default=1,
        help="K, fits your process runs: the prediction is its one-time cost plus K fits (default: 1)",
    )
    p.add_argument(
        "--runs",
        nargs="*",
        type=Path,
        default=[],
        help=f"saved runs (default: the newest full run under {results_dir()})",
    )
    p.add_argument(
        "--measure", action="store_true", help="time the leading candidates at exactly this N and d (seconds)"
    )
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.epilog = rule()


def epochs_needed(path: Path, tol: float, lr: float, dtype: str) -> tuple[int, int, int, bool]:
    """(N, d, epochs to reach tol, reached) on the user's data, by the cheap exact path (numpy-moments)."""
    x, y = load_xy(str(path))
    cfg = impls.TrainConfig(lr=lr, epochs=EPOCH_LIMIT, tol=tol, dtype=dtype, record_history=False)
    res = impls.get_backend("numpy-moments").fit(x, y, cfg)
    if res.stop_reason == "diverged":
        raise UsageError(f"gradient descent diverges on {path} at lr = {lr}; choose a smaller --lr")
    return x.shape[0], x.shape[1], res.epochs, res.stop_reason == "tol"


def job_of(args: argparse.Namespace) -> tuple[Job, bool | None]:
    """The job the options describe, and whether its --tol was reached (None: --epochs given)."""
    mode = "history" if args.history else "nohist"
    if args.fits < 1:
        raise UsageError(f"--fits must be >= 1, got {args.fits}")
    if args.data is not None:
        if args.tol is None or args.tol <= 0:
            raise UsageError("--data needs --tol T > 0: the loss at which the job stops")
        n, d, epochs, reached = epochs_needed(args.data, args.tol, args.lr, args.dtype)
        return Job(n, d, epochs, args.dtype, args.device, mode, args.fits), reached
    if not args.size or args.epochs < 1:
        raise UsageError("give --size N and --epochs E (>= 1), or --tol T and --data FILE")
    try:
        n = parse_size(args.size)
    except ValueError as e:
        raise UsageError(f"bad --size {args.size!r}: {e}") from None
    if args.features < 1:
        raise UsageError(f"--features must be >= 1, got {args.features}")
    return Job(n, args.features, args.epochs, args.dtype, args.device, mode, args.fits), None


def lead(preds: list[Prediction]) -> list[str]:
    """The backends --measure times: the three fastest per-pass candidates and any recommended."""
    pool = candidates(preds) or [p for p in preds if not p.ruled_out] or preds
    names = [p.backend for p in pool if p.kind == "per-pass"][:3]
    return names + [b for b in recommended(preds) if b not in names]


def measurement(preds: list[Prediction], job: Job, run: Run) -> out.Measurement:
    """The command that measures the job here, with what it costs in time and memory."""
    names = lead(preds)
    mine = "".join(f" --plugin {src}" for name, src in run.plugins().items() if name in names)
    feats = f" --features {job.d}" if job.d != 1 else ""
    hist = " --history" if job.mode == "history" and job.d == 1 else ""  # the suite: d > 1 without
    command = (
        f"gdbench choose{mine} --size {job.n} --epochs {job.epochs}{feats} --dtype {job.dtype} "
        f"--device {job.device}{hist} --fits {job.fits} --measure"
    )
    chosen = [p for p in preds if p.backend in names]
    counts = epoch_counts(job.n, job.d)
    passes = sum(max(VISIT_S, p.t0 + c * p.te) for p in chosen for c in counts)
    first = sum(p.one_time_high + p.t0 + counts[0] * p.te for p in chosen)
    seconds = OVERHEAD_S + first + max(3 * passes, BUDGET_S)  # 3 passes at least; more within the budget
    return out.Measurement(command, seconds, max((peak_bytes(b, job) for b in names), default=0))


def _measure(run_args: list[str]) -> Path:
    """Run a short bench, kept with this machine's runs in the per-user folder; the JSON it saved."""
    folder = own_runs()  # never the repository's results/: labelled, so never read by default
    cmd = [sys.executable, "-m", "benchmarks", "bench", *run_args, "--out", str(folder), "--label", "choose"]
    cmd += [a for spec in plugins.specs_for_child().split(os.pathsep) if spec for a in ("--plugin", spec)]
    print("gdbench choose: measuring: " + " ".join(cmd[3:]), file=sys.stderr, flush=True)
    before = set(saved_runs(folder))
    bench = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # the bar, no summary
    assert bench.stderr is not None
    try:  # its progress, less its own word on Ctrl-C: ours follows
        pump({bench.stderr.fileno(): Relay(sys.stderr, _interrupt.LINE + "\n", "")})
        rc = bench.wait()
    except BaseException:  # Ctrl-C reached it too: let it stop its suite, as it does within a second
        bench.send_signal(signal.SIGINT)
        try:
            bench.wait(timeout=1.5)
        except subprocess.TimeoutExpired:
            bench.kill()
        raise
    made = [p for p in saved_runs(folder) if p not in before]
    if rc != 0 or not made:
        raise UsageError(f"the measurement failed (gdbench bench exited with status {rc})")
    return made[-1]


def measure(preds: list[Prediction], job: Job, run: Run, free: memory.Available | None) -> Path:
    """Time the leading candidates at exactly (N, d) in a short bench; refused first if it cannot fit."""
    names = lead(preds)
    unloaded = {n: src for n, src in run.plugins().items() if n in names and not impls.plugin_source(n)}
    if unloaded:  # the code a saved run names is never run unasked: the user names it again
        give = " ".join(f"--plugin {src}" for src in unloaded.values())
        raise UsageError(f"--measure times plugin(s) {', '.join(unloaded)} of that run: add {give}")
    plan = measurement(preds, job, run)
    memory.require(plan.peak, f"choose --measure at N = {job.n:,}, d = {job.d:,}", free)
    select = ["--sizes", str(job.n), "--backends", ",".join(names), "--dtypes", job.dtype]
    select += ["--features", str(job.d)] if job.d != 1 else []
    mode = job.mode if job.d == 1 else "nohist"  # the suite times d > 1 without history
    select += ["--devices", job.device, "--modes", mode, "--budget", str(BUDGET_S)]
    return _measure([*select, "--startup", "0"])  # the one-time cost: the saved run's (main)


def main(args: argparse.Namespace) -> int:
    """Print the ranked table and the recommendation (or JSON); 0 on success."""
    job, reached = job_of(args)
    paths = list(args.runs) or default_runs()
    run = load(paths)
    free = memory.available()
    preds = predictions(run, job, free)
    if args.measure:
        paths = [measure(preds, job, run, free)]
        measured = load(paths)
        measured.startup = {**run.startup, **measured.startup}  # fresh processes: not timed again
        run = measured
        preds = predictions(run, job, free)
    answer = out.Answer(job, args, reached, paths, run, preds, recommended(preds), free)
    answer.plan = measurement(preds, job, run) if len(answer.best) != 1 else None
    print(out.as_json(answer) if args.json else out.as_text(answer))
    return 0
