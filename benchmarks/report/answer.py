"""The answer the report opens with: what to use, then the recommendation per regime.

A regime is (device, dtype, N, mode, ranking): ranked by tₑ (what a long training pays per epoch)
or by one ``FIT_EPOCHS``-epoch fit (t₀ + E·tₑ, where the fixed cost counts too). Each names the
fastest per-pass backend, or two backends tied within noise (core/ranking.py).
"""

from __future__ import annotations

import itertools
from collections import Counter

from benchmarks.core.fmt import fmt_approx, fmt_n, fmt_t
from benchmarks.core.ranking import (
    FIT_EPOCHS,
    MODE_TEXT,
    TUTORIAL,
    Ranking,
    crossover,
    main_dtype,
    rank,
    regimes,
)
from benchmarks.core.results import Run
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
    names,
    strong,
    text,
)

BY = {"te": "by tₑ", "fit": f"one {FIT_EPOCHS}-epoch fit"}
Key = tuple[str, int, str, str]  # dtype, N, mode, ranking


def dtypes(run: Run) -> list[str]:
    """The run's dtypes, the one the advice is written for first."""
    main = main_dtype(run)
    return [main, *(d for d in run.values("dtype") if d != main)]


def picks(run: Run, device: str) -> dict[Key, Ranking]:
    """Every regime's ranking on ``device``."""
    out = {}
    for dtype in dtypes(run):
        for n in run.values("n"):
            for mode in ("nohist", "history"):
                for by in BY:
                    r = rank(run, device, dtype, n, mode, by=by)
                    if r.fits:
                        out[(dtype, n, mode, by)] = r
    return out


def _times(x: float) -> str:
    return f"{x:,.0f}×" if x >= 100 else f"{x:.3g}×"


def _where(keys: list[Key]) -> str:
    """Regimes in few words: the (dtype, N) they share."""
    cases = list(dict.fromkeys(f"{d} N = {fmt_n(n)}" for d, n, _, _ in keys))
    said = ", ".join(cases[:3]) + (f" and {len(cases) - 3} more" if len(cases) > 3 else "")
    return f"{said}; {len(keys)} regime{'s' * (len(keys) > 1)}"


def lead(run: Run) -> list[Block]:
    """What REPORT.md says first, per device: what to use, where it ties or is not the pick, what it gains."""
    out: list[Block] = []
    modes = " and ".join(MODE_TEXT[m] for m in ("nohist", "history") if m in run.values("mode"))
    sizes = run.values("n")
    scope = (
        f"N = {fmt_n(sizes[0])} to {fmt_n(sizes[-1])}, {' and '.join(run.values('dtype'))}, {modes}, "
        f"ranked {BY['te']} and by {BY['fit']}"
    )
    for device in run.values("device"):
        ranked = picks(run, device)
        if not ranked:
            continue
        best = pick(ranked)
        solo = [k for k, r in ranked.items() if r.names() == (best,)]
        if solo:
            share = "all" if len(solo) == len(ranked) else f"{len(solo)} of"
            said = text(
                strong(f"On {device}, use ", Code(best), "."),
                f" The fastest per-pass backend in {share} {len(ranked)} regimes measured ({scope}).",
            )
        else:  # never the fastest alone: a tie everywhere it leads, so no single pick is claimed
            led = sum(best in r.names() for r in ranked.values())
            said = text(
                strong(f"On {device}, no backend is the fastest alone: ", Code(best), " ties for it."),
                f" Among the fastest within noise in {led} of {len(ranked)} regimes measured ({scope}),"
                " alone in none.",
            )
        out.append(Paragraph(said))
        tied: dict[tuple[str, ...], list[Key]] = {}  # its partner in a tie -> those regimes
        others: dict[tuple[str, ...], list[Key]] = {}  # another pick -> those regimes
        for k, r in ranked.items():
            if best in r.names() and r.tie:
                tied.setdefault(tuple(b for b in r.names() if b != best), []).append(k)
            elif best not in r.names():
                others.setdefault(_names(r), []).append(k)
        ties = [text(names(who), f" ({_where(keys)})") for who, keys in _most(tied)]
        elsewhere = [
            text("a tie of " if len(who) > 1 else "", names(who), f" ({_where(keys)})")
            for who, keys in _most(others)
        ]
        sentences = [text("Tied within noise with ", _joined(ties), ".")] if ties else []
        if elsewhere:
            sentences.append(text("Elsewhere: ", _joined(elsewhere), "."))
        rest = len(tied) + len(others) - len(ties) - len(elsewhere)
        if rest:
            sentences.append((f"{rest} more in the table.",))
        if sentences:
            out.append(Paragraph(text(*[text(" " if i else "", t) for i, t in enumerate(sentences)])))
        out += _gain(run, device, best)
    return out


def _joined(parts: list[Text]) -> Text:
    """Texts joined by semicolons."""
    return text(*[text("; " if i else "", p) for i, p in enumerate(parts)])


def pick(ranked: dict[Key, Ranking]) -> str:
    """The backend to name first: recommended (alone or tied) in the most regimes, then alone in the most."""
    leads = Counter(b for r in ranked.values() for b in r.names())
    alone = Counter(r.names()[0] for r in ranked.values() if not r.tie)
    return max(leads, key=lambda b: (leads[b], alone[b]))


