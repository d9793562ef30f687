"""The cost model behind `gdbench choose`: a job's time per backend, with its interval, from saved runs.

Every saved case has a cost model, t(E) = t₀ + E·tₑ, with intervals (benchmarks/core/stats.py). For a
job of E epochs at size N this predicts, per backend, the one-time cost (prepare and compilation,
as measured: a first result less a warm fit of the same epochs) plus t₀ + E·tₑ, interpolating
each quantity between the measured sizes on log-log axes. Its interval carries the intervals'
ends through a cost model that bounds what lies between two measured sizes (``bounds``), and a
one-time part from nothing to the largest the suite saw up to N (``predict``). ``recommended``
picks the fastest, or a tie when the leaders' noise intervals overlap (the one-time part at its
estimate); every number outside what the runs measured is flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from benchmarks.core.files import UsageError
from benchmarks.core.fmt import fmt_n
from benchmarks.core.results import Fit, Run

TINY = 1e-12  # seconds: a floor for logs of costs the rounds could not tell from zero


@dataclass(frozen=True)
class Prediction:
    """One backend's predicted time for the job."""

    backend: str
    seconds: float
    low: float
    high: float
    first_result_seconds: float  # the one-time part: prepare and compilation
    extrapolated: list[str] = field(default_factory=list)  # why a number lies outside the runs
    kind: str = "per-pass"
    # The interval with the one-time part at its estimate: the measurements' noise and the range
    # between measured sizes only. Ties are called on it (see ``recommended``).
    noise_low: float = math.nan
    noise_high: float = math.nan


def _bracket(sizes: list[int], n: float) -> tuple[int, int]:
    """The measured sizes around ``n``, or the nearest end's pair when outside (len(sizes) >= 2)."""
    i = max(1, min(len(sizes) - 1, next((k for k, s in enumerate(sizes) if s >= n), len(sizes) - 1)))
    return sizes[i - 1], sizes[i]


def interpolate(points: dict[int, float], n: float) -> tuple[float, bool]:
    """Value at ``n`` from (size -> positive value) by log-log interpolation; (value, extrapolated)."""
    sizes = sorted(points)
    logs = {s: math.log(max(points[s], TINY)) for s in sizes}
    if len(sizes) == 1:
        return math.exp(logs[sizes[0]]), n != sizes[0]
    inside = sizes[0] <= n <= sizes[-1]
    a, b = _bracket(sizes, n)
    frac = (math.log(n) - math.log(a)) / (math.log(b) - math.log(a))
    return math.exp(logs[a] + frac * (logs[b] - logs[a])), not inside


def bounds(points: dict[int, float], n: float) -> tuple[float, float]:
    """The range a cost (per epoch, or per fit) may take at ``n``, from its values at measured sizes.

    The model: a fixed part f plus a part per value read, c·N. f is at least 0 and at most the
    whole cost at the smallest measured size; c at N lies between its values at the measured sizes
    around N (the data sit between those sizes' cache levels); and more data never cost less.
    So between sizes a < N < b, the cost lies within f + N·(cost(s) − f)/s over f ∈ {0, f_max}
    and s ∈ {a, b}, cut to [cost(a), cost(b)]. Below the smallest size s: from cost(s)·N/s (all of
    it per value) to cost(s). Above the largest: from that size's cost to the larger of the log-log
    line's and cost(s)·N/s. Exact for f + c·N with c constant.
    """
    sizes = sorted(points)
    v = {s: max(points[s], 0.0) for s in sizes}
    if n in v:
        return v[int(n)], v[int(n)]
    first, last = sizes[0], sizes[-1]
    if n < first:
        return v[first] * n / first, v[first]
    if n > last:
        return v[last], max(v[last] * n / last, interpolate(points, n)[0] if len(sizes) > 1 else 0.0)
    a, b = _bracket(sizes, n)
    ends = [f + n * (v[s] - f) / s for f in (0.0, v[first]) for s in (a, b)]
    low, high = max(min(v[a], v[b]), min(ends)), min(max(v[a], v[b]), max(ends))
    return min(low, high), max(low, high)


