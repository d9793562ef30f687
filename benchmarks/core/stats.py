"""The statistics behind every conclusion gdbench draws from timings, with their reasons.

A fit of E epochs costs t(E) = t₀ + E·tₑ: a fixed cost per fit t₀ (a call into compiled code,
copying results out, allocation) and a marginal cost per epoch tₑ. The suite times each case at
several epoch counts, many rounds each, spread over the whole run, and this module turns those
rounds into estimates, intervals, rankings and the regression test of ``gdbench compare``.

- **Estimator: the minimum.** On a shared machine noise only ever adds time (another process,
  an interrupt, a cold cache), so the fastest round of a unit is the least biased estimate of
  what the code itself costs (Chen & Revels 2016, "Robust benchmarking in noisy environments";
  Julia's BenchmarkTools judges by the minimum for the same reason). A slow period that hits
  some rounds moves the median, not the minimum, as long as one round escaped it. Medians and
  quartiles are kept beside it, to show the spread.
- **t₀ and tₑ**: the least-squares line through (E, fastest round at E) over the epoch counts,
  constrained to t₀ ≥ 0 and tₑ ≥ 0 (``line``): a time is never negative, and where the
  unconstrained line would cross zero (noise at N ≥ 10⁶ put t₀ at −149 µs) the best line that
  does not is taken: through the origin, or flat. Every bootstrap replicate is fitted the same
  way, and intervals of times end at zero, so nothing downstream sees a negative time; a t₀ or tₑ
  whose interval reaches zero is unresolved (``Interval.resolved``) and written as its upper end.
  The largest relative distance of a point from the line (``residual``) is the sanity check: a
  backend whose epochs do not cost the same (the tutorial's growing graph) shows up there.
- **One-time costs** (a first result less a warm fit) are differences of single timings, so
  below ``TICK`` they are not told from nothing: ``once`` makes them intervals that say so.
- **Intervals**: a bootstrap over rounds (resample each epoch count's rounds with replacement,
  take the minima again, refit), seeded so a report is reproducible; the interval is the hull of
  the 95 % percentile and basic intervals (see ``_interval``). A ratio's interval resamples both
  sides at once.
- **Ties**: two backends are told apart only when the interval of their ratio lies wholly above
  ``1 + RESOLUTION``: a difference smaller than that is not claimed, whatever its interval, because
  two runs of the same code on one machine already differ by a few percent.
- **Regression test** (asv's ``compare``, ``asv/_stats.py``): a case regressed only when NEW/OLD of
  the minima passes the threshold *and* a one-sided Mann–Whitney U test on both runs' rounds says
  the new rounds are slower (p < ``ALPHA``). The ratio guards against tiny real changes, the test
  against noise; neither alone decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

CONFIDENCE = 0.95  # of every interval
BOOT = 1000  # bootstrap resamples
SEED = 20261130  # of the bootstrap: the same data always give the same intervals
RESOLUTION = 0.05  # differences below 5 % are not claimed (see the module docstring)
# What the rounds of a fit can tell from zero: a tₑ whose epochs add less than this fraction of the
# slowest fit's time across the epoch counts is zero for them. Far above the rounding error of the
# line (~1e-16 of the times, either sign, whatever the CPU or BLAS) and far below what a timer
# resolves (a nanosecond tick on a fit of a millisecond is 1e-6).
PRECISION = 1e-9
ALPHA = 0.01  # significance level of compare's Mann–Whitney test
# What one timed call resolves: two perf_counter reads cost ~0.1 µs and the scheduler's jitter at
# this scale is microseconds, so a one-time cost (a difference of such timings) below this is none.
TICK = 1e-6


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap interval."""

    value: float
    low: float
    high: float
    zero: float = 0.0  # the largest value the data cannot tell from zero (``resolved``)

    def rel_width(self) -> float:
        """Width of the interval relative to the value (inf when the value is not positive)."""
        return (self.high - self.low) / self.value if self.value > 0 else math.inf

    @property
    def resolved(self) -> bool:
        """Whether the data told this cost from nothing: the rule every verdict takes.

        Resolved only when the interval's lower end lies above ``zero``, the largest value the data
        cannot tell from zero. So an interval reaching zero or below is unresolved, and so is one
        that rounding alone put a hair above it (1e-23 on one CPU, -1e-23 on another): the verdict
        never depends on the sign of a rounding error.
        """
        return self.low > self.zero

    def as_list(self) -> list[float]:
        """[value, low, high], for JSON."""
        return [self.value, self.low, self.high]


