"""A cost between and beyond the measured (N, d): log-log interpolation, and the range it may take.

Every cost is modelled as a fixed part plus a part per unit of work, f + c·u, where u is the work
the backend's complexity names (``Work``): the values an epoch reads, N·d, for a per-pass backend;
numpy-moments' one pass, a QR, N·d·min(N, d); its epochs, d², whatever N is. The suite measures a
grid of sizes N at a few feature counts d (1, 10, 100, 1000). A cost at (N, d) is found in two steps:
along N within each measured d, then across d between the measured d's at that N (a per-pass backend
at d > 1 runs BLAS matrix–vector products, not the d = 1 scalar path, so d is never folded into N).

Each step gives a point (log-log interpolation) and the range the model allows (``bounds``). Beyond
the largest measured work the range stays finite: from that cost to its per-unit cost times the new
work, widened by the largest per-unit rise the measurements showed (a cache level crossed), at
least GROWTH[0] and at most GROWTH[1]. Whether a job lies beyond is said by ``coverage``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.core.fmt import fmt_n

TINY = 1e-12  # seconds: a floor for logs of costs the rounds could not tell from zero
# Beyond the largest measured work a per-unit cost may rise by the largest rise seen between two
# measured sizes, at least 2x, at most 10x: data beyond the last cache level meet no further cliff
# until memory runs out, and that is ruled out by the memory check, not guessed at here.
GROWTH = (2.0, 10.0)


@dataclass(frozen=True)
class Work:
    """How a cost grows: with N within one d (``along_n``, else it does not depend on N), and across d."""

    along_n: bool
    across: Callable[[float, float], float]  # (n, d) -> units of work, for the step across d


PER_PASS = Work(True, lambda n, d: d)  # an epoch reads N·d values
QR_PASS = Work(True, lambda n, d: d * min(n, d))  # numpy-moments' pass: a thin QR, N·d·min(N, d)
SMALL_EPOCH = Work(False, lambda n, d: d * d)  # numpy-moments' epoch: two d×d triangular products


def bracket(sizes: list[float], x: float) -> tuple[float, float]:
    """The measured sizes around ``x``, or the nearest end's pair when outside (len(sizes) >= 2)."""
    i = max(1, min(len(sizes) - 1, next((k for k, s in enumerate(sizes) if s >= x), len(sizes) - 1)))
    return sizes[i - 1], sizes[i]


def interpolate(points: dict[float, float], x: float) -> float:
    """Value at ``x`` from (size -> positive value) by log-log interpolation (the end segment outside)."""
    sizes = sorted(points)
    logs = {s: math.log(max(points[s], TINY)) for s in sizes}
    if len(sizes) == 1:
        return math.exp(logs[sizes[0]])
    a, b = bracket(sizes, x)
    frac = (math.log(x) - math.log(a)) / (math.log(b) - math.log(a))
    return math.exp(logs[a] + frac * (logs[b] - logs[a]))


def growth(points: dict[float, float]) -> float:
    """How much a per-unit cost may rise beyond the measured sizes: the largest rise seen, within GROWTH."""
    sizes = [s for s in sorted(points) if points[s] > TINY]
    rises = [(points[b] / b) / (points[a] / a) for a, b in itertools.pairwise(sizes)]
    return min(GROWTH[1], max([GROWTH[0], *rises]))


def bounds(points: dict[float, float], x: float) -> tuple[float, float]:
    """The range a cost f + c·u may take at work ``x``, from its values at measured work.

    f is at least 0 and at most the whole cost at the smallest measured work; c at x lies between
    its values at the measured sizes around x (the data sit between those sizes' cache levels); and
    more work never costs less. So between sizes a < x < b, the cost lies within
    f + x·(cost(s) − f)/s over f ∈ {0, f_max} and s ∈ {a, b}, cut to [cost(a), cost(b)]. Below the
    smallest size s: from cost(s)·x/s (all of it per unit) to cost(s). Above the largest, l: from
    the larger of cost(l) and its per-unit part (cost(l) − f_max)·x/l ÷ g, to cost(l)·x/l × g, with
    g = ``growth``: finite however far x lies. Exact for f + c·u with c constant.
    """
    sizes = sorted(points)
    v = {s: max(points[s], 0.0) for s in sizes}
    if x in v:
        return v[x], v[x]
    first, last = sizes[0], sizes[-1]
    if x < first:
        return v[first] * x / first, v[first]
    if x > last:
        g, fixed = growth(v), v[first] if len(sizes) > 1 else v[last]
        return max(v[last], (v[last] - fixed) * x / last / g), v[last] * x / last * g
    a, b = bracket(sizes, x)
    ends = [f + x * (v[s] - f) / s for f in (0.0, v[first]) for s in (a, b)]
    low, high = max(min(v[a], v[b]), min(ends)), min(max(v[a], v[b]), max(ends))
    return min(low, high), max(low, high)


