"""Each figure defined once (report/figures.py) and drawn from that definition by matplotlib and Plotly."""

from __future__ import annotations

import json

from matplotlib.figure import Figure

from benchmarks.core import stats
from benchmarks.core.ranking import fastest
from benchmarks.core.results import load
from benchmarks.report import figures, interactive, limit, png
from benchmarks.report.sections import plain
from tests.support.runs import FIXTURE
from tests.support.synthetic import COUNTS, fit, run_of

BASE = [1.00e-3, 1.02e-3, 1.01e-3]  # the same rounds at every epoch count: tₑ is 0 within noise


def _flat_and_sloped() -> tuple:
    flat = fit("a", {e: BASE[i:] + BASE[:i] for i, e in enumerate(COUNTS)}, n=100)
    sloped = fit("a", {e: [1e-3 + e * 1e-6] * 5 for e in COUNTS}, n=1000)
    assert not flat.resolved and sloped.resolved
    return flat, sloped


def test_an_unresolved_te_is_defined_once_as_a_point_at_its_upper_end():
    flat, sloped = _flat_and_sloped()
    series = figures.per_epoch(run_of(flat, sloped), "cpu").panels[0].series[0]
    assert series.x == (100.0, 1000.0) and series.y == (flat.te.high, sloped.per_epoch)
    assert series.unresolved == (True, False) and "unresolved" in series.hover[0]
    assert series.resolved_points() == [1] and series.unresolved_points() == [0]


def test_plotly_draws_it_as_a_hollow_triangle_without_a_bar_in_the_backends_legend_group():
    flat, sloped = _flat_and_sloped()
    spec = figures.per_epoch(run_of(flat, sloped), "cpu")
    line, gone = json.loads(interactive.figure(spec, spec.panels[0]))["data"]
    assert line["x"] == [1000] and line["marker"]["symbol"] == figures.styles(run_of(flat))["a"][1]
    assert gone["x"] == [100] and gone["y"] == [float(f"{flat.te.high:.4g}")] and "error_y" not in gone
    assert gone["marker"]["symbol"] == "triangle-down-open" and gone["legendgroup"] == line["legendgroup"]
    assert not gone["showlegend"] and "unresolved" in gone["hovertext"][0]
    assert {t["type"] for t in (line, gone)} == {"scatter"}  # the only trace type the basic bundle needs


def test_matplotlib_draws_it_as_a_hollow_triangle_off_the_line():
    flat, sloped = _flat_and_sloped()
    spec = figures.per_epoch(run_of(flat, sloped), "cpu")
    ax = Figure().subplots()
    png._panel(ax, spec.panels[0], bottom=True)
    hollow = [ln for ln in ax.lines if ln.get_marker() == "v" and ln.get_markerfacecolor() == "none"]
    assert [list(ln.get_xdata()) for ln in hollow if len(ln.get_xdata())] == [[100.0]]
    assert [list(ln.get_ydata()) for ln in hollow if len(ln.get_xdata())] == [[flat.te.high]]
    (line,) = ax.containers  # the error bars' line holds the resolved point only
    assert list(line.lines[0].get_xdata()) == [1000.0] and line.get_label() == "a"
    assert figures.UNRESOLVED in [t.get_text() for t in ax.legend().get_texts()]


def test_both_renderers_draw_the_same_series_in_the_same_colours():
    run = load([FIXTURE])
    for spec in figures.charts(run):
        for panel in spec.panels:
            traces = json.loads(interactive.figure(spec, panel))["data"]
            shown = {t["name"]: t["marker"]["color"] for t in traces if t.get("showlegend", True)}
            assert shown == {s.label: s.colour for s in panel.series if not s.faint}
            ax = Figure().subplots()
            png._panel(ax, panel, bottom=True)
            labels = {t.get_text() for t in ax.legend().get_texts()} - {figures.UNRESOLVED}
            assert labels == set(shown)


def test_every_view_has_its_panel_and_every_backend_its_colour_everywhere():
    run = load([FIXTURE])
    te, floor = figures.per_epoch(run, "cpu"), figures.to_floor(run, "cpu")
    views = {(d, m) for d in run.values("dtype") for m in run.values("mode")}
    for spec in (te, floor):
        assert {(p.labels["dtype"], p.labels["mode"]) for p in spec.panels} == views
        assert len({p.name for p in spec.panels}) == len(views) and spec.columns == len(run.values("dtype"))
    colour = {s.label: s.colour for spec in (te, floor) for p in spec.panels for s in p.series}
    lines = (figures.FLOOR, figures.FLOOR_RATIO, figures.FLOOR_CALL)
    assert {colour[line] for line in lines if line in colour} == {figures.BLACK} and figures.FLOOR in colour
    backends = [label for label in colour if label not in lines]
    assert len({colour[b] for b in backends}) == len(backends) == len(run.backends())


def test_the_growth_figure_draws_the_fastest_three_at_the_largest_n_with_intervals():
    run = load([FIXTURE])
    for panel in figures.to_floor(run, "cpu").panels:
        labels = panel.labels
        top = fastest(run, "cpu", labels["dtype"], max(run.values("n")), labels["mode"])[: figures.TOP]
        drawn = [s for s in panel.series if s.colour != figures.BLACK]
        assert [s.label for s in drawn] == [b for b in run.backends() if b in {f.backend for f in top}]
        assert all(s.low and s.high for s in drawn)  # the ratio's interval per point
        call = [s for s in panel.series if s.label == figures.FLOOR_CALL]
        assert call and call[0].dash == "dot" and call[0].x[0] == 100  # N = 10²: a call, not a read


def test_the_epoch_trace_draws_raw_epochs_faint_under_their_rolling_median():
    run = load([FIXTURE])
    (panel,) = figures.growth(run, "cpu").panels
    assert not panel.log and panel.labels == {"device": "cpu"}
    for t in (t for t in run.traces if t.device == "cpu"):
        raw, smooth = (s for s in panel.series if s.label.startswith(t.backend + " "))
        assert raw.faint and not smooth.faint and raw.colour == smooth.colour
        assert list(raw.y) == [s * 1e3 for s in t.epoch_s] and len(smooth.y) == len(raw.y)
        assert min(raw.y) <= min(smooth.y) and max(smooth.y) <= max(raw.y)


def test_a_ratio_to_the_floor_is_printed_as_its_upper_end_when_unresolved():
    assert (
        plain(limit.ratio_cell(stats.Interval(-0.19, -0.5, 0.97)).text) == "≤ 0.97"
    )  # never a negative cost
    assert plain(limit.ratio_cell(stats.Interval(0.02, 0.0, 0.9)).text) == "≤ 0.9"
    assert plain(limit.ratio_cell(stats.Interval(1.29, 0.822, 1.75)).text) == "1.29"
    assert (
        plain(limit.ratio_cell(stats.Interval(1.29, 0.822, 1.75), interval=True).text) == "1.29 (0.822–1.75)"
    )


def test_an_unresolved_algorithmic_te_is_reported_as_an_upper_end_not_a_negative_time():
    f = fit("numpy-moments", {e: BASE[i:] + BASE[:i] for i, e in enumerate(COUNTS)}, kind="algorithmic")
    assert not f.resolved
    said = plain(limit._algorithmic(run_of(f), "cpu", "float64", "numpy-moments"))
    assert f"unresolved at N = 10² (≤ {limit.fmt_t(f.te.high)})" in said
    assert "-" not in said.split("stays flat")[1]  # no negative time
