"""The report's figures, drawn from a loaded Run only (matplotlib Agg, each PNG written atomically)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from benchmarks.core.files import atomic_write_bytes
from benchmarks.core.results import Fit, Run

MARKERS = "osD^vP*Xh<>p"
MODE_TITLE = {"nohist": "no history", "history": "with per-epoch history"}


def styles(backends: list[str]) -> dict[str, dict[str, Any]]:
    """One colour and marker per backend, the same in every figure."""
    # tab10, then the darker half of tab20b: up to 20 backends without a repeated colour.
    colours = [*plt.get_cmap("tab10")(np.arange(10)), *plt.get_cmap("tab20b")(np.arange(0, 20, 2))]
    return {
        b: {"color": colours[i % len(colours)], "marker": MARKERS[i % len(MARKERS)]}
        for i, b in enumerate(backends)
    }


def _save(fig: Figure, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _modes(run: Run, device: str) -> list[str]:
    return [m for m in ("nohist", "history") if run.select(device=device, mode=m)]


def _grid(run: Run, device: str) -> tuple[Figure, np.ndarray, list[str], list[str]]:
    modes, dtypes = _modes(run, device), run.values("dtype")
    fig, axes = plt.subplots(
        len(modes), len(dtypes), figsize=(5.4 * len(dtypes), 4.2 * len(modes)), squeeze=False, sharex=True
    )
    return fig, axes, modes, dtypes


def _legend(fig: Figure, axes: np.ndarray) -> None:
    handles, labels = {}, []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    fig.legend(
        [handles[lab] for lab in labels], labels, loc="center left", bbox_to_anchor=(0.91, 0.5), frameon=False
    )


def _log_axes(ax: Axes, run: Run, title: str, ylabel: str, bottom: bool) -> None:
    ax.set(xscale="log", yscale="log", title=title, ylabel=ylabel)
    sizes = run.values("n")
    if len(sizes) == 1:  # one size: give the single column of points some room
        ax.set_xlim(sizes[0] / 3, sizes[0] * 3)
    ax.grid(True, which="major", alpha=0.3)
    if bottom:
        ax.set_xlabel("N (data points)")


UNRESOLVED = "tₑ unresolved (interval reaches 0): at most, its upper end"


def _unresolved(ax: Axes, n: list[int], high: list[float]) -> None:
    """Points whose tₑ the rounds could not tell from 0, as hollow ▽ at their interval's upper end."""
    if n:
        ax.plot(n, high, linestyle="none", marker="v", markersize=7, markerfacecolor="none",
                markeredgecolor="0.35", label=UNRESOLVED)  # fmt: skip


def _finish(
    fig: Figure, axes: np.ndarray, run: Run, device: str, ylabel: str, title: str, path: Path
) -> Path:
    """Axes and titles of every (mode, dtype) panel, the shared legend; saved."""
    modes, dtypes = _modes(run, device), run.values("dtype")
    for i, mode in enumerate(modes):
        for j, dtype in enumerate(dtypes):
            panel = f"{device}, {dtype}, {MODE_TITLE.get(mode, mode)}"
            _log_axes(axes[i, j], run, panel, ylabel, i == len(modes) - 1)
    fig.suptitle(title)
    _legend(fig, axes)
    return _save(fig, path)


def _panels(run: Run, device: str) -> tuple[Figure, list[tuple[Axes, str, str]], np.ndarray]:
    """The figure, each panel as (axes, dtype, mode), and the grid of axes."""
    fig, axes, modes, dtypes = _grid(run, device)
    return fig, [(axes[i, j], d, m) for i, m in enumerate(modes) for j, d in enumerate(dtypes)], axes


def _series(run: Run, device: str, dtype: str, mode: str) -> Iterator[tuple[str, list[Fit]]]:
    """(backend, its fits by N) for every backend measured in this panel."""
    for b in run.backends():
        fits = sorted(run.select(backend=b, device=device, dtype=dtype, mode=mode), key=lambda f: f.n)
        if fits:
            yield b, fits


