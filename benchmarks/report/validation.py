"""Predictions checked: gdbench choose's predictions against jobs timed afterwards, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.core.fmt import fmt_n, fmt_t
from benchmarks.report.sections import Code, Paragraph, Section, Table, cell, text

NAME = "choose-validation.json"  # written by gdbench validate-choose, beside the run
WITHIN = 1.3  # files made before they recorded it used this factor too


def _job(j: dict[str, Any]) -> str:
    """'N = 3,000, d = 300, 100 epochs, float64, 3 fits' (d and K only where the file has them)."""
    d = f", d = {j['d']:,}" if "d" in j else ""
    k = j.get("fits")
    fits = "" if k is None else (", 1 fit (a fresh script)" if k == 1 else f", {k} fits")
    return f"N = {fmt_n(j['n'])}{d}, {j['epochs']} epochs, {j['dtype']}{fits}"


def _ratio(j: dict[str, Any]) -> str:
    """The recommended backend's measured time ÷ the fastest's, or why there is none."""
    r = j.get("recommended_vs_fastest")
    if r is None:
        return "no recommendation (beyond the run)"
    return f"×{r:.2f}"


def _rows(jobs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    rows = []
    for j in jobs:
        if j.get("skipped"):
            rows.append((cell(_job(j)), cell("skipped"), cell(j["skipped"]), *(cell("") for _ in range(4))))
        for i, r in enumerate(j["rows"]):
            first = i == 0
            predicted = f"{fmt_t(r['seconds'])} ({fmt_t(r['low'])}–{fmt_t(r['high'])})"
            predicted += " *" if r.get("beyond") or r.get("extrapolated") else ""
            rows.append(
                (
                    cell(_job(j) if first else ""),
                    cell(Code(r["backend"])),
                    cell(predicted, r["seconds"]),
                    cell(fmt_t(r["measured"]), r["measured"]),
                    cell("yes" if r["inside"] else "no"),
                    cell(Code(j["fastest_measured"]) if first else ""),
                    cell(_ratio(j) if first else ""),
                )
            )  # fmt: skip
    return rows


def _summary(data: dict[str, Any]) -> str:
    """How the recommendations and the intervals did, in one paragraph."""
    within = float(data.get("within", WITHIN))
    jobs = [j for j in data["jobs"] if not j.get("skipped")]
    every = [r for j in jobs for r in j["rows"]]
    ratios = [j["recommended_vs_fastest"] for j in jobs if j.get("recommended_vs_fastest") is not None]
    near = sum(r <= within for r in ratios)
    none = len(jobs) - len(ratios)
    noisy = ""
    if all("inside_noise" in r for r in every):  # files made before it have no noise interval
        noisy = f", {sum(r['inside_noise'] for r in every)} inside the noise interval ties are called on"
    hits = sum(bool(j["recommended"]) and j["recommended"][0] == j["fastest_measured"] for j in jobs)
    said = (
        f"The recommended backend was the fastest measured in {hits} of {len(jobs)} jobs and within "
        f"×{within:g} of it in {near}"
    )
    if none:
        said += f" (no recommendation in {none}: the job lay beyond what the run measured)"
    skipped = len(data["jobs"]) - len(jobs)
    if skipped:
        said += f"; {skipped} job(s) skipped (the run did not measure their dtype)"
    return (
        f"{said}; {sum(r['inside'] for r in every)} of {len(every)} measured times fell inside their "
        f"predicted interval{noisy}. * beyond or below what the run measured."
    )


def section(path: Path) -> Section | None:
    """The section from a validation file, labelled with its source; None when there is none."""
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    v = data.get("versions", {})
    when = str(data.get("datetime", "?"))[:16].replace("T", " ")
    runs = ", ".join(Path(r).name for r in data["runs"])
    same = {True: "the run's machine", False: "NOT the run's machine", None: "machine unknown"}
    where = same[data["same_machine"]] if "same_machine" in data else v.get("platform", "?")
    how = (  # files made before K fits were predicted warmed the framework up before the clock
        "a fresh process builds the backend, importing its framework, then runs the fits"
        if "within" in data
        else "a fresh process, its framework warmed up on a tiny size, then prepare and one fit"
    )
    source = text(
        "From ", Code(path.name), f" ({when} UTC, {where}), made by ", Code("gdbench validate-choose"),
        f" from {runs}: jobs the sweep never timed, each backend timed as a user's script runs the job "
        f"({how}; fastest of {data.get('repeats')} processes).",
    )  # fmt: skip
    head = ("job", "backend", "predicted (interval)", "measured", "inside", "fastest measured", "ours ÷ it")
    return Section(
        ("Predictions checked: ", Code("gdbench choose"), " against measured jobs"),
        (Paragraph(source), Paragraph((_summary(data),)), Table(head, tuple(_rows(data["jobs"])))),
    )
