"""What `gdbench choose` prints: the ranked table and its verdict, or the same answer as JSON."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.core import machines, memory, origin, stats
from benchmarks.core.costmodel import FRESH, SUITE, WARM_ONLY, Job, Prediction, candidates
from benchmarks.core.fmt import aligned, fmt_bytes, fmt_t, fmt_t_bound
from benchmarks.core.results import Run


@dataclass(frozen=True)
class Measurement:
    """The command that measures the job here, and what it costs."""

    command: str
    seconds: float  # about how long it runs
    peak: int  # bytes it needs at most (benchmarks/core/memory.py)


@dataclass
class Answer:
    """Everything choose says about one job."""

    job: Job
    args: argparse.Namespace
    reached: bool | None  # whether --tol was reached within the epoch limit; None: --epochs given
    paths: list[Path]
    run: Run
    preds: list[Prediction]
    best: list[str]
    free: memory.Available | None  # memory available here; None: not known
    plan: Measurement | None = field(default=None)


def machine(run: Run) -> tuple[str, bool | None]:
    """The machine the run came from, in words, and whether it is this one (None: cannot tell)."""
    return run.machine.describe(), machines.same_machine(run.machine, machines.this_machine())


def _shown(path: Path) -> str:
    """A path as given, or relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _fits(k: int) -> str:
    return "1 fit" if k == 1 else f"{k:,} fits"


def _table(a: Answer) -> list[str]:
    mine = set(a.run.plugins())
    head = ["backend", "predicted", "one-time", _fits(a.job.fits), "interval (95 %)", "noise interval", ""]
    rows = []
    for p in a.preds:
        name = p.backend + (" (algorithmic)" if p.kind == "algorithmic" else "")
        name += " (plugin)" if p.backend in mine else ""
        if p.ruled_out:
            rows.append([name, "ruled out", "", "", "", "", f"needs {fmt_bytes(p.peak_bytes)}"])
            continue
        flag = "* beyond" if p.beyond else ("°" if p.extrapolated else "")
        rows.append(
            [
                name,
                fmt_t(p.seconds),
                fmt_t_bound(stats.once(p.one_time)),  # below the clock's resolution: said so
                fmt_t(a.job.fits * p.fit_seconds),
                f"{fmt_t(p.low)} – {fmt_t(p.high)}",
                f"{fmt_t(p.noise_low)} – {fmt_t(p.noise_high)}",
                flag,
            ]
        )
    return aligned([head, *rows])


def _plan_words(plan: Measurement, free: memory.Available | None) -> str:
    """The measuring command with its time and memory, or why it cannot run here."""
    short = memory.shortfall(plan.peak, free)
    if short:
        return f"none on this machine: measuring it {short}"
    room = f" of {fmt_bytes(free.bytes)} available" if free else ""
    return f"{plan.command}  (about {fmt_t(plan.seconds)}; needs {fmt_bytes(plan.peak)}{room})"


def as_text(a: Answer) -> str:
    """The answer as a person reads it."""
    j, lines = a.job, []
    where = f"{j.dtype} on {j.device}, {'with' if j.mode == 'history' else 'no'} history"
    lines.append(f"gdbench choose: N = {j.n:,}, d = {j.d:,}, {j.epochs:,} epochs, {_fits(j.fits)}, {where}")
    name, this = machine(a.run)
    here = {
        True: "this machine",
        False: "NOT this machine: times here may differ",
        None: "whether it is this machine is unknown: the run has no full machine record",
    }[this]
    lines.append(f"from: {', '.join(_shown(p) for p in a.paths)} ({name}; {here})")
    if this is not True:  # no run of this machine was found: offer the one that makes it
        lines.append(f"to measure this machine: {origin.offer()}")
    if a.reached is not None:
        lines.append(f"epochs: {_epochs_note(a)}")
    lines += _table(a)
    lines += _one_time_notes(a.preds)
    beyond = sorted({r for p in a.preds if p.beyond and not p.ruled_out for r in p.extrapolated})
    below = sorted({r for p in a.preds if not p.beyond and not p.ruled_out for r in p.extrapolated})
    if beyond:
        lines.append("* beyond what was measured (never recommended): " + "; ".join(beyond))
    if below:
        lines.append("° extrapolated, bounded by the smallest measured size: " + "; ".join(below))
    if a.free and any(p.ruled_out for p in a.preds):
        lines.append(
            f"ruled out: needs more memory than the {fmt_bytes(a.free.bytes)} available ({a.free.source})"
        )
    lines.append(_verdict(a))
    return "\n".join(lines)


