"""REPORT.md's "Distance from the limit": tₑ against the memory floor, and what holds each backend back."""

from __future__ import annotations

from benchmarks.core.fmt import fmt_ci, fmt_n, fmt_t, table
from benchmarks.core.ranking import floor_ratio, rank
from benchmarks.core.results import Run
from benchmarks.core.stats import Interval

# The tutorial-style backends, and what limits each where it is slowest relative to the work.
TUTORIAL_STYLE = {
    "torch-autograd": "graph growth: each backward() walks every earlier update",
    "torch-nograd": "Python dispatch at small N; eager temporaries (x·w, r, r², r·x) at large N",
    "jax-grad": "one dispatch of a jitted step from Python per epoch; temporaries XLA keeps per step",
    "numpy-closed": "fresh N-sized temporaries every epoch (r, r·x), each a pass over memory",
}


def limit(run: Run, device: str = "cpu") -> list[str]:
    """Every backend's tₑ ÷ floor per N, the fastest with its interval, and the tutorial-style bottlenecks."""
    lines = [
        "## Distance from the limit",
        "",
        "tₑ, the marginal cost of one more epoch, divided by one read of x and y (`numpy.dot(x, y)`, the "
        "memory floor) at the same N, dtype and device, no history. An epoch of plain gradient descent "
        "reads the data at least once, so 1.0 is the bar: near it a backend is bandwidth-bound, far above "
        "it dispatch- or temporaries-bound. At small N the floor is a call's overhead, not a read. Below 1 "
        "a backend read the data faster than `numpy.dot` did: the floor is a practical bar, not a hardware "
        "limit. Intervals: 95 % bootstrap over both sides' rounds. \"≤ x\": an interval that reaches "
        "zero, a tₑ too small for the rounds to resolve; x is its upper end.",
        "",
    ]
    sizes = run.values("n")
    for dtype in run.values("dtype"):
        present = [n for n in sizes if run.select(device=device, dtype=dtype, n=n, mode="nohist")]
        if not present:
            continue
        rows = []
        for b in run.backends():
            fits = {f.n: f for f in run.select(backend=b, device=device, dtype=dtype, mode="nohist")}
            if not fits:
                continue
            kind = next(iter(fits.values())).kind
            cells = []
            for n in present:
                r = floor_ratio(run, fits[n]) if n in fits else None
                cells.append(_cell(r) if r else "-")
            rows.append([f"`{b}`" + (" (algorithmic)" if kind == "algorithmic" else ""), *cells])
        best = []
        for n in present:
            ranked = rank(run, device, dtype, n, "nohist")
            q = floor_ratio(run, ranked.fits[0]) if ranked.fits else None
            best.append(f"`{ranked.fits[0].backend}` {fmt_ci(q)}" if q else "-")
        rows.append(["**fastest per-pass**", *best])
        floors = [run.floor(device, dtype, n) for n in present]
        rows.append(["*one read of x, y*", *(fmt_t(f.seconds) if f else "not measured" for f in floors)])
        head = ["backend", *(f"N = {fmt_n(n)}" for n in present)]
        lines += [f"**{device}, {dtype}**", "", *table(head, rows)]
    return lines + _tutorial_style(run, device)


def _cell(r: Interval) -> str:
    """A ratio, or its upper end when its interval reaches zero (unresolved: never a negative cost)."""
    return f"{r.value:.3g}" if r.resolved else f"≤ {r.high:.3g}"


def _tutorial_style(run: Run, device: str) -> list[str]:
    dtype = run.values("dtype")[-1]
    sizes = [n for n in (run.values("n")[0], run.values("n")[-1]) if run.select(device=device, n=n)]
    sizes = list(dict.fromkeys(sizes))
    head = ["backend"]
    for n in sizes:
        head += [f"N = {fmt_n(n)} tₑ", "× floor"]
    rows = []
    for name, why in TUTORIAL_STYLE.items():
        cells = []
        for n in sizes:
            fit = run.select(backend=name, device=device, dtype=dtype, n=n, mode="nohist")
            r = floor_ratio(run, fit[0]) if fit else None
            cells += [fmt_t(fit[0].per_epoch), f"{r.value:.3g}"] if fit and r else ["-", "-"]
        if any(c != "-" for c in cells):
            rows.append([f"`{name}`", *cells, why])
    lines = [
        f"**What limits the tutorial-style backends** ({device}, {dtype}, no history):",
        "",
        *table([*head, "bottleneck"], rows),
    ]
    growth = [t for t in run.traces if t.backend == "torch-autograd" and t.device == device]
    if growth and len(growth[0].epoch_s) >= 20:
        e = growth[0].epoch_s
        k = len(e) // 10
        first, last = fmt_t(sum(e[:k]) / k), fmt_t(sum(e[-k:]) / k)
        lines += [
            f"Graph growth in numbers: `torch-autograd`'s epochs take {first} in the first tenth of a "
            f"{len(e)}-epoch fit at N = {fmt_n(growth[0].n)} and {last} in the last, so its tₑ depends on "
            "the epoch counts it was timed at (see its line residual in the case tables).",
            "",
        ]
    return lines

