"""The report's "why" lines: dispatch- or bandwidth-bound, graph growth, the algorithmic floor."""

from __future__ import annotations

import math
import statistics

import numpy as np

from benchmarks.core.fmt import fmt_n, fmt_t, times
from benchmarks.core.ranking import TUTORIAL, fastest
from benchmarks.core.results import Run, Trace


def why(run: Run, device: str, dtype: str) -> list[str]:
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
        if not f.resolved:  # a few µs under a pass of milliseconds
            parts.append(f"at most {fmt_t(f.te.high)} at N = {fmt_n(f.n)} (unresolved: interval reaches 0)")
            continue
        best = fastest(run, device, dtype, f.n, "nohist")
        vs = f" ({times(best[0].per_epoch / f.per_epoch)} `{best[0].backend}`)" if best else ""
        parts.append(f"{fmt_t(f.per_epoch)} at N = {fmt_n(f.n)}{vs}")
    return (
        f"- *Algorithmic floor, reported apart:* `{name}` takes " + ", ".join(parts) + " per epoch (tₑ). It "
        "reads the data once per fit, a cost in t₀, and then does O(d²) work per epoch whatever N is (the "
        "loss is quadratic), so its tₑ stays flat while every per-pass backend's grows with N: the more "
        "epochs per fit, the further it pulls ahead. A different algorithm, not a faster loop, so it is "
        "never ranked with the per-pass backends."
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