def _one_time_notes(preds: list[Prediction]) -> list[str]:
    """Where the one-time column comes from, once, naming the backends an exception applies to."""

    def which(source: str) -> str:
        got = [p.backend for p in preds if p.one_time_source == source]
        return "" if len(got) == len(preds) else f" for {', '.join(got)}"

    notes = []
    if any(p.one_time_source == FRESH for p in preds):
        notes.append(
            "one-time: a fresh process with the compile cache filled (a script run before); the interval's "
            "top, with it empty (a first run)"
        )
    if any(p.one_time_source == WARM_ONLY for p in preds):
        notes.append(
            f"one-time{which(WARM_ONLY)}: a fresh process with the compile cache filled; with it empty "
            "(a first run) it was not measured in this run and may take longer"
        )
    if any(p.one_time_source == SUITE for p in preds):
        notes.append(
            f"one-time{which(SUITE)}: the first fit in the suite's process, framework already imported (no "
            "fresh-process timing in this run): a new process also pays the import"
        )
    return notes


def _epochs_note(a: Answer) -> str:
    args = a.args
    said = (
        f"{a.job.epochs:,} epochs: what numpy-moments needs to bring the loss below {args.tol:g} on "
        f"{args.data.name} at lr {args.lr:g}"
    )
    return (
        said if a.reached else f"not reached within {a.job.epochs:,} epochs: the prediction is for that limit"
    )


def _verdict(a: Answer) -> str:
    """The recommendation, the tie and how to settle it, or why choose cannot tell."""
    if not a.best:
        assert a.plan is not None
        why = "beyond what the run measured"
        if all(p.ruled_out for p in a.preds):
            why = "no backend fits in the memory available"
        return f"cannot tell: {why}\nmeasure it: {_plan_words(a.plan, a.free)}"
    if len(a.best) > 1:
        assert a.plan is not None
        return (
            f"tie within noise: {', '.join(a.best)} (their noise intervals overlap)\n"
            f"to settle it: {_plan_words(a.plan, a.free)}"
        )
    pool = candidates(a.preds)
    said = f"recommended: {a.best[0]}"
    if len(pool) > 1 and pool[0].seconds > 0:  # a ratio to nothing would have no bound
        ratio = pool[1].seconds / pool[0].seconds
        said += f" ({ratio:.2g}× faster than {pool[1].backend}; noise intervals apart)"
    return said


def _finite(value: Any) -> Any:
    """JSON has no inf or nan: None instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def as_json(a: Answer) -> str:
    """The answer as JSON: inputs, source run and machine, verdict, every prediction."""
    args, j = a.args, a.job
    inputs = {
        "n": j.n,
        "d": j.d,
        "epochs": j.epochs if a.reached is None else None,
        "tol": args.tol if a.reached is not None else None,
        "data": str(args.data) if args.data is not None else None,
        "lr": args.lr if a.reached is not None else None,
        "dtype": j.dtype,
        "device": j.device,
        "history": j.mode == "history",
        "fits": j.fits,
    }
    name, this = machine(a.run)
    data: dict[str, Any] = {
        "inputs": inputs,
        "epochs": "not reached" if a.reached is False else j.epochs,
        "epochs_predicted": j.epochs,
        "source": {
            "runs": [str(p) for p in a.paths],
            "machine": name,
            "machine_record": a.run.machine.to_json(),
            "this_machine": this,
        },
        "recommended": a.best,
        "verdict": "cannot tell" if not a.best else ("tie" if len(a.best) > 1 else "recommended"),
        "measure": None
        if a.plan is None
        else {**asdict(a.plan), "available": a.free.bytes if a.free else None},
        "predictions": [asdict(p) for p in a.preds],
    }
    return json.dumps(_finite(data), indent=2)