def estimate(points: dict[float, float], x: float) -> tuple[float, float, float]:
    """(point, low, high) at ``x``: the log-log point, kept within what ``bounds`` allows.

    Beyond the largest size a lone measurement is carried at its per-unit cost, as the complexity
    says; with more, the last segment's log-log line (which keeps the fixed part's share).
    """
    low, high = bounds(points, x)
    line = interpolate(points, x)
    if len(points) == 1 and x > max(points):
        line = max(next(iter(points.values())), 0.0) * x / max(points)
    return min(max(line, low), high), low, high


def flat(points: dict[float, float], x: float) -> tuple[float, float, float]:
    """(point, low, high) at ``x`` of a cost that does not depend on the size, measured at several.

    Between two sizes: the log-log point within their two values (what differs is noise and cache
    level); outside the sizes: the nearest size's value, not a slope the cost does not have.
    """
    sizes = sorted(points)
    v = {s: max(points[s], 0.0) for s in sizes}
    if x <= sizes[0] or x >= sizes[-1]:
        end = sizes[0] if x <= sizes[0] else sizes[-1]
        return v[end], v[end], v[end]
    a, b = bracket(sizes, x)
    low, high = min(v[a], v[b]), max(v[a], v[b])
    return min(max(interpolate(points, x), low), high), low, high


def at(points: dict[tuple[int, int], float], n: float, d: float, work: Work) -> tuple[float, float, float]:
    """(point, low, high) of a cost at (n, d) from its values at measured (N, d): along N, then across d.

    Above the largest measured d the point is that d's cost at the N doing the same work (for a
    per-pass epoch: the same values read), within the range ``bounds`` allows.
    """
    slices: dict[int, dict[float, float]] = {}
    for (m, e), value in points.items():
        slices.setdefault(e, {})[float(m)] = value
    per = {e: (estimate if work.along_n else flat)(s, n) for e, s in slices.items()}
    if d in per:
        return per[int(d)]
    u = {work.across(n, e): per[e] for e in per}
    x = work.across(n, d)
    point = estimate({k: p[0] for k, p in u.items()}, x)[0]
    top = max(per)
    if d > top and work.along_n:  # the largest d's cost at the N that gives the same work
        point = estimate(slices[top], n * x / work.across(n, top))[0]
    low = bounds({k: p[1] for k, p in u.items()}, x)[0]
    high = bounds({k: p[2] for k, p in u.items()}, x)[1]
    return min(max(point, low), high), low, high


def coverage(cases: set[tuple[int, int]], n: int, d: int) -> tuple[list[str], list[str]]:
    """Why (n, d) lies beyond the measured cases (a range no model can vouch for), and why below them.

    Beyond: d above every measured d, or N above the largest N measured at the d's around d. Below:
    N below the smallest measured there (the cost is then bounded by that size's; shown, flagged).
    """
    ds = sorted({e for _, e in cases})
    beyond: list[str] = []
    below: list[str] = []
    if d > ds[-1]:
        only = "measured at d = 1 only" if ds == [1] else f"measured up to d = {ds[-1]:,}"
        beyond.append(f"d = {d:,}: {only}")
        around = [ds[-1]]
    elif d in ds or len(ds) == 1:
        around = [d] if d in ds else ds
    else:
        around = [int(e) for e in bracket([float(e) for e in ds], d)]
    for e in around:
        sizes = sorted(m for m, k in cases if k == e)
        where = f" at d = {e:,}" if ds != [1] else ""
        if n > sizes[-1]:
            beyond.append(f"N = {n:,} above the measured {_span(sizes)}{where}")
        elif n < sizes[0]:
            below.append(f"N = {n:,} below the measured {_span(sizes)}{where}")
    return beyond, below


def _span(sizes: list[int]) -> str:
    """10²…10⁷."""
    return f"{fmt_n(sizes[0])}…{fmt_n(sizes[-1])}"
