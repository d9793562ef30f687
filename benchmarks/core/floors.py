"""The memory floor read off a Run: where it is a read and where a call's overhead, who came below it,
and the goals held against it (issue 24).

- **A read or a call's overhead.** A floor round costs a call's fixed part plus the read. The
  fastest floor at the small sizes (N ≤ ``CALL_N``) is taken as the fixed part alone; at a larger
  N the floor is a read when the read is most of it: at least twice that. Below, it is no limit.
- **Below the floor.** tₑ ÷ floor counts as below 1 only when its whole 95 % interval lies below
  1 / (1 + ``stats.RESOLUTION``) ≈ 0.95. The interval covers the noise within the run; the 5 % is
  what two runs of the same code already differ by (the rule that calls ties), so a backend 3 %
  below the floor is the floor reached, not beaten.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.core import stats
from benchmarks.core.ranking import fastest, floor_ratio
from benchmarks.core.results import Fit, Floor, Run

CALL_N = 10**3  # the smallest size's floor stands for a call's fixed cost only up to this N
GOAL_N = 10**7  # the goals hold at the largest size, where every floor kernel reads from memory
GOAL_RATIO = 1.1  # the fastest per-pass tₑ within this many floors
GOAL_STABLE = 0.10  # that ratio the same within ±10 % across two full runs
GOAL_FIRST_S = 0.4  # numba-fused's first result in a second process (warm cache), after `import impls`
FIRST = "numba-fused"


def call_cost(run: Run, device: str, dtype: str) -> float | None:
    """A floor round's fixed part: the fastest floor among the small sizes (N ≤ ``CALL_N``), if any.

    The fastest, not the smallest N's: at a few hundred nanoseconds, one slow period in the
    smallest size's rounds would otherwise make every size above it look like a call.
    """
    small = [f.seconds for f in run.floors if (f.device, f.dtype) == (device, dtype) and f.n <= CALL_N]
    return min(small) if small else None


def is_read(run: Run, fl: Floor) -> bool:
    """Whether the floor is mostly a read of the data (a limit), not a call's overhead."""
    fixed = call_cost(run, fl.device, fl.dtype)
    if fixed is None:  # no small size measured: a read from N = 10⁵ on, as on every machine seen
        return fl.n >= 10**5
    return fl.n > CALL_N and fl.seconds >= 2 * fixed


def below(run: Run, f: Fit) -> stats.Interval | None:
    """tₑ ÷ floor when meaningfully below 1 (see the module docstring); None otherwise."""
    q = floor_ratio(run, f)
    if q is None or not f.resolved or q.high * (1 + stats.RESOLUTION) >= 1:
        return None
    return q


def under(run: Run, device: str) -> list[tuple[Fit, stats.Interval, bool]]:
    """Every per-pass fit meaningfully below its floor: (fit, tₑ ÷ floor, whether that floor is a read)."""
    out = []
    for f in run.select(device=device, kind="per-pass"):
        fl, q = run.floor(f.device, f.dtype, f.n), below(run, f)
        if fl is not None and q is not None:
            out.append((f, q, is_read(run, fl)))
    return sorted(out, key=lambda t: (t[0].dtype, t[0].n, t[0].mode, t[0].backend))


@dataclass(frozen=True)
class Goal:
    """One goal of issue 24: what was measured against what target, and whether it was met."""

    name: str
    value: float | None  # None: not measured in this run
    interval: stats.Interval | None
    target: float
    met: bool | None
    detail: str  # which backend, N, dtype


def ratio_goals(run: Run, device: str = "cpu") -> list[Goal]:
    """Per dtype: the fastest per-pass backend's tₑ ÷ floor at N = 10⁷, within ``GOAL_RATIO``?"""
    out = []
    for dtype in run.values("dtype"):
        best = fastest(run, device, dtype, GOAL_N, "nohist")
        q = floor_ratio(run, best[0]) if best else None
        name = f"fastest tₑ ÷ floor, {dtype}, N = 10⁷"
        detail = best[0].backend if best else "not measured"
        value = q.value if q else None
        out.append(Goal(name, value, q, GOAL_RATIO, None if q is None else q.value <= GOAL_RATIO, detail))
    return out


def first_goal(run: Run) -> Goal:
    """numba-fused's first result in a fresh process with a warm cache, at most ``GOAL_FIRST_S``?"""
    s = run.startup.get(FIRST)
    first = s.first if s is not None else None
    job = s.job if s is not None else {}
    runs = len(s.warm_s) if s is not None else 0
    detail = f"{FIRST}, N = {job.get('n', '?')}, {job.get('epochs', '?')} epochs, fresh processes: {runs}"
    value = first.value if first else None
    met = None if first is None else first.value <= GOAL_FIRST_S
    return Goal(f"{FIRST} first result, warm cache", value, first, GOAL_FIRST_S, met, detail)


def stable_goals(new: Run, old: Run, device: str = "cpu") -> list[Goal]:
    """Per dtype: the fastest tₑ ÷ floor at N = 10⁷ of two runs, the same within ``GOAL_STABLE``?"""
    out = []
    for a, b in zip(ratio_goals(new, device), ratio_goals(old, device), strict=False):
        if a.value is None or b.value is None:
            out.append(Goal(a.name + ", run to run", None, None, GOAL_STABLE, None, "not in both runs"))
            continue
        diff = a.value / b.value - 1
        detail = f"{a.detail} {a.value:.3g} against {b.detail} {b.value:.3g}"
        out.append(Goal(a.name + ", run to run", diff, None, GOAL_STABLE, abs(diff) <= GOAL_STABLE, detail))
    return out
