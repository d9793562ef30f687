"""REPORT.md as text, from a loaded Run: the renderer for reading on a code host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.core.fmt import fmt_bytes, fmt_ci, fmt_n, fmt_t, fmt_t_ci, table
from benchmarks.core.ranking import FIT_EPOCHS, MODE_TEXT, TUTORIAL, floor_ratio, main_dtype, rank
from benchmarks.core.results import Fit, Run
from benchmarks.report.limit import limit
from benchmarks.report.method import method
from benchmarks.report.recommend import choose
from benchmarks.report.scaling import section as scaling_section
from benchmarks.report.scope import section as not_measured
from benchmarks.report.scope import source


def header(run: Run) -> list[str]:
    """The title, when and where the run was made, and the notes a reader needs first."""
    m, meta = run.machines[0], run.metas[0]
    g = m.get("gdbench", {})
    cpu = m.get("cpu", {})
    v = g.get("versions", {})
    wall = meta.get("wall_seconds")
    lines = [
        "# gdbench: which gradient-descent implementation should I use?",
        "",
        f"Measured {meta.get('datetime', '')[:19].replace('T', ' ')} UTC by `gdbench bench`"
        + (f" in {wall / 60:.1f} min" if wall else "")
        + f" from {', '.join(p.name for p in run.sources)}."
        f" Machine: {cpu.get('brand_raw', m.get('processor', '?'))}, {cpu.get('count', '?')} CPU(s), "
        f"{g.get('threads', '?')} thread(s) for every framework, GPU: {g.get('gpu') or 'none'}. "
        f"numpy {v.get('numpy')}, torch {v.get('torch')}, jax {v.get('jax')}, Python {v.get('python')}.",
        "",
        "The same report to explore (values on hover, backends to hide, views to pick, tables to sort): "
        "[report.html](report.html) beside this file, one self-contained page that opens offline in any "
        "browser (a code host shows its source: open it from a clone).",
        "",
    ]
    busy, load, cpus = meta.get("busy_before"), meta.get("load_before"), cpu.get("count") or 1
    if busy is not None:  # measured over a second before the run: the load average lags a minute
        said = f"other processes kept {busy:.2f} of {cpus} CPU(s) busy in the second before the run"
        flagged = busy > 0.25 * cpus
    else:
        said = f"load average {load or 0:.2f} on {cpus} CPU(s) when the run started"
        flagged = load is not None and load > 0.25 * cpus
    if flagged:
        lines += [
            f"> **Busy machine**: {said}. Other "
            "processes stretch the timings, worst for multi-threaded steps (a parallel region waits for "
            "a descheduled thread); prefer a run on a quiet machine.",
            "",
        ]
    if meta.get("quick"):
        lines += [
            f"> **Quick run**: N = {', '.join(fmt_n(n) for n in run.values('n'))} and "
            f"{', '.join(run.values('dtype'))} only, for checking the machinery and a first look "
            "(see Not measured).",
            "",
        ]
    proto = meta.get("protocol") or {}
    counts = meta.get("epoch_counts", {})
    if proto:
        lines += [
            f"Protocol: {proto.get('passes')} passes over the sweep in {proto.get('seconds', 0):.0f} s "
            f"(stopped: {proto.get('stopped')}), every case timed at the epoch counts "
            + "; ".join(f"N = {fmt_n(int(n))}: {', '.join(map(str, c))}" for n, c in counts.items())
            + "; rounds of all backends interleaved in random order in each pass. Ranked by the "
            "minimum (see How this was measured).",
            "",
        ]
    return lines


def render(
    run: Run,
    figs: list[Path],
    scaling: tuple[Path, dict[str, Any], Path] | None = None,
    repro: list[str] | None = None,
) -> str:
    """The whole REPORT.md as text; ``scaling`` (its JSON, data, figure) adds the model beyond one machine."""
    lines = header(run)
    lines += ["## Which implementation should I choose", ""]
    for device in run.values("device"):
        lines += [f"### On {device}", "", *choose(run, device), ""]
    lines += ["### Headline ratios", "", *_headline(run)]
    for device in run.values("device"):
        lines += limit(run, device)
    lines += repro or []
    lines += ["## Figures", ""] + [f"![{p.stem}]({p.as_posix()})" for p in figs] + [""]
    lines += [
        "## Results by case",
        "",
        "tₑ: marginal cost of one more epoch; t₀: fixed cost per fit (a call into compiled code, copying "
        "results out); both from the line through the fastest round at each epoch count, with 95 % "
        "bootstrap intervals. Line residual: the largest distance of those points from the line, "
        "relative (a sanity check: large when epochs do not all cost the same). × fastest and × floor: "
        "tₑ against the fastest per-pass backend's and against one read of x and y. Fit: median whole "
        "call at the largest epoch count, IQR across rounds. First result: prepare + first call "
        "(compilation included), never part of t₀ or tₑ. Memory: peak beyond the data (see below).",
        "",
    ]
    for device in run.values("device"):
        for dtype in run.values("dtype"):
            for n in run.values("n"):
                for mode in ("nohist", "history"):
                    lines += _case_table(run, device, dtype, n, mode)
    lines += _beyond(run, scaling)
    lines += not_measured(run) + method(run)
    return "\n".join(lines).rstrip() + "\n"


def _beyond(run: Run, scaling: tuple[Path, dict[str, Any], Path] | None) -> list[str]:
    """Data-parallel backends' time per epoch split into compute and all-reduce, then the model."""
    split = [f for f in run.fits if f.allreduce is not None and f.mode == "nohist"]
    if not split and scaling is None:
        return []
    lines = ["## Beyond one machine", ""]
    if split:
        lines += [
            "Measured in this run: each data-parallel fit's own clock per epoch, and the part of it spent "
            "inside `all_reduce` (timed by the ranks themselves; compute is the rest). jax-sharded's psum "
            "runs inside its compiled step, so it has no split.",
            "",
        ]
        rows = []
        for f in sorted(split, key=lambda f: (f.backend, f.dtype, f.n)):
            comm = float(f.allreduce or 0.0)
            rows.append(
                [
                    f"`{f.backend}`",
                    f.dtype,
                    fmt_n(f.n),
                    fmt_t(f.per_epoch),
                    fmt_t(f.per_epoch - comm),
                    fmt_t(comm),
                    f"{comm / f.per_epoch:.0%}",
                ]
            )
        lines = [*lines[:2], "### Compute and all-reduce in this sweep", "", *lines[2:]]
        lines += table(["backend", "dtype", "N", "per epoch", "compute", "all-reduce", "share"], rows)
    if scaling is not None:
        path, data, fig = scaling
        text = scaling_section(data, fig.as_posix())
        text = text.replace("## Beyond one machine", "### Measured apart, and the model beyond it", 1)
        head, _, rest = text.partition("\n\n")
        lines += [head, "", source(path, data), "", rest, ""]
    return lines


