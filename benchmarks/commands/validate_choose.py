"""Are `gdbench choose`'s predictions right? Time jobs the sweep never measured and compare.

    gdbench validate-choose [--runs RUN.json] [--out results/choose-validation.json]

For each job (N, E, dtype) below, sizes between the grid points and epoch counts other than the
suite's, it predicts every backend's time from the saved run, then times the top three as a user
would run the job: a fresh process (frameworks imported and warmed up on a tiny size, as the suite
does), then prepare and one fit of E epochs from the init, compilation included. Each is timed
in two fresh processes (REPEATS) and the fastest kept (noise only adds time). The JSON it writes is
what REPORT.md's "Predictions checked" section shows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.core.costmodel import Job, candidates, predictions, recommended
from benchmarks.core.files import atomic_write_json
from benchmarks.core.paths import default_runs, results_dir, rule
from benchmarks.core.results import load
from benchmarks.suite.machine import versions

JOBS = [  # (N, epochs, dtype): none of them a size or an epoch count the suite times
    (300, 2000, "float64"),
    (3_000, 300, "float64"),
    (30_000, 1000, "float64"),
    (300_000, 50, "float32"),
    (3_000_000, 10, "float64"),
]
REPEATS = 2
TOP = 3

# One job in a fresh process: warm the framework up on a tiny size, then time prepare + fit.
CHILD = """
import json, sys, time
import impls
from benchmarks.core.sweep import spec
name, n, epochs, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
backend = impls.get_backend(spec(name).base or name, **spec(name).options)
x, y = impls.make_linear(size=16, seed=1)
backend.fit(x, y, impls.TrainConfig(epochs=2, tol=0.0, dtype=dtype))
x, y = impls.make_linear(w=0.3, b=0.5, size=n, noise=0.01, seed=0)
cfg = impls.TrainConfig(epochs=epochs, tol=0.0, dtype=dtype, record_history=False)
start = time.perf_counter()
res = backend.prepare(x, y, cfg)()
print(json.dumps({"seconds": time.perf_counter() - start, "epochs": res.epochs}))
"""


def measure(backend: str, n: int, epochs: int, dtype: str) -> float:
    """Fastest of REPEATS fresh-process timings of the whole job."""
    best = float("inf")
    for _ in range(REPEATS):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, backend, str(n), str(epochs), dtype],
            capture_output=True,
            text=True,
            check=True,
        )
        best = min(best, float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"]))
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
        "--out", type=Path, default=results_dir() / "choose-validation.json", help="the JSON to write"
    )
    p.epilog = rule()


def main(args: argparse.Namespace) -> int:
    """Predict, measure and save; 0 when the recommended backend is within 1.3x of the fastest everywhere."""
    paths = list(args.runs) or default_runs()
    run = load(paths)
    jobs: list[dict[str, Any]] = []
    for n, epochs, dtype in JOBS:
        preds = predictions(run, Job(n, 1, epochs, dtype))
        rec = recommended(preds)
        rows = []
        top = candidates(preds)[:TOP]
        for pred in top:
            seconds = measure(pred.backend, n, epochs, dtype)
            rows.append(
                {
                    **pred.__dict__,
                    "measured": seconds,
                    "inside": pred.low <= seconds <= pred.high,
                    "inside_noise": pred.noise_low <= seconds <= pred.noise_high,
                }
            )
            print(
                f"N={n} E={epochs} {dtype} {pred.backend}: predicted {pred.seconds:.4g} s "
                f"({pred.low:.4g}–{pred.high:.4g}), measured {seconds:.4g} s",
                flush=True,
            )
        fastest = min(rows, key=lambda r: r["measured"])
        ours = next(r for r in rows if r["backend"] == top[0].backend)
        jobs.append(
            {
                "n": n,
                "epochs": epochs,
                "dtype": dtype,
                "recommended": rec,
                "rows": rows,
                "fastest_measured": fastest["backend"],
                "recommended_vs_fastest": ours["measured"] / fastest["measured"],
            }
        )
    data = {
        "datetime": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": [str(p) for p in paths],
        "repeats": REPEATS,
        "versions": versions(),
        "jobs": jobs,
    }
    atomic_write_json(args.out, data)
    worst = max(j["recommended_vs_fastest"] for j in jobs)
    inside = sum(r["inside"] for j in jobs for r in j["rows"])
    total = sum(len(j["rows"]) for j in jobs)
    noise = sum(r["inside_noise"] for j in jobs for r in j["rows"])
    print(
        f"validate_choose: recommended within {worst:.2f}x of the fastest; {inside}/{total} in the "
        f"interval, {noise}/{total} in the noise interval"
    )
    return 0 if worst <= 1.3 else 1

