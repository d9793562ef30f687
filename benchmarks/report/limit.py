"""Distance from the limit: tₑ against one read of the data, and what holds each backend back.

The memory floor is one read of x and y (``numpy.dot(x, y)``) at the same device, dtype and N. An
epoch of plain gradient descent reads the data at least once, so 1 is the bar: near it a backend
is bandwidth-bound, far above it dispatch- or temporaries-bound. Below 1, a backend read the data
faster than ``numpy.dot`` did: the floor is a practical bar, not a hardware limit.
"""

from __future__ import annotations

import math
import statistics

import numpy as np

from benchmarks.core.fmt import fmt_ci, fmt_n, fmt_ratio, fmt_t
from benchmarks.core.ranking import TUTORIAL, fastest, floor_ratio, rank
from benchmarks.core.results import Run, Trace
from benchmarks.core.stats import Interval
from benchmarks.report.answer import dtypes
from benchmarks.report.sections import (
    Block,
    Bullets,
    Cell,
    Code,
    Paragraph,
    Section,
    Table,
    Text,
    cell,
    em,
    strong,
    text,
)

# The tutorial-style backends, and what limits each where it is slowest relative to the work.
BOTTLENECK = {
    "torch-autograd": "graph growth: each backward() walks every earlier update",
    "torch-nograd": "Python dispatch at small N; eager temporaries (x·w, r, r², r·x) at large N",
    "jax-grad": "one dispatch of a jitted step from Python per epoch; temporaries XLA keeps per step",
    "numpy-closed": "fresh N-sized temporaries every epoch (r, r·x), each a pass over memory",
}


def ratio_cell(r: Interval | None, interval: bool = False) -> Cell:
    """A ratio to the floor; ``≤ x`` when unresolved, "unresolved (why)" when unbounded (fmt's rule)."""
    if r is None:
        return cell("-")
    if not r.resolved or not interval:
        return cell(fmt_ratio(r), r.high if not r.resolved else r.value)
    return cell(fmt_ci(r, ""), r.value)


def section(run: Run) -> Section:
    """The fastest backend's tₑ ÷ floor per dtype and N, why, and what limits the tutorial-style backends."""
    blocks: list[Block] = [
        Paragraph(
            text(
                "tₑ of the fastest per-pass backend (no history) ÷ one read of x and y (",
                Code("numpy.dot(x, y)"),
                ", the memory floor) at the same N and dtype, with its 95 % interval. 1 is the bar: ",
                "near it an epoch is bandwidth-bound, far above it dispatch-bound; below 1, it read the ",
                "data faster than ",
                Code("numpy.dot"),
                ".",
            )
        )
    ]
    for device in run.values("device"):
        sizes = run.values("n")
        rows = []
        for dtype in dtypes(run):
            ranked = [rank(run, device, dtype, n, "nohist") for n in sizes]
            leaders = {r.fits[0].backend for r in ranked if r.fits}
            if not leaders:
                continue
            one = len(leaders) == 1
            head: Text = text(f"{dtype}: ", Code(leaders.pop())) if one else text(dtype)
            cells = []
            for r in ranked:
                c = ratio_cell(floor_ratio(run, r.fits[0]), interval=True) if r.fits else cell("-")
                cells.append(
                    c if one or not r.fits else cell(text(Code(r.fits[0].backend), " ", c.text), c.sort)
                )
            floors = [run.floor(device, dtype, n) for n in sizes]
            rows += [
                (cell(head), *cells),
                (cell(f"{dtype}: one read of x, y"), *(cell(fmt_t(f.seconds), f.seconds) if f else cell("-")
                                                       for f in floors)),
            ]  # fmt: skip
        caption = text(
            strong(f"On {device}:"), " the fastest per-pass backend's tₑ ÷ the floor, then the floor."
        )
        blocks.append(Table(("", *(f"N = {fmt_n(n)}" for n in sizes)), tuple(rows), caption))
        blocks.append(Bullets(tuple(why(run, device, dtypes(run)[0]))))
        blocks.append(_tutorial_style(run, device))
        blocks.append(_every_backend(run, device))
    return Section(("Distance from the limit",), tuple(blocks))


