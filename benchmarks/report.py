"""Turn saved `gdbench bench` JSON into REPORT.md and figures, without timing anything again.

Reads one or more runs (default: the newest results/bench/bench-*.json), writes REPORT.md and
figures/*.png next to the first one (or in --out), each file atomically. A REPORT.md made from
other runs is never replaced unless --force.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import report_figures as figures
from . import scaling, stats
from .bench import DEFAULT_OUT
from .common import UsageError, atomic_write_text
from .report_advice import (
    FIT_EPOCHS,
    MODE_TEXT,
    TUTORIAL,
    choose,
    floor_ratio,
    fmt_ci,
    fmt_n,
    fmt_t,
    fmt_t_ci,
    main_dtype,
    rank,
)
from .report_data import Fit, Run, load
from .report_limit import limit
from .report_repro import agreement
from .report_validation import NAME as VALIDATION
from .report_validation import section as validation
from .suite.cases import policy

# The scaling measurement behind "Beyond one machine" (python -m benchmarks.scaling): minutes of
# all-reduce timing, kept apart from the sweep and committed beside the reference run.
SCALING_JSON = Path(__file__).resolve().parents[1] / "results" / "scaling" / "scaling.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench report``."""
    p.add_argument(
        "json", nargs="*", type=Path, help="saved runs (default: the newest bench-*.json in results/bench)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for REPORT.md and figures/ (default: the first JSON's)",
    )
    p.add_argument("--force", action="store_true", help="replace a REPORT.md that was made from other runs")
    p.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="EARLIER.json",
        help="add a Reproducibility section comparing this run with an earlier one of the same code",
    )


