"""The report built once from saved runs, then written: REPORT.md, report.html and figures/*.png.

``write`` is all that ``gdbench report`` calls. ``assemble`` puts the sections in the order a
reader needs them: the answer first (what to use, per regime, how far from the limit), the
figures and every case (the page only), then how far to trust it (reproducibility, predictions
checked), what lies beyond one machine, what was not measured, and how it was measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.core.files import UsageError, atomic_write_text, check_writable
from benchmarks.core.paths import results_dir
from benchmarks.core.ranking import main_dtype
from benchmarks.core.results import Run, load
from benchmarks.core.scaling import read as read_scaling
from benchmarks.report import (
    answer,
    cases,
    features,
    figures,
    html,
    limit,
    markdown,
    method,
    png,
    scaling,
    scope,
    validation,
)
from benchmarks.report.figures import FigureSpec
from benchmarks.report.reproducibility import agreement
from benchmarks.report.sections import Chart, Report, Section, mark

TITLE = "gdbench: which gradient-descent implementation should I use?"
Borrowed = tuple[Path, dict[str, Any], Path]  # a scaling.json, its data, its figure as the report links it


def marker(paths: list[Path]) -> str:
    """REPORT.md's first line: which runs it was made from (so another run's report is never replaced)."""
    return f"<!-- gdbench report from: {', '.join(p.name for p in paths)} -->"


def assemble(
    run: Run, charts: list[tuple[FigureSpec, Path]], borrowed: Borrowed | None, extra: list[Section]
) -> Report:
    """The whole report as data; ``charts``: each figure and its PNG; ``extra``: sections from other files."""
    beyond = scaling.beyond(run, borrowed)
    wide = features.section(run)  # tₑ against d: every other section is at d = 1
    sections = [
        answer.section(run),
        limit.section(run),
        *([wide] if wide else []),
        Section(("Figures",), tuple(Chart(spec, path) for spec, path in charts)),
        cases.section(run),
        *extra,
        *([beyond] if beyond else []),
        scope.section(run),
        method.section(run),
        scope.machine(run),
    ]
    first = {"device": run.values("device")[0], "dtype": main_dtype(run), "mode": "nohist"}
    doc = Report(TITLE, (*answer.lead(run), *scope.provenance(run)), tuple(sections), first)
    return mark(doc, run.plugins(), "(plugin)") if run.plugins() else doc  # the user's own code, named so


def write(paths: list[Path], out: Path | None = None, against: Path | None = None, force: bool = False,
          screenshot: bool = False) -> tuple[list[Path], int]:  # fmt: skip
    """Write REPORT.md, report.html (and report.png with ``screenshot``) and the figures.

    ``out`` defaults to the first run's folder. Returns the files written and the number of figures.
    UsageError, before anything is written, when REPORT.md there was made from other runs (unless
    ``force``), or when ``screenshot`` has no browser to use.
    """
    run = load(paths)
    if not run.select():  # a run of `bench --features` without 1: nothing for the per-regime tables
        found = ", ".join(map(str, run.values("d", d=None)))
        raise UsageError(f"no case at d = 1 in {', '.join(map(str, paths))} (only d = {found}): the report "
                         "compares backends at d = 1; add a run that has d = 1 (bench without --features)")
    if out is None:  # an explicit --out is checked by the CLI; the run's own folder is checked here
        out = paths[0].parent
        check_writable(out, "the run's folder")
    report = out / "REPORT.md"
    if report.exists() and not force and report.read_text().splitlines()[:1] != [marker(paths)]:
        raise UsageError(f"{report} was made from other runs; pass --force to replace it, or choose --out")
    if screenshot:
        from benchmarks.report.screenshot import browser

        browser()  # fails now, with the reason, rather than after the report is written
    extra = [agreement(run, load([against]))[0]] if against else []
    checked = validation.section(paths[0].parent / validation.NAME)  # beside the run, when one was made
    extra += [checked] if checked else []
    charts = [(spec, png.draw(spec, out / "figures" / f"{spec.name}.png")) for spec in figures.charts(run)]
    borrowed: Borrowed | None = None
    scaling_json = results_dir() / "scaling" / "scaling.json"  # measured apart (gdbench scaling): minutes
    if scaling_json.exists():
        data = read_scaling(scaling_json)
        borrowed = (scaling_json, data, scaling.plot(data, out / "figures" / "scaling.png").relative_to(out))
    doc = assemble(run, [(spec, path.relative_to(out)) for spec, path in charts], borrowed, extra)
    atomic_write_text(report, marker(paths) + "\n" + markdown.render(doc))
    page = out / "report.html"
    atomic_write_text(page, html.render(doc, out))
    written = [report, page]
    if screenshot:
        from benchmarks.report.screenshot import screenshot as shoot

        written.append(shoot(page, out / "report.png"))
    return written, len(charts) + (borrowed is not None)