def why(run: Run, device: str, dtype: str) -> list[Text]:
    """Why the ranking is what it is: dispatch at small N, bandwidth at large N, graph growth, algorithms."""
    sizes = sorted({f.n for f in run.select(device=device, dtype=dtype, mode="nohist")})
    out = []
    if len(sizes) >= 2:
        n0, n1 = sizes[0], sizes[1]
        growths = _growths(run, device, dtype, n0, n1)
        if growths:
            growth = statistics.median(growths)
            out.append(
                text(
                    em("Small N is dispatch-bound."),
                    f" From N = {fmt_n(n0)} to {fmt_n(n1)} ({n1 // n0}× the data) the median per-pass tₑ ",
                    f"grows only {growth:.2f}×: an epoch costs its calls (Python, dispatch, allocation), ",
                    "not its data, so the fewest calls per epoch win.",
                )
            )  # fmt: skip
    if len(sizes) >= 2 and sizes[-1] >= 10**6:
        n0, n1 = sizes[-2], sizes[-1]
        best, fl = fastest(run, device, dtype, n1, "nohist"), run.floor(device, dtype, n1)
        slopes = [math.log(g) / math.log(n1 / n0) for g in _growths(run, device, dtype, n0, n1)]
        if best and fl and slopes:
            ratios = [f.per_epoch / fl.seconds for f in best]
            out.append(
                text(
                    em("Large N is bandwidth-bound."),
                    f" From N = {fmt_n(n0)} to {fmt_n(n1)} the median per-pass tₑ grows as "
                    f"N^{statistics.median(slopes):.2f}; at {fmt_n(n1)} the per-pass backends take "
                    f"{min(ratios):.2g}× to {max(ratios):.3g}× one read of x and y ({fmt_t(fl.seconds)}, "
                    f"{fl.data_bytes / fl.seconds / 1e9:.3g} GB/s): the fewest reads win.",
                )
            )
    out += _graph_growth(run, device)
    out += [
        _algorithmic(run, device, dtype, name)
        for name in run.backends()
        if any(f.kind == "algorithmic" for f in run.select(backend=name, device=device, dtype=dtype))
    ]
    return out


def _growths(run: Run, device: str, dtype: str, n0: int, n1: int) -> list[float]:
    """Each per-pass backend's tₑ at n1 ÷ its tₑ at n0."""
    return [
        b[0].per_epoch / a.per_epoch
        for a in run.select(device=device, dtype=dtype, n=n0, mode="nohist", kind="per-pass")
        if (b := run.select(backend=a.backend, device=device, dtype=dtype, n=n1, mode="nohist"))
    ]


