"""The report's figures, drawn from a loaded Run only (matplotlib Agg, each PNG written atomically)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..common import atomic_write_bytes
from .data import Run

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


def _grid(run: Run, device: str) -> tuple[Figure, np.ndarray, list[str], list[str]]:
    modes = [m for m in ("nohist", "history") if run.select(device=device, mode=m)]
    dtypes = run.values("dtype")
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


def per_epoch_vs_n(run: Run, device: str, path: Path) -> Path:
    """Time per epoch against N, log-log, one line per backend, the memory floor dashed in black."""
    style = styles(run.backends())
    fig, axes, modes, dtypes = _grid(run, device)
    for (i, mode), (j, dtype) in ((im, jd) for im in enumerate(modes) for jd in enumerate(dtypes)):
        ax: Axes = axes[i, j]
        for b in run.backends():
            fits = sorted(run.select(backend=b, device=device, dtype=dtype, mode=mode), key=lambda f: f.n)
            if not fits:
                continue
            n = [f.n for f in fits]
            t = np.array([f.per_epoch for f in fits])
            # te's 95 % bootstrap interval; schema-1 files have none, so their IQR over rounds stands in
            lo = [f.te.low if f.te else f.q1 for f in fits]
            hi = [f.te.high if f.te else f.q3 for f in fits]
            err = [t - lo, hi - t]
            algorithmic = fits[0].kind == "algorithmic"
            ax.errorbar(
                n,
                t,
                yerr=np.clip(err, 0, None),
                label=b + (" (algorithmic)" if algorithmic else ""),
                linestyle=":" if algorithmic else "-",
                capsize=2,
                markersize=5,
                linewidth=1.4,
                **style[b],
            )
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
        _log_axes(
            ax,
            run,
            f"{device}, {dtype}, {MODE_TITLE.get(mode, mode)}",
            "seconds per epoch (te, marginal)",
            i == len(modes) - 1,
        )
    fig.suptitle(
        f"Marginal time per epoch (te) against N on {device}; lower is better; bars: 95 % intervals"
    )
    _legend(fig, axes)
    return _save(fig, path)


def ratio_to_floor(run: Run, device: str, path: Path) -> Path:
    """Time per epoch divided by the memory floor, against N: 1 is a single read of the data."""
    style = styles(run.backends())
    fig, axes, modes, dtypes = _grid(run, device)
    for (i, mode), (j, dtype) in ((im, jd) for im in enumerate(modes) for jd in enumerate(dtypes)):
        ax: Axes = axes[i, j]
        for b in run.backends():
            pts = [
                (f.n, f.per_epoch / fl.seconds, f.kind)
                for f in sorted(
                    run.select(backend=b, device=device, dtype=dtype, mode=mode), key=lambda f: f.n
                )
                if (fl := run.floor(device, dtype, f.n)) is not None
            ]
            if pts:
                algorithmic = pts[0][2] == "algorithmic"
                ax.plot(
                    [p[0] for p in pts],
                    [p[1] for p in pts],
                    markersize=5,
                    label=b + (" (algorithmic)" if algorithmic else ""),
                    linestyle=":" if algorithmic else "-",
                    **style[b],
                )
        ax.axhline(1.0, color="k", linestyle="--", linewidth=2, label="memory floor (ratio 1)")
        _log_axes(
            ax,
            run,
            f"{device}, {dtype}, {MODE_TITLE.get(mode, mode)}",
            "te / one read of x, y",
            i == len(modes) - 1,
        )
    fig.suptitle(
        f"Distance from the memory floor on {device}: dispatch-bound where high, bandwidth-bound near 1"
    )
    _legend(fig, axes)
    return _save(fig, path)


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
