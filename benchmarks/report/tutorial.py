"""The tutorial's figures, every backend overlaid, drawn from a saved run.json alone.

``gdbench figures results/run/run.json`` redraws them without training again.
Figures are built with matplotlib's object API and rendered by Agg, never through pyplot:
no display is needed and no global figure state is left behind.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from benchmarks.core.files import atomic_write_bytes

# Backends that agree draw the same curve; distinct dashes, markers at staggered epochs and
# shrinking widths keep every one of them visible on top of the others.
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 3))]
MARKERS = ["o", "s", "^", "v", "D", "P", "X", "*"]
MAX_WEIGHT_PANELS = 6
SPAN_FOR_LOG = 10.0  # use a log loss axis once the loss spans more than one decade
NOTE: dict[str, Any] = {
    "fontsize": "small",
    "color": "darkred",
    "bbox": {"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
}
CEILING = 1e200  # a diverging loss is drawn up to here, then said in words


def load_run(path: Path) -> dict[str, Any]:
    """Read a run.json written by ``gdbench run``."""
    with open(path, encoding="utf-8") as f:
        run: dict[str, Any] = json.load(f)
    return run


def write_figures(run: dict[str, Any], out: Path) -> list[Path]:
    """Draw every figure of ``run`` into ``out`` as PNG, each written atomically; return the paths."""
    makers: dict[str, Callable[[dict[str, Any]], Figure]] = {
        "data.png": data_figure,
        "loss.png": loss_figure,
        "loss_time.png": loss_time_figure,
        "params.png": params_figure,
    }
    paths = []
    for name, make in makers.items():
        fig = make(run)
        buf = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buf)
        atomic_write_bytes(out / name, buf.getvalue())
        paths.append(out / name)
    return paths


def data_figure(run: dict[str, Any]) -> Figure:
    """The data, the true line, and each backend's fitted line (d = 1) or predictions (d > 1)."""
    data = run["data"]
    x, y = _arr(data["x"]), _arr(data["y"])
    w_true, b_true = _arr(data["w"]), float(data["b"])
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.subplots()
    fitted = [r for r in run["results"] if r.get("w") is not None and r.get("stop_reason") != "diverged"]
    gone = [r["backend"] for r in run["results"] if r not in fitted]
    if gone:  # a caption below the axes, wrapped: any number of names leaves the plot its room
        what = f"all {len(gone)} backends" if not fitted and len(gone) > 1 else ", ".join(gone)
        fig.supxlabel(textwrap.fill(f"not drawn (diverged or failed): {what}", 100), **NOTE)
    if x.shape[1] == 1:
        ax.scatter(x[:, 0], y, s=12, color="black", label=f"data (n = {data['size']})", zorder=3)
        grid = np.linspace(0.0, 1.0, 2)
        ax.plot(
            grid,
            w_true[0] * grid + b_true,
            color="red",
            lw=6,
            alpha=0.3,
            label=f"true: y = {w_true[0]:g}·x + {b_true:g}",
        )
        for i, r in enumerate(fitted):
            ax.plot(
                grid,
                _arr(r["w"])[0] * grid + r["b"],
                **_style(i, len(fitted), 2, every=1),
                label=f"{r['backend']}: y = {_arr(r['w'])[0]:.4g}·x + {r['b']:.4g}",
            )
        ax.set_xlabel("x")
        ax.set_title(f"Data and fitted lines (noise ±{data['noise']:g})")
    else:
        signal = x @ w_true + b_true
        ax.scatter(signal, y, s=12, color="black", label=f"data (n = {data['size']})", zorder=3)
        lim = np.array([signal.min(), signal.max()])
        ax.plot(lim, lim, color="red", lw=6, alpha=0.3, label="true: y = x·w + b")
        for i, r in enumerate(fitted):
            ax.scatter(
                signal,
                x @ _arr(r["w"]) + r["b"],
                s=30,
                marker=MARKERS[i % len(MARKERS)],
                facecolors="none",
                edgecolors=f"C{i}",
                label=f"{r['backend']}: its prediction ŷ",
            )
        ax.set_xlabel("true signal x·w + b")
        ax.set_title(f"Data and predictions, {x.shape[1]} features (noise ±{data['noise']:g})")
    ax.set_ylabel("y")
    _legend(ax, run, drawn=len(fitted))
    return fig


