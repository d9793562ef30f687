"""The report's recommendation: fastest per regime (or a tie), crossovers, and why, read off a Run.

Every ranking is by the minimum-based marginal cost per epoch tₑ (benchmarks/stats.py), with the
ratio of each backend to the fastest given a bootstrap interval: backends whose ratio cannot be
told from 1 (interval reaching below 1 + stats.RESOLUTION) are a tie within noise, named together.
A second ranking, by the predicted time of one fit of ``FIT_EPOCHS`` epochs (t₀ + E·tₑ), answers
for a short training, where the fixed cost per fit counts too.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from . import stats
from .report_data import Fit, Run, Trace

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
        """The fastest and every fit that cannot be told apart from it."""
        return [f for f, r in zip(self.fits, self.ratios, strict=True) if not stats.told_apart(r)]

    @property
    def tie(self) -> bool:
        """Whether the top cannot be told apart."""
        return len(self.leaders) > 1

    def names(self) -> tuple[str, ...]:
        """The recommended backend(s): one name, or the tied ones."""
        return tuple(f.backend for f in self.leaders)


def cost_of(f: Fit, by: str) -> tuple[float, np.ndarray]:
    """(estimate, bootstrap replicates) of the cost a ranking uses."""
    if by == "fit" and f.cost is not None:
        return f.cost.t0.value + FIT_EPOCHS * f.cost.te.value, f.cost.boot_t0 + FIT_EPOCHS * f.cost.boot_te
    if by == "fit":  # schema 1: no t0, so a fit is its epochs at the measured per-epoch cost
        return FIT_EPOCHS * f.per_epoch, np.array([FIT_EPOCHS * f.per_epoch])
    return f.per_epoch, f.boot_te()


def rank(
    run: Run, device: str, dtype: str, n: int, mode: str, kind: str = "per-pass", by: str = "te"
) -> Ranking:
    """Fits of one case of one kind, fastest first by ``by`` ("te" or "fit"), with their ratios."""
    fits = [f for f in run.select(device=device, dtype=dtype, n=n, mode=mode) if f.kind == kind]
    costs = {f.backend: cost_of(f, by) for f in fits}
    # A cost estimated at or below zero was not resolved by the rounds (noise swamped it): it ranks last.
    fits.sort(key=lambda f: costs[f.backend][0] if costs[f.backend][0] > 0 else math.inf)
    if not fits:
        return Ranking(by, [], [])
    best = costs[fits[0].backend]
    ratios = [stats.Interval(1.0, 1.0, 1.0)]  # the fastest against itself
    ratios += [stats.ratio(costs[f.backend][0], best[0], costs[f.backend][1], best[1]) for f in fits[1:]]
    return Ranking(by, fits, ratios)


def recommendations(run: Run) -> dict[str, tuple[str, ...]]:
    """Every regime's recommended backend(s), by both costs: what two runs must agree on."""
    out = {}
    for device in run.values("device"):
        for dtype in run.values("dtype"):
            for mode in run.values("mode"):
                for n in run.values("n"):
                    for by in ("te", "fit"):
                        r = rank(run, device, dtype, n, mode, by=by)
                        if r.fits:  # a tie is a set: its members' order is noise
                            names = r.names() if not r.tie else tuple(sorted(r.names()))
                            out[f"{device} {dtype} N={fmt_n(n)} {MODE_TEXT[mode]}, by {by}"] = names
    return out


def fmt_ci(i: stats.Interval, unit: str = "×") -> str:
    """A ratio with its interval, e.g. ×1.03 (0.98–1.09)."""
    return f"{unit}{i.value:.3g} ({i.low:.3g}–{i.high:.3g})"


def fmt_t_ci(i: stats.Interval | None) -> str:
    """Seconds with the interval, e.g. 3.5 µs (3.4–3.7 µs)."""
    if i is None:
        return "n/a"
    return f"{fmt_t(i.value)} ({fmt_t(i.low)}–{fmt_t(i.high)})"


def floor_ratio(run: Run, f: Fit) -> stats.Interval | None:
    """tₑ ÷ the memory floor at f's (device, dtype, N), with its interval."""
    fl = run.floor(f.device, f.dtype, f.n)
    if fl is None:
        return None
    return stats.ratio(f.per_epoch, fl.seconds, f.boot_te(), fl.boot_or_value())


