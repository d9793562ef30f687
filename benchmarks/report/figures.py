"""The report's figures, each defined once as data: panels of series built from a loaded Run.

``png.py`` draws a FigureSpec with matplotlib (the PNGs REPORT.md shows), ``interactive.py`` with
Plotly (report.html). What is drawn is decided here only: the values and their 95 % intervals,
which points are unresolved (``Fit.resolved``, the project's one rule: such a point is drawn as a
hollow ▽ at its interval's upper end, without a bar), colours, markers and the hover text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.core import floors
from benchmarks.core.fmt import fmt_ci, fmt_n, fmt_t, fmt_t_ci
from benchmarks.core.ranking import MODE_TEXT, fastest, floor_ratio
from benchmarks.core.results import Fit, Run
from benchmarks.core.stats import Interval

# tab10, then the darker half of tab20b: up to 20 backends without a repeated colour.
COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#393b79", "#6b6ecf", "#637939", "#b5cf6b", "#8c6d31", "#e7ba52", "#843c39", "#d6616b",
    "#7b4173", "#ce6dbd",
)  # fmt: skip
MARKERS = (
    "circle", "square", "diamond", "triangle-up", "triangle-down", "cross", "star", "x", "hexagon",
    "triangle-left", "triangle-right", "pentagon",
)  # fmt: skip
BLACK = "#000000"
FLOOR = "memory floor: the fastest read of x and y (best kernel, fastest round)"
FLOOR_RATIO = "memory floor (ratio 1): a read"
FLOOR_CALL = "floor is a call's overhead here: no limit"
TOP = 3  # backends in the growth figure: the fastest at the largest N of each panel
UNRESOLVED = "tₑ unresolved (interval reaches 0): at most, its upper end"


@dataclass(frozen=True)
class Series:
    """One line: points (x, y), how it looks, and per point its interval, resolution and hover text."""

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    colour: str
    marker: str = ""  # one of MARKERS, or none
    dash: str = "solid"  # "solid", "dot" or "dash"
    width: float = 1.4
    low: tuple[float, ...] = ()  # interval ends per point; () draws no bars
    high: tuple[float, ...] = ()
    unresolved: tuple[bool, ...] = ()  # per point: a hollow ▽ at y, its upper end, and no bar
    hover: tuple[str, ...] = ()  # per point, lines separated by "\n"
    faint: bool = False  # raw values under the smoothed series of the same label: thin, not in the legend

    def resolved_points(self) -> list[int]:
        """Indices of the points drawn on the line."""
        return [i for i in range(len(self.x)) if not (self.unresolved and self.unresolved[i])]

    def unresolved_points(self) -> list[int]:
        """Indices of the points drawn as hollow ▽."""
        return [i for i, u in enumerate(self.unresolved) if u]


@dataclass(frozen=True)
class Panel:
    """One set of axes; ``labels`` say which view of the page shows it (device, dtype, mode)."""

    name: str  # unique on the page, e.g. "te-cpu-float64-nohist"
    title: str
    labels: dict[str, str]
    series: tuple[Series, ...]
    xlabel: str
    ylabel: str
    log: bool = True  # both axes logarithmic; else linear with y from 0


@dataclass(frozen=True)
class FigureSpec:
    """A figure: its file name (no suffix), title, how to read it, its panels, ``columns`` per PNG row."""

    name: str
    title: str
    caption: str
    panels: tuple[Panel, ...]
    columns: int = 1


def styles(run: Run) -> dict[str, tuple[str, str]]:
    """(colour, marker) per backend, the same in every figure and both renderers."""
    names = list(dict.fromkeys(run.backends() + [t.backend for t in run.traces]))
    return {b: (COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]) for i, b in enumerate(names)}


def label(f: Fit) -> str:
    """A backend's name in a legend; an algorithmic one says so."""
    return f.backend + (" (algorithmic)" if f.kind == "algorithmic" else "")


def hover(run: Run, f: Fit) -> str:
    """What the page shows over one point."""
    fl = floor_ratio(run, f)
    return "\n".join(
        [
            f"{label(f)} · N = {fmt_n(f.n)}",
            f"tₑ = {fmt_t_ci(f.te)}" + ("" if f.resolved else " — unresolved: drawn at its upper end"),
            f"t₀ = {fmt_t_ci(f.t0)}",
            f"× floor = {fmt_ci(fl, '')}" if fl else "× floor: not measured",
            f"first result {fmt_t(f.startup)}",
        ]
    )


def _backend_series(run: Run, fits: list[Fit], values: Sequence[Interval]) -> Series:
    """A backend's fits (sorted by N) as a series of intervals; unresolved at their upper end."""
    colour, marker = styles(run)[fits[0].backend]
    return Series(
        label=label(fits[0]),
        x=tuple(float(f.n) for f in fits),
        y=tuple(v.value if f.resolved else v.high for f, v in zip(fits, values, strict=True)),
        colour=colour,
        marker=marker,
        dash="dot" if fits[0].kind == "algorithmic" else "solid",
        low=tuple(v.low for v in values),
        high=tuple(v.high for v in values),
        unresolved=tuple(not f.resolved for f in fits),
        hover=tuple(hover(run, f) for f in fits),
    )


