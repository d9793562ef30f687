"""The interactive figures of report.html, as Plotly figures built from a loaded Run only.

One figure per (device, dtype, mode): a reader picks which with the page's selectors, reads values
off a line by hovering, and hides a backend by clicking its legend entry (Plotly's own legend).
"""

from __future__ import annotations

import plotly.graph_objects as go

from benchmarks.core.fmt import fmt_n, fmt_t, fmt_t_ci
from benchmarks.core.ranking import MODE_TEXT, floor_ratio
from benchmarks.core.results import Fit, Run

# Plotly's default qualitative palette, then a second one: one colour per backend in every figure.
COLOURS = [
    "#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880",
    "#ff97ff", "#fecb52", "#1f77b4", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#9467bd",
]  # fmt: skip
FLOOR = "memory floor: one read of x and y"


def colours(run: Run) -> dict[str, str]:
    """One colour per backend, the same in every figure of the page."""
    names = run.backends() + [t.backend for t in run.traces if t.backend not in run.backends()]
    return {b: COLOURS[i % len(COLOURS)] for i, b in enumerate(names)}


def _layout(
    fig: go.Figure, title: str, ylabel: str, xlabel: str = "N (data points)", log_x: bool = True
) -> None:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        height=470,
        margin={"l": 70, "r": 20, "t": 60, "b": 55},
        legend={"title": {"text": "click to hide or show"}, "font": {"size": 11}},
        hovermode="closest",
        template="plotly_white",
    )
    fig.update_xaxes(title=xlabel, type="log" if log_x else "linear")
    fig.update_yaxes(title=ylabel, type="log")


def _label(f: Fit) -> str:
    return f.backend + (" (algorithmic)" if f.kind == "algorithmic" else "")


def _hover(run: Run, f: Fit) -> str:
    fl = floor_ratio(run, f)
    return "<br>".join(
        [
            f"<b>{_label(f)}</b> · N = {fmt_n(f.n)}",
            f"tₑ = {fmt_t_ci(f.te)}"
            + (" — unresolved: drawn at its upper end" if _unresolved(f) else ""),
            f"t₀ = {fmt_t_ci(f.t0)}",
            f"× floor = {fl.value:.3g} ({fl.low:.3g}–{fl.high:.3g})" if fl else "× floor: not measured",
            f"first result {fmt_t(f.startup)}",
        ]
    )


def _unresolved(f: Fit) -> bool:
    """A tₑ whose interval reaches 0: drawn at its upper end as a hollow ▽, with no bar."""
    return not f.resolved


def _symbols(fits: list[Fit]) -> list[str]:
    return ["triangle-down-open" if _unresolved(f) else "circle" for f in fits]


def per_epoch(run: Run, device: str, dtype: str, mode: str) -> go.Figure:
    """tₑ against N, log-log, one line per backend with its 95 % interval, and the memory floor."""
    fig, style = go.Figure(), colours(run)
    for b in run.backends():
        fits = sorted(run.select(backend=b, device=device, dtype=dtype, mode=mode), key=lambda f: f.n)
        if not fits:
            continue
        y = [f.te.high if _unresolved(f) else f.per_epoch for f in fits]
        lo = [0.0 if _unresolved(f) else f.per_epoch - f.te.low for f in fits]
        hi = [0.0 if _unresolved(f) else f.te.high - f.per_epoch for f in fits]
        fig.add_trace(
            go.Scatter(
                x=[f.n for f in fits],
                y=y,
                name=_label(fits[0]),
                mode="lines+markers",
                marker={"symbol": _symbols(fits), "size": 8},
                line={"color": style[b], "dash": "dot" if fits[0].kind == "algorithmic" else "solid"},
                error_y={
                    "type": "data",
                    "array": [max(v, 0) for v in hi],
                    "arrayminus": [max(v, 0) for v in lo],
                },
                hovertext=[_hover(run, f) for f in fits],
                hoverinfo="text",
            )
        )
    floors = sorted((f for f in run.floors if (f.device, f.dtype) == (device, dtype)), key=lambda f: f.n)
    if floors:
        fig.add_trace(
            go.Scatter(
                x=[f.n for f in floors],
                y=[f.seconds for f in floors],
                name=FLOOR,
                mode="lines+markers",
                line={"color": "black", "dash": "dash", "width": 3},
                hovertext=[f"<b>{FLOOR}</b><br>N = {fmt_n(f.n)}: {fmt_t(f.seconds)}" for f in floors],
                hoverinfo="text",
            )
        )
    _layout(
        fig, f"tₑ, the marginal time per epoch ({device}, {dtype}, {MODE_TEXT[mode]})", "seconds per epoch"
    )
    return fig


def to_floor(run: Run, device: str, dtype: str, mode: str) -> go.Figure:
    """tₑ ÷ one read of x and y against N: 1 is the memory floor."""
    fig, style = go.Figure(), colours(run)
    for b in run.backends():
        pts = [
            (f, q)
            for f in sorted(run.select(backend=b, device=device, dtype=dtype, mode=mode), key=lambda f: f.n)
            if (q := floor_ratio(run, f)) is not None
        ]
        if not pts:
            continue
        fig.add_trace(
            go.Scatter(
                x=[f.n for f, _ in pts],
                y=[q.high if _unresolved(f) else q.value for f, q in pts],
                name=_label(pts[0][0]),
                mode="lines+markers",
                marker={"symbol": _symbols([f for f, _ in pts]), "size": 8},
                line={"color": style[b], "dash": "dot" if pts[0][0].kind == "algorithmic" else "solid"},
                error_y={
                    "type": "data",
                    "array": [0 if _unresolved(f) else max(q.high - q.value, 0) for f, q in pts],
                    "arrayminus": [0 if _unresolved(f) else max(q.value - q.low, 0) for f, q in pts],
                },
                hovertext=[_hover(run, f) for f, _ in pts],
                hoverinfo="text",
            )
        )
    if fig.data:
        fig.add_hline(
            y=1.0,
            line={"color": "black", "dash": "dash"},
            annotation_text="memory floor",
            annotation_position="bottom left",
        )
    _layout(
        fig, f"Distance from the memory floor ({device}, {dtype}, {MODE_TEXT[mode]})", "tₑ ÷ one read of x, y"
    )
    return fig


def growth(run: Run, device: str) -> go.Figure:
    """Seconds of each epoch against its index for the traced backends (the tutorial's pattern)."""
    fig, style = go.Figure(), colours(run)
    for t in (t for t in run.traces if t.device == device):
        fig.add_trace(
            go.Scatter(
                y=[s * 1e3 for s in t.epoch_s],
                name=t.backend,
                mode="lines",
                line={"color": style[t.backend], "width": 1.5},
                hovertemplate=f"<b>{t.backend}</b><br>epoch %{{x}}: %{{y:.3g}} ms<extra></extra>",
            )
        )
    n = next((t.n for t in run.traces if t.device == device), 0)
    title = f"Time per epoch against the epoch index ({device}, N = {fmt_n(n)}, history)"
    _layout(fig, title, "ms per epoch",
            xlabel="epoch index", log_x=False)  # fmt: skip
    fig.update_yaxes(type="linear", rangemode="tozero")
    return fig
