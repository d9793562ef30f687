"""The quick measurement that makes a run of this machine, offered when choose has none.

Timings from another machine, or from a run that never recorded its machine, need not hold here;
`gdbench choose` says so and offers this command. Its runs go to the per-user data folder (or
$GDBENCH_RESULTS), never into a clone's results/, and choose prefers them from then on
(benchmarks/core/paths.py).
"""

from __future__ import annotations

import math

from benchmarks.core.paths import own_runs
from benchmarks.core.sweep import policy

START_S = 30.0  # start-up of the quick bench beyond its budget: imports, compiling, the memory floor


def quick_minutes() -> int:
    """Whole minutes a quick bench takes on a quiet machine: its budget and its start-up."""
    return math.ceil((policy(True).budget_s + START_S) / 60)


def measure_command() -> str:
    """The command that measures this machine, saved where choose looks for runs."""
    return f"gdbench bench --quick --out {own_runs()}"


def offer() -> str:
    """The command, how long it takes, and what it is for."""
    return f"{measure_command()}  (about {quick_minutes()} min; choose reads it from then on)"
