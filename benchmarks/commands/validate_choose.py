"""Are `gdbench choose`'s predictions right? Time jobs the sweep never measured, as a user runs them.

    gdbench validate-choose [--runs RUN.json] [--out FILE]   # default: beside the run

For each job (N, d, E, dtype, K) below, sizes between the grid points, d = 1, 10 and 300, epoch
counts other than the suite's, and a one-off script (K = 1), it predicts every backend's time from
the saved run, then times the top three as a user's script runs the job: a fresh Python process that
has made its data and loaded ``impls``, then builds the backend (importing its framework) and runs
K fits of E epochs, compilation included (what ``Run.startup`` calls the one-time cost, plus K fits).
Each is timed in REPEATS fresh processes and the fastest kept (noise only adds time; the second
finds the compile cache the first filled, as the prediction's point assumes). The JSON it writes is
what REPORT.md's "Predictions checked" section shows. About 30 processes: 2-4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.core import machines
from benchmarks.core.costmodel import Job, Prediction, candidates, predictions, recommended
from benchmarks.core.files import UsageError, atomic_write_json
from benchmarks.core.paths import default_runs, results_dir, rule
from benchmarks.core.results import Run, load
from benchmarks.core.sweep import learning_rate
from benchmarks.suite.machine import versions

# (N, d, epochs, dtype, fits): none of them a size, d or epoch count the suite times
JOBS = [
    (3_000, 1, 300, "float64", 20),
    (300_000, 1, 50, "float32", 5),
    (30_000, 10, 200, "float64", 5),
    (3_000, 300, 100, "float64", 3),
    (500, 1, 20, "float64", 1),  # a one-off script: the one-time cost is most of it
]
REPEATS = 2
TOP = 3
WITHIN = 1.3  # the recommended backend should be within this factor of the fastest measured

# A user's script in a fresh process: make the data and load impls, then build the backend and fit K
# times. The data come from impls.make_linear, as in the suite's fresh processes: a script that
# loads its data from disk instead also pays numpy.random's import in its first fit (the init is
# drawn from it; ~30 ms on a busy 2-core machine), alike for every backend.
CHILD = """
import json, sys, time
import numpy as np
import impls
from benchmarks.core.sweep import spec
name, n, d, epochs, dtype, fits, lr = sys.argv[1:8]
n, d = int(n), int(d)
w = [float(v) for v in np.linspace(-0.5, 0.5, d)] if d > 1 else 0.3
x, y = impls.make_linear(w=w, b=0.5, size=n, noise=0.01, seed=0)
cfg = impls.TrainConfig(lr=float(lr), epochs=int(epochs), tol=0.0, dtype=dtype, record_history=False)
start = time.perf_counter()
backend = impls.get_backend(spec(name).base or name, **spec(name).options)
for _ in range(int(fits)):
    res = backend.fit(x, y, cfg)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "epochs": res.epochs, "stop": res.stop_reason}))
"""


def measure(backend: str, job: Job) -> float:
    """Fastest of REPEATS fresh-process timings of the whole job (one-time cost and K fits)."""
    best = float("inf")
    for _ in range(REPEATS):
        args = [backend, str(job.n), str(job.d), str(job.epochs), job.dtype, str(job.fits)]
        args.append(str(learning_rate(job.d)))
        out = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        if got["epochs"] != job.epochs:  # a diverged or stopped fit would time less work than predicted
            raise RuntimeError(f"{backend} ran {got['epochs']} of {job.epochs} epochs ({got['stop']})")
        best = min(best, float(got["seconds"]))
    return best


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench validate-choose``."""
    p.add_argument(
        "--runs",
        nargs="*",
        type=Path,
        default=[],
        help=f"saved runs (default: choose's, the newest full run under {results_dir()})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the JSON to write (default: choose-validation.json beside the run, where report finds it)",
    )
    p.epilog = rule()


def row(pred: Prediction, seconds: float) -> dict[str, Any]:
    """One backend of one job: what was predicted, what was measured, and whether it fell inside."""
    return {
        **asdict(pred),
        "measured": seconds,
        "inside": pred.low <= seconds <= pred.high,
        "inside_noise": pred.noise_low <= seconds <= pred.noise_high,
    }


def check(run: Run, job: Job) -> dict[str, Any]:
    """Predict one job, time its top candidates, and say how the recommendation did."""
    fields = {k: getattr(job, k) for k in ("n", "d", "epochs", "dtype", "fits")}
    try:
        preds = predictions(run, job)
    except UsageError as e:  # a run without the job's dtype (a quick one): said, not fatal
        print(f"N={job.n} d={job.d} {job.dtype}: skipped: {e}", flush=True)
        return {**fields, "skipped": str(e), "recommended": [], "rows": []}
    rec = recommended(preds)
    pool = candidates(preds) or [p for p in preds if not p.ruled_out]
    rows = []
    for pred in pool[:TOP]:
        seconds = measure(pred.backend, job)
        rows.append(row(pred, seconds))
        print(
            f"N={job.n} d={job.d} E={job.epochs} {job.dtype} K={job.fits} {pred.backend}: predicted "
            f"{pred.seconds:.4g} s ({pred.low:.4g}–{pred.high:.4g}), measured {seconds:.4g} s",
            flush=True,
        )
    fastest = min(rows, key=lambda r: r["measured"])
    ours = next((r for r in rows if rec and r["backend"] == rec[0]), None)
    ratio = ours["measured"] / fastest["measured"] if ours else None
    return {
        **fields,
        "recommended": rec,
        "rows": rows,
        "fastest_measured": fastest["backend"],
        "recommended_vs_fastest": ratio,
        "within": ratio is not None and ratio <= WITHIN,
    }


def main(args: argparse.Namespace) -> int:
    """Predict, measure and save; 0 when every job's recommendation is within WITHIN of the fastest."""
    paths = list(args.runs) or default_runs()
    run = load(paths)
    jobs = [check(run, Job(n, d, e, dtype, fits=k)) for n, d, e, dtype, k in JOBS]
    data = {
        "datetime": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": [str(p) for p in paths],
        "repeats": REPEATS,
        "within": WITHIN,
        "versions": versions(),
        "machine": run.machine.describe(),
        "same_machine": machines.same_machine(run.machine, machines.this_machine()),
        "jobs": jobs,
    }
    out = args.out or paths[0].parent / "choose-validation.json"
    atomic_write_json(out, data)
    every = [r for j in jobs for r in j["rows"]]
    ok = sum(j.get("within", False) for j in jobs)
    print(
        f"validate-choose: the recommended backend within {WITHIN}x of the fastest measured in {ok} of "
        f"{len(jobs)} jobs; {sum(r['inside'] for r in every)} of {len(every)} measured times inside their "
        f"interval, {sum(r['inside_noise'] for r in every)} inside the noise interval; wrote {out}"
    )
    return 0 if ok == len(jobs) else 1
