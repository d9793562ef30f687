"""REPORT.md's "Predictions checked": gdbench choose's predictions against jobs timed afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .fmt import fmt_n, fmt_t

NAME = "choose-validation.json"  # written by python -m benchmarks.validate_choose, beside the run


def section(path: Path) -> list[str]:
    """The section's lines from a validation file, labelled with its source; [] when there is none."""
    if not path.is_file():
        return []
    data: dict[str, Any] = json.loads(path.read_text())
    v = data.get("versions", {})
    when = str(data.get("datetime", "?"))[:19].replace("T", " ")
    runs = ", ".join(Path(r).name for r in data["runs"])
    lines = [
        "## Predictions checked: `gdbench choose` against measured jobs",
        "",
        f"From `{path.name}` ({when} UTC, {v.get('platform', '?')}, made by "
        f"`python -m benchmarks.validate_choose` from {runs}). Jobs at sizes and epoch counts the sweep "
        "never timed; each backend timed as a user runs the job (a fresh process, prepare and one fit, "
        f"compilation included), fastest of {data.get('repeats')} processes.",
        "",
        "| job | backend | predicted (interval) | measured | inside | fastest measured "
        "| recommended ÷ fastest |",
        "|---|---|---|---|---|---|---|",
    ]
    for j in data["jobs"]:
        job = f"N = {fmt_n(j['n'])}, {j['epochs']} epochs, {j['dtype']}"
        for i, r in enumerate(j["rows"]):
            lines.append(
                f"| {job if i == 0 else ''} | `{r['backend']}` | {fmt_t(r['seconds'])} "
                f"({fmt_t(r['low'])}–{fmt_t(r['high'])}){' *' if r['extrapolated'] else ''} | "
                f"{fmt_t(r['measured'])} | {'yes' if r['inside'] else 'no'} | "
                + (f"`{j['fastest_measured']}` | ×{j['recommended_vs_fastest']:.2f} |" if i == 0 else " | |")
            )
    inside = sum(r["inside"] for j in data["jobs"] for r in j["rows"])
    total = sum(len(j["rows"]) for j in data["jobs"])
    worst = max(j["recommended_vs_fastest"] for j in data["jobs"])
    hits = sum(j["recommended"][0] == j["fastest_measured"] for j in data["jobs"])
    lines += [
        "",
        f"The top-ranked backend was the fastest measured in {hits} of {len(data['jobs'])} jobs and "
        f"within ×{worst:.2f} of it in all; {inside} of {total} measured times fell inside their "
        "predicted interval. \\* extrapolated beyond the measured sizes.",
        "",
    ]
    return lines
