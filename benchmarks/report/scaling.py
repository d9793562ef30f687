"""The scaling measurement presented: its figure and the report's section, from a saved scaling.json.

The model is benchmarks/core/scaling.py; the measurement, benchmarks/suite/scaling.py.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.core.files import atomic_write_bytes
from benchmarks.core.fmt import fmt_n, fmt_t
from benchmarks.core.results import Run
from benchmarks.core.scaling import ELEMENTS, MODEL_N, MODEL_P, model
from benchmarks.report import scope
from benchmarks.report.sections import (
    Block,
    Bullets,
    Code,
    Image,
    Paragraph,
    Section,
    Table,
    Text,
    cell,
    strong,
    text,
)


def plot(data: dict[str, Any], path: Path) -> Path:
    """Modelled time per epoch against nodes for several N, measured points on top; and n*(P)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = model(data)
    ps = np.array(MODEL_P, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.6), layout="constrained")
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(MODEL_N)))
    for n, colour in zip(MODEL_N, colours, strict=True):
        left.plot(ps, [m.epoch(n, p) for p in ps], color=colour, lw=2, label=f"N = {_sci(n)}")
        seen = [e for e in data["epochs"] if e["n"] == n]
        if seen:
            pts = ([e["world"] for e in seen], [e["per_epoch_s"] for e in seen])
            left.plot(*pts, "o", color=colour, ms=8, mec="black", mew=0.8, zorder=3)
    left.plot(ps[1:], [m.allreduce(p) for p in ps[1:]], "k--", lw=1.2, label="all-reduce a(P) alone")
    left.axhline(m.o, color="grey", ls=":", lw=1.2, label="fixed cost per epoch o")
    left.plot([], [], "o", color="white", mec="black", label="measured here, P = 1, 2")
    left.set(xscale="log", yscale="log", xlabel="nodes P", ylabel="seconds per epoch")
    left.set_title("Time per epoch: modelled (lines), measured (dots)")
    left.set_ylim(m.o / 2, 60 * m.epoch(MODEL_N[-1], 1))  # room above the curves for the legend
    left.set_xticks(ps, [str(int(p)) for p in ps])
    left.grid(True, which="major", alpha=0.3)
    left.legend(fontsize=9, loc="upper right", ncol=2)

    ring = np.array([m.crossover(p) for p in ps[1:]])
    tree = np.array([m.crossover(p, "tree") for p in ps[1:]])
    right.plot(ps[1:], ring, "C3", lw=2, label="ring all-reduce (gloo's): (P−1)·a₂ / c")
    right.plot(ps[1:], tree, "C0--", lw=2, label="tree all-reduce: log₂P·a₂ / c")
    right.fill_between(ps[1:], 1, ring, color="C3", alpha=0.12)
    right.text(90, ring[0] / 20, "all-reduce takes longer\nthan compute (ring)", color="C3", ha="center")
    right.text(300, ring[-3] * 20, "compute dominates", ha="center")
    right.annotate(
        f"P = 2: n* = {_sci(ring[0])}", (2, ring[0]), (2.6, ring[0] * 30), arrowprops={"arrowstyle": "->"}
    )
    right.set(xscale="log", yscale="log", xlabel="nodes P", ylabel="samples per node, N/P")
    right.set_title("n* = a(P)/c: below it, communication dominates an epoch")
    right.set_ylim(1, ring[-1] * 30)
    right.set_xticks(ps[1:], [str(int(p)) for p in ps[1:]])
    right.grid(True, which="major", alpha=0.3)
    right.legend(fontsize=9, loc="upper left")
    fig.suptitle(
        f"Measured: all-reduce a₂ = {_us(m.a2)} (2 ranks, loopback); compute c = {m.c * 1e9:.2f} ns "
        f"per sample and o = {_us(m.o)} per epoch (1 thread).\nEverything beyond P = 2 is modelled: "
        "t(N, P) = o + c·N/P + (P−1)·a₂"
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def section(
    data: dict[str, Any], figure: Path, title: str = "Beyond one machine", source: Text = ()
) -> Section:
    """The measurement and the model, from saved data; ``figure``: the plot's path, as the report links it."""
    m = model(data)
    small = next(r for r in data["allreduce"] if r["elements"] == ELEMENTS[0])
    epochs = sorted(data["epochs"], key=lambda e: (e["n"], e["world"]))
    rows = tuple(
        (cell(_sci(e["n"]), e["n"]), cell(str(e["world"]), e["world"]), cell(str(e["threads_per_rank"])),
         *(cell(_us(e[k]), e[k]) for k in ("per_epoch_s", "compute_s", "allreduce_s")))
        for e in epochs
    )  # fmt: skip
    cross = "; ".join(
        f"P = {p}: {_sci(m.crossover(p))} (tree: {_sci(m.crossover(p, 'tree'))})" for p in (2, 16, 128, 1024)
    )
    sizes = ", ".join(f"{r['bytes']} B: {_us(r['median_s'])}" for r in data["allreduce"])
    before, after = data.get("load_average_before"), data.get("load_average")
    busy = f", load average {before[0]:.1f} before and {after[0]:.1f} after" if before and after else ""
    measured = text(
        strong("Measured"), f" ({data['cores']} cores shared with other work{busy}; torch "
        f"{data['machine'].get('torch')}; {data['created'][:10]}) with ", Code("torch-ddp"),
        ", gloo over 127.0.0.1, one thread per rank:",
    )  # fmt: skip
    spread = f"p10 {_us(small['p10_s'])}, p90 {_us(small['p90_s'])}, {small['repeats']} calls"
    facts = Bullets((
        text(f"one all-reduce of the packed sums (3 float64) between 2 ranks: median "
             f"{_us(small['median_s'])} ({spread}); by size: {sizes}."),
        text(f"compute per epoch on 1 rank: {m.c * 1e9:.2f} ns per sample, plus {_us(m.o)} per epoch "
             f"that does not grow with N (the loop and dispatch, read at N = {_sci(epochs[0]['n'])})."),
    ))  # fmt: skip
    caption = text(
        "Whole epochs, split by a clock around each ", Code("all_reduce"), " (at P = 2 both ranks share "
        "this machine, and the all-reduce includes waiting for the slower one):",
    )  # fmt: skip
    table = Table(("N", "ranks", "threads/rank", "per epoch", "compute", "all-reduce"), rows, caption)
    modelled = text(
        strong("Modelled"), ", for P nodes each as fast as one core here: t(N, P) = o + c·N/P + (P − 1)·a₂, "
        "gloo's ring all-reduce (a tree, NCCL's for small messages, would cost log₂P·a₂).",
    )  # fmt: skip
    crossing = f"An epoch spends longer in the all-reduce than in arithmetic below n* = a(P)/c: {cross}."
    limits = (
        "Not in the model: a real network (each ring step across machines adds a round trip), stragglers, "
        "memory bandwidth shared by ranks. The measured P = 2 points are two ranks on one machine.",
    )
    blocks: list[Block] = [Paragraph(source)] if source else []
    blocks += [Paragraph(measured), facts, table, Paragraph(modelled), Paragraph((crossing,))]
    blocks += [Image(figure, "time per epoch against nodes and N"), Paragraph(limits)]
    return Section((title,), tuple(blocks))


def beyond(run: Run, borrowed: tuple[Path, dict[str, Any], Path] | None) -> Section | None:
    """Beyond one machine: this run's data-parallel epochs split into compute and all-reduce, then the
    scaling measurement borrowed from ``borrowed`` (its JSON, data and figure), labelled as such."""
    split = sorted(
        (f for f in run.fits if f.allreduce is not None and f.mode == "nohist"),
        key=lambda f: (f.backend, f.dtype, f.n),
    )
    blocks: list[Block] = []
    if split:
        rows = []
        for f in split:
            comm = float(f.allreduce or 0.0)
            rows.append(
                (cell(Code(f.backend)), cell(f.dtype), cell(fmt_n(f.n), f.n),
                 cell(fmt_t(f.per_epoch), f.per_epoch), cell(fmt_t(f.per_epoch - comm)),
                 cell(fmt_t(comm), comm), cell(f"{comm / f.per_epoch:.0%}"))
            )  # fmt: skip
        caption = text(
            "Each data-parallel fit's own clock per epoch and the part spent inside ", Code("all_reduce"),
            " (timed by the ranks; compute is the rest). jax-sharded's psum runs inside its compiled "
            "step: no split.",
        )  # fmt: skip
        head = ("backend", "dtype", "N", "per epoch", "compute", "all-reduce", "share")
        table = Table(head, tuple(rows), caption)
        blocks.append(Section(("Compute and all-reduce in this sweep",), (table,)))
    if borrowed is not None:
        path, data, figure = borrowed
        blocks.append(
            section(data, figure, "Measured apart, and the model beyond it", scope.source(path, data))
        )
    return Section(("Beyond one machine",), tuple(blocks)) if blocks else None


def _sci(v: float) -> str:
    """1e6 as 10⁶, 3.2e5 as 3.2·10⁵."""
    if v <= 0 or not math.isfinite(v):
        return f"{v:g}"
    k = math.floor(math.log10(v))
    mant = v / 10**k
    sup = str(k).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"10{sup}" if round(mant, 1) == 1 else f"{mant:.1f}·10{sup}"


def _us(s: float) -> str:
    """Seconds in µs or ms, three significant figures."""
    return f"{s * 1e3:.3g} ms" if s >= 1e-3 else f"{s * 1e6:.3g} µs"