def names(fits: list[Fit]) -> str:
    """`a`, `b` and `c`."""
    q = [f"`{f.backend}`" for f in fits]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def fmt_t(s: float) -> str:
    """Seconds in a readable unit, three significant digits."""
    if not math.isfinite(s):
        return "n/a"
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def fmt_n(n: int) -> str:
    """10000 -> 10⁴; other sizes as digits."""
    s = str(n)
    if n >= 10 and s[0] == "1" and set(s[1:]) == {"0"}:
        return "10" + (str(len(s) - 1)).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{n:,}"


def fmt_approx(n: float) -> str:
    """A size to two significant digits, e.g. 8.4×10²."""
    k = math.floor(math.log10(n))
    return f"{n / 10**k:.2g}×" + fmt_n(10**k) if k >= 2 else f"{n:.0f}"


def _times(r: float) -> str:
    return f"{r:.3g}× faster than" if r >= 1 else f"{1 / r:.3g}× slower than"


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
    if not all(k in t for k in (n0, n1) for t in (ta, tb)):
        return None
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


def _span(sizes: list[int]) -> str:
    return f"N = {fmt_n(sizes[0])}" + (f" to {fmt_n(sizes[-1])}" if len(sizes) > 1 else "")


def _pick(r: Ranking, device: str, dtype: str, mode: str) -> str:
    """"use `x`" or "tie within noise: `a` and `b` (b/a ×1.03 (0.98–1.09))"."""
    where = f"({device}, {dtype}, {MODE_TEXT[mode]})"
    if not r.tie:
        return f"use `{r.fits[0].backend}`** {where}"
    pairs = zip(r.fits[1:], r.ratios[1:], strict=True)
    rest = "; ".join(f"`{f.backend}`/`{r.fits[0].backend}` {fmt_ci(q)}" for f, q in pairs if f in r.leaders)
    return f"tie within noise: {names(r.leaders)}** {where}, ratios with 95 % intervals: {rest}"


def choose(run: Run, device: str) -> list[str]:
    """The "which implementation should I choose" bullets for one device."""
    dtype, lines = main_dtype(run), []
    regs = regimes(run, device, dtype, "nohist")
    for i, (sizes, _) in enumerate(regs):
        parts = []
        for n in sizes:
            r = rank(run, device, dtype, n, "nohist")
            f = r.fits[0]
            fl = floor_ratio(run, f)
            tut = run.select(backend=TUTORIAL, device=device, dtype=dtype, n=n, mode="nohist")
            runner = (
                f", next `{r.fits[1].backend}` {fmt_ci(r.ratios[1])}" if len(r.fits) > 1 and not r.tie else ""
            )
            if f.te is not None and not f.te.resolved:
                parts.append(
                    f"at N = {fmt_n(n)} tₑ = {fmt_t_ci(f.te)}: not resolved, its interval reaches zero (the "
                    "rounds were too noisy to separate the epochs from the fixed cost; run on a quieter "
                    "machine or with a larger --budget)"
                )
                continue
            parts.append(
                f"at N = {fmt_n(n)} tₑ = {fmt_t_ci(f.te) if f.te else fmt_t(f.per_epoch)}"
                + (f", {fl.value:.3g}× the memory floor" if fl else "")
                + (
                    f", {tut[0].per_epoch / f.per_epoch:.3g}× faster than the tutorial's {TUTORIAL}"
                    if tut and f.backend != TUTORIAL
                    else ""
                )
                + runner
            )
        first = rank(run, device, dtype, sizes[0], "nohist")
        lines.append(
            f"- **{_span(sizes)}: {_pick(first, device, dtype, 'nohist')}, ranked by tₑ, the marginal cost "
            "per epoch (what a long training pays): " + "; ".join(parts) + "."
        )
        for n in sizes:
            short = rank(run, device, dtype, n, "nohist", by="fit")
            if short.fits and short.names() != rank(run, device, dtype, n, "nohist").names():
                f = short.fits[0]
                pred = f.predict(FIT_EPOCHS)
                lines.append(
                    f"- **For one fit of {FIT_EPOCHS} epochs at N = {fmt_n(n)}** (the tutorial's budget, "
                    f"where the fixed cost per fit t₀ counts too), ranked by t₀ + {FIT_EPOCHS}·tₑ: "
                    + (
                        f"tie within noise: {names(short.leaders)}"
                        if short.tie
                        else f"`{f.backend}`"
                    )
                    + (f", {fmt_t_ci(pred)} per fit" if pred else "")
                    + (f" (t₀ = {fmt_t(f.t0.value)})" if f.t0 else "")
                    + "."
                )
        once = _one_off(run, first.fits[0], device, dtype)
        if once:
            lines.append(once)
        if i + 1 < len(regs) and regs[i + 1][1].fits[0].backend != first.fits[0].backend:
            nxt = regs[i + 1]
            a, b = first.fits[0].backend, nxt[1].fits[0].backend
            at = crossover(run, a, b, device, dtype, "nohist", sizes[-1], nxt[0][0])
            where = f"≈ {fmt_approx(at)}" if at else f"between {fmt_n(sizes[-1])} and {fmt_n(nxt[0][0])}"
            lines.append(
                f"- **Crossover at N {where}**: `{b}` overtakes `{a}` "
                "(log–log interpolation of tₑ between the measured sizes)."
            )
    hregs = regimes(run, device, dtype, "history")
    if hregs and [r[1].names() for r in hregs] != [r[1].names() for r in regs]:
        picks = ", ".join(
            ("tie " if r[1].tie else "") + names(r[1].leaders) + f" for {_span(r[0])}" for r in hregs
        )
        lines.append(f"- **If you record the per-epoch history** (loss, w and b read every epoch): {picks}.")
    lines += _why(run, device, dtype)
    return lines


