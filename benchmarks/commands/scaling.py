"""Measure all-reduce latency and per-sample compute here (~1-2 min), and model many machines.

``gdbench scaling --out DIR`` measures and writes DIR/scaling.json and the figure;
``--from DIR/scaling.json`` redraws the figure and prints the report section without timing.
The model: benchmarks/core/scaling.py; the measurement: benchmarks/suite/scaling.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.core.files import atomic_write_json
from benchmarks.core.paths import results_dir, rule
from benchmarks.core.scaling import read


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench scaling``."""
    p.add_argument(
        "--out",
        type=Path,
        default=results_dir() / "scaling",
        help="folder for scaling.json and scaling.png",
    )
    p.add_argument("--from", dest="source", type=Path, default=None, help="redraw from this JSON; no timing")
    p.add_argument("--quick", action="store_true", help="fewer sizes and repeats (for a smoke test)")
    p.epilog = rule() + " `gdbench report` borrows scaling/scaling.json from it."


def main(args: argparse.Namespace) -> int:
    """Measure (unless --from), save the JSON, draw the figure, print the report section."""
    if args.source is not None:
        data = read(args.source)
        out = args.source.parent
    else:
        from benchmarks.suite.scaling import measure  # torch and minutes of timing: only here

        data = measure(quick=args.quick)
        out = args.out
        atomic_write_json(out / "scaling.json", data)
    from benchmarks.report.markdown import section as markdown
    from benchmarks.report.scaling import plot, section

    fig = plot(data, out / "scaling.png")
    print(markdown(section(data, Path(fig.name))))
    return 0