def _most(groups: dict[tuple[str, ...], list[Key]]) -> list[tuple[tuple[str, ...], list[Key]]]:
    """The three largest groups of regimes."""
    return sorted(groups.items(), key=lambda kv: -len(kv[1]))[:3]


def _gain(run: Run, device: str, best: str) -> list[Block]:
    """How much faster per epoch than the tutorial's pattern, over the sizes both resolved."""
    dtype, gains = main_dtype(run), []
    for n in run.values("n"):
        a = run.select(backend=best, device=device, dtype=dtype, n=n, mode="nohist")
        t = run.select(backend=TUTORIAL, device=device, dtype=dtype, n=n, mode="nohist")
        if a and t and a[0].resolved and t[0].resolved and best != TUTORIAL:
            gains.append(t[0].per_epoch / a[0].per_epoch)
    if not gains:
        return []
    span = _times(gains[0]) if len(gains) == 1 else f"{_times(min(gains))} to {_times(max(gains))}"
    said = text(
        "Its tₑ is ", span, " faster than the tutorial's ", Code(TUTORIAL), f" ({dtype}, no history)."
    )
    return [Paragraph(said)]


def _names(r: Ranking) -> tuple[str, ...]:
    """The recommended backend, or the tied ones in name order (their order is noise)."""
    return tuple(sorted(r.names())) if r.tie else r.names()


def _cell(r: Ranking | None) -> Cell:
    """A regime's pick: the backend and how much slower the runner-up is, or the tie."""
    if r is None:
        return cell("-")
    if r.tie:
        return cell(text("tie: ", names(_names(r))))
    if len(r.fits) == 1:
        return cell(Code(r.fits[0].backend))
    q = r.ratios[1].value
    return cell(text(Code(r.fits[0].backend), f" ×{q:.3g}"), q)


def section(run: Run) -> Section:
    """The recommendation per regime: a table per device, then the exceptions a user may meet."""
    blocks: list[Block] = []
    for device in run.values("device"):
        ranked = picks(run, device)
        cols = [(m, by) for m in ("nohist", "history") if run.select(device=device, mode=m) for by in BY]
        rows = [
            (cell(dtype), cell(fmt_n(n), n), *(_cell(ranked.get((dtype, n, m, by))) for m, by in cols))
            for dtype in dtypes(run)
            for n in run.values("n")
            if any((dtype, n, m, by) in ranked for m, by in cols)
        ]
        caption = text(
            strong(f"On {device}:"),
            " the recommended backend and the runner-up's cost ÷ its cost (×); ",
            "tie: the two cannot be told apart (the ratio's 95 % interval reaches below ×1.05).",
        )
        head = ("dtype", "N", *(f"{MODE_TEXT[m]}, {BY[by]}" for m, by in cols))
        blocks.append(Table(head, tuple(rows), caption))
        also = [b for b in (_one_off(run, device), *_crossovers(run, device)) if b]
        if also:
            blocks.append(Bullets(tuple(also)))
    return Section(("Recommendation per regime",), tuple(blocks))


def _one_off(run: Run, device: str) -> Text:
    """Where the pick is not the quickest to a first result: after how many epochs it pays off."""
    dtype = main_dtype(run)
    for n in run.values("n"):
        r = rank(run, device, dtype, n, "nohist")
        if not r.fits:
            continue
        best = r.fits[0]
        quick = min(
            run.select(device=device, dtype=dtype, n=n, mode="nohist", kind="per-pass"),
            key=lambda f: f.startup,
        )
        if quick.backend == best.backend or quick.per_epoch <= best.per_epoch:
            continue
        epochs = max((best.one_time - quick.one_time) / (quick.per_epoch - best.per_epoch), 0)
        return text(
            strong(f"A one-off fit at N = {fmt_n(n)}:"), " ", Code(quick.backend),
            f" is quicker to a first result ({fmt_t(quick.startup)} against {fmt_t(best.startup)}); ",
            Code(best.backend), "'s one-time cost (compiling) pays off after ",
            f"≈ {epochs:,.0f} epochs in one process.",
        )  # fmt: skip
    return ()


def _crossovers(run: Run, device: str) -> list[Text]:
    """Where the pick by tₑ changes with N, and at which N (log–log interpolation)."""
    dtype, out = main_dtype(run), []
    regs = regimes(run, device, dtype, "nohist")
    for (sizes, r), (nxt, r2) in itertools.pairwise(regs):
        a, b = r.fits[0].backend, r2.fits[0].backend
        if a == b:
            continue
        at = crossover(run, a, b, device, dtype, "nohist", sizes[-1], nxt[0])
        where = f"≈ {fmt_approx(at)}" if at else f"between {fmt_n(sizes[-1])} and {fmt_n(nxt[0])}"
        out.append(
            text(
                strong(f"Crossover at N {where}"),
                f" ({dtype}, no history): ",
                Code(b),
                " overtakes ",
                Code(a),
                ".",
            )
        )
    return out
