"""Cost against the number of features: each backend's tₑ at every measured d, at one N.

Every other table and figure of the report is at d = 1. This one holds N fixed, the largest size
measured at every d, so a reader sees how the time per epoch grows with d: a per-pass epoch reads
N·d values, while numpy-moments' epoch is O(d²) whatever N is (its one pass, in t₀, is O(N·d²)).
"""

from __future__ import annotations

from benchmarks.core.fmt import fmt_n, fmt_t_bound
from benchmarks.core.ranking import main_dtype
from benchmarks.core.results import Fit, Run
from benchmarks.report.sections import Cell, Code, Paragraph, Section, Table, cell, text

INF = float("inf")


def common_size(run: Run, device: str, dtype: str) -> int | None:
    """The largest N with a case at every measured d (no history); None with fewer than two d."""
    fits = run.select(d=None, device=device, dtype=dtype, mode="nohist")
    ds = {f.d for f in fits}
    if len(ds) < 2:
        return None
    common = set.intersection(*({f.n for f in fits if f.d == d} for d in ds))
    return max(common, default=None)


def section(run: Run) -> Section | None:
    """One table, tₑ per backend and d at one N; None when the run measured a single d."""
    device, dtype = run.values("device", d=None)[0], main_dtype(run)
    n = common_size(run, device, dtype)
    if n is None:
        return None
    fits = run.select(d=None, device=device, dtype=dtype, n=n, mode="nohist")
    ds = sorted({f.d for f in fits})
    by: dict[str, dict[int, Fit]] = {}
    for f in fits:
        by.setdefault(f.backend, {})[f.d] = f
    top = ds[-1]
    kind = {b: next(iter(f.values())).kind for b, f in by.items()}
    order = sorted(by, key=lambda b: (kind[b] != "per-pass", _te(by[b].get(top)).sort or INF))
    head = ("backend", *(f"tₑ at d = {d}" for d in ds), f"× from d = {ds[0]} to {top}")
    rows = tuple((_name(by[b]), *(_te(by[b].get(d)) for d in ds), _growth(by[b], ds[0], top)) for b in order)
    intro = Paragraph(
        text(
            f"Every other table is at d = 1. Here N = {fmt_n(n)} (the largest size measured at every d), "
            f"{dtype}, no history: the time per epoch as the number of features grows. A per-pass epoch "
            f"reads N·d values, ×{top // ds[0]:,} from d = {ds[0]} to {top}; ",
            Code("numpy-moments"),
            "' epoch is O(d²) whatever N is, and its one pass, in t₀, O(N·d²). -: not measured there. "
            f"Every case at d features runs at lr = {run.metas[0].get('lr', 0.1):g} / d (stable at every d), "
            "checked against the exact iterate as at d = 1.",
        )
    )
    return Section(("Cost against the number of features",), (intro, Table(head, rows)))


def _name(fits: dict[int, Fit]) -> Cell:
    """The backend, marked when algorithmic."""
    f = next(iter(fits.values()))
    return cell(text(Code(f.backend), " (algorithmic)" if f.kind == "algorithmic" else ""))


def _te(f: Fit | None) -> Cell:
    """tₑ, or its upper end when the rounds could not tell it from zero."""
    if f is None:
        return cell("-", INF)
    return cell(fmt_t_bound(f.te), f.te.value if f.te.resolved else f.te.high)


def _growth(fits: dict[int, Fit], low: int, high: int) -> Cell:
    """tₑ at the largest d ÷ tₑ at the smallest, when both were resolved."""
    a, b = fits.get(low), fits.get(high)
    if a is None or b is None or not (a.te.resolved and b.te.resolved):
        return cell("-", INF)
    q = b.te.value / a.te.value
    return cell(f"×{q:.3g}" if q < 1000 else f"×{q:,.0f}", q)
