"""REPORT.md's "Predictions checked": gdbench choose's predictions against jobs timed afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.core.fmt import fmt_n, fmt_t

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
        "never timed; each backend timed as a user runs the job: a fresh process whose framework was "
        "started on a tiny size first (as the suite's are), then prepare and one fit, any compilation "
        f"at this size included; fastest of {data.get('repeats')} processes. The interval carries "
        "the measurements' 95 % intervals, the range a cost may take between the two measured sizes "
        "around N, and the range of one-time costs the suite saw there (README, `gdbench choose`).",
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
    rows = [r for j in data["jobs"] for r in j["rows"]]
    noisy = ""
    if all("inside_noise" in r for r in rows):  # files made before it have no noise interval
        noise = sum(r["inside_noise"] for r in rows)
        noisy = f", and {noise} inside the noise interval, on which ties are called"
    total = sum(len(j["rows"]) for j in data["jobs"])
    worst = max(j["recommended_vs_fastest"] for j in data["jobs"])
    hits = sum(j["recommended"][0] == j["fastest_measured"] for j in data["jobs"])
    widths = sorted(r["high"] / r["low"] for j in data["jobs"] for r in j["rows"] if r["low"] > 0)
    width = f"; the intervals' high ÷ low has median ×{widths[len(widths) // 2]:.2f}" if widths else ""
    lines += [
        "",
        f"The top-ranked backend was the fastest measured in {hits} of {len(data['jobs'])} jobs and "
        f"within ×{worst:.2f} of it in all; {inside} of {total} measured times fell inside their "
        f"predicted interval{noisy}{width}. \\* extrapolated beyond the measured sizes.",
        "",
    ]
    return lines
