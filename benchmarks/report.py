"""Turn saved `gdbench bench` JSON into REPORT.md and figures, without timing anything again.

Reads one or more runs (default: the newest results/run/bench-*.json), writes REPORT.md and
figures/*.png next to the first one (or in --out), each file atomically. A REPORT.md made from
other runs is never replaced unless --force.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import report_figures as figures
from . import scaling
from .bench import DEFAULT_OUT
from .common import UsageError, atomic_write_text
from .report_advice import MODE_TEXT, TUTORIAL, choose, fastest, fmt_n, fmt_t, main_dtype
from .report_data import Fit, Run, load
from .report_goals import goals

# The scaling measurement behind "Beyond one machine" (python -m benchmarks.scaling): minutes of
# all-reduce timing, kept apart from the sweep and committed beside the reference run.
SCALING_JSON = Path(__file__).resolve().parents[1] / "results" / "scaling" / "scaling.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench report``."""
    p.add_argument(
        "json", nargs="*", type=Path, help="saved runs (default: the newest bench-*.json in results/run)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for REPORT.md and figures/ (default: the first JSON's)",
    )
    p.add_argument("--force", action="store_true", help="replace a REPORT.md that was made from other runs")


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
    text = render(
        run, [p.relative_to(out) for p in drawn if p != out / "figures" / "scaling.png"], scaling_fig
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
            "> **Quick run**: few sizes and rounds, for checking the machinery; do not act on these numbers.",
            "",
        ]
    return lines


def render(run: Run, figs: list[Path], scaling_fig: Path | None = None) -> str:
    """The whole REPORT.md as text; ``scaling_fig`` adds the modelled scaling beyond one machine."""
    lines = _header(run)
    lines += ["## Which implementation should I choose", ""]
    for device in run.values("device"):
        lines += [f"### On {device}", "", *choose(run, device), ""]
    lines += ["### Headline ratios", "", *_headline(run)]
    lines += [
        "## Distance from the memory floor",
        "",
        "Time per epoch divided by one read of x and y at the same N, dtype and device (no history). "
        "1.0 would be a single pass over the data per epoch; an epoch of plain gradient descent needs "
        "at least that.",
        "",
    ]
    for device in run.values("device"):
        for dtype in run.values("dtype"):
            lines += [f"**{device}, {dtype}**", "", *_floor_table(run, device, dtype)]
    lines += ["## Figures", ""] + [f"![{p.stem}]({p.as_posix()})" for p in figs] + [""]
    lines += [
        "## Results by case",
        "",
        "Per epoch: median over rounds of the fit's own clock ÷ epochs, IQR across rounds. × fastest: "
        "against the fastest per-pass backend of the case. First result: prepare + first call (compilation "
        "included), never part of the per-epoch numbers. Memory: peak beyond the data (see below).",
        "",
    ]
    for device in run.values("device"):
        for dtype in run.values("dtype"):
            for n in run.values("n"):
                for mode in ("nohist", "history"):
                    lines += _case_table(run, device, dtype, n, mode)
    lines += goals(run) if "cpu" in run.values("device") else []
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
                ranked = fastest(run, device, dtype, n, mode)
                if not ranked:
                    continue
                f, fl = ranked[0], run.floor(device, dtype, n)
                tut = run.select(backend=TUTORIAL, device=device, dtype=dtype, n=n, mode=mode)
                rows.append(
                    [
                        device,
                        MODE_TEXT[mode],
                        fmt_n(n),
                        f"`{f.backend}`",
                        fmt_t(f.per_epoch),
                        f"{f.per_epoch / fl.seconds:.3g}×" if fl else "n/a",
                        f"{tut[0].per_epoch / f.per_epoch:.3g}×" if tut else "n/a",
                        f"`{ranked[1].backend}` ×{ranked[1].per_epoch / f.per_epoch:.3g}"
                        if len(ranked) > 1
                        else "-",
                        fmt_t(f.startup),
                    ]
                )
    head = [
        "device",
        "mode",
        "N",
        f"fastest per-pass ({dtype})",
        "per epoch",
        "× floor",
        f"faster than {TUTORIAL}",
        "runner-up (× slower)",
        "first result",
    ]
    return _table(head, rows)


def _floor_table(run: Run, device: str, dtype: str) -> list[str]:
    sizes = [n for n in run.values("n") if run.select(device=device, dtype=dtype, n=n)]
    rows = []
    for b in run.backends():
        fits = {f.n: f for f in run.select(backend=b, device=device, dtype=dtype, mode="nohist")}
        if not fits:
            continue
        kind = next(iter(fits.values())).kind
        cells = [
            f"{fits[n].per_epoch / fl.seconds:.3g}"
            if n in fits and (fl := run.floor(device, dtype, n))
            else "-"
            for n in sizes
        ]
        rows.append([f"`{b}`" + (" (algorithmic)" if kind == "algorithmic" else ""), *cells])
    floors = [run.floor(device, dtype, n) for n in sizes]
    rows.append(["*one read of x, y*", *(fmt_t(f.seconds) if f else "not measured" for f in floors)])
    return _table(["backend", *(f"N = {fmt_n(n)}" for n in sizes)], rows)


