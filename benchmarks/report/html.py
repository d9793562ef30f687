"""report.html: the report as one self-contained interactive page (Plotly, its library inlined).

Nothing is fetched when the page opens: plotly.js, the styles and the few lines of script that
switch views and sort tables are all in the file. Selectors for device, dtype and mode choose which
figures and case tables are shown; every table sorts by a click on its header.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import plotly.io as pio
from plotly.offline import get_plotlyjs

from benchmarks.core.files import atomic_write_text
from benchmarks.core.fmt import fmt_bytes, fmt_ci, fmt_n, fmt_t, fmt_t_ci
from benchmarks.core.ranking import FIT_EPOCHS, MODE_TEXT, floor_ratio, main_dtype, rank
from benchmarks.core.results import Fit, Run
from benchmarks.report import plots
from benchmarks.report.limit import limit
from benchmarks.report.markdown import header
from benchmarks.report.markup import Cell, inline, prose, table, to_html
from benchmarks.report.method import method
from benchmarks.report.recommend import choose
from benchmarks.report.scope import not_measured, source

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1180px; padding: 0 16px 40px;
  color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 1.8em; }
code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
table { border-collapse: collapse; margin: 8px 0 18px; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f5f5f5; cursor: pointer; user-select: none; }
th.sorted-asc::after { content: " ▲"; } th.sorted-desc::after { content: " ▼"; }
td:first-child, th:first-child { text-align: left; }
.controls { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid #eee;
  z-index: 10; }
.controls label { margin-right: 18px; } .note { color: #555; font-size: 0.92em; }
.view[hidden] { display: none; }
"""

# View switching and table sorting: small enough to read; the charts themselves are Plotly's.
SCRIPT = """
function showViews() {
  const want = {};
  document.querySelectorAll('.controls select').forEach(s => { want[s.dataset.key] = s.value; });
  document.querySelectorAll('.view').forEach(v => {
    const on = Object.keys(want).every(k => !(k in v.dataset) || v.dataset[k] === want[k]);
    v.hidden = !on;
    if (on) v.querySelectorAll('.js-plotly-plot').forEach(p => Plotly.Plots.resize(p));
  });
}
function sortBy(th) {
  const table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
  const asc = !th.classList.contains('sorted-asc');
  table.querySelectorAll('th').forEach(h => h.classList.remove('sorted-asc', 'sorted-desc'));
  th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
  const key = td => { const v = td.dataset.sort; return v === undefined ? td.textContent : Number(v); };
  const rows = Array.from(body.rows).sort((a, b) => {
    const x = key(a.cells[col]), y = key(b.cells[col]);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return asc ? c : -c;
  });
  rows.forEach(r => body.appendChild(r));
}
document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('.controls select').forEach(s => s.addEventListener('change', showViews));
  document.querySelectorAll('table.sortable th')
    .forEach(th => th.addEventListener('click', () => sortBy(th)));
  showViews();
});
"""

def _t(s: float | None) -> Cell:
    return ("n/a", float("inf")) if s is None else (fmt_t(s), s)


def _recommendations(run: Run) -> str:
    rows: list[list[Cell]] = []
    for device in run.values("device"):
        for dtype in run.values("dtype"):
            for mode in run.values("mode"):
                for n in run.values("n"):
                    for by in ("te", "fit"):
                        r = rank(run, device, dtype, n, mode, by=by)
                        if not r.fits:
                            continue
                        f, fl = r.fits[0], floor_ratio(run, r.fits[0])
                        pred = f.predict(FIT_EPOCHS)
                        pick = ("tie within noise: " if r.tie else "") + ", ".join(
                            f"`{b}`" for b in r.names()
                        )
                        runner = f"`{r.fits[1].backend}` {fmt_ci(r.ratios[1])}" if len(r.fits) > 1 else "-"
                        rows.append(
                            [device, dtype, MODE_TEXT[mode], (fmt_n(n), n),
                             "tₑ" if by == "te" else f"t₀ + {FIT_EPOCHS}·tₑ", pick,
                             (fmt_t_ci(f.te), f.per_epoch),
                             (fmt_t_ci(pred), pred.value),
                             (fmt_ci(fl) if fl else "n/a", fl.value if fl else float("inf")), runner]
                        )  # fmt: skip
    head = ["device", "dtype", "mode", "N", "ranked by", "recommended (ties named together)",
            "tₑ (95 % interval)", f"one {FIT_EPOCHS}-epoch fit", "tₑ × memory floor",
            "runner-up ÷ fastest"]  # fmt: skip
    return table(head, rows)


def _case_row(run: Run, f: Fit, ratio: Any) -> list[Cell]:
    fl = floor_ratio(run, f)
    return [
        f"`{f.backend}`" + (" (algorithmic)" if f.kind == "algorithmic" else ""),
        (fmt_t_ci(f.te), f.per_epoch),
        (fmt_t_ci(f.t0), f.t0.value),
        (fmt_ci(ratio), ratio.value) if ratio is not None else ("-", float("inf")),
        (f"{fl.value:.3g}", fl.value) if fl else ("n/a", float("inf")),
        _t(f.fit_median),
        _t(f.startup),
        (fmt_bytes(f.mem_bytes), float(f.mem_bytes if f.mem_bytes is not None else -1)),
        (f"{f.check_err:.1e}", f.check_err),
    ]