def newest(directory: Path = DEFAULT_OUT) -> Path:
    """The most recent saved run in ``directory``."""
    runs = sorted(directory.glob("bench-*.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise UsageError(f"no JSON given and no bench-*.json in {directory}; run `gdbench bench` first")
    return runs[-1]


def main(args: argparse.Namespace) -> int:
    """Write REPORT.md and its figures; 0 on success."""
    paths = list(args.json) or [newest()]
    run = load(paths)
    out = Path(args.out) if args.out else paths[0].parent
    report = out / "REPORT.md"
    marker = f"<!-- gdbench report from: {', '.join(p.name for p in paths)} -->"
    if report.exists() and not args.force:
        first = report.read_text().splitlines()[:1]
        if first != [marker]:
            raise UsageError(
                f"{report} was made from other runs; pass --force to replace it, or choose --out"
            )
    drawn = []
    for device in run.values("device"):
        drawn += [
            figures.per_epoch_vs_n(run, device, out / "figures" / f"per_epoch_{device}.png"),
            figures.ratio_to_floor(run, device, out / "figures" / f"ratio_to_floor_{device}.png"),
        ]
        if any(t.device == device for t in run.traces):
            drawn.append(figures.growth(run, device, out / "figures" / f"growth_{device}.png"))
    scaling_fig = None
    if SCALING_JSON.exists():  # measured apart (python -m benchmarks.scaling): minutes, not part of a sweep
        scaling_fig = scaling.plot(scaling.read(SCALING_JSON), out / "figures" / "scaling.png")
        drawn.append(scaling_fig)
        scaling_fig = scaling_fig.relative_to(out)
    repro = agreement(run, load([args.against]))[0] if args.against else []
    repro += validation(paths[0].parent / VALIDATION)  # beside the run, when one was made
    text = render(
        run, [p.relative_to(out) for p in drawn if p != out / "figures" / "scaling.png"], scaling_fig, repro
    )
    atomic_write_text(report, marker + "\n" + text)
    print(f"gdbench report: wrote {report} and {len(drawn)} figure(s) in {out / 'figures'}")
    return 0


def _fmt_bytes(b: int | None) -> str:
    if b is None:
        return "n/a"
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b} B"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]


def _header(run: Run) -> list[str]:
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
    ]
    load, cpus = meta.get("load_before"), cpu.get("count") or 1
    if load is not None and load > 0.25 * cpus:
        lines += [
            f"> **Busy machine**: load average {load:.2f} on {cpus} CPU(s) when the run started. Other "
            "processes stretch the timings, worst for multi-threaded steps (a parallel region waits for "
            "a descheduled thread); prefer a run on a quiet machine.",
            "",
        ]
    if meta.get("quick"):
        lines += [
            "> **Quick run**: two sizes and float64 only, for checking the machinery and a first look.",
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
    return lines + [f"> **Older file.** {note}" for note in run.notes] + ([""] if run.notes else [])


def render(
    run: Run, figs: list[Path], scaling_fig: Path | None = None, repro: list[str] | None = None
) -> str:
    """The whole REPORT.md as text; ``scaling_fig`` adds the modelled scaling beyond one machine."""
    lines = _header(run)
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
    lines += _beyond(run, scaling_fig)
    lines += _missing(run) + _method(run)
    return "\n".join(lines).rstrip() + "\n"


def _beyond(run: Run, scaling_fig: Path | None) -> list[str]:
    """Data-parallel backends' time per epoch split into compute and all-reduce, then the model."""
    split = [f for f in run.fits if f.allreduce is not None and f.mode == "nohist"]
    if not split and scaling_fig is None:
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
        lines += _table(["backend", "dtype", "N", "per epoch", "compute", "all-reduce", "share"], rows)
    if scaling_fig is not None:
        text = scaling.section(scaling.read(SCALING_JSON), scaling_fig.as_posix())
        text = text.replace("## Beyond one machine", "### Measured apart, and the model beyond it", 1)
        lines += [text, ""]
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
                        fmt_t_ci(f.te) if f.te else fmt_t(f.per_epoch),
                        fmt_t(f.t0.value) if f.t0 else "n/a",
                        fmt_ci(fl) if fl else "n/a",
                        f"{tut[0].per_epoch / f.per_epoch:.3g}×" if tut else "n/a",
                        f"`{r.fits[1].backend}` {fmt_ci(r.ratios[1])}" if len(r.fits) > 1 else "-",
                        fmt_t(pred.value) if pred else "n/a",
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
    return _table(head, rows)


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
    return [title, "", *_table(head, rows)]


def _row(run: Run, f: Fit, vs_best: Any) -> list[str]:
    name = f"`{f.backend}`" + (" (algorithmic)" if f.kind == "algorithmic" else "")
    fl = floor_ratio(run, f)
    return [
        name,
        fmt_t_ci(f.te) if f.te else f"{fmt_t(f.per_epoch)} (median)",
        fmt_t_ci(f.t0) if f.t0 else "n/a",
        f"{f.cost.residual:.1%}" if f.cost else "n/a",
        fmt_ci(vs_best) if vs_best is not None else "-",
        f"{fl.value:.3g}" if fl else "n/a",
        f"{fmt_t(f.fit_median)} ({fmt_t((f.q3 - f.q1) * f.epochs)})",
        fmt_t(f.startup),
        _fmt_bytes(f.mem_bytes),
        f"{f.check_err:.1e}",
    ]


def _missing(run: Run) -> list[str]:
    lines = ["## Not measured", ""]
    for name, why in sorted(run.unavailable.items()):
        lines.append(f"- `{name}`: unavailable here: {why}")
    for fail in run.failed:
        lines.append(
            f"- `{fail.get('case')}` failed ({fail.get('when')}), its numbers left out: {fail.get('message')}"
        )
    if len(lines) == 2:
        lines.append("- Nothing: every registered backend ran every case and passed its check.")
    return [*lines, ""]


METHOD = """## How this was measured

- **Two costs per case.** A fit of E epochs costs t(E) = t₀ + E·tₑ: t₀ is the fixed cost of one
  fit (entering compiled code, allocating, copying results out), tₑ the marginal cost of one more
  epoch. Every backend is timed at the same epoch counts ({counts}), tol = 0 so every fit makes
  exactly that many updates, lr = {lr}, the tutorial's data (x ~ U[0, 1), y = 0.3x + 0.5 + noise),
  one seed. t₀ and tₑ are the least-squares line through the fastest round at each count; the
  line's residual is kept as a sanity check. Ratios to the memory floor use tₑ; a fit's predicted
  time is t₀ + E·tₑ.
- **Rounds spread over time.** The scheduler makes passes over the whole sweep; in each pass it
  visits every (device, N, dtype) group once, its floor and all its cases (both modes) in a fresh
  random order, one round per epoch count. A slow period on a shared machine (seconds long) thus
  stretches a few rounds of many cases instead of every round of a few. {passes}
- **Sized by precision.** After {min_passes} passes a case whose tₑ interval is narrower than
  {target:.0%} of tₑ leaves the rotation; the others get more passes, up to {max_passes}, while the
  next pass still ends within {budget:.0f} s of the session's start.
- **Estimator: the minimum.** Noise only ever adds time, so the fastest round is the least biased
  estimate of what the code costs (Chen & Revels 2016, "Robust benchmarking in noisy environments";
  Julia's BenchmarkTools judges by the minimum too). Medians and IQRs are shown beside it.
- **Intervals and ties.** 95 % bootstrap intervals over rounds ({boot} resamples, fixed seed): each
  count's rounds are resampled, the minima taken and the line refitted. A ratio's interval
  resamples both sides. Two backends are told apart only when the interval of their tₑ ratio lies
  wholly above {resolution}; otherwise the report names both: a tie within noise.
- **Timed region.** `backend.prepare(x, y, cfg)` validates and copies the data to the device
  outside timing; an untimed garbage collection precedes each round (objects alive after the
  warm-up are frozen out of it). A round is one whole call of the prepared fit, until device work
  is done (`block_until_ready` for JAX, `torch.cuda.synchronize()` for CUDA). Groups that would
  hold more than {keep} of prepared data (N = 10⁷) re-prepare, untimed, on every visit.
- **Compile and first call apart.** Every framework is warmed up once per process on a size no case
  uses; each case's first call at each epoch count (which compiles its shape) is timed on its own
  and shown, with prepare, as *first result*, never in t₀ or tₑ.
- **Checked before counted.** The first and the last result at every epoch count must match the
  exact float64 iterate after the same epochs (from the data's moments) within {tol}
  (max |θ − θ_ref| / max(1, |θ_ref|)); a case that does not is failed and left out.
- **Threads.** {threads} for every framework: {env}; torch.set_num_threads follows OMP_NUM_THREADS;
  XLA has no thread-count flag, so fewer threads than CPUs are enforced with CPU affinity.
- **Memory floor.** One read of x and y (`numpy.dot(x, y)`; on CUDA `torch.dot` + synchronize),
  timed in the same passes as the fits of its N and dtype; the fastest round.
- **Peak memory beyond the data.** CPU: the peak resident size during a round at the largest epoch
  count (Linux VmHWM, reset through /proc/<pid>/clear_refs before the round) minus the size at
  that reset, which already holds the data; summed over the process and its workers
  (data-parallel backends), an upper bound when their peaks do not coincide. Memory an allocator
  reuses from an earlier round is not seen again; resolution one page. CUDA (torch):
  `torch.cuda.max_memory_allocated` above the level at reset. n/a: no honest measure there.
- **Time per epoch against the epoch index.** impls has no per-epoch hook, so each traced backend's
  own epoch function (`make_step`) is driven through the shared loop (`impls.trainer.run_epochs`)
  with a clock stamp as each epoch starts: {trace_epochs} epochs with history at N = {trace_n},
  median over {trace_rounds} fit(s).
- **Comparing runs.** `gdbench compare` flags a case only when NEW/OLD of the fastest rounds passes
  its threshold and a one-sided Mann–Whitney test on both runs' rounds gives p < 0.01.
"""


def _method(run: Run) -> list[str]:
    meta: dict[str, Any] = run.metas[0]
    g = run.machines[0].get("gdbench", {})
    proto = meta.get("protocol") or {}
    pol = proto.get("policy") or asdict(policy(bool(meta.get("quick"))))
    counts = "; ".join(
        f"N = {fmt_n(int(n))}: {', '.join(map(str, c))}" for n, c in meta.get("epoch_counts", {}).items()
    )
    passes = (
        f"This run: {proto['passes']} passes in {proto['seconds']:.0f} s, stopped by {proto['stopped']}."
        if proto
        else "This file predates the protocol (schema 1): one epoch count, its rounds in one block."
    )
    tw = meta.get("trace_work", {})
    env = ", ".join(f"{k}={v}" for k, v in g.get("env", {}).items() if v)
    text = METHOD.format(
        counts=counts or "one count per N (schema 1)",
        lr=meta.get("lr"),
        passes=passes,
        min_passes=pol["min_passes"],
        max_passes=pol["max_passes"],
        target=pol["target"],
        budget=pol["budget_s"],
        keep=_fmt_bytes(int(pol["keep_bytes"])),
        boot=stats.BOOT,
        resolution=f"1 + {stats.RESOLUTION:g}",
        tol=", ".join(f"{v:g} in {k}" for k, v in sorted(meta.get("check_tol", {}).items(), reverse=True)),
        threads=g.get("threads", "?"),
        env=env,
        trace_epochs=tw.get("epochs"),
        trace_n=run.traces[0].n if run.traces else "?",
        trace_rounds=tw.get("rounds"),
    )
    return text.splitlines()

