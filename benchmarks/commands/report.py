"""Turn saved `gdbench bench` JSON into REPORT.md, report.html and figures, without timing anything again.

Reads one or more runs (default: the newest bench-*.json in the results folder's bench/), writes
REPORT.md, report.html (one self-contained interactive page) and figures/*.png next to the first
one (or in --out), each file atomically. A REPORT.md made from other runs is never replaced unless --force.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.core.paths import newest, results_dir


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
    from benchmarks.report.build import write

    out = Path(args.out) if args.out else None
    written, figures = write(list(args.json) or [newest()], out, args.against, args.force, args.screenshot)
    folder = written[0].parent / "figures"
    print(f"gdbench report: wrote {', '.join(str(p) for p in written)} and {figures} figure(s) in {folder}")
    return 0