def _cases(run: Run, device: str, dtype: str, mode: str) -> str:
    parts = []
    for n in run.values("n"):
        fits = run.select(device=device, dtype=dtype, n=n, mode=mode)
        if not fits:
            continue
        ranked = rank(run, device, dtype, n, mode)
        ratio = {f.backend: q for f, q in zip(ranked.fits, ranked.ratios, strict=True)}
        fits.sort(key=lambda f: (f.kind != "per-pass", f.per_epoch))
        rows = [_case_row(run, f, ratio.get(f.backend)) for f in fits]
        head = ["backend", "tₑ (95 % interval)", "t₀ (95 % interval)", "× fastest", "× floor",
                f"fit of {fits[0].epochs} epochs", "first result", "peak memory beyond data",
                "check error"]  # fmt: skip
        fl = run.floor(device, dtype, n)
        floor = f" Memory floor (one read of x, y): {fmt_t(fl.seconds)}." if fl else ""
        parts.append(f"<h4>N = {fmt_n(n)}</h4><p class='note'>{floor}</p>" + table(head, rows))
    return "".join(parts)


def _machine(run: Run) -> str:
    m, meta = run.machines[0], run.metas[0]
    g, cpu = m.get("gdbench", {}), m.get("cpu", {})
    rows: list[list[Cell]] = [
        ["measured", f"{str(meta.get('datetime', ''))[:19].replace('T', ' ')} UTC"],
        ["from", ", ".join(f"`{p.name}`" for p in run.sources)],
        ["CPU", f"{cpu.get('brand_raw', m.get('processor', '?'))}, {cpu.get('count', '?')} CPU(s)"],
        ["threads per framework", str(g.get("threads", "?"))],
        ["GPU", str(g.get("gpu") or "none")],
        *([k, str(v)] for k, v in g.get("versions", {}).items() if k != "executable"),
    ]
    return table(["", "value"], rows, cls="plain")


def _select(key: str, values: list[str], first: str) -> str:
    opts = "".join(
        f'<option value="{html.escape(v)}"{" selected" if v == first else ""}>{html.escape(v)}</option>'
        for v in values
    )
    return f'<label>{key} <select id="select-{key}" data-key="{key}">{opts}</select></label>'


def render(
    run: Run, scaling: tuple[Path, dict[str, Any], Path] | None = None, sections: list[str] | None = None
) -> str:
    """The whole page as one HTML string; ``sections``: REPORT.md's reproducibility and validation."""
    cfg = {"displaylogo": False, "responsive": True}
    views = []
    for device in run.values("device"):
        for dtype in run.values("dtype"):
            for mode in run.values("mode"):
                if not run.select(device=device, dtype=dtype, mode=mode):
                    continue
                key = f"{device}-{dtype}-{mode}"
                figs = "".join(
                    pio.to_html(make(run, device, dtype, mode), full_html=False, include_plotlyjs=False,
                                div_id=f"fig-{name}-{key}", config=cfg)
                    for name, make in (("te", plots.per_epoch), ("floor", plots.to_floor))
                )  # fmt: skip
                views.append(
                    f'<div class="view" data-device="{device}" data-dtype="{dtype}" data-mode="{mode}">'
                    f"{figs}<h3>Cases: {device}, {dtype}, {MODE_TEXT[mode]}</h3>"
                    f"{_cases(run, device, dtype, mode)}</div>"
                )
    growth = "".join(
        pio.to_html(
            plots.growth(run, d),
            full_html=False,
            include_plotlyjs=False,
            div_id=f"fig-growth-{d}",
            config=cfg,
        )
        for d in run.values("device")
        if any(t.device == d for t in run.traces)
    )
    advice = "".join(
        f"<h3>On {d}</h3><ul>" + "".join(f"<li>{inline(b)}</li>" for b in choose(run, d)) + "</ul>"
        for d in run.values("device")
    )
    missing = not_measured(run) or ["- Nothing: every registered backend ran every case of the suite."]
    borrowed = (
        f"<h2>Measured apart</h2><p>{inline(source(scaling[0], scaling[1]))} Its all-reduce timings and "
        'the model of data-parallel scaling beyond one machine are in REPORT.md, "Beyond one machine".</p>'
        if scaling
        else ""
    )
    first = {"device": run.values("device")[0], "dtype": main_dtype(run), "mode": "nohist"}
    controls = "".join(_select(k, run.values(k), first[k]) for k in ("device", "dtype", "mode"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gdbench report</title>
<style>{STYLE}</style>
<script>{get_plotlyjs()}</script>
<script>{SCRIPT}</script>
</head><body>
<h1>gdbench: which gradient-descent implementation should I use?</h1>
<p class="note">An interactive view of REPORT.md: hover a point for its values, click a legend entry to
hide or show a backend, click a column header to sort. Intervals are 95 % bootstrap; backends whose
ratio to the fastest cannot be told from 1 are a tie within noise, named together.</p>
{prose([ln for ln in header(run) if "(report.html)" not in ln])}
<h2>Which implementation should I choose</h2>{advice}
<h2>Recommendation per regime</h2>{_recommendations(run)}
<div class="controls">{controls}</div>
<h2 id="figures">Time per epoch and distance from the memory floor</h2>{"".join(views)}
{"<h2>Time per epoch against the epoch index</h2>" + growth if growth else ""}
{to_html(limit(run))}
{to_html(sections or [])}
<h2>Not measured in this run</h2><ul>{"".join(f"<li>{inline(x)}</li>" for x in missing)}</ul>
{borrowed}
<h2>Machine and versions</h2>{_machine(run)}
<h2>How this was measured</h2>{prose(method(run))}
</body></html>
"""


def write(
    run: Run,
    path: Path,
    scaling: tuple[Path, dict[str, Any], Path] | None = None,
    sections: list[str] | None = None,
) -> Path:
    """Write report.html atomically; return its path."""
    atomic_write_text(path, render(run, scaling, sections))
    return path
