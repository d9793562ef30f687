"""Distance from the limit: tₑ against one read of the data, and what holds each backend back.

The memory floor is the fastest one-read of x and y this machine did at the same device, dtype
and N (the best of several kernels, benchmarks/suite/floor.py). An epoch of plain gradient descent
reads the data at least once, so 1 is the bar: near it a backend is bandwidth-bound, far above it
dispatch- or temporaries-bound. Where the floor is a call's overhead (small N) it is no limit; where
a backend comes meaningfully below a floor that is a read, the section says the floor was not
reached (``benchmarks/core/floors.py`` holds both rules), and it states issue 24's goals.
"""

from __future__ import annotations

import math
import statistics

import numpy as np

from benchmarks.core import floors
from benchmarks.core.fmt import fmt_ci, fmt_n, fmt_ratio, fmt_t
from benchmarks.core.ranking import TUTORIAL, fastest, floor_ratio, rank
from benchmarks.core.results import Floor, Run, Trace
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
    kernels = sorted({k for f in run.floors for k in f.kernels}) or ["numpy.dot(x, y)"]
    blocks: list[Block] = [
        Paragraph(
            text(
                "The fastest per-pass tₑ (no history) ÷ the memory floor, with its 95 % interval. ",
                "The floor: the fastest read of x and y here, best of ",
                *[text(Code(k), ", " if i < len(kernels) - 1 else "") for i, k in enumerate(kernels)],
                ", in the same passes and threads as the fits. Near 1 an epoch is bandwidth-bound, far ",
                "above dispatch-bound.",
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
            fl = [run.floor(device, dtype, n) for n in sizes]
            rows += [
                (cell(head), *cells),
                (cell(f"{dtype}: the floor"), *(floor_cell(run, f) for f in fl)),
                (cell(f"{dtype}: fastest kernel"), *(cell(Code(short(f.method)) if f else "-") for f in fl)),
            ]
        caption = text(
            strong(f"On {device}:"),
            " the fastest per-pass backend's tₑ ÷ the floor; the floor, the bandwidth it reached, ",
            "and the kernel that reached it.",
        )
        blocks.append(Table(("", *(f"N = {fmt_n(n)}" for n in sizes)), tuple(rows), caption))
        blocks.append(Bullets(tuple([*why(run, device, dtypes(run)[0]), *floor_notes(run, device)])))
        blocks.append(_tutorial_style(run, device))
        blocks.append(_every_backend(run, device))
    blocks.append(goals(run))
    return Section(("Distance from the limit",), tuple(blocks))


def short(kernel: str) -> str:
    """A floor kernel's name in a table cell: its library."""
    return kernel.split(".")[0].split(" ")[0] if kernel else "-"


def floor_cell(run: Run, f: Floor | None) -> Cell:
    """The floor's time and bandwidth; where it is a call's overhead, that, and no bandwidth."""
    if f is None:
        return cell("-")
    if not floors.is_read(run, f):
        return cell(f"{fmt_t(f.seconds)} (a call)", f.seconds)
    return cell(f"{fmt_t(f.seconds)}, {f.bandwidth / 1e9:.3g} GB/s", f.seconds)


def floor_notes(run: Run, device: str) -> list[Text]:
    """Where the floor is a call's overhead, how far below it counts, and where it was not reached."""
    out = []
    calls = {
        dtype: ", ".join(fmt_n(f.n) for f in sorted(mine, key=lambda f: f.n) if not floors.is_read(run, f))
        for dtype in dtypes(run)
        if (mine := [f for f in run.floors if (f.device, f.dtype) == (device, dtype)])
    }
    where = "; ".join(f"{dtype} at N = {ns}" for dtype, ns in calls.items() if ns)
    if where:
        out.append(
            text(
                em("At small N the floor is a call, not a read."),
                f" In {where} the floor is less than twice the fastest at N ≤ 10³ (a call's fixed cost): ",
                "no limit is claimed there, and a backend whose epochs run inside one compiled call ",
                "comes below it without beating any read.",
            )
        )
    cut = 1 / (1 + floors.stats.RESOLUTION)
    out.append(
        text(
            em("Below the floor"),
            f" counts only when the whole 95 % interval of tₑ ÷ floor lies below {cut:.3f} (1 / 1.05): ",
            "the interval covers this run's noise, and 5 % is what two runs of the same code differ by.",
        )
    )
    read = [(f, q) for f, q, is_read in floors.under(run, device) if is_read]
    if not read:
        out.append(text("No backend came meaningfully below the floor where it is a read."))
    for f, q in read:
        fl = run.floor(f.device, f.dtype, f.n)
        peak = max(g.bandwidth for g in run.floors if (g.device, g.dtype) == (f.device, f.dtype))
        assert fl is not None  # under() keeps only fits with a floor
        out.append(
            text(
                em("Floor not reached:"),
                " ",
                Code(f.backend),
                f" at N = {fmt_n(f.n)}, {f.dtype}, {f.mode}: tₑ ÷ floor {fmt_ci(q)}. It read x and y at ",
                f"{fl.data_bytes / f.per_epoch / 1e9:.3g} GB/s; the floor's kernels reached ",
                f"{fl.bandwidth / 1e9:.3g} GB/s there ({peak / 1e9:.3g} GB/s at best over N): none of them ",
                "read as fast as this backend's loop at this size, so the floor is not the limit here.",
            )
        )
    return out


def goals(run: Run) -> Section:
    """Issue 24's goals: met or missed, and by how much (the run-to-run one needs --against)."""
    items = []
    for g in [*floors.ratio_goals(run), floors.first_goal(run)]:
        unit = "s" if g.target == floors.GOAL_FIRST_S else "×"
        if g.value is None:
            items.append(text(f"{g.name}: not measured in this run."))
            continue
        shown = fmt_ci(g.interval, "") if g.interval is not None else f"{g.value:.3g}"
        verdict = "met" if g.met else "MISSED"
        by = f"{g.value / g.target - 1:+.0%} of the target"
        head = f"{g.name} ({g.detail}): {shown} {unit}, target ≤ {g.target:g} {unit}: "
        items.append(text(head, strong(verdict), f", {by}."))
    return Section(("Goals",), (Bullets(tuple(items)),))


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
                    f"{fl.bandwidth / 1e9:.3g} GB/s): the fewest reads win.",
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
    """Each per-pass backend's tₑ at n1 ÷ its tₑ at n0, where both are resolved (a growth needs two costs)."""
    return [
        b[0].per_epoch / a.per_epoch
        for a in run.select(device=device, dtype=dtype, n=n0, mode="nohist", kind="per-pass")
        if (b := run.select(backend=a.backend, device=device, dtype=dtype, n=n1, mode="nohist"))
        and a.resolved
        and b[0].resolved
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
