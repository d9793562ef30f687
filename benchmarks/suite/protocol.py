"""The measurement protocol: every case's rounds spread over the whole run, in shuffled order.

On a shared machine slow periods of several seconds hit whichever cases run then. So no case is
timed in one block: the scheduler makes *passes* over the whole sweep, and in each pass visits
every group (device, N, d, dtype) once, its memory floor and its cases (both modes) in a fresh
random order, one round per epoch count each (repeated within the visit while it stays under the
policy's ``visit_s``: cheap cases get many). A slow period therefore stretches a few rounds of
many cases instead of every round of a few, and the minimum (``benchmarks/core/stats.py``) sees
through it; the floor is sampled over the same span as the fits it is the bar for.

Work is sized by precision: after ``min_passes`` a case whose te interval is narrower than the
target leaves the rotation; passes go on for the rest until ``max_passes`` or until the next pass
would end past the time budget. Groups whose prepared fits would hold more memory than
``keep_bytes`` (N = 10⁷: a copy of the data per backend and epoch count) re-prepare on each visit
and release afterwards; the other groups stay prepared for the whole run.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from benchmarks.core.sweep import Policy, size_label


class Runner(Protocol):
    """What the scheduler needs of a case or a floor (runners.CaseRunner, floor.FloorRunner)."""

    label: str
    error: str | None

    @property
    def prepared(self) -> bool:
        """Whether its data are in memory."""
        ...

    def visit(self, order: list[int], pass_index: int) -> None:
        """One round at each epoch count in ``order``."""
        ...

    def release(self) -> None:
        """Free its prepared data."""
        ...

    def n_rounds(self) -> int:
        """Rounds so far at its least-sampled epoch count."""
        ...

    def precision(self) -> float:
        """Relative width of its main estimate's interval."""
        ...

    def finish(self) -> None:
        """Last checks after the final pass."""
        ...


@dataclass
class Group:
    """The runners of one (device, N, d, dtype): visited together, in shuffled order, once per pass."""

    device: str
    n: int
    dtype: str
    floor: Runner | None  # the memory floor, at d = 1 only
    cases: list[Runner]
    counts: tuple[int, ...]
    big: bool = False  # re-prepare on each visit instead of keeping the data between passes
    done: set[int] = field(default_factory=set)  # indices of cases precise enough
    d: int = 1  # features

    @property
    def label(self) -> str:
        """For progress lines."""
        return f"{self.device} {self.dtype} N={size_label(self.n)}" + (f" d={self.d}" if self.d > 1 else "")

    def active(self) -> list[Runner]:
        """Cases still wanting rounds."""
        return [c for i, c in enumerate(self.cases) if i not in self.done and c.error is None]


@dataclass(frozen=True)
class Tick:
    """Where the passes are: after each group's visit, for a progress bar."""

    passes: int  # passes finished
    groups_visited: int  # groups of the current pass visited so far
    groups: int
    precise: int  # cases out of the rotation, precise enough
    cases: int


@dataclass
class Outcome:
    """What the scheduler did, for the JSON and the report."""

    passes: int = 0
    seconds: float = 0.0
    stopped: str = ""  # "precise", "max_passes" or "budget"
    pass_seconds: list[float] = field(default_factory=list)


def measure(
    groups: Sequence[Group],
    policy: Policy,
    elapsed: Callable[[], float],
    log: Callable[[str], None] = lambda line: None,
    seed: int = 0,
    tick: Callable[[Tick], None] = lambda t: None,
) -> Outcome:
    """Run passes over ``groups`` until every case is precise, or max_passes, or the budget."""
    rng = np.random.default_rng(seed)
    out = Outcome()
    total = sum(len(g.cases) for g in groups)
    start = time.perf_counter()
    for p in range(policy.max_passes):
        if not any(g.active() for g in groups):
            out.stopped = "precise"
            break
        last = out.pass_seconds[-1] if out.pass_seconds else 0.0
        if p >= policy.min_passes and elapsed() + last > policy.budget_s:
            out.stopped = "budget"
            break
        gc.collect()  # what earlier passes left (compiled code, caches) moves out of the collector's
        gc.freeze()  # view, so each round's own collection stays small (untimed, between passes)
        t = time.perf_counter()
        precise = sum(len(g.done) for g in groups)
        for i, g in enumerate(groups):
            _visit(g, rng, p, first=p == 0, log=log)
            tick(Tick(p, i + 1, len(groups), precise, total))
        out.pass_seconds.append(time.perf_counter() - t)
        out.passes = p + 1
        if p + 1 >= policy.min_passes:
            for g in groups:
                g.done |= {
                    i
                    for i, c in enumerate(g.cases)
                    if c.error is None and c.precision() <= policy.target
                }
        left = sum(len(g.active()) for g in groups)
        tick(Tick(p + 1, 0, len(groups), total - left, total))
        log(
            f"pass {p + 1}: {out.pass_seconds[-1]:.1f} s; {total - left} of {total} cases precise to "
            f"{policy.target:.0%} (te, 95 % interval); {elapsed():.0f} s of the "
            f"{policy.budget_s:.0f} s budget"
        )
    else:
        out.stopped = "max_passes"
    for g in groups:
        for r in [*g.cases, *([g.floor] if g.floor is not None else [])]:
            r.finish()
            r.release()
    out.seconds = time.perf_counter() - start
    return out


def _visit(g: Group, rng: np.random.Generator, p: int, first: bool, log: Callable[[str], None]) -> None:
    """One pass over one group: the floor and its active cases in a random order."""
    active = g.active()
    if not active:
        return
    runners: list[Runner] = [*active, *([g.floor] if g.floor is not None else [])]
    t = time.perf_counter()
    for i in rng.permutation(len(runners)):
        r = runners[int(i)]
        r.visit([int(e) for e in rng.permutation(list(g.counts))], p)
        if g.big:
            r.release()
        if first and r.error is not None:
            log(f"  {r.label}: FAILED, left out: {r.error[:200]}")
    if first:
        took = time.perf_counter() - t
        log(f"  {g.label}: {len(active)} cases prepared, checked and timed once in {took:.1f} s")
