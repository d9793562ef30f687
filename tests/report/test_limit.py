"""Distance from the limit (report/limit.py): the floor's bandwidth, a call's overhead, and the goals."""

from __future__ import annotations

from benchmarks.core import stats
from benchmarks.core.results import Startup
from benchmarks.report import limit
from benchmarks.report.sections import plain
from tests.core.test_floors import floor, per_epoch, with_floors


def test_a_backend_below_a_floor_that_is_a_read_is_said_and_the_floor_not_reached():
    under = per_epoch("fast", 10**7, 0.5e-3)
    run = with_floors(under, fl=[floor(100, 1e-6), floor(10**7, 1e-3)])
    said = [plain(t) for t in limit.floor_notes(run, "cpu")]
    assert any(s.startswith("Floor not reached: fast at N = 10⁷") and "GB/s" in s for s in said), said
    assert any("float64 at N = 10²" in s and "a call" in s for s in said)
    cells = [plain(limit.floor_cell(run, f).text) for f in run.floors]
    assert cells == ["1 µs (a call)", "1 ms, 160 GB/s"]


def test_no_backend_below_the_floor_says_so():
    run = with_floors(per_epoch("slow", 10**7, 2e-3), fl=[floor(10**7, 1e-3)])
    said = [plain(t) for t in limit.floor_notes(run, "cpu")]
    assert "No backend came meaningfully below the floor where it is a read." in said


def test_the_goals_say_met_or_missed_and_by_how_much():
    run = with_floors(per_epoch("fast", 10**7, 1.05e-3), fl=[floor(10**7, 1e-3)])
    first = stats.Interval(0.5, 0.5, 0.5)
    run.startup = {"numba-fused": Startup("numba-fused", None, None, first, job={"n": 1000})}
    (bullets,) = limit.goals(run).blocks
    said = [plain(t) for t in bullets.items]  # type: ignore[union-attr]
    assert said[0].startswith("fastest tₑ ÷ floor, float64, N = 10⁷ (fast): 1.05") and ": met, -5%" in said[0]
    assert "numba-fused first result" in said[1] and "MISSED, +25% of the target" in said[1]