def predict(fits: list[Fit], n: int, d: int, epochs: int, others: list[Fit] | None = None) -> Prediction:
    """One backend's job time from its fits at several sizes (one dtype, device and mode).

    The one-time part (a first result less a warm fit) is one observation per case, and what it
    holds depends on what the process had compiled before: a kernel for the dtype, a parallel
    variant met first at some size. So it is taken from ``others``, every case of this backend on
    the device (both dtypes and modes): the point is interpolated between the smallest one-time
    costs seen at the sizes around N (a kernel compiled for one case is warm for the next); the
    interval runs from 0 (everything already compiled and cached) to the largest one-time cost
    seen at any size up to the one above N (a compilation the job may pay).
    """
    name, why = fits[0].backend, []
    size = n * d  # the runs measure d = 1; a per-pass epoch reads N·d values
    q: dict[str, dict[int, float]] = {k: {} for k in ("t0", "te", "t0_lo", "te_lo", "t0_hi", "te_hi", "once")}
    for f in fits:
        c = f.cost
        te_known = c.te.resolved  # an unresolved tₑ is anywhere from 0 to its upper end
        for key, value in (
            ("t0", c.t0.value),
            ("te", c.te.value if te_known else 0.0),
            ("t0_lo", c.t0.low),
            ("te_lo", c.te.low if te_known else 0.0),
            ("t0_hi", c.t0.high),
            ("te_hi", c.te.high),
        ):
            q[key][f.n] = value
    seen = [(f.n, max(0.0, f.one_time)) for f in [*fits, *(others or [])]]
    q["once"] = {s: min(t for m, t in seen if m == s) for s in q["te"]}
    got = {k: interpolate(v, size)[0] for k, v in q.items()}
    measured = sorted(q["te"])
    if interpolate(q["te"], size)[1]:
        why.append(f"N·d = {fmt_n(size)} outside the measured {fmt_n(measured[0])}…{fmt_n(measured[-1])}")
    if d != 1:
        why.append(f"d = {d}: measured at d = 1, scaled as N·d")
    t0_lo, t0_hi = bounds(q["t0_lo"], size)[0], bounds(q["t0_hi"], size)[1]
    te_lo, te_hi = bounds(q["te_lo"], size)[0], bounds(q["te_hi"], size)[1]
    for key in ("t0", "te"):  # the log-log point, kept within what the model allows
        low, high = bounds(q[key], size)
        got[key] = min(max(got[key], low), high)
    above = next((s for s in measured if s >= size), measured[-1])
    once_hi = max([got["once"], *(t for m, t in seen if m <= above)])

    def total(once: float, t0: float, te: float) -> float:
        return once + max(t0, 0.0) + epochs * max(te, 0.0)

    return Prediction(
        name,
        total(got["once"], got["t0"], got["te"]),
        total(0.0, t0_lo, te_lo),
        total(once_hi, t0_hi, te_hi),
        got["once"],
        why,
        fits[0].kind,
        total(got["once"], t0_lo, te_lo),
        total(got["once"], t0_hi, te_hi),
    )


def predictions(
    run: Run, n: int, d: int, epochs: int, dtype: str, device: str, mode: str
) -> list[Prediction]:
    """Every backend's prediction for the job, fastest first; UsageError when nothing covers it."""
    fits = run.select(dtype=dtype, device=device, mode=mode)
    if not fits:
        raise UsageError(
            f"no saved run measured {dtype} on {device}; measure it with: "
            f"gdbench bench --dtypes {dtype} --devices {device}"
        )
    by_backend: dict[str, list[Fit]] = {}
    for f in fits:
        by_backend.setdefault(f.backend, []).append(f)
    preds = [
        predict(sorted(fs, key=lambda f: f.n), n, d, epochs, run.select(backend=name, device=device))
        for name, fs in by_backend.items()
    ]
    return sorted(preds, key=lambda p: p.seconds)


def candidates(preds: list[Prediction]) -> list[Prediction]:
    """The predictions a recommendation may rest on: those inside the measured sizes, when any are."""
    inside = [p for p in preds if not p.extrapolated]
    return inside or preds


def recommended(preds: list[Prediction]) -> list[str]:
    """The fastest candidate, or every one whose noise interval overlaps the fastest's (a tie).

    Ties are called on the noise interval: what the rounds cannot tell apart, with each one-time
    part at its estimate. The full interval also spans one-time costs from nothing (all compiled
    already) to a compilation the job may pay, for every backend alike; on that, a job of 5 ms
    would tie with one of 0.2 s whenever either might compile.
    A prediction outside the measured sizes (a data-parallel variant measured only at N ≥ 10⁶,
    asked about N = 300) is shown, flagged, but never recommended over one inside them.
    """
    pool = candidates(preds)
    if not pool:
        return []
    best = pool[0]
    return [p.backend for p in pool if p is best or p.noise_low <= best.noise_high]