def per_epoch_vs_n(run: Run, device: str, path: Path) -> Path:
    """Time per epoch against N, log-log, one line per backend, the memory floor dashed in black."""
    style = styles(run.backends())
    fig, panels, axes = _panels(run, device)
    for ax, dtype, mode in panels:
        for b, fits in _series(run, device, dtype, mode):
            ok = [f for f in fits if f.resolved]
            n = [f.n for f in ok]
            t = np.array([f.per_epoch for f in ok])
            lo = np.array([f.te.low for f in ok])  # tₑ's 95 % bootstrap interval
            hi = np.array([f.te.high for f in ok])
            algorithmic = fits[0].kind == "algorithmic"
            ax.errorbar(
                n,
                t,
                yerr=np.clip([t - lo, hi - t], 0, None) if ok else None,
                label=b + (" (algorithmic)" if algorithmic else ""),
                linestyle=":" if algorithmic else "-",
                capsize=2,
                markersize=5,
                linewidth=1.4,
                **style[b],
            )
            gone = [f for f in fits if not f.resolved]
            _unresolved(ax, [f.n for f in gone], [f.te.high for f in gone])
        floors = sorted((f for f in run.floors if f.device == device and f.dtype == dtype), key=lambda f: f.n)
        if floors:
            ax.plot(
                [f.n for f in floors],
                [f.seconds for f in floors],
                "k--",
                linewidth=2.4,
                alpha=0.8,
                label="memory floor: one read of x and y (fastest round)",
            )
    title = f"Marginal time per epoch (te) against N on {device}; lower is better; bars: 95 % intervals"
    return _finish(fig, axes, run, device, "seconds per epoch (te, marginal)", title, path)


def ratio_to_floor(run: Run, device: str, path: Path) -> Path:
    """Time per epoch divided by the memory floor, against N: 1 is a single read of the data."""
    style = styles(run.backends())
    fig, panels, axes = _panels(run, device)
    for ax, dtype, mode in panels:
        for b, fits in _series(run, device, dtype, mode):
            pts = [(f, fl.seconds) for f in fits if (fl := run.floor(device, dtype, f.n)) is not None]
            if not pts:
                continue
            ok = [(f.n, f.per_epoch / s) for f, s in pts if f.resolved]
            algorithmic = pts[0][0].kind == "algorithmic"
            ax.plot(
                [p[0] for p in ok],
                [p[1] for p in ok],
                markersize=5,
                label=b + (" (algorithmic)" if algorithmic else ""),
                linestyle=":" if algorithmic else "-",
                **style[b],
            )
            gone = [(f.n, f.te.high / s) for f, s in pts if not f.resolved]
            _unresolved(ax, [g[0] for g in gone], [g[1] for g in gone])
        ax.axhline(1.0, color="k", linestyle="--", linewidth=2, label="memory floor (ratio 1)")
    title = f"Distance from the memory floor on {device}: dispatch-bound where high, bandwidth-bound near 1"
    return _finish(fig, axes, run, device, "te / one read of x, y", title, path)


def growth(run: Run, device: str, path: Path) -> Path:
    """Time per epoch against the epoch index for the traced backends (the tutorial's pattern)."""
    style = styles(run.backends() + [t.backend for t in run.traces])
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    traces = [t for t in run.traces if t.device == device]
    for t in traces:
        ms = np.array(t.epoch_s) * 1e3
        k = max(1, len(ms) // 25)  # rolling median over ~4% of the epochs smooths scheduler noise
        smooth = np.array([np.median(ms[max(0, i - k) : i + k + 1]) for i in range(len(ms))])
        colour = style[t.backend]["color"]
        ax.plot(ms, color=colour, alpha=0.25, linewidth=0.8)
        ax.plot(smooth, color=colour, linewidth=2.2, label=f"{t.backend} (rolling median; raw faint)")
    n = traces[0].n if traces else 0
    ax.set(
        xlabel="epoch index",
        ylabel="milliseconds per epoch",
        title=f"The tutorial's pattern on {device}: time per epoch against the epoch index\n"
        f"(N={n}, float64, history; the update rebinds w, so backward() walks a longer graph every epoch)",
    )
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    return _save(fig, path)
