"""The scaling measurement presented: its figure and REPORT.md's section, from a saved scaling.json.

The model is benchmarks/core/scaling.py; the measurement, benchmarks/suite/scaling.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.core.scaling import ELEMENTS, MODEL_N, MODEL_P, model


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def section(data: dict[str, Any], figure: str) -> str:
    """The report's "Beyond one machine" section (Markdown), from saved data; ``figure`` is its link."""
    m = model(data)
    small = next(r for r in data["allreduce"] if r["elements"] == ELEMENTS[0])
    smallest = min(e["n"] for e in data["epochs"])
    rows = [
        f"| {_sci(e['n'])} | {e['world']} | {e['threads_per_rank']} | {_us(e['per_epoch_s'])} | "
        f"{_us(e['compute_s'])} | {_us(e['allreduce_s'])} |"
        for e in sorted(data["epochs"], key=lambda e: (e["n"], e["world"]))
    ]
    cross = [
        f"P = {p}: {_sci(m.crossover(p))} (tree: {_sci(m.crossover(p, 'tree'))})" for p in (2, 16, 128, 1024)
    ]
    sizes = ", ".join(f"{r['bytes']} B: {_us(r['median_s'])}" for r in data["allreduce"])
    before, after = data.get("load_average_before"), data.get("load_average")
    busy = (
        f", 1-minute load average {before[0]:.1f} before and {after[0]:.1f} after" if before and after else ""
    )
    return "\n".join(
        [
            "## Beyond one machine",
            "",
            f"**Measured** ({data['cores']} cores shared with other work{busy}; torch "
            f"{data['machine'].get('torch')}; {data['created'][:10]}), with `torch-ddp`, gloo over "
            "127.0.0.1 and one thread per rank:",
            "",
            f"- one all-reduce of the packed sums (3 float64) between 2 ranks: median "
            f"**{_us(small['median_s'])}** (p10 {_us(small['p10_s'])}, p90 {_us(small['p90_s'])}, "
            f"{small['repeats']} calls). By message size: {sizes}.",
            f"- compute per epoch on 1 rank: **{m.c * 1e9:.2f} ns per sample**, plus **{_us(m.o)}** per "
            f"epoch that does not grow with N (the Python loop and dispatch, read at N = {_sci(smallest)}).",
            "- whole epochs, the loop time split by a clock around each `all_reduce` (at P = 2 the two "
            "ranks share this machine, and the all-reduce time includes waiting for the slower rank):",
            "",
            "| N | ranks | threads/rank | per epoch | compute | all-reduce |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
            *rows,
            "",
            "**Modelled**, for P nodes each as fast as one core here: t(N, P) = o + c·N/P + a(P) with "
            "a(P) = (P − 1)·a₂. gloo's all-reduce is a ring, a reduce-scatter and an all-gather of "
            "P − 1 steps each; a₂ is its two steps at P = 2, and a 24-byte message leaves no bandwidth "
            "term. A tree all-reduce (NCCL's for small messages) would cost log₂P·a₂.",
            "",
            f"An epoch spends longer in the all-reduce than in arithmetic when each node holds fewer "
            f"than n* = a(P)/c samples: {'; '.join(cross)}. Adding nodes helps only while N/P stays "
            "above n*; past that the epoch time grows again with P (left panel).",
            "",
            f"![time per epoch against nodes and N]({figure})",
            "",
            "Not in the model: a real network (loopback has no wire, so each ring step across machines "
            "adds a network round trip to a₂/2), stragglers, and memory bandwidth shared by ranks on one "
            "machine. The measured P = 2 points are two ranks on this machine, not two nodes.",
        ]
    )


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
