"""Flag regressions between two saved runs: exit 1 when a case got slower, by enough and for sure.

The rule (a threshold on the ratio of minima and a Mann–Whitney test) is benchmarks/core/regression.py.
The output says whether the runs share machine and code, per case which test passed and which
failed, and marks every flag uncertain (exit 0) when a run was busy or the machines differ.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from benchmarks.core import stats
from benchmarks.core.files import UsageError
from benchmarks.core.fmt import aligned, fmt_t
from benchmarks.core.machines import match
from benchmarks.core.regression import DEFAULT_THRESHOLD, case_name, cautions, compare
from benchmarks.core.results import load


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench compare``."""
    p.add_argument("old", type=Path, help="the earlier run's JSON")
    p.add_argument("new", type=Path, help="the later run's JSON")
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="a slowdown counts when NEW/OLD of the fastest rounds exceeds this ratio",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=stats.ALPHA,
        help="and when the Mann-Whitney test's one-sided p-value is below this",
    )


def main(args: argparse.Namespace) -> int:
    """Print the comparison; 0 when nothing regressed, 1 otherwise."""
    if not (math.isfinite(args.threshold) and args.threshold >= 1):
        raise UsageError(f"--threshold must be a ratio >= 1, got {args.threshold}")
    if not (0 < args.alpha < 1):
        raise UsageError(f"--alpha must be a probability between 0 and 1, got {args.alpha}")
    old, new = load([args.old]), load([args.new])
    caution = cautions(old, new)
    verdicts = compare(old, new, args.threshold, args.alpha, uncertain=bool(caution))
    if not verdicts:
        raise UsageError(f"{args.old} and {args.new} have no case in common")
    head = ["case", "epochs", "old min", "new min", "verdict"]
    mine = {**old.plugins(), **new.plugins()}
    rows = [
        [
            _marked(v.case, mine),
            str(v.epochs) if v.epochs else "per epoch",
            fmt_t(v.old_min),
            fmt_t(v.new_min),
            v.status(args.threshold, args.alpha),
        ]
        for v in verdicts
    ]
    both = match(old.machine, new.machine, old.commit, new.commit)
    for which, run, path in (("old", old, args.old), ("new", new, args.new)):
        commit = str(run.commit.get("id") or "?")[:10] + (" + edits" if run.commit.get("dirty") else "")
        when = str((run.metas or [{}])[0].get("datetime", ""))[:16].replace("T", " ")
        print(f"{which}: {path} ({when or 'date unknown'}, commit {commit})")
    print(f"runs: {both.code_words()}, {both.machine_words()}")
    if caution:
        print("caution: " + "; ".join(caution) + ": a flag may be the machine's doing, so each is uncertain")
    print("\n".join(aligned([head, *rows])))
    only = sorted({case_name(f) for f in old.fits} ^ {case_name(f) for f in new.fits})
    if only:
        print(
            f"{len(only)} case(s) in only one run, not compared: "
            + ", ".join(only[:5])
            + (" ..." if len(only) > 5 else "")
        )
    bad = sum(v.regression for v in verdicts)
    unsure = sum(v.slower and v.uncertain for v in verdicts)
    untested = sum(v.p is None for v in verdicts)
    rule = f"×{args.threshold:g} and p < {args.alpha:g}"
    verdict = f"{bad} regression(s) ({rule})" if bad else f"no regression ({rule})"
    if unsure:
        verdict += f"; {unsure} uncertain slower case(s): compare runs from one quiet machine to tell"
    if untested:
        verdict += f"; {untested} case(s) had too few rounds for the test"
    print(f"gdbench compare: {len(verdicts)} case(s) compared, {verdict}")
    return 1 if bad else 0


def _marked(case: str, plugins: dict[str, str]) -> str:
    """A case's name with its backend marked "(plugin)" when it is one."""
    backend, _, rest = case.partition(" ")
    return f"{backend} (plugin) {rest}" if backend in plugins else case
