"""The report's recommendation: fastest per regime, crossovers, and why, all read off a Run."""

from __future__ import annotations

import math
import statistics

import numpy as np

from .report_data import Fit, Run, Trace

TUTORIAL = "torch-autograd"  # the tutorial's pattern, the baseline every speed-up is quoted against
MODE_TEXT = {"nohist": "no history", "history": "with history"}


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
    """Fits of one case, fastest first per epoch, of one kind."""
    return sorted(
        (f for f in run.select(device=device, dtype=dtype, n=n, mode=mode) if f.kind == kind),
        key=lambda f: f.per_epoch,
    )


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


def regimes(run: Run, device: str, dtype: str, mode: str) -> list[tuple[list[int], Fit]]:
    """Runs of consecutive sizes with the same fastest per-pass backend."""
    out: list[tuple[list[int], Fit]] = []
    for n in sorted({f.n for f in run.select(device=device, dtype=dtype, mode=mode)}):
        ranked = fastest(run, device, dtype, n, mode)
        if not ranked:
            continue
        if out and out[-1][1].backend == ranked[0].backend:
            out[-1][0].append(n)
        else:
            out.append(([n], ranked[0]))
    return out


def choose(run: Run, device: str) -> list[str]:
    """The "which implementation should I choose" bullets for one device."""
    dtype, lines = main_dtype(run), []
    regs = regimes(run, device, dtype, "nohist")
    for i, (sizes, _) in enumerate(regs):
        best = [fastest(run, device, dtype, n, "nohist")[0] for n in sizes]
        span = f"N = {fmt_n(sizes[0])}" + (f" to {fmt_n(sizes[-1])}" if len(sizes) > 1 else "")
        parts = []
        for f in best:
            fl = run.floor(device, dtype, f.n)
            tut = run.select(backend=TUTORIAL, device=device, dtype=dtype, n=f.n, mode="nohist")
            parts.append(
                f"{fmt_t(f.per_epoch)} per epoch at N = {fmt_n(f.n)}"
                + (f", {f.per_epoch / fl.seconds:.3g}× the memory floor" if fl else "")
                + (
                    f", {tut[0].per_epoch / f.per_epoch:.3g}× faster than the tutorial's {TUTORIAL}"
                    if tut and f.backend != TUTORIAL
                    else ""
                )
            )
        startup = "; ".join(f"{fmt_t(f.startup)} at N = {fmt_n(f.n)}" for f in best)
        lines.append(
            f"- **{span}: use `{best[0].backend}`** ({device}, {dtype}, no history): "
            + "; ".join(parts)
            + f". Time to its first result (prepare + first call, compiling "
            f"included): {startup}."
        )
        once = _one_off(run, best[0], device, dtype)
        if once:
            lines.append(once)
        if i + 1 < len(regs):
            nxt = regs[i + 1]
            at = crossover(
                run, best[0].backend, nxt[1].backend, device, dtype, "nohist", sizes[-1], nxt[0][0]
            )
            where = f"≈ {fmt_approx(at)}" if at else f"between {fmt_n(sizes[-1])} and {fmt_n(nxt[0][0])}"
            lines.append(
                f"- **Crossover at N {where}**: `{nxt[1].backend}` overtakes `{best[0].backend}` "
                "(log–log interpolation between the measured sizes)."
            )
    for mode in ("history",):
        hregs = regimes(run, device, dtype, mode)
        if hregs and [r[1].backend for r in hregs] != [r[1].backend for r in regs]:
            picks = ", ".join(
                f"`{r[1].backend}` for N = {fmt_n(r[0][0])}"
                + (f"–{fmt_n(r[0][-1])}" if len(r[0]) > 1 else "")
                for r in hregs
            )
            lines.append(
                f"- **If you record the per-epoch history** (loss, w and b read every epoch): {picks}."
            )
    lines += _why(run, device, dtype)
    return lines


def _one_off(run: Run, best: Fit, device: str, dtype: str) -> str:
    """If the winner is not the quickest to a first result, after how many epochs it pays off."""
    rivals = [f for f in run.select(device=device, dtype=dtype, n=best.n, mode="nohist", kind="per-pass")]
    quick = min(rivals, key=lambda f: f.startup)
    if quick.backend == best.backend or quick.per_epoch <= best.per_epoch:
        return ""
    # One-time cost = time to the first result minus the steady-state time of that fit's epochs.
    extra = (best.startup - best.epochs * best.per_epoch) - (quick.startup - quick.epochs * quick.per_epoch)
    epochs = extra / (quick.per_epoch - best.per_epoch)
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