def loss_figure(run: dict[str, Any]) -> Figure:
    """The loss over epochs for every backend, log-scaled when it spans decades."""
    train, opt = run["train"], run["optimum"]["loss"]
    fig = Figure(figsize=(10, 6), layout="constrained")
    ax = fig.subplots()
    results = [r for r in run["results"] if r.get("history")]
    losses = [_arr(r["history"]["loss"]) for r in results]
    seen = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in losses] + [np.empty(0)])
    for i, r in enumerate(results):
        # Cut at CEILING: log autoscaling overflows float64 as a diverging loss nears 1e308.
        ax.plot(
            _epochs(r),
            np.where(losses[i] < CEILING, losses[i], np.nan),
            label=_label(r),
            **_style(i, len(results), 2.5, every=len(losses[i])),
        )
    if train["tol"] > 0:
        ax.axhline(train["tol"], color="gray", ls="--", lw=1, label=f"tol = {train['tol']:g} (stop below)")
    if opt > 0:  # a zero-noise fit has minimum 0, which a log axis cannot show
        ax.axhline(opt, color="green", ls=":", lw=1.5, label=f"least-squares minimum = {opt:.3g}")
    if seen.size and seen.max() > SPAN_FOR_LOG * min(seen.min(), opt or np.inf):
        ax.set_yscale("log")
    if seen.size and seen.max() >= CEILING:
        ax.text(
            0.98,
            0.12,
            f"diverged: curves end at {CEILING:.0e}; the loss reached {seen.max():.1e}",
            transform=ax.transAxes,
            ha="right",
            **NOTE,
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error (log scale)" if ax.get_yscale() == "log" else "mean squared error")
    ax.set_title(f"Loss over epochs (lr = {train['lr']:g}, {train['dtype']}, n = {run['data']['size']})")
    _legend(ax, run)
    return fig


def loss_time_figure(run: dict[str, Any]) -> Figure:
    """The loss against seconds since each backend's loop started (log loss axis): who reaches tol first."""
    train, opt = run["train"], run["optimum"]["loss"]
    fig = Figure(figsize=(10, 6), layout="constrained")
    ax = fig.subplots()
    results = [r for r in run["results"] if r.get("history") and r["history"]["loss"]]
    spread = []
    for i, r in enumerate(results):
        loss = _arr(r["history"]["loss"])
        seconds = _seconds(r)
        if r["history"].get("seconds") is None:
            spread.append(r["backend"])  # one compiled call: no per-epoch clock, its loop time spread evenly
        ax.plot(
            seconds,
            np.where((loss < CEILING) & (loss > 0), loss, np.nan),
            label=_label(r) + (f", {r['seconds']:.3g} s" if r.get("seconds") is not None else ""),
            **_style(i, len(results), 2.5, every=len(loss)),
        )
    if train["tol"] > 0:
        ax.axhline(train["tol"], color="gray", ls="--", lw=1, label=f"tol = {train['tol']:g} (stop below)")
    if opt > 0:
        ax.axhline(opt, color="green", ls=":", lw=1.5, label=f"least-squares minimum = {opt:.3g}")
    ax.set_yscale("log")
    if spread:
        ax.text(
            0.98,
            0.98,
            f"{', '.join(spread)}: one compiled call, no per-epoch clock; its loop time spread evenly",
            transform=ax.transAxes,
            ha="right",
            va="top",
            **NOTE,
        )
    ax.set_xscale("log")
    ax.set_xlabel("seconds since the backend's training loop started (log scale; compilation before it)")
    ax.set_ylabel("mean squared error (log scale)")
    ax.set_title(f"Loss against time (lr = {train['lr']:g}, {train['dtype']}, n = {run['data']['size']})")
    ax.legend(fontsize="small", title="the leftmost curve reaches tol first", title_fontsize="small")
    return fig


def params_figure(run: dict[str, Any]) -> Figure:
    """w and b over epochs, one panel each (one per weight when d > 1), true values as lines."""
    d = int(run["data"]["features"])
    shown = min(d, MAX_WEIGHT_PANELS)
    names = ["w" if d == 1 else f"w[{j}]" for j in range(shown)] + ["b"]
    trues = [*_arr(run["data"]["w"])[:shown], float(run["data"]["b"])]
    opts = [*_arr(run["optimum"]["w"])[:shown], float(run["optimum"]["b"])]
    cols = min(len(names), 3)
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(7 * cols, 4.5 * rows + 0.3 * len(run["results"]) / 3 + 0.6), layout="constrained")
    axes: Sequence[Axes] = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel().tolist()
    results = [r for r in run["results"] if r.get("history")]
    for k, (ax, name, true, opt) in enumerate(zip(axes, names, trues, opts, strict=False)):
        values = [
            (_arr(r["history"]["b"]) if name == "b" else _arr(r["history"]["w"]).reshape(-1, d)[:, k])
            for r in results
        ]
        for i, r in enumerate(results):
            style = _style(i, len(results), 2.5, every=len(values[i]))
            ax.plot(_epochs(r), values[i], label=_label(r), **style)
        ax.axhline(true, color="red", lw=1.5, label=f"true {name} = {true:g}")
        ax.axhline(opt, color="green", ls=":", lw=1.5, label=f"least-squares {name} = {opt:.4f}")
        _symlog(ax, values, name, true)
        ax.set_title(f'"{name}" over epochs')
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{name} after the epoch's update")
        ax.legend(handles=ax.get_lines()[len(results) :], fontsize="small")  # this panel's reference lines
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    if results:  # the backends once, for every panel
        fig.legend(
            handles=axes[0].get_lines()[: len(results)],
            loc="outside lower center",
            ncols=min(len(results), 3),
            fontsize="small",
            title="agreeing backends overlap" if len(results) > 1 else None,
            title_fontsize="small",
        )
    if d > shown:
        fig.suptitle(f"first {shown} of {d} weights shown")
    return fig


