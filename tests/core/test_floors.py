"""The memory floor's rules (benchmarks/core/floors.py): a read or a call, below it, and the goals."""

from __future__ import annotations

import numpy as np

from benchmarks.core import floors, stats
from benchmarks.core.results import Floor, Startup
from tests.support.synthetic import fit, run_of


def floor(n: int, seconds: float, rel: float = 0.01) -> Floor:
    """A floor at N = n whose bootstrap replicates spread ``rel`` above its minimum."""
    boot = seconds * (1 + rel * np.linspace(0, 1, stats.BOOT))
    return Floor("cpu", "float64", n, seconds, seconds, seconds, 16 * n, "numpy.dot(x, y)", boot, {})


def per_epoch(name: str, n: int, te: float):
    """A fit at N = n whose tₑ is ``te``, well resolved."""
    return fit(name, {e: [1e-4 + e * te * (1 + k * 1e-4) for k in range(5)] for e in (50, 100, 200)}, n=n)


def with_floors(*fits, fl=()):
    run = run_of(*fits)
    run.floors = list(fl)
    return run


def test_the_floor_is_a_read_only_where_it_is_at_least_twice_a_calls_cost():
    fl = [floor(100, 1e-6), floor(10**4, 1.9e-6), floor(10**5, 2e-6), floor(10**7, 5e-3)]
    run = with_floors(fl=fl)
    assert [floors.is_read(run, f) for f in fl] == [False, False, True, True]
    big_only = with_floors(fl=[floor(10**4, 1e-5), floor(10**7, 5e-3)])  # no small size: by N alone
    assert [floors.is_read(big_only, f) for f in big_only.floors] == [False, True]


def test_below_the_floor_counts_only_beyond_the_noise_of_the_interval_and_5_percent():
    fl = floor(10**7, 1e-3)
    near = per_epoch("near", 10**7, 0.97e-3)  # 3 % below: the floor reached, not beaten
    under = per_epoch("under", 10**7, 0.5e-3)
    over = per_epoch("over", 10**7, 2e-3)
    run = with_floors(near, under, over, fl=[floor(100, 1e-6), fl])
    assert floors.below(run, near) is None and floors.below(run, over) is None
    q = floors.below(run, under)
    assert q is not None and q.high * (1 + stats.RESOLUTION) < 1
    assert [(f.backend, read) for f, _, read in floors.under(run, "cpu")] == [("under", True)]


def test_the_goals_say_met_or_missed_with_the_value_and_are_absent_when_not_measured():
    fl = floor(10**7, 1e-3)
    fast = per_epoch("fast", 10**7, 1.2e-3)
    run = with_floors(fast, fl=[fl])
    (goal,) = floors.ratio_goals(run)
    assert goal.met is False and goal.value is not None and abs(goal.value - 1.2) < 0.01
    assert goal.detail == "fast" and goal.target == floors.GOAL_RATIO
    first = floors.first_goal(run)
    assert first.value is None and first.met is None  # a run without the fresh-process measurement
    run.startup = {"numba-fused": Startup("numba-fused", None, None, stats.Interval(0.3, 0.28, 0.35))}
    assert floors.first_goal(run).met is True
    older = with_floors(per_epoch("fast", 10**7, 1.0e-3), fl=[fl])
    (stable,) = floors.stable_goals(run, older)
    assert stable.met is False and stable.value is not None and abs(stable.value - 0.2) < 0.02