def _case_table(run: Run, device: str, dtype: str, n: int, mode: str) -> list[str]:
    fits = sorted(
        run.select(device=device, dtype=dtype, n=n, mode=mode),
        key=lambda f: (f.kind != "per-pass", f.per_epoch),
    )
    if not fits:
        return []
    best = min((f.per_epoch for f in fits if f.kind == "per-pass"), default=fits[0].per_epoch)
    fl = run.floor(device, dtype, n)
    rows = [_row(f, best, fl.seconds if fl else None) for f in fits]
    if fl:
        rows.append(
            ["*memory floor: one read of x, y*", fmt_t(fl.seconds), fmt_t(fl.q3 - fl.q1), "", "1", "", "", ""]
        )
    head = [
        "backend",
        "per epoch",
        "IQR",
        "× fastest",
        "× floor",
        "first result",
        "peak memory beyond data",
        "check error",
    ]
    title = (
        f"#### {device} · {dtype} · N = {fmt_n(n)} · {MODE_TEXT[mode]} "
        f"({fits[0].epochs} epochs, {fits[0].rounds} rounds)"
    )
    return [title, "", *_table(head, rows)]


def _row(f: Fit, best: float, floor_s: float | None) -> list[str]:
    name = f"`{f.backend}`" + (" (algorithmic)" if f.kind == "algorithmic" else "")
    return [
        name,
        fmt_t(f.per_epoch),
        fmt_t(f.q3 - f.q1),
        f"{f.per_epoch / best:.3g}",
        f"{f.per_epoch / floor_s:.3g}" if floor_s else "n/a",
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

- **Fixed work.** tol = 0 and a fixed epoch count per N, the same for every backend ({work});
  lr = {lr}, the tutorial's data (x ~ U[0, 1), y = 0.3x + 0.5 + noise), one seed.
- **Timed region.** `backend.prepare(x, y, cfg)` validates and copies the data to the device once
  per case, outside timing. pytest-benchmark's `pedantic` then times whole fits from the same init;
  an untimed setup before each round runs a garbage collection (objects alive after the warm-up are
  frozen out of it). Per epoch = the fit's own clock (`FitResult.seconds`, stopped only when device
  work is done: `block_until_ready` for JAX, `torch.cuda.synchronize()` for CUDA) ÷ epochs.
- **Compile and first call apart.** Every framework is warmed up once per process on a size no case
  uses; each case's first call (which compiles its shape) is timed on its own and shown, with
  prepare, as *first result*, never in the per-epoch numbers. Compiled code stays cached between
  cases of the same shape, as it would in one program.
- **Checked before counted.** The first and the last timed result of every case must match the
  exact float64 iterate after the same epochs (from the data's moments) within {tol}
  (max |θ − θ_ref| / max(1, |θ_ref|)); a case that does not is failed and left out.
- **Threads.** {threads} for every framework: {env}; torch.set_num_threads follows OMP_NUM_THREADS;
  XLA has no thread-count flag, so fewer threads than CPUs are enforced with CPU affinity.
- **Memory floor.** One read of x and y (`numpy.dot(x, y)`; on CUDA `torch.dot` + synchronize),
  timed in the same run just before the fits of the same N and dtype; the fastest of its rounds,
  since it is a bar and noise only raises it. At small N it is a call's overhead, not a read.
- **Peak memory beyond the data.** CPU: the peak resident size during a round (Linux VmHWM,
  reset through /proc/<pid>/clear_refs before each round) minus the size at that reset, which
  already holds the data; summed over the process and its workers (data-parallel backends), an
  upper bound when their peaks do not coincide. Memory an allocator reuses from an earlier round
  is not seen again; resolution one page. CUDA (torch): `torch.cuda.max_memory_allocated` above
  the level at reset. n/a: no honest measure there.
- **Time per epoch against the epoch index.** impls has no per-epoch hook, so each traced backend's
  own epoch function (`make_step`) is driven through the shared loop (`impls.trainer.run_epochs`)
  with a clock stamp as each epoch starts: {trace_epochs} epochs with history at N = {trace_n},
  median over {trace_rounds} fit(s).
- **Noise.** A shared machine adds noise; compare IQRs before reading small differences.
"""


def _method(run: Run) -> list[str]:
    meta: dict[str, Any] = run.metas[0]
    g = run.machines[0].get("gdbench", {})
    work = ", ".join(
        f"N = {fmt_n(int(n))}: {w['epochs']} epochs × {w['rounds']} rounds"
        for n, w in meta.get("work", {}).items()
    )
    tw = meta.get("trace_work", {})
    env = ", ".join(f"{k}={v}" for k, v in g.get("env", {}).items() if v)
    text = METHOD.format(
        work=work,
        lr=meta.get("lr"),
        tol=", ".join(f"{v:g} in {k}" for k, v in sorted(meta.get("check_tol", {}).items(), reverse=True)),
        threads=g.get("threads", "?"),
        env=env,
        trace_epochs=tw.get("epochs"),
        trace_n=run.traces[0].n if run.traces else "?",
        trace_rounds=tw.get("rounds"),
    )
    return text.splitlines()
