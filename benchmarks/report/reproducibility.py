"""Reproducibility: this run against an earlier one, saying whether they share machine and code.

Two runs agree when every regime recommends the same backend(s) (or declares the same tie), by
both rankings; when `gdbench compare` flags no case; and when, at N = 10⁷ (a full run), the fastest
per-pass backend's tₑ ÷ floor agrees within ``BAND``. ``gdbench reproduce`` runs two benches back
to back and exits non-zero unless all three hold.
"""

from __future__ import annotations

from benchmarks.core import floors, machines, regression
from benchmarks.core.fmt import fmt_ci, fmt_n, fmt_t
from benchmarks.core.ranking import floor_ratio, rank, recommendations
from benchmarks.core.results import Run
from benchmarks.report.sections import (
    Block,
    Cell,
    Code,
    Paragraph,
    Section,
    Table,
    Text,
    cell,
    names,
    strong,
    text,
)

BAND = 0.15  # the fastest per-pass ratio to the floor at N = 10⁷ may differ this much


def _when(run: Run) -> Text:
    return text(
        Code(run.sources[0].name), f" ({str(run.metas[0].get('datetime', ''))[:16].replace('T', ' ')} UTC)"
    )


def status(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    """Whether two runs' picks for a regime agree; a tie against one of its backends is said apart."""
    if a == b:
        return "same"
    if set(a) < set(b) or set(b) < set(a):  # not a contradiction, still not the same answer
        return "differs: a tie in one run, one of its backends in the other"
    return "differs"


def agreement(new: Run, old: Run) -> tuple[Section, bool]:
    """The section, and whether the two runs agree on everything it checks."""
    rec_new, rec_old = recommendations(new), recommendations(old)
    keys = [k for k in rec_new if k in rec_old]
    differ = [k for k in keys if rec_new[k] != rec_old[k]]
    ok_rec = not differ and bool(keys)
    ratio_rows, ok_ratio, n = _ratios(new, old)
    caution = regression.cautions(old, new)  # a busy run or another machine: flags are uncertain
    verdicts = regression.compare(old, new, regression.DEFAULT_THRESHOLD, uncertain=bool(caution))
    flagged = [v for v in verdicts if v.slower]
    compared = len(verdicts)
    verdict = text(
        strong("Verdict:"),
        f" recommendations {'the same' if ok_rec else 'DIFFER'} ({len(keys) - len(differ)} of {len(keys)} "
        f"regimes the same); fastest ÷ floor {'within' if ok_ratio else 'NOT within'} ±{BAND:.0%}; compare "
        + ("flags nothing." if not flagged else f"flags {len(flagged)} case(s)")
        + (f", each uncertain: {'; '.join(caution)}." if flagged and caution else "." if flagged else ""),
    )
    both = machines.match(new.machine, old.machine, new.commit, old.commit)
    blocks: list[Block] = [
        Paragraph(
            text(
                "This run, ", _when(new), ", against ", _when(old),
                f": {both.code_words()}, {both.machine_words()}",
                ", one after the other." if both.machine and both.code else ".",
            )
        ),
        Paragraph(verdict),
    ]
    if differ:
        rows = tuple(
            (cell(k), cell(names(rec_new[k])), cell(names(rec_old[k])), cell(status(rec_new[k], rec_old[k])))
            for k in differ
        )
        blocks.append(
            Table(("regime, ranked by", "this run", "earlier run", ""), rows, ("Regimes that differ:",))
        )
    if ratio_rows and n is not None:
        held = f"must agree within ±{BAND:.0%}" if n >= 10**7 else "shown only: held to a band at N = 10⁷"
        caption = text(f"Fastest per-pass tₑ ÷ memory floor at N = {fmt_n(n)} ({held}):")
        blocks.append(Table(("dtype", "this run", "earlier run", "difference"), tuple(ratio_rows), caption))
    rule = f"(×{regression.DEFAULT_THRESHOLD:g} and Mann–Whitney p < 0.01)"
    blocks.append(
        Paragraph(
            text(
                Code("gdbench compare"),
                f" earlier → this run: {compared} cases compared, {len(flagged)} flagged {rule}",
                (": " + ", ".join(v.case for v in flagged) + _alarm(both)) if flagged else ".",
            )
        )
    )
    blocks.append(Paragraph(_goal(new, old)))
    return Section(("Reproducibility",), tuple(blocks)), ok_rec and ok_ratio and not flagged


def _alarm(both: machines.Match) -> str:
    """What a flag means: a false alarm only for the same code on the same machine."""
    if both.machine and both.code:
        return "; the same code on the same machine, so each is a false alarm."
    return f"; {both.code_words()} and {both.machine_words()}, so a flag need not be the code's doing."


def _goal(new: Run, old: Run) -> Text:
    """Issue 24's goal: the fastest tₑ ÷ floor at N = 10⁷ the same within ±10 % across the two runs."""
    said = []
    for g in floors.stable_goals(new, old):
        verdict = "not measured" if g.value is None else f"{'met' if g.met else 'MISSED'} ({g.value:+.1%})"
        said.append(f"{g.name.split(',')[1].strip()}: {verdict}")
    return text(
        strong("Goal:"),
        f" the fastest tₑ ÷ floor at N = 10⁷ the same within ±{floors.GOAL_STABLE:.0%} across the two runs: ",
        "; ".join(said) + ".",
    )


def _ratios(new: Run, old: Run) -> tuple[list[tuple[Cell, ...]], bool, int | None]:
    """Per dtype, the fastest per-pass tₑ ÷ floor at the largest common N in both runs; within the band?"""
    rows: list[tuple[Cell, ...]] = []
    ok = True
    n = max(set(new.values("n")) & set(old.values("n")), default=None)
    if n is None:
        return rows, ok, n
    for dtype in new.values("dtype"):
        cells, values = [], []
        for run in (new, old):
            r = rank(run, "cpu", dtype, n, "nohist")
            q = floor_ratio(run, r.fits[0]) if r.fits else None
            cells.append(
                cell(text(Code(r.fits[0].backend), f" {fmt_t(r.fits[0].per_epoch)}, {fmt_ci(q)}"))
                if q
                else cell("-")
            )
            values.append(q.value if q else None)
        a, b = values
        if a is None or b is None:
            continue
        diff = a / b - 1 if a and b else float("nan")
        within = abs(diff) <= BAND
        ok &= within or n < 10**7  # held to the band at N = 10⁷ only, where the floor is a read
        rows.append((cell(dtype), *cells, cell(f"{diff:+.1%} {'✓' if within else '✗'}", diff)))
    return rows, ok, n