@dataclass(frozen=True)
class Cost:
    """t(E) = t0 + E·te for one case, with intervals and the line's residual."""

    t0: Interval
    te: Interval
    residual: float  # largest |min round - line| / min round over the epoch counts
    boot_t0: np.ndarray  # bootstrap replicates, kept for ratios between cases
    boot_te: np.ndarray

    def predict(self, epochs: float) -> Interval:
        """Time of one fit of ``epochs`` epochs, with its interval."""
        boot = self.boot_t0 + epochs * self.boot_te
        return _interval(self.t0.value + epochs * self.te.value, boot)


UNBOUNDED = Interval(math.inf, 0.0, math.inf)  # a ratio whose numerator or denominator is unresolved


def _interval(value: float, boot: np.ndarray) -> Interval:
    """The hull of the percentile and the basic (reflected) bootstrap intervals, cut at zero.

    Resampled minima can only rise, so the percentile interval of a minimum lies wholly above it,
    while the truth lies below (noise only adds time); the basic interval, 2·value - quantiles,
    reflects it to the other side. Their hull covers the truth in 90-99 % of synthetic trials
    (tests/test_stats.py), where either alone covers 60-90 %. Every quantity here (a time, a
    ratio of times) is ≥ 0, so cutting the reflected end at zero loses no coverage.
    """
    lo, hi = np.quantile(boot, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    low = max(0.0, min(float(lo), 2 * value - float(hi), value))
    high = max(float(hi), 2 * value - float(lo), value)
    return Interval(float(value), low, high)


def line(epochs: Sequence[float], seconds: Sequence[float]) -> tuple[float, float]:
    """(t0, te) of the least-squares line through the points (E, t), with t0 ≥ 0 and te ≥ 0."""
    e = np.asarray(epochs, dtype=float)
    t = np.asarray(seconds, dtype=float)
    if len(e) < 2 or np.ptp(e) == 0:
        raise ValueError("a line needs rounds at two or more different epoch counts")
    t0, te = _nonneg_lines(e, t[None, :])
    return float(t0[0]), float(te[0])


def _nonneg_lines(e: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(t0, te) of the least-squares line of each row of ``t`` against ``e``, both kept ≥ 0.

    Non-negative least squares in two unknowns: the free line where both are ≥ 0; else the better
    (smaller squared error) of the two lines on the boundary, through the origin (t0 = 0) or flat
    (te = 0), each with its own parameter cut at zero.
    """
    ec = e - e.mean()
    te = (t - t.mean(axis=1, keepdims=True)) @ ec / (ec @ ec)
    t0 = t.mean(axis=1) - te * e.mean()
    origin = np.maximum(t @ e / (e @ e), 0.0)  # t0 = 0
    flat = np.maximum(t.mean(axis=1), 0.0)  # te = 0
    sse_origin = ((t - origin[:, None] * e) ** 2).sum(axis=1)
    sse_flat = ((t - flat[:, None]) ** 2).sum(axis=1)
    use_origin = sse_origin <= sse_flat
    free = (t0 >= 0) & (te >= 0)
    t0_c = np.where(free, t0, np.where(use_origin, 0.0, flat))
    te_c = np.where(free, te, np.where(use_origin, origin, 0.0))
    return t0_c, te_c


def _boot_minima(rounds: np.ndarray, rng: np.random.Generator, boot: int) -> np.ndarray:
    """``boot`` minima of resamples (with replacement) of ``rounds``."""
    idx = rng.integers(0, len(rounds), size=(boot, len(rounds)))
    return np.asarray(rounds[idx].min(axis=1))


def fit_cost(rounds: Mapping[int, Sequence[float]], boot: int = BOOT, seed: int = SEED) -> Cost:
    """t0 and te from each epoch count's rounds (seconds per whole fit), by the minimum."""
    counts = sorted(e for e, r in rounds.items() if len(r) > 0)
    if len(counts) < 2:
        raise ValueError("a cost model needs rounds at two or more epoch counts")
    arrays = [np.asarray(rounds[e], dtype=float) for e in counts]
    mins = [float(a.min()) for a in arrays]
    t0, te = line(counts, mins)
    fitted = [t0 + e * te for e in counts]
    residual = max(abs(m - f) / m for m, f in zip(mins, fitted, strict=True)) if min(mins) > 0 else math.inf
    rng = np.random.default_rng(seed)
    boot_mins = np.stack([_boot_minima(a, rng, boot) for a in arrays], axis=1)  # (boot, counts)
    # Every replicate's line at once, under the same constraint as the point estimate's.
    intercepts, slopes = _nonneg_lines(np.asarray(counts, dtype=float), boot_mins)
    te_ci = _interval(te, slopes)
    zero = PRECISION * max(mins) / (counts[-1] - counts[0])  # see PRECISION
    return Cost(
        _interval(t0, intercepts), replace(te_ci, zero=zero), residual, intercepts, slopes
    )


def once(seconds: float) -> Interval:
    """A one-time cost measured once (a difference of timings): unresolved below ``TICK``, never < 0."""
    s = max(0.0, float(seconds))
    return Interval(s, s, s, zero=TICK)


def minimum(rounds: Sequence[float], boot: int = BOOT, seed: int = SEED) -> tuple[Interval, np.ndarray]:
    """The fastest round with its bootstrap interval, and the replicates (for ratios)."""
    a = np.asarray(rounds, dtype=float)
    if a.size == 0:
        raise ValueError("no rounds")
    reps = _boot_minima(a, np.random.default_rng(seed), boot)
    return _interval(float(a.min()), reps), reps


def ratio(num: float, den: float, boot_num: np.ndarray, boot_den: np.ndarray) -> Interval:
    """num/den with the interval of the ratio of independent bootstrap replicates.

    A cost is positive. A denominator at or below zero in any replicate (a line whose slope noise
    swamped) leaves the ratio unbounded: its interval reaches 0 to inf. A numerator replicate at or
    below zero only pulls the lower end down, to zero or below: the ratio is then unresolved by the
    one rule (``Interval.resolved``) and shown as its upper end, which still says something.
    """
    if den <= 0 or num <= 0:
        return Interval(num / den if den > 0 else math.inf, 0.0, math.inf)
    if not (boot_den > 0).all():
        return Interval(num / den, 0.0, math.inf)
    return _interval(num / den, boot_num / boot_den)


def told_apart(r: Interval, resolution: float = RESOLUTION) -> bool:
    """Whether a ratio slower/faster is a real difference: its whole interval above 1 + resolution."""
    return r.low > 1 + resolution


def median_quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(q1, median, q3) of ``values`` (linear interpolation)."""
    q1, med, q3 = np.quantile(np.asarray(values, dtype=float), [0.25, 0.5, 0.75])
    return float(q1), float(med), float(q3)


# --- Mann–Whitney U


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    sorted_v = values[order]
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _exact_upper_tail(u: float, n1: int, n2: int) -> float:
    """P(U >= u) under the null for untied samples, by counting (Mann & Whitney's recursion)."""
    # counts[k] = number of arrangements of n1 x's among n1+n2 with U = k, built up one element at a time.
    table = {(0, j): np.ones(1) for j in range(n2 + 1)}
    for i in range(1, n1 + 1):
        table[(i, 0)] = np.ones(1)
        for j in range(1, n2 + 1):
            a, b = table[(i - 1, j)], table[(i, j - 1)]  # last element an x (adds j to U) or a y
            out = np.zeros(i * j + 1)
            out[j : j + len(a)] += a
            out[: len(b)] += b
            table[(i, j)] = out
    dist = table[(n1, n2)]
    k = math.ceil(u - 1e-9)
    return float(dist[k:].sum() / dist.sum())


def mann_whitney_greater(new: Sequence[float], old: Sequence[float]) -> tuple[float, float]:
    """(U, p): one-sided test that ``new`` tends to be larger (slower) than ``old``.

    U counts the pairs (new, old) with new > old (ties count one half). p is exact for small
    untied samples and from the normal approximation with tie correction otherwise.
    """
    x, y = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need rounds")
    both = np.concatenate([x, y])
    ranks = _ranks(both)
    u = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    tied = len(np.unique(both)) < len(both)
    if not tied and n1 * n2 <= 400:
        return u, _exact_upper_tail(u, n1, n2)
    _, counts = np.unique(both, return_counts=True)
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - float((counts**3 - counts).sum()) / (n * (n - 1)))
    if var <= 0:
        return u, 1.0
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(var)  # continuity correction
    return u, 0.5 * math.erfc(z / math.sqrt(2))


def min_p_value(n1: int, n2: int) -> float:
    """The smallest one-sided p-value samples of these sizes can give: below ALPHA or no verdict."""
    return 1 / math.comb(n1 + n2, n1)