def trace_growth(t: Trace) -> tuple[float, float]:
    """(early, late): median seconds of an epoch in the first and in the last tenth of the trace."""
    e = np.asarray(t.epoch_s)
    k = max(1, len(e) // 10)
    return float(np.median(e[:k])), float(np.median(e[-k:]))


def _graph_growth(run: Run, device: str) -> list[Text]:
    traces = {t.backend: t for t in run.traces if t.device == device}
    if TUTORIAL not in traces:
        return []
    t = traces[TUTORIAL]
    early, late = trace_growth(t)
    flat = [(b, trace_growth(u)) for b, u in traces.items() if b != TUTORIAL]
    others = text(*[text("; ", Code(b), f" ×{g[1] / g[0]:.2g}") for b, g in flat])
    return [
        text(
            em("The tutorial's pattern grows its graph."),
            " ",
            Code(TUTORIAL),
            f"'s epochs go from {fmt_t(early)} (first tenth) to {fmt_t(late)} ",
            f"(last tenth of {len(t.epoch_s)}, N = {fmt_n(t.n)}), ×{late / early:.2g}",
            others,
            ": ",
            Code("w = w - lr * w.grad"),
            " keeps every update's graph, so each backward() walks one link more (O(E²) per fit).",
        )
    ]


def _algorithmic(run: Run, device: str, dtype: str, name: str) -> Text:
    """A backend whose epochs do not read the data: its flat tₑ, and where it beats the per-pass ones."""
    fits = sorted(run.select(backend=name, device=device, dtype=dtype, mode="nohist"), key=lambda f: f.n)
    known, gone = [f for f in fits if f.resolved], [f for f in fits if not f.resolved]
    flat = []
    if known:
        flat.append(f"{fmt_t(min(f.per_epoch for f in known))} to {fmt_t(max(f.per_epoch for f in known))}")
    if gone:  # at most its upper end: never a negative time
        where = ", ".join(fmt_n(f.n) for f in gone)
        flat.append(f"unresolved at N = {where} (≤ {fmt_t(max(f.te.high for f in gone))})")
    wins = []
    for f in known:
        best = fastest(run, device, dtype, f.n, "nohist")
        if best and f.per_epoch < best[0].per_epoch:
            wins.append(f.n)
    return text(
        em("Algorithmic floor, ranked apart."),
        " ",
        Code(name),
        " reads the data once per fit (in t₀), then does O(d²) work per epoch, so its tₑ stays flat (",
        "; ".join(flat),
        ")",
        f" and beats every per-pass backend at N = {', '.join(fmt_n(n) for n in wins)}." if wins else ".",
    )


def _tutorial_style(run: Run, device: str) -> Section:
    """The tutorial-style backends at the smallest and largest N, and what limits each."""
    dtype = run.values("dtype")[-1]
    sizes = list(
        dict.fromkeys(n for n in (run.values("n")[0], run.values("n")[-1]) if run.select(device=device, n=n))
    )
    rows = []
    for name, limit in BOTTLENECK.items():
        cells: list[Cell] = []
        for n in sizes:
            fit = run.select(backend=name, device=device, dtype=dtype, n=n, mode="nohist")
            r = floor_ratio(run, fit[0]) if fit else None
            cells += (
                [cell(fmt_t(fit[0].per_epoch), fit[0].per_epoch), ratio_cell(r)] if fit else [cell("-")] * 2
            )
        if any(c.sort is not None for c in cells):
            rows.append((cell(Code(name)), *cells, cell(limit)))
    head = ["backend", *(h for n in sizes for h in (f"N = {fmt_n(n)} tₑ", "× floor")), "bottleneck"]
    title = f"What limits the tutorial-style backends ({device}, {dtype}, no history)"
    return Section((title,), (Table(tuple(head), tuple(rows)),))


def _every_backend(run: Run, device: str) -> Section:
    """Every backend's tₑ ÷ floor per dtype and N (the page only: REPORT.md keeps the fastest)."""
    blocks = []
    for dtype in dtypes(run):
        present = [n for n in run.values("n") if run.select(device=device, dtype=dtype, n=n, mode="nohist")]
        rows = []
        for b in run.backends():
            fits = {f.n: f for f in run.select(backend=b, device=device, dtype=dtype, mode="nohist")}
            if fits:
                name = text(
                    Code(b), " (algorithmic)" if next(iter(fits.values())).kind == "algorithmic" else ""
                )
                ratios = (ratio_cell(floor_ratio(run, fits[n]) if n in fits else None) for n in present)
                rows.append((cell(name), *ratios))
        if rows:
            caption = text(strong(f"{device}, {dtype}"), ": ≤ x is an unresolved tₑ, at most x.")
            blocks.append(Table(("backend", *(f"N = {fmt_n(n)}" for n in present)), tuple(rows), caption))
    return Section(("Every backend against the floor",), tuple(blocks), html_only=True)
