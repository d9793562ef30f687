"""Rankings read off a Run: fastest per regime (or a tie), ratios to the fastest and the floor.

Every ranking is by the minimum-based marginal cost per epoch tₑ (benchmarks/core/stats.py), with the
ratio of each backend to the fastest given a bootstrap interval: backends whose ratio cannot be
told from 1 (interval reaching below 1 + stats.RESOLUTION) are a tie within noise, named together.
A second ranking, by the predicted time of one fit of ``FIT_EPOCHS`` epochs (t₀ + E·tₑ), answers
for a short training, where the fixed cost per fit counts too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from benchmarks.core import stats
from benchmarks.core.fmt import fmt_n
from benchmarks.core.results import Fit, Run

TUTORIAL = "torch-autograd"  # the tutorial's pattern, the baseline every speed-up is quoted against
MODE_TEXT = {"nohist": "no history", "history": "with history"}
FIT_EPOCHS = 500  # the tutorial's epoch budget: "one fit" in the second ranking


@dataclass(frozen=True)
class Ranking:
    """Fits of one (device, dtype, N, mode), fastest first, and which of them tie with the fastest."""

    by: str  # "te" or "fit"
    fits: list[Fit]
    ratios: list[stats.Interval]  # each fit's cost ÷ the fastest's, with the interval

    @property
    def leaders(self) -> list[Fit]:
        """The fastest, and the runner-up when the two cannot be told apart (a tie within noise)."""
        if len(self.fits) > 1 and not stats.told_apart(self.ratios[1]):
            return self.fits[:2]
        return self.fits[:1]

    @property
    def tie(self) -> bool:
        """Whether the top cannot be told apart."""
        return len(self.leaders) > 1

    def names(self) -> tuple[str, ...]:
        """The recommended backend(s): one name, or the tied ones."""
        return tuple(f.backend for f in self.leaders)


def cost_of(f: Fit, by: str) -> tuple[float, np.ndarray]:
    """(estimate, bootstrap replicates) of the cost a ranking uses."""
    if by == "fit":
        return f.cost.t0.value + FIT_EPOCHS * f.cost.te.value, f.cost.boot_t0 + FIT_EPOCHS * f.cost.boot_te
    return f.per_epoch, f.boot_te()


def rank(
    run: Run, device: str, dtype: str, n: int, mode: str, kind: str = "per-pass", by: str = "te"
) -> Ranking:
    """Fits of one case of one kind, fastest first by ``by`` ("te" or "fit"), with their ratios."""
    fits = [f for f in run.select(device=device, dtype=dtype, n=n, mode=mode) if f.kind == kind]
    costs = {f.backend: cost_of(f, by) for f in fits}
    # A tₑ the rounds could not tell from zero (stats.Interval.resolved) ranks last, unbounded; a
    # whole fit (t₀ + E·tₑ) always takes time, so only a nonsensical one would.
    known = {f.backend: f.resolved if by == "te" else costs[f.backend][0] > 0 for f in fits}
    fits.sort(key=lambda f: costs[f.backend][0] if known[f.backend] else math.inf)
    if not fits:
        return Ranking(by, [], [])
    best = costs[fits[0].backend]
    ratios = [stats.Interval(1.0, 1.0, 1.0)]  # the fastest against itself
    ratios += [
        stats.ratio(costs[f.backend][0], best[0], costs[f.backend][1], best[1])
        if known[f.backend] and known[fits[0].backend]
        else stats.UNBOUNDED
        for f in fits[1:]
    ]
    return Ranking(by, fits, ratios)


def recommendations(run: Run) -> dict[str, tuple[str, ...]]:
    """What the report recommends, regime by regime: what two runs of the same code must agree on.

    The report recommends for its main dtype: by tₑ with and without history, and by one
    FIT_EPOCHS-epoch fit without; a tie names the top two, as a set (their order is noise).
    """
    out = {}
    dtype = main_dtype(run)
    for device in run.values("device"):
        for mode, by in (("nohist", "te"), ("nohist", "fit"), ("history", "te")):
            for n in run.values("n"):
                r = rank(run, device, dtype, n, mode, by=by)
                if r.fits:
                    names = r.names() if not r.tie else tuple(sorted(r.names()))
                    out[f"{device} {dtype} N={fmt_n(n)} {MODE_TEXT[mode]}, by {by}"] = names
    return out


def floor_ratio(run: Run, f: Fit) -> stats.Interval | None:
    """tₑ ÷ the memory floor at f's (device, dtype, N), with its interval."""
    fl = run.floor(f.device, f.dtype, f.n)
    if fl is None:
        return None
    if not f.resolved:  # at most tₑ's upper end ÷ the floor
        return stats.Interval(f.per_epoch / fl.seconds, 0.0, f.te.high / fl.seconds)
    return stats.ratio(f.per_epoch, fl.seconds, f.boot_te(), fl.boot)


def fastest(run: Run, device: str, dtype: str, n: int, mode: str, kind: str = "per-pass") -> list[Fit]:
    """Fits of one case, fastest first by tₑ, of one kind."""
    return rank(run, device, dtype, n, mode, kind).fits


def main_dtype(run: Run) -> str:
    """The dtype the recommendation is written for: float64 (the tutorial's) when measured."""
    dtypes = run.values("dtype")
    return "float64" if "float64" in dtypes else dtypes[0]


def crossover(run: Run, a: str, b: str, device: str, dtype: str, mode: str, n0: int, n1: int) -> float | None:
    """N where b's time per epoch meets a's, interpolated log-log between measured sizes n0 < n1."""
    ta = {f.n: f.per_epoch for f in run.select(backend=a, device=device, dtype=dtype, mode=mode)}
    tb = {f.n: f.per_epoch for f in run.select(backend=b, device=device, dtype=dtype, mode=mode)}
    if not all(k in t and t[k] > 0 for k in (n0, n1) for t in (ta, tb)):
        return None  # an unresolved tₑ may be ≤ 0: no crossing can be read from it
    d0, d1 = math.log(tb[n0] / ta[n0]), math.log(tb[n1] / ta[n1])
    if d0 == d1 or d0 * d1 > 0:
        return None
    frac = d0 / (d0 - d1)
    return math.exp(math.log(n0) + frac * (math.log(n1) - math.log(n0)))


def regimes(run: Run, device: str, dtype: str, mode: str, by: str = "te") -> list[tuple[list[int], Ranking]]:
    """Runs of consecutive sizes with the same recommended backend(s); each with its sizes' rankings."""
    out: list[tuple[list[int], list[Ranking]]] = []
    for n in sorted({f.n for f in run.select(device=device, dtype=dtype, mode=mode)}):
        r = rank(run, device, dtype, n, mode, by=by)
        if not r.fits:
            continue
        if out and out[-1][1][-1].names() == r.names():
            out[-1][0].append(n)
            out[-1][1].append(r)
        else:
            out.append(([n], [r]))
    return [(sizes, rs[0]) for sizes, rs in out]