def _one_time(f: Fit) -> float:
    """Seconds of f's first result beyond a warm fit of the same epochs: compilation, first-call costs."""
    warm = f.predict(f.epochs)
    return f.startup - (warm.value if warm else f.epochs * f.per_epoch)


def _one_off(run: Run, best: Fit, device: str, dtype: str) -> str:
    """If the winner is not the quickest to a first result, after how many epochs it pays off."""
    rivals = [f for f in run.select(device=device, dtype=dtype, n=best.n, mode="nohist", kind="per-pass")]
    quick = min(rivals, key=lambda f: f.startup)
    if quick.backend == best.backend or quick.per_epoch <= best.per_epoch:
        return ""
    epochs = (_one_time(best) - _one_time(quick)) / (quick.per_epoch - best.per_epoch)
    return (
        f"- **For a one-off fit at N = {fmt_n(best.n)}, `{quick.backend}`** is quicker to a first result "
        f"({fmt_t(quick.startup)} against {fmt_t(best.startup)}): `{best.backend}`'s one-time cost "
        f"(compiling) pays off only after ≈ {max(epochs, 0):,.0f} epochs in one process."
    )


def _why(run: Run, device: str, dtype: str) -> list[str]:
    sizes = sorted({f.n for f in run.select(device=device, dtype=dtype, mode="nohist")})
    out = []
    if len(sizes) >= 2:
        n0, n1 = sizes[0], sizes[1]
        pairs = [
            (a, run.select(backend=a.backend, device=device, dtype=dtype, n=n1, mode="nohist"))
            for a in run.select(device=device, dtype=dtype, n=n0, mode="nohist", kind="per-pass")
        ]
        growth = [b[0].per_epoch / a.per_epoch for a, b in pairs if b]
        best = fastest(run, device, dtype, n0, "nohist")
        fl = run.floor(device, dtype, n0)
        if growth and best:
            out.append(
                f"- *Why, at small N: dispatch-bound.* From N = {fmt_n(n0)} to {fmt_n(n1)} ({n1 // n0}× the "
                f"data) the median per-pass backend's time per epoch grows only "
                f"{statistics.median(growth):.2f}×"
                + (
                    f", and the fastest takes {best[0].per_epoch / fl.seconds:.3g}× one read of x and y"
                    if fl
                    else ""
                )
                + ": an epoch costs what its calls cost (Python, framework dispatch, allocation), not its "
                "data, so the backend making the fewest calls per epoch wins."
            )
    if len(sizes) >= 2 and sizes[-1] >= 10**6:
        n0, n1 = sizes[-2], sizes[-1]
        best = fastest(run, device, dtype, n1, "nohist")
        fl = run.floor(device, dtype, n1)
        slopes = [
            math.log(b[0].per_epoch / a.per_epoch) / math.log(n1 / n0)
            for a in run.select(device=device, dtype=dtype, n=n0, mode="nohist", kind="per-pass")
            if (b := run.select(backend=a.backend, device=device, dtype=dtype, n=n1, mode="nohist"))
        ]
        if best and fl and slopes:
            ratios = [f.per_epoch / fl.seconds for f in best]
            out.append(
                f"- *Why, at large N: bandwidth-bound.* From N = {fmt_n(n0)} to {fmt_n(n1)} the median "
                f"per-pass backend's time per epoch grows as N^{statistics.median(slopes):.2f}, and at "
                f"N = {fmt_n(n1)} the per-pass backends take {min(ratios):.2g}× to {max(ratios):.3g}× "
                f"one read of x and y ({fmt_t(fl.seconds)}, {fl.data_bytes / fl.seconds / 1e9:.3g} GB/s): "
                "each epoch streams the data from memory, so what wins is reading x and y the fewest "
                "times per epoch "
                f"(`{best[0].backend}`: {ratios[0]:.2g}×)."
                + (
                    " A ratio below 1 means a backend read the data faster than numpy.dot did in this run: "
                    "the floor is a practical bar, not a hardware limit."
                    if min(ratios) < 1
                    else ""
                )
            )
    out += _growth_lines(run, device)
    out += [
        _algorithmic(run, device, dtype, name)
        for name in run.backends()
        if any(f.kind == "algorithmic" for f in run.select(backend=name, device=device, dtype=dtype))
    ]
    return out