def _headline(run: Run) -> list[str]:
    dtype, rows = main_dtype(run), []
    for device in run.values("device"):
        for mode in ("nohist", "history"):
            for n in run.values("n"):
                r = rank(run, device, dtype, n, mode)
                if not r.fits:
                    continue
                f, fl = r.fits[0], floor_ratio(run, r.fits[0])
                tut = run.select(backend=TUTORIAL, device=device, dtype=dtype, n=n, mode=mode)
                pred = f.predict(FIT_EPOCHS)
                rows.append(
                    [
                        device,
                        MODE_TEXT[mode],
                        fmt_n(n),
                        ("tie: " if r.tie else "") + ", ".join(f"`{b}`" for b in r.names()),
                        fmt_t_ci(f.te),
                        fmt_t(f.t0.value),
                        fmt_ci(fl) if fl else "n/a",
                        f"{tut[0].per_epoch / f.per_epoch:.3g}×" if tut else "n/a",
                        f"`{r.fits[1].backend}` {fmt_ci(r.ratios[1])}" if len(r.fits) > 1 else "-",
                        fmt_t(pred.value),
                        fmt_t(f.startup),
                    ]
                )
    head = [
        "device",
        "mode",
        "N",
        f"fastest per-pass by tₑ ({dtype})",
        "tₑ (95 % interval)",
        "t₀",
        "tₑ × floor",
        f"faster than {TUTORIAL}",
        "runner-up: tₑ ratio",
        f"one {FIT_EPOCHS}-epoch fit",
        "first result",
    ]
    return table(head, rows)


def _case_table(run: Run, device: str, dtype: str, n: int, mode: str) -> list[str]:
    fits = run.select(device=device, dtype=dtype, n=n, mode=mode)
    if not fits:
        return []
    ranked = rank(run, device, dtype, n, mode)
    ratio = {f.backend: q for f, q in zip(ranked.fits, ranked.ratios, strict=True)}
    fits.sort(key=lambda f: (f.kind != "per-pass", f.per_epoch))
    rows = [_row(run, f, ratio.get(f.backend)) for f in fits]
    fl = run.floor(device, dtype, n)
    if fl:
        rows.append(["*memory floor: one read of x, y*", fmt_t(fl.seconds), "", "", "", "1", "", "", "", ""])
    head = [
        "backend",
        "tₑ (95 % interval)",
        "t₀ (95 % interval)",
        "line residual",
        "× fastest",
        "× floor",
        f"fit of {fits[0].epochs} epochs (IQR)",
        "first result",
        "peak memory beyond data",
        "check error",
    ]
    counts = ", ".join(map(str, sorted(fits[0].samples))) or str(fits[0].epochs)
    title = (
        f"#### {device} · {dtype} · N = {fmt_n(n)} · {MODE_TEXT[mode]} "
        f"(epoch counts {counts}; {min(f.rounds for f in fits)}–{max(f.rounds for f in fits)} rounds each)"
    )
    return [title, "", *table(head, rows)]


def _row(run: Run, f: Fit, vs_best: Any) -> list[str]:
    name = f"`{f.backend}`" + (" (algorithmic)" if f.kind == "algorithmic" else "")
    fl = floor_ratio(run, f)
    return [
        name,
        fmt_t_ci(f.te),
        fmt_t_ci(f.t0),
        f"{f.cost.residual:.1%}" if f.cost else "n/a",
        fmt_ci(vs_best) if vs_best is not None else "-",
        f"{fl.value:.3g}" if fl else "n/a",
        f"{fmt_t(f.fit_median)} ({fmt_t((f.q3 - f.q1) * f.epochs)})",
        fmt_t(f.startup),
        fmt_bytes(f.mem_bytes),
        f"{f.check_err:.1e}",
    ]
