"""The scheduler's promises, on fake runners and a simulated clock: spread, precision, budget, memory."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from benchmarks.core import stats
from benchmarks.core.sweep import Policy
from benchmarks.suite import protocol

COUNTS = (50, 100, 200)


class Clock:
    """Simulated time, with a slow period that stretches whatever runs inside it."""

    def __init__(self, slow: tuple[float, float] = (0.0, 0.0), factor: float = 2.5) -> None:
        self.now, self.slow, self.factor = 0.0, slow, factor

    def spend(self, seconds: float) -> float:
        """Advance by ``seconds`` of work, stretched inside the slow period; return the elapsed time."""
        stretch = self.factor if self.slow[0] <= self.now < self.slow[1] else 1.0
        self.now += seconds * stretch
        return seconds * stretch


@dataclass
class FakeCase:
    """A case costing t0 + E·te, timed on the simulated clock."""

    label: str
    t0: float
    te: float
    clock: Clock
    log: list[tuple[str, int]]
    precise_after: int = 10**9  # rounds after which precision() reports the target met
    error: str | None = None
    prepared: bool = False
    releases: int = 0
    rounds: dict[int, list[float]] = field(default_factory=lambda: {e: [] for e in COUNTS})

    def visit(self, order: list[int], pass_index: int) -> None:
        self.prepared = True
        self.log.append((self.label, pass_index))
        for e in order:
            self.rounds[e].append(self.clock.spend(self.t0 + e * self.te))

    def release(self) -> None:
        self.prepared = False
        self.releases += 1

    def n_rounds(self) -> int:
        return min(len(r) for r in self.rounds.values())

    def precision(self) -> float:
        return 0.0 if self.n_rounds() >= self.precise_after else 1.0

    def finish(self) -> None:
        pass


def _policy(**kw: float) -> Policy:
    base = {"min_passes": 3, "max_passes": 6, "target": 0.05, "budget_s": 1e9, "keep_bytes": 1 << 30}
    return Policy(**{**base, **kw})  # type: ignore[arg-type]


def _groups(clock: Clock, log: list[tuple[str, int]], sizes: int = 2, per: int = 4, **kw: int) -> list:
    groups = []
    for g in range(sizes):
        cases = [FakeCase(f"g{g}c{i}", 1e-4, (i + 1) * 1e-6, clock, log, **kw) for i in range(per)]
        floor = FakeCase(f"g{g}floor", 1e-6, 0.0, clock, log)
        groups.append(protocol.Group("cpu", 10 ** (g + 2), "float64", floor, cases, COUNTS))  # type: ignore[arg-type]
    return groups


def test_every_pass_visits_every_group_once_in_a_fresh_random_order():
    log: list[tuple[str, int]] = []
    groups = _groups(Clock(), log)
    out = protocol.measure(groups, _policy(max_passes=4), elapsed=lambda: 0.0)
    assert out.passes == 4 and out.stopped == "max_passes"
    per_pass = [[name for name, p in log if p == k] for k in range(4)]
    assert all(sorted(v) == sorted(per_pass[0]) for v in per_pass)  # each runner once per pass
    for v in per_pass:  # group by group, the floor among the cases
        assert [name[:2] for name in v] == ["g0"] * 5 + ["g1"] * 5
    assert len({tuple(v) for v in per_pass}) > 1  # shuffled anew


def test_a_precise_case_leaves_the_rotation_and_the_run_ends_when_all_are():
    log: list[tuple[str, int]] = []
    groups = _groups(Clock(), log, precise_after=3)
    out = protocol.measure(groups, _policy(max_passes=10), elapsed=lambda: 0.0)
    assert out.passes == 3 and out.stopped == "precise"


def test_the_budget_stops_new_passes_but_never_before_the_minimum():
    log: list[tuple[str, int]] = []
    out = protocol.measure(_groups(Clock(), log), _policy(budget_s=1.0), elapsed=lambda: 5.0)
    assert out.passes == 3 and out.stopped == "budget"


def test_a_big_group_releases_its_data_after_every_visit():
    log: list[tuple[str, int]] = []
    groups = _groups(Clock(), log)
    groups[1].big = True
    protocol.measure(groups, _policy(max_passes=3), elapsed=lambda: 0.0)
    assert all(c.releases == 3 + 1 for c in groups[1].cases)  # each visit, then the final release
    assert all(c.releases == 1 for c in groups[0].cases)  # kept between passes


def test_a_slow_period_cannot_move_the_minimum_when_rounds_are_spread_over_passes():
    """The case in the issue: several seconds of slowness over a block of cases."""
    log: list[tuple[str, int]] = []
    clock = Clock()
    groups = _groups(clock, log, sizes=1, per=6)
    # Measured in blocks (each case all its rounds at once), a slow period covering the middle
    # cases would stretch every round of theirs; the scheduler spreads them over passes instead.
    clock.slow = (0.002, 0.006)  # simulated seconds: spans about one pass
    protocol.measure(groups, _policy(min_passes=4, max_passes=4), elapsed=lambda: 0.0)
    for c in groups[0].cases:
        te = stats.fit_cost(c.rounds).te.value
        assert abs(te / c.te - 1) < 1e-6, c.label  # every case kept at least one clean round per count
    blocked = Clock(slow=(0.002, 0.006))
    hit = 0
    for c in groups[0].cases:
        rounds = {e: [blocked.spend(c.t0 + e * c.te) for _ in range(4)] for e in COUNTS}
        hit += abs(stats.fit_cost(rounds).te.value / c.te - 1) > 0.1
    assert hit >= 1  # the same slow period, in blocks, corrupts whole cases


def test_a_failed_case_is_left_out_and_the_others_go_on():
    log: list[tuple[str, int]] = []
    groups = _groups(Clock(), log)
    groups[0].cases[0].error = "CheckFailed: made up"
    protocol.measure(groups, _policy(max_passes=3), elapsed=lambda: 0.0)
    assert not any(name == "g0c0" for name, _ in log)
    assert np.all([c.n_rounds() == 3 for c in groups[0].cases[1:]])
