"""A FigureSpec drawn by matplotlib into a PNG (REPORT.md's figures), written atomically.

Figures are built with matplotlib's object API and rendered by Agg, never through pyplot: no
display is needed and no global figure state is left behind.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from benchmarks.core.files import atomic_write_bytes
from benchmarks.report.figures import UNRESOLVED, FigureSpec, Panel, Series

MARKER = {
    "circle": "o", "square": "s", "diamond": "D", "triangle-up": "^", "triangle-down": "v", "cross": "P",
    "star": "*", "x": "X", "hexagon": "h", "triangle-left": "<", "triangle-right": ">", "pentagon": "p",
}  # fmt: skip
DASH = {"solid": "-", "dot": ":", "dash": "--"}


def draw(spec: FigureSpec, path: Path) -> Path:
    """Draw every panel of ``spec`` in a grid, one legend for all, and save it as ``path``."""
    cols, rows = spec.columns, -(-len(spec.panels) // spec.columns)
    alone = len(spec.panels) == 1  # its legend fits inside; a grid's goes to the right of it
    size = (8.5, 4.8) if alone else (5.4 * cols + 4.2, 4.2 * rows + 0.8)
    fig = Figure(figsize=size, dpi=110, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for i, panel in enumerate(spec.panels):
        _panel(axes[i // cols][i % cols], panel, bottom=i // cols == rows - 1)
    for ax in axes.flat[len(spec.panels) :]:
        ax.set_visible(False)
    fig.suptitle(f"{spec.title}\n({spec.caption})")
    if alone:
        axes[0][0].legend(frameon=False, loc="upper left")
    else:  # one legend for the grid, in the spec's order: backends, the floor, then the markers' key
        handles: dict[str, Artist] = {}
        for ax in fig.axes:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(lab, h)
        order = [s.label for p in spec.panels for s in p.series]
        shown = sorted(handles, key=lambda lab: order.index(lab) if lab in order else len(order))
        fig.legend([handles[lab] for lab in shown], shown, loc="outside right center", frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
    return path


def _panel(ax: Axes, panel: Panel, bottom: bool) -> None:
    for s in panel.series:
        _series(ax, s)
    if any(s.unresolved_points() for s in panel.series):  # one legend entry for every backend's ▽
        ax.plot([], [], linestyle="none", marker="v", markerfacecolor="none", markeredgecolor="0.35",
                label=UNRESOLVED)  # fmt: skip
    ax.set(title=panel.title, ylabel=panel.ylabel)
    if panel.log:
        ax.set(xscale="log", yscale="log")
        xs = sorted({x for s in panel.series for x in s.x})
        if len(xs) == 1:  # one size: give the single column of points some room
            ax.set_xlim(xs[0] / 3, xs[0] * 3)
    else:
        ax.set_ylim(bottom=0)
    ax.grid(True, which="major", alpha=0.3)
    if bottom:
        ax.set_xlabel(panel.xlabel)


def _series(ax: Axes, s: Series) -> None:
    """The resolved points as a line with interval bars; the unresolved as hollow ▽ at their upper end."""
    ok = s.resolved_points()
    x, y = [s.x[i] for i in ok], [s.y[i] for i in ok]
    style: dict[str, Any] = {"color": s.colour, "linestyle": DASH[s.dash], "linewidth": s.width}
    if s.marker:
        style.update(marker=MARKER[s.marker], markersize=5)
    if ok and s.faint:
        ax.plot(x, y, alpha=0.25, **style)
    elif ok and s.low:
        below = [max(y[j] - s.low[i], 0) for j, i in enumerate(ok)]
        above = [max(s.high[i] - y[j], 0) for j, i in enumerate(ok)]
        ax.errorbar(x, y, yerr=[below, above], capsize=2, label=s.label, **style)
    elif ok:
        ax.plot(x, y, label=s.label, **style)
    gone = s.unresolved_points()
    if gone:
        ax.plot([s.x[i] for i in gone], [s.y[i] for i in gone], linestyle="none", marker="v", markersize=7,
                markerfacecolor="none", markeredgecolor=s.colour,
                label=s.label if not ok else "_nolegend_")  # the legend entry when no point is resolved
