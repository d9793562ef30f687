"""A FigureSpec drawn by Plotly for report.html: each panel one interactive figure, as JSON.

The page (html.py) hands each to ``Plotly.newPlot`` from the inlined basic bundle, which holds
the ``scatter`` trace type only among those used here: keep it so (tests/report/ open the page).
"""

from __future__ import annotations

import html
import json

import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from benchmarks.report.figures import UNRESOLVED, FigureSpec, Panel, Series

CONFIG = {"displaylogo": False, "responsive": True}
GRID = {"gridcolor": "#e6e6e6", "zeroline": False, "linecolor": "#444", "showline": True, "ticks": "outside"}


def figure(spec: FigureSpec, panel: Panel) -> str:
    """One panel of ``spec`` as a Plotly figure's JSON: its data and layout."""
    fig = go.Figure()
    for s in panel.series:
        _series(fig, s)
    fig.update_layout(
        template="none",  # a few settings below instead of a template's kilobytes in every figure
        title={"text": f"{spec.title} ({panel.title})", "font": {"size": 15}},
        height=470,
        margin={"l": 70, "r": 20, "t": 60, "b": 55},
        legend={"title": {"text": "click to hide or show"}, "font": {"size": 11}, "tracegroupgap": 0},
        hovermode="closest",
        plot_bgcolor="white",
        font={"family": "system-ui, sans-serif"},
    )
    if panel.log:  # a tick per decade, as 10ⁿ
        fig.update_xaxes(type="log", dtick=1, exponentformat="power")
        fig.update_yaxes(type="log", dtick=1, exponentformat="power")
    else:
        fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(title=panel.xlabel, **GRID)
    fig.update_yaxes(title=panel.ylabel, **GRID)
    # UTF-8 as is (tₑ, ×, µ are 3 bytes, not a 6-character escape each): the page is most of its weight
    return json.dumps(fig.to_plotly_json(), cls=PlotlyJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def _r(v: float) -> float | int:
    """A coordinate to 4 significant digits, finer than a pixel; whole numbers without a ".0"."""
    r = float(f"{v:.4g}")
    return int(r) if r.is_integer() and abs(r) < 2**53 else r


def _hover(text: str) -> str:
    first, *rest = html.escape(text).split("\n")
    return "<br>".join([f"<b>{first}</b>", *rest])


def _series(fig: go.Figure, s: Series) -> None:
    """The resolved points as a line with interval bars; the unresolved as hollow ▽, same legend entry."""
    ok = s.resolved_points()
    bars = None
    if s.low:
        bars = {
            "type": "data",
            "array": [_r(max(s.high[i] - s.y[i], 0)) for i in ok],
            "arrayminus": [_r(max(s.y[i] - s.low[i], 0)) for i in ok],
            "color": s.colour,
        }
    if ok:
        fig.add_trace(
            go.Scatter(
                x=[_r(s.x[i]) for i in ok],
                y=[_r(s.y[i]) for i in ok],
                name=s.label,
                legendgroup=s.label,
                showlegend=not s.faint,
                opacity=0.3 if s.faint else 1.0,
                mode="lines+markers" if s.marker else "lines",
                marker={"symbol": s.marker or "circle", "size": 7, "color": s.colour},
                line={"color": s.colour, "dash": s.dash, "width": s.width},
                error_y=bars,
                hovertext=[_hover(s.hover[i]) for i in ok] if s.hover else None,
                hoverinfo="text" if s.hover else "x+y+name",
            )
        )
    gone = s.unresolved_points()
    if gone:
        fig.add_trace(
            go.Scatter(
                x=[_r(s.x[i]) for i in gone],
                y=[_r(s.y[i]) for i in gone],
                name=f"{s.label}: {UNRESOLVED}" if ok else s.label,
                legendgroup=s.label,
                showlegend=not ok,  # the backend's legend entry when no point of it is resolved
                mode="markers",
                marker={"symbol": "triangle-down-open", "size": 10, "color": s.colour},
                hovertext=[_hover(s.hover[i]) for i in gone] if s.hover else None,
                hoverinfo="text",
            )
        )
