"""Redraw the figures of a saved `gdbench run` (run.json): data, loss, loss over time, parameters."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.report.tutorial import load_run, write_figures


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench figures``."""
    p.add_argument("run_json", type=Path, help="a run.json written by gdbench run")
    p.add_argument("--out", type=Path, default=None, help="folder for the PNGs (default: RUN_JSON's)")


def main(args: argparse.Namespace) -> int:
    """Write the PNGs and print their paths."""
    for path in write_figures(load_run(args.run_json), args.out or args.run_json.parent):
        print(path)
    return 0
