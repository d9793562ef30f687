"""Where saved runs are found when none is named on the command line."""

from __future__ import annotations

from pathlib import Path

from benchmarks.core.files import UsageError

RESULTS = Path(__file__).resolve().parents[2] / "results"
BENCH_OUT = Path("results") / "bench"  # `gdbench bench`'s default folder, apart from `gdbench run`'s
# The scaling measurement behind "Beyond one machine" (gdbench scaling): minutes of all-reduce
# timing, kept apart from the sweep and committed beside the reference run.
SCALING_JSON = RESULTS / "scaling" / "scaling.json"


def default_runs() -> list[Path]:
    """The newest full run under results/ (by the time in its name), else the newest quick one."""
    # By the time in the name (bench-YYYYMMDD-HHMMSS), not the file's: a clone's files are all new.
    found = sorted(RESULTS.rglob("bench-*.json"), key=lambda p: p.name, reverse=True)
    full = [p for p in found if "quick" not in p.name]
    if not (full or found):
        raise UsageError(f"no saved run under {RESULTS}; run gdbench bench first, or pass --runs")
    return [(full or found)[0]]


def newest(directory: Path = BENCH_OUT) -> Path:
    """The most recent saved run in ``directory``."""
    runs = sorted(directory.glob("bench-*.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise UsageError(f"no JSON given and no bench-*.json in {directory}; run `gdbench bench` first")
    return runs[-1]
