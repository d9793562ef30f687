"""REPORT.md's "Reproducibility": this run against an earlier run of the same code on the same machine.

Two runs agree when every regime recommends the same backend(s) (or declares the same tie), by
both rankings; when `gdbench compare` flags no case; and when, at N = 10⁷ (a full run), the fastest
per-pass backend's tₑ ÷ floor agrees within ``BAND``. ``benchmarks/reproduce.py`` runs two benches
back to back and exits non-zero unless all three hold.
"""

from __future__ import annotations

from benchmarks.core import regression
from benchmarks.core.fmt import fmt_ci, fmt_n, fmt_t
from benchmarks.core.ranking import floor_ratio, rank, recommendations
from benchmarks.core.results import Run

BAND = 0.15  # the fastest per-pass ratio to the floor at N = 10⁷ may differ this much


def _when(run: Run) -> str:
    return f"`{run.sources[0].name}` ({str(run.metas[0].get('datetime', ''))[:19].replace('T', ' ')} UTC)"


def agreement(new: Run, old: Run) -> tuple[list[str], bool]:
    """The section's lines, and whether the two runs agree on everything it checks."""
    rec_new, rec_old = recommendations(new), recommendations(old)
    keys = [k for k in rec_new if k in rec_old]
    same = [k for k in keys if rec_new[k] == rec_old[k]]

    def status(a: tuple[str, ...], b: tuple[str, ...]) -> str:
        if a == b:
            return "same"
        if set(a) < set(b) or set(b) < set(a):  # not a contradiction, still not the same answer
            return "**differs**: a tie in one run, one of its backends in the other"
        return "**differs**"

    rows = [
        f"| {k} | {', '.join(f'`{b}`' for b in rec_new[k])} | {', '.join(f'`{b}`' for b in rec_old[k])} "
        f"| {status(rec_new[k], rec_old[k])} |"
        for k in keys
    ]
    lines = [
        "## Reproducibility",
        "",
        f"This run, {_when(new)}, against {_when(old)}: the same code on the same machine, one run after "
        "the other. Several backends in a cell are a tie within noise.",
        "",
        f"**Recommendations: {len(same)} of {len(keys)} regimes the same.**",
        "",
        "| regime, ranked by | this run | earlier run | |",
        "|---|---|---|---|",
        *rows,
        "",
    ]
    ok_rec = len(same) == len(keys) and bool(keys)
    ok_ratio = True
    n = max(set(new.values("n")) & set(old.values("n")), default=None)
    ratio_rows = []
    for dtype in new.values("dtype"):
        if n is None:
            break
        cells, values = [], []
        for run in (new, old):
            r = rank(run, "cpu", dtype, n, "nohist")
            q = floor_ratio(run, r.fits[0]) if r.fits else None
            cells.append(f"`{r.fits[0].backend}` {fmt_t(r.fits[0].per_epoch)}, {fmt_ci(q)}" if q else "-")
            values.append(q.value if q else None)
        if None in values:
            continue
        a, b = values
        diff = a / b - 1 if a and b else float("nan")
        within = abs(diff) <= BAND
        ok_ratio &= within or n < 10**7  # held to the band at N = 10⁷ only, where the floor is a read
        ratio_rows.append(f"| {dtype} | {cells[0]} | {cells[1]} | {diff:+.1%} {'✓' if within else '✗'} |")
    if ratio_rows and n is not None:
        lines += [
            f"**Fastest per-pass tₑ ÷ memory floor at N = {fmt_n(n)}** ("
            + (f"must agree within ±{BAND:.0%}" if n >= 10**7 else "shown only: held to a band at N = 10⁷")
            + "):",
            "",
            "| dtype | this run | earlier run | difference |",
            "|---|---|---|---|",
            *ratio_rows,
            "",
        ]
    verdicts = regression.compare(old, new, regression.DEFAULT_THRESHOLD)
    flagged = [v for v in verdicts if v.regression]
    lines += [
        f"**`gdbench compare` earlier → this run:** {len(verdicts)} cases compared, {len(flagged)} flagged"
        + (": " + ", ".join(v.case for v in flagged) if flagged else "")
        + f" (×{regression.DEFAULT_THRESHOLD:g} and Mann–Whitney p < 0.01)"
        + (": the same code, so each is a false alarm." if flagged else "."),
        "",
        f"**Verdict:** recommendations {'the same' if ok_rec else 'DIFFER'}; fastest ÷ floor "
        f"{'within' if ok_ratio else 'NOT within'} ±{BAND:.0%}; compare "
        + ("flags nothing." if not flagged else f"flags {len(flagged)} case(s)."),
        "",
    ]
    return lines, ok_rec and ok_ratio and not flagged
