"""What a report may claim: what its run did not measure, and where each borrowed section comes from.

A run covers some sizes, dtypes, devices and backends of the suite; everything else is listed as
not measured, with the reason where the run recorded one. A section read from another file (the
scaling measurement) carries that file's name, date and machine, so no reader takes it for this run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.core import sweep as cases
from benchmarks.core.fmt import fmt_n
from benchmarks.core.results import Run


def registered() -> list[str]:
    """Every registered backend's name."""
    import impls  # the registry only: listing names imports no framework

    return list(impls.backend_names())


def not_measured(run: Run) -> list[str]:
    """One line per part of the suite this run did not measure, and why where it is known."""
    meta = run.metas[0]
    quick = bool(meta.get("quick"))
    lines = []
    for what, suite, ran in (
        ("sizes", cases.SIZES, run.values("n")),
        ("dtypes", cases.DTYPES, run.values("dtype")),
        ("devices", ("cpu", "cuda"), run.values("device")),
        ("modes", ("nohist", "history"), run.values("mode")),
    ):
        left = [v for v in suite if v not in ran]
        if left:
            shown = ", ".join(f"N = {fmt_n(v)}" if isinstance(v, int) else str(v) for v in left)
            why = " (a --quick run)" if quick and what in ("sizes", "dtypes") else ""
            if what == "devices" and "cuda" in left and not run.machines[0].get("gdbench", {}).get("gpu"):
                why = " (no GPU on this machine)"
            lines.append(f"- {what.capitalize()} not run: {shown}{why}.")
    done = set(run.backends())
    selected = set(cases.expand(list(meta.get("backends", []))))
    for base in registered():
        variants = cases.expand([base])
        missing = [v for v in variants if v not in done]
        if not missing:
            continue
        sizes = cases.spec(missing[0]).sizes
        if base in run.unavailable or missing[0] in run.unavailable:
            why = f"unavailable here: {run.unavailable.get(base) or run.unavailable.get(missing[0])}"
        elif selected and not set(missing) & selected:
            why = "not selected (--backends)"
        elif sizes and not set(sizes) & set(run.values("n")):
            why = f"runs only at {', '.join(f'N = {fmt_n(n)}' for n in sizes)}, none of this run's sizes"
        else:
            why = "no result in this run"
        name = base if len(missing) == len(variants) else ", ".join(missing)
        lines.append(f"- `{name}`: {why}.")
    for fail in run.failed:
        lines.append(
            f"- `{fail.get('case')}` failed ({fail.get('when')}), its numbers left out: {fail.get('message')}"
        )
    return lines


def section(run: Run) -> list[str]:
    """REPORT.md's "Not measured" section."""
    lines = not_measured(run) or [
        "- Nothing: every registered backend ran every case of the suite and passed."
    ]
    return ["## Not measured", "", *lines, ""]


def source(path: Path, data: dict[str, Any]) -> str:
    """Where a borrowed section comes from: its file, date and machine, and that it is not this run."""
    m = data.get("machine", {})
    when = str(data.get("created", "?"))[:16].replace("T", " ")
    machine = f"{data.get('cores', '?')} cores, {m.get('platform', '?')}, torch {m.get('torch', '?')}"
    return (
        f"*Source: `{path.parent.name}/{path.name}`, written by `python -m benchmarks.scaling` on {when} UTC "
        f"({machine}): a separate measurement, not part of this run.*"
    )