def _style(i: int, n: int, width: float, every: int) -> dict[str, Any]:
    """Line style of the i-th of n backends: distinct dash and marker, markers at staggered epochs."""
    step = max(1, every // 8)
    return {
        "color": f"C{i}",
        "ls": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
        "lw": max(1.0, width - 0.4 * i),
        "ms": 6,
        "markevery": (i * step // max(n, 1), step),
    }


def _label(r: dict[str, Any]) -> str:
    return f"{r['backend']} ({r['stop_reason']} after {r['epochs']} epochs)"


def _legend(ax: Axes, run: dict[str, Any], drawn: int | None = None) -> None:
    """Legend, titled so a reader expects agreeing backends' curves to lie on top of each other."""
    many = (len(run["results"]) if drawn is None else drawn) > 1
    ax.legend(fontsize="small", title="agreeing backends overlap" if many else None, title_fontsize="small")


def _symlog(ax: Axes, values: list[np.ndarray], name: str, true: float) -> None:
    """A diverging run reaches 1e150 and beyond: a symmetric log axis shows its whole course."""
    finite = np.concatenate([np.abs(v[np.isfinite(v)]) for v in values] + [np.empty(0)])
    linear = max(1.0, abs(true))
    if not finite.size or finite.max() <= 1e3 * linear:
        return
    ax.set_yscale("symlog", linthresh=linear)
    top = int(np.ceil(np.log10(finite.max())))
    step = max(1, -(-top // 3))  # about three labelled decades a side, so labels never collide
    ups = [10.0 ** (step * j) for j in range(1, top // step + 1)]
    ax.set_yticks([-u for u in reversed(ups)] + [0.0] + ups)
    ax.text(
        0.5,
        0.02,
        f"diverged: symmetric log axis, linear within ±{linear:g}; largest |{name}| = {finite.max():.1e}",
        transform=ax.transAxes,
        ha="center",
        **NOTE,
    )


def _epochs(r: dict[str, Any]) -> np.ndarray:
    return np.arange(len(r["history"]["loss"])) * int(r["history"]["stride"])


def _seconds(r: dict[str, Any]) -> np.ndarray:
    """Seconds since the loop started at each recorded epoch; without a per-epoch clock, spread evenly."""
    if r["history"].get("seconds") is not None:
        return _arr(r["history"]["seconds"])
    n = len(r["history"]["loss"])
    per_epoch = float(r["seconds"] or np.nan) / max(1, r["epochs"])
    return (np.arange(n) * int(r["history"]["stride"]) + 1) * per_epoch


def _arr(v: Any) -> np.ndarray:
    """JSON numbers to a float array; null (a non-finite value in the run) becomes NaN."""
    return np.array(v, dtype=np.float64)
