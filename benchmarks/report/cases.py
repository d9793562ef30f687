"""Results by case: every backend's numbers per (device, dtype, N, mode), on the page only.

One view per (device, dtype, mode), which the page's selectors pick; in it a table per N.
"""

from __future__ import annotations

from benchmarks.core.fmt import fmt_bytes, fmt_ci, fmt_n, fmt_t, fmt_t_ci
from benchmarks.core.ranking import MODE_TEXT, floor_ratio, rank
from benchmarks.core.results import Fit, Run
from benchmarks.core.stats import Interval
from benchmarks.report.limit import ratio_cell
from benchmarks.report.sections import Block, Cell, Code, Paragraph, Section, Table, View, cell, text

INF = float("inf")
HEAD = ("backend", "tₑ (95 % interval)", "t₀ (95 % interval)", "line residual", "× fastest", "× floor")
EXPLAIN = (
    "tₑ: marginal cost of one more epoch; t₀: fixed cost per fit; both from the line through the fastest "
    "round at each epoch count. Line residual: the largest distance of those points from the line. "
    "× fastest: tₑ ÷ the fastest per-pass backend's. Fit: median whole call at the largest count (IQR "
    "across rounds). First result: prepare + first call (compiling). Memory: peak beyond the data."
)


def section(run: Run) -> Section:
    """A view per (device, dtype, mode), with a table per N."""
    views: list[Block] = [Paragraph((EXPLAIN,))]
    for device in run.values("device"):
        for dtype in run.values("dtype"):
            for mode in run.values("mode"):
                tables = [t for n in run.values("n") if (t := _table(run, device, dtype, n, mode))]
                if tables:
                    labels = {"device": device, "dtype": dtype, "mode": mode}
                    views.append(View(labels, f"{device}, {dtype}, {MODE_TEXT[mode]}", tuple(tables)))
    return Section(("Results by case",), tuple(views), html_only=True)


def _table(run: Run, device: str, dtype: str, n: int, mode: str) -> Table | None:
    fits = run.select(device=device, dtype=dtype, n=n, mode=mode)
    if not fits:
        return None
    ranked = rank(run, device, dtype, n, mode)
    ratio = {f.backend: q for f, q in zip(ranked.fits, ranked.ratios, strict=True)}
    fits.sort(key=lambda f: (f.kind != "per-pass", f.per_epoch))
    fl = run.floor(device, dtype, n)
    counts = ", ".join(map(str, sorted(fits[0].samples)))
    rounds = f"{min(f.rounds for f in fits)}–{max(f.rounds for f in fits)} rounds each"
    floor = f"; memory floor (one read of x, y) {fmt_t(fl.seconds)}" if fl else ""
    caption = text(f"N = {fmt_n(n)}: epoch counts {counts}, {rounds}{floor}.")
    fit = f"fit of {fits[0].epochs} epochs (IQR)"
    head = (*HEAD, fit, "first result", "peak memory beyond data", "check error")
    return Table(head, tuple(_row(run, f, ratio.get(f.backend)) for f in fits), caption)


def _row(run: Run, f: Fit, vs_best: Interval | None) -> tuple[Cell, ...]:
    return (
        cell(text(Code(f.backend), " (algorithmic)" if f.kind == "algorithmic" else "")),
        cell(fmt_t_ci(f.te), f.per_epoch),
        cell(fmt_t_ci(f.t0), f.t0.value),
        cell(f"{f.cost.residual:.1%}", f.cost.residual),
        cell(fmt_ci(vs_best), vs_best.value) if vs_best is not None else cell("-", INF),
        ratio_cell(floor_ratio(run, f)),
        cell(f"{fmt_t(f.fit_median)} ({fmt_t((f.q3 - f.q1) * f.epochs)})", f.fit_median),
        cell(fmt_t(f.startup), f.startup),
        cell(fmt_bytes(f.mem_bytes), -1.0 if f.mem_bytes is None else float(f.mem_bytes)),
        cell(f"{f.check_err:.1e}", f.check_err),
    )
