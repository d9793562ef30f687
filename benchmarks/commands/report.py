"""Turn saved `gdbench bench` JSON into REPORT.md, report.html and figures, without timing anything again.

Reads one or more runs (default: the newest bench-*.json in the results folder's bench/), writes
REPORT.md, report.html (one self-contained interactive page) and figures/*.png next to the first
one (or in --out), each file atomically. A REPORT.md made from other runs is never replaced unless --force.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchmarks.core.files import UsageError, atomic_write_text, check_writable
from benchmarks.core.paths import newest, results_dir
from benchmarks.core.results import load
from benchmarks.core.scaling import read as read_scaling


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench report``."""
    p.add_argument(
        "json",
        nargs="*",
        type=Path,
        help=f"saved runs (default: the newest bench-*.json in {results_dir() / 'bench'})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for REPORT.md, report.html and figures/ (default: the first JSON's)",
    )
    p.add_argument("--force", action="store_true", help="replace a REPORT.md that was made from other runs")
    p.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="EARLIER.json",
        help="add a Reproducibility section comparing this run with an earlier one of the same code",
    )
    p.add_argument(
        "--screenshot",
        action="store_true",
        help="also save report.png, the page as headless Chromium shows it (needs playwright and chromium)",
    )


def main(args: argparse.Namespace) -> int:
    """Write REPORT.md, report.html and the figures; 0 on success."""
    from benchmarks.report import figures, html, markdown, repro, scaling, validation

    paths = list(args.json) or [newest()]
    run = load(paths)
    out = Path(args.out) if args.out else paths[0].parent
    if not args.out:  # an explicit --out is checked by the CLI; the run's own folder is checked here
        check_writable(out, "the run's folder")
    report = out / "REPORT.md"
    marker = f"<!-- gdbench report from: {', '.join(p.name for p in paths)} -->"
    if report.exists() and not args.force:
        first = report.read_text().splitlines()[:1]
        if first != [marker]:
            raise UsageError(
                f"{report} was made from other runs; pass --force to replace it, or choose --out"
            )
    if args.screenshot:
        from benchmarks.report.screenshot import browser

        browser()  # fails now, with the reason, rather than after the report is written
    drawn = []
    for device in run.values("device"):
        drawn += [
            figures.per_epoch_vs_n(run, device, out / "figures" / f"per_epoch_{device}.png"),
            figures.ratio_to_floor(run, device, out / "figures" / f"ratio_to_floor_{device}.png"),
        ]
        if any(t.device == device for t in run.traces):
            drawn.append(figures.growth(run, device, out / "figures" / f"growth_{device}.png"))
    borrowed: tuple[Path, dict[str, Any], Path] | None = None
    scaling_json = results_dir() / "scaling" / "scaling.json"  # measured apart (gdbench scaling): minutes
    if scaling_json.exists():
        data = read_scaling(scaling_json)
        fig = scaling.plot(data, out / "figures" / "scaling.png")
        borrowed = (scaling_json, data, fig.relative_to(out))
    lines = repro.agreement(run, load([args.against]))[0] if args.against else []
    lines += validation.section(paths[0].parent / validation.NAME)  # beside the run, when one was made
    text = markdown.render(run, [p.relative_to(out) for p in drawn], borrowed, lines)
    atomic_write_text(report, marker + "\n" + text)
    page = html.write(run, out / "report.html", borrowed, lines)
    written = [report, page]
    if args.screenshot:
        from benchmarks.report.screenshot import screenshot

        written.append(screenshot(page, out / "report.png"))
    n = len(drawn) + (borrowed is not None)
    print(
        f"gdbench report: wrote {', '.join(str(p) for p in written)} and {n} figure(s) in {out / 'figures'}"
    )
    return 0