def _grid(
    run: Run,
    device: str,
    name: str,
    ylabel: str,
    series: Callable[[list[Fit]], Series | None],
    extra: Callable[[str], tuple[Series, ...]],
) -> tuple[Panel, ...]:
    """One panel per (mode, dtype) measured on ``device``, modes as rows, dtypes as columns.

    ``series`` makes a backend's line from its fits; ``extra`` adds lines per dtype (the floor).
    """
    panels = []
    for mode in (m for m in ("nohist", "history") if run.select(device=device, mode=m)):
        for dtype in run.values("dtype"):
            drawn = []
            for b in run.backends():
                fits = run.select(backend=b, device=device, dtype=dtype, mode=mode)
                s = series(sorted(fits, key=lambda f: f.n))
                drawn += [s] if s is not None else []
            labels = {"device": device, "dtype": dtype, "mode": mode}
            title = f"{device}, {dtype}, {MODE_TEXT[mode]}"
            panels.append(
                Panel(f"{name}-{device}-{dtype}-{mode}", title, labels, (*drawn, *extra(dtype)),
                      "N (data points)", ylabel)
            )  # fmt: skip
    return tuple(panels)


def per_epoch(run: Run, device: str) -> FigureSpec:
    """tₑ against N, log-log, one line per backend with its 95 % interval, and the memory floor."""

    def series(fits: list[Fit]) -> Series | None:
        return _backend_series(run, fits, [f.te for f in fits]) if fits else None

    def floor(dtype: str) -> tuple[Series, ...]:
        fl = sorted((f for f in run.floors if (f.device, f.dtype) == (device, dtype)), key=lambda f: f.n)
        hover = tuple(
            f"{FLOOR}\nN = {fmt_n(f.n)}: {fmt_t(f.seconds)}, {f.bandwidth / 1e9:.3g} GB/s\n{f.method}"
            for f in fl
        )
        x, y = tuple(float(f.n) for f in fl), tuple(f.seconds for f in fl)
        return (Series(FLOOR, x, y, BLACK, dash="dash", width=2.4, hover=hover),) if fl else ()

    panels = _grid(run, device, "te", "seconds per epoch (tₑ)", series, floor)
    title, caption = "tₑ, the marginal time per epoch, against N", "lower is better; bars: 95 % intervals"
    return FigureSpec(f"per_epoch_{device}", title, caption, panels, columns=len(run.values("dtype")))


def to_floor(run: Run, device: str) -> FigureSpec:
    """tₑ ÷ the memory floor against N for the fastest three backends: 1 is the floor.

    High at small N, where an epoch is its calls (dispatch-bound); falling towards 1 as the read
    takes over (bandwidth-bound). The line at 1 is dashed where the floor is a read, dotted where
    it is a call's overhead and no limit (``benchmarks/core/floors.py``).
    """
    top: dict[tuple[str, str], set[str]] = {}
    for mode in ("nohist", "history"):
        for dtype in run.values("dtype"):
            sizes = [n for n in run.values("n") if fastest(run, device, dtype, n, mode)]
            if sizes:
                top[(dtype, mode)] = {f.backend for f in fastest(run, device, dtype, sizes[-1], mode)[:TOP]}

    def series(fits: list[Fit]) -> Series | None:
        if not fits or fits[0].backend not in top.get((fits[0].dtype, fits[0].mode), set()):
            return None
        pts = [(f, q) for f in fits if (q := floor_ratio(run, f)) is not None]
        return _backend_series(run, [f for f, _ in pts], [q for _, q in pts]) if pts else None

    def floor(dtype: str) -> tuple[Series, ...]:
        fl = sorted((f for f in run.floors if (f.device, f.dtype) == (device, dtype)), key=lambda f: f.n)
        reads = [float(f.n) for f in fl if floors.is_read(run, f)]
        calls = [float(f.n) for f in fl if not floors.is_read(run, f)]
        if calls and reads:
            calls.append(reads[0])  # the two lines meet
        out = []
        if calls:
            out.append(Series(FLOOR_CALL, tuple(calls), (1.0,) * len(calls), BLACK, dash="dot", width=2.0))
        if reads:
            out.append(Series(FLOOR_RATIO, tuple(reads), (1.0,) * len(reads), BLACK, dash="dash", width=2.0))
        return tuple(out)

    panels = _grid(run, device, "floor", "tₑ ÷ the floor (fastest read of x, y)", series, floor)
    title = f"Growth: the fastest {TOP} backends against the memory floor"
    caption = "dispatch-bound where high, bandwidth-bound near 1; bars: 95 % intervals"
    return FigureSpec(f"ratio_to_floor_{device}", title, caption, panels, columns=len(run.values("dtype")))


def growth(run: Run, device: str) -> FigureSpec:
    """Milliseconds of each epoch against its index for the traced backends (the tutorial's pattern)."""
    style, series = styles(run), []
    traces = [t for t in run.traces if t.device == device]
    for t in traces:
        ms = np.array(t.epoch_s) * 1e3
        k = max(1, len(ms) // 25)  # a rolling median over ~4 % of the epochs smooths scheduler noise
        smooth = [float(np.median(ms[max(0, i - k) : i + k + 1])) for i in range(len(ms))]
        x = tuple(float(i) for i in range(len(ms)))
        name = f"{t.backend} (rolling median; raw faint)"
        series += [
            Series(name, x, tuple(float(v) for v in ms), style[t.backend][0], width=0.8, faint=True),
            Series(name, x, tuple(smooth), style[t.backend][0], width=2.2),
        ]
    n = traces[0].n if traces else 0
    title = "The tutorial's pattern: time per epoch against the epoch index"
    caption = "the update rebinds w, so backward() walks a longer graph every epoch"
    panel = Panel(f"growth-{device}", f"{device}, N = {fmt_n(n)}, float64, with history", {"device": device},
                  tuple(series), "epoch index", "milliseconds per epoch", log=False)  # fmt: skip
    return FigureSpec(f"growth_{device}", title, caption, (panel,))


def charts(run: Run) -> list[FigureSpec]:
    """Every figure of the run: per device, tₑ, the floor ratio, and the epoch trace where traced."""
    out = []
    for device in run.values("device"):
        out += [per_epoch(run, device), to_floor(run, device)]
        if any(t.device == device for t in run.traces):
            out.append(growth(run, device))
    return out
