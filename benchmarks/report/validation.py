"""Predictions checked: gdbench choose's predictions against jobs timed afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.core.fmt import fmt_n, fmt_t
from benchmarks.report.sections import Code, Paragraph, Section, Table, cell, text

NAME = "choose-validation.json"  # written by gdbench validate-choose, beside the run


def section(path: Path) -> Section | None:
    """The section from a validation file, labelled with its source; None when there is none."""
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    v = data.get("versions", {})
    when = str(data.get("datetime", "?"))[:16].replace("T", " ")
    runs = ", ".join(Path(r).name for r in data["runs"])
    source = text(
        "From ", Code(path.name), f" ({when} UTC, {v.get('platform', '?')}), made by ",
        Code("gdbench validate-choose"), f" from {runs}: jobs the sweep never timed, each backend timed as "
        f"a user runs the job (a fresh process, prepare and one fit; fastest of {data.get('repeats')}).",
    )  # fmt: skip
    rows = []
    for j in data["jobs"]:
        job = f"N = {fmt_n(j['n'])}, {j['epochs']} epochs, {j['dtype']}"
        for i, r in enumerate(j["rows"]):
            first = i == 0
            predicted = f"{fmt_t(r['seconds'])} ({fmt_t(r['low'])}–{fmt_t(r['high'])})"
            predicted += " *" if r["extrapolated"] else ""
            rows.append(
                (
                    cell(job if first else ""),
                    cell(Code(r["backend"])),
                    cell(predicted, r["seconds"]),
                    cell(fmt_t(r["measured"]), r["measured"]),
                    cell("yes" if r["inside"] else "no"),
                    cell(Code(j["fastest_measured"]) if first else ""),
                    cell(f"×{j['recommended_vs_fastest']:.2f}" if first else ""),
                )
            )  # fmt: skip
    every = [r for j in data["jobs"] for r in j["rows"]]
    inside = sum(r["inside"] for r in every)
    noisy = ""
    if all("inside_noise" in r for r in every):  # files made before it have no noise interval
        noisy = f", {sum(r['inside_noise'] for r in every)} inside the noise interval ties are called on"
    worst = max(j["recommended_vs_fastest"] for j in data["jobs"])
    hits = sum(j["recommended"][0] == j["fastest_measured"] for j in data["jobs"])
    summary = (
        f"The top-ranked backend was the fastest measured in {hits} of {len(data['jobs'])} jobs and within "
        f"×{worst:.2f} of it in all; {inside} of {len(every)} measured times fell inside their predicted "
        f"interval{noisy}. * extrapolated beyond the measured sizes."
    )
    head = (
        "job",
        "backend",
        "predicted (interval)",
        "measured",
        "inside",
        "fastest measured",
        "recommended ÷ fastest",
    )
    table = Table(head, tuple(rows))
    return Section(
        ("Predictions checked: ", Code("gdbench choose"), " against measured jobs"),
        (Paragraph(source), Paragraph((summary,)), table),
    )
