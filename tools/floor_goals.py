"""Issue 24's goals from two full runs: python tools/floor_goals.py NEW.json OLD.json

Prints, per dtype, the fastest per-pass tₑ ÷ floor at N = 10⁷ with its interval in each run
(goal: ≤ 1.1), how much that ratio moved between the runs (goal: within ±10 %), each run's floor
bandwidth there, and numba-fused's first result in a new process with a warm cache (goal: ≤ 0.4 s).
The same numbers are in REPORT.md ("Goals", and "Reproducibility" with --against).
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.core import floors
from benchmarks.core.results import load


def main(argv: list[str]) -> int:
    """Print the goals of the runs named in ``argv`` (the newer first)."""
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    new, old = (load([Path(a)]) for a in argv)
    for label, run in (("new", new), ("old", old)):
        for g in [*floors.ratio_goals(run), floors.first_goal(run)]:
            shown = "not measured" if g.value is None else f"{g.value:.3g}"
            if g.interval is not None:
                shown += f" ({g.interval.low:.3g}-{g.interval.high:.3g})"
            print(f"{label}: {g.name} [{g.detail}]: {shown}, target <= {g.target:g}: {_verdict(g.met)}")
        for fl in sorted(run.floors, key=lambda f: (f.dtype, f.n)):
            if fl.n == floors.GOAL_N:
                print(f"{label}: floor {fl.dtype} N = 10^7: {fl.seconds * 1e3:.3g} ms, "
                      f"{fl.bandwidth / 1e9:.3g} GB/s ({fl.method})")  # fmt: skip
    for g in floors.stable_goals(new, old):
        shown = "not measured" if g.value is None else f"{g.value:+.1%}"
        print(f"{g.name} [{g.detail}]: {shown}, target within ±{g.target:.0%}: {_verdict(g.met)}")
    return 0


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "MISSED"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