def _algorithmic(run: Run, device: str, dtype: str, name: str) -> str:
    """One line on a backend whose epochs do not read the data: where it wins and where it does not."""
    parts = []
    for f in sorted(run.select(backend=name, device=device, dtype=dtype, mode="nohist"), key=lambda f: f.n):
        best = fastest(run, device, dtype, f.n, "nohist")
        vs = f" ({_times(best[0].per_epoch / f.per_epoch)} `{best[0].backend}`)" if best else ""
        parts.append(f"{fmt_t(f.per_epoch)} at N = {fmt_n(f.n)}{vs}")
    return (
        f"- *Algorithmic floor, reported apart:* `{name}` takes " + ", ".join(parts) + " per epoch. It reads "
        "the data once per fit and then does O(d²) work per epoch whatever N is (the loss is quadratic), so "
        "its time per epoch is mostly that one pass spread over the fit's epochs: the more epochs per fit, "
        "the further it pulls ahead. A different algorithm, not a faster loop, so it is never ranked with "
        "the per-pass backends."
    )


def trace_growth(t: Trace) -> tuple[float, float, float]:
    """(early, late, slope): median seconds of the first and last tenth of epochs, and s per epoch index."""
    e = np.asarray(t.epoch_s)
    k = max(1, len(e) // 10)
    slope = float(np.polyfit(np.arange(len(e)), e, 1)[0]) if len(e) > 2 else 0.0
    return float(np.median(e[:k])), float(np.median(e[-k:])), slope


def _growth_lines(run: Run, device: str) -> list[str]:
    traces = {t.backend: t for t in run.traces if t.device == device}
    if TUTORIAL not in traces:
        return []
    early, late, slope = trace_growth(traces[TUTORIAL])
    n = len(traces[TUTORIAL].epoch_s)
    others = "; ".join(
        f"`{b}` goes from {fmt_t(e)} to {fmt_t(la)} (×{la / e:.2g})"
        for b, t in traces.items()
        if b != TUTORIAL
        for e, la, _ in [trace_growth(t)]
    )
    return [
        f"- *Why never the tutorial's pattern: graph growth.* `{TUTORIAL}`'s epochs go from {fmt_t(early)} "
        f"(first tenth) to {fmt_t(late)} (last tenth of {n}), ×{late / early:.2g}, +{fmt_t(slope)} per epoch "
        "index: `w = w - lr * w.grad` rebinds w to a tensor whose graph reaches back through every earlier "
        "update, so each backward() walks a chain one link longer, O(k) per epoch and O(E²) per fit."
        + (f" In the same trace {others}." if others else "")
    ]
