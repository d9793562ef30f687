"""REPORT.md's "Which implementation should I choose": per regime, the pick or the tie, and why."""

from __future__ import annotations

from benchmarks.core.fmt import fmt_approx, fmt_ci, fmt_n, fmt_t, fmt_t_ci, names
from benchmarks.core.ranking import (
    FIT_EPOCHS,
    MODE_TEXT,
    TUTORIAL,
    Ranking,
    crossover,
    floor_ratio,
    main_dtype,
    rank,
    regimes,
)
from benchmarks.core.results import Fit, Run
from benchmarks.report.why import why


def _span(sizes: list[int]) -> str:
    return f"N = {fmt_n(sizes[0])}" + (f" to {fmt_n(sizes[-1])}" if len(sizes) > 1 else "")


def _pick(r: Ranking, device: str, dtype: str, mode: str) -> str:
    """ "use `x`" or "tie within noise: `a` and `b` (b/a ×1.03 (0.98–1.09))"."""
    where = f"({device}, {dtype}, {MODE_TEXT[mode]})"
    if not r.tie:
        return f"use `{r.fits[0].backend}`** {where}"
    pairs = zip(r.fits[1:], r.ratios[1:], strict=True)
    rest = "; ".join(f"`{f.backend}`/`{r.fits[0].backend}` {fmt_ci(q)}" for f, q in pairs if f in r.leaders)
    return f"tie within noise: {names(r.leaders)}** {where}, ratios with 95 % intervals: {rest}"


def choose(run: Run, device: str) -> list[str]:
    """The "which implementation should I choose" bullets for one device."""
    dtype, lines = main_dtype(run), []
    regs = regimes(run, device, dtype, "nohist")
    for i, (sizes, _) in enumerate(regs):
        parts = []
        for n in sizes:
            r = rank(run, device, dtype, n, "nohist")
            f = r.fits[0]
            fl = floor_ratio(run, f)
            tut = run.select(backend=TUTORIAL, device=device, dtype=dtype, n=n, mode="nohist")
            runner = (
                f", next `{r.fits[1].backend}` {fmt_ci(r.ratios[1])}" if len(r.fits) > 1 and not r.tie else ""
            )
            if not f.resolved:
                parts.append(
                    f"at N = {fmt_n(n)} tₑ = {fmt_t_ci(f.te)}: not resolved, its interval reaches zero (the "
                    "rounds were too noisy to separate the epochs from the fixed cost; run on a quieter "
                    "machine or with a larger --budget)"
                )
                continue
            parts.append(
                f"at N = {fmt_n(n)} tₑ = {fmt_t_ci(f.te)}"
                + (f", {fl.value:.3g}× the memory floor" if fl else "")
                + (
                    f", {tut[0].per_epoch / f.per_epoch:.3g}× faster than the tutorial's {TUTORIAL}"
                    if tut and f.backend != TUTORIAL
                    else ""
                )
                + runner
            )
        first = rank(run, device, dtype, sizes[0], "nohist")
        lines.append(
            f"- **{_span(sizes)}: {_pick(first, device, dtype, 'nohist')}, ranked by tₑ, the marginal cost "
            "per epoch (what a long training pays): " + "; ".join(parts) + "."
        )
        for n in sizes:
            short = rank(run, device, dtype, n, "nohist", by="fit")
            if short.fits and short.names() != rank(run, device, dtype, n, "nohist").names():
                f = short.fits[0]
                pred = f.predict(FIT_EPOCHS)
                lines.append(
                    f"- **For one fit of {FIT_EPOCHS} epochs at N = {fmt_n(n)}** (the tutorial's budget, "
                    f"where the fixed cost per fit t₀ counts too), ranked by t₀ + {FIT_EPOCHS}·tₑ: "
                    + (f"tie within noise: {names(short.leaders)}" if short.tie else f"`{f.backend}`")
                    + f", {fmt_t_ci(pred)} per fit (t₀ = {fmt_t(f.t0.value)})"
                    + "."
                )
        once = _one_off(run, first.fits[0], device, dtype)
        if once:
            lines.append(once)
        if i + 1 < len(regs) and regs[i + 1][1].fits[0].backend != first.fits[0].backend:
            nxt = regs[i + 1]
            a, b = first.fits[0].backend, nxt[1].fits[0].backend
            at = crossover(run, a, b, device, dtype, "nohist", sizes[-1], nxt[0][0])
            where = f"≈ {fmt_approx(at)}" if at else f"between {fmt_n(sizes[-1])} and {fmt_n(nxt[0][0])}"
            lines.append(
                f"- **Crossover at N {where}**: `{b}` overtakes `{a}` "
                "(log–log interpolation of tₑ between the measured sizes)."
            )
    hregs = regimes(run, device, dtype, "history")
    if hregs and [r[1].names() for r in hregs] != [r[1].names() for r in regs]:
        picks = ", ".join(
            ("tie " if r[1].tie else "") + names(r[1].leaders) + f" for {_span(r[0])}" for r in hregs
        )
        lines.append(f"- **If you record the per-epoch history** (loss, w and b read every epoch): {picks}.")
    lines += why(run, device, dtype)
    return lines


def _one_off(run: Run, best: Fit, device: str, dtype: str) -> str:
    """If the winner is not the quickest to a first result, after how many epochs it pays off."""
    rivals = [f for f in run.select(device=device, dtype=dtype, n=best.n, mode="nohist", kind="per-pass")]
    quick = min(rivals, key=lambda f: f.startup)
    if quick.backend == best.backend or quick.per_epoch <= best.per_epoch:
        return ""
    epochs = (best.one_time - quick.one_time) / (quick.per_epoch - best.per_epoch)
    return (
        f"- **For a one-off fit at N = {fmt_n(best.n)}, `{quick.backend}`** is quicker to a first result "
        f"({fmt_t(quick.startup)} against {fmt_t(best.startup)}): `{best.backend}`'s one-time cost "
        f"(compiling) pays off only after ≈ {max(epochs, 0):,.0f} epochs in one process."
    )
