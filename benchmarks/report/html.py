"""report.html: the report's sections as one self-contained interactive page.

Nothing is fetched when the page opens: plotly.js (its basic bundle, vendor/), the styles, the
images and the few lines of script that switch views and sort tables are all in the file.
Selectors for device, dtype and mode choose which figures and case tables are shown; every table
sorts by a click on its header.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from benchmarks.report import interactive
from benchmarks.report.figures import Panel
from benchmarks.report.sections import (
    Block,
    Bullets,
    Chart,
    Code,
    Em,
    Image,
    Inline,
    Paragraph,
    Report,
    Section,
    Strong,
    Table,
    Text,
    View,
    walk,
)

PLOTLY = Path(__file__).parent / "vendor" / "plotly-basic.min.js"  # see vendor/README.md
INTRO = (
    "An interactive view of REPORT.md: hover a point for its values, click a legend entry to hide or "
    "show a backend, pick a view with the selectors, click a column header to sort."
)
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
img { max-width: 100%; }
.controls { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid #eee;
  z-index: 10; }
.controls label { margin-right: 18px; } .note { color: #555; font-size: 0.92em; }
.callout { border-left: 4px solid #d08700; background: #fff8e6; padding: 6px 10px; }
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


def render(report: Report, folder: Path) -> str:
    """The whole page; ``folder`` holds the PNGs of Image blocks (inlined, so the page stands alone)."""
    first = next((i for i, s in enumerate(report.sections) if _views(list(s.blocks))), len(report.sections))
    body = [f"<h1>{html.escape(report.title)}</h1>", f'<p class="note">{INTRO}</p>']
    body += [block(b, 2, folder) for b in report.lead]
    for i, s in enumerate(report.sections):
        if i == first:
            body.append(_controls(report))
        body.append(block(s, 2, folder))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gdbench report</title>
<style>{STYLE}</style>
<script>{PLOTLY.read_text(encoding="utf-8")}</script>
<script>{SCRIPT}</script>
</head><body>
{"".join(body)}
</body></html>
"""


def inline(t: Inline | Text) -> str:
    """Spans as HTML, every character of the text escaped."""
    if isinstance(t, tuple):
        return "".join(inline(p) for p in t)
    if isinstance(t, Code):
        return f"<code>{html.escape(t.text)}</code>"
    if isinstance(t, Strong):
        return f"<b>{inline(t.parts)}</b>"
    if isinstance(t, Em):
        return f"<em>{inline(t.parts)}</em>"
    return html.escape(t)


def block(b: Block, level: int, folder: Path) -> str:
    """One block as HTML; ``level``: the heading level of a section."""
    if isinstance(b, Section):
        inner = "".join(block(x, level + 1, folder) for x in b.blocks)
        return f"<section><h{level}>{inline(b.title)}</h{level}>{inner}</section>"
    if isinstance(b, Paragraph):
        return f'<p class="callout">{inline(b.text)}</p>' if b.note else f"<p>{inline(b.text)}</p>"
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{inline(item)}</li>" for item in b.items) + "</ul>"
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Image):
        png = folder / b.path
        if not png.is_file():
            return f'<p class="note">{html.escape(b.alt)}: {html.escape(b.path.as_posix())} not found</p>'
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        return f'<p><img alt="{html.escape(b.alt)}" src="data:image/png;base64,{data}"></p>'
    if isinstance(b, Chart):
        plots = "".join(
            f'<div{_labels(p.labels)}><div id="fig-{p.name}"></div><script>{_plot(b, p)}</script></div>'
            for p in b.spec.panels
        )
        return f'<p class="note">{html.escape(b.spec.title)}: {html.escape(b.spec.caption)}.</p>{plots}'
    if isinstance(b, View):
        inner = "".join(block(x, level, folder) for x in b.blocks)
        return f"<div{_labels(b.labels)}><h{level}>{html.escape(b.title)}</h{level}>{inner}</div>"
    raise TypeError(f"not a block: {b!r}")


def _plot(chart: Chart, panel: Panel) -> str:
    fig = interactive.figure(chart.spec, panel).replace("</", "<\\/")  # never ends the <script>
    config = json.dumps(interactive.CONFIG)
    return f'(f => Plotly.newPlot("fig-{panel.name}", f.data, f.layout, {config}))({fig});'


def _table(t: Table) -> str:
    def td(text: Text, sort: float | None) -> str:
        key = "" if sort is None else f' data-sort="{sort:.6g}"'
        return f"<td{key}>{inline(text)}</td>"

    heads = "".join(f"<th>{html.escape(h)}</th>" for h in t.head)
    rows = "".join("<tr>" + "".join(td(c.text, c.sort) for c in row) + "</tr>" for row in t.rows)
    cap = f"<p>{inline(t.caption)}</p>" if t.caption else ""
    return f'{cap}<table class="sortable"><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>'


def _labels(labels: dict[str, str]) -> str:
    """The attributes that put an element in a view."""
    return ' class="view"' + "".join(f' data-{k}="{html.escape(v)}"' for k, v in labels.items())


def _views(blocks: list[Block]) -> dict[str, set[str]]:
    """Every view label among ``blocks`` (charts' panels included): key -> its values."""
    found: dict[str, set[str]] = {}
    for b in walk(blocks):
        if isinstance(b, View):
            views = [b.labels]
        else:
            views = [p.labels for p in b.spec.panels] if isinstance(b, Chart) else []
        for labels in views:
            for k, v in labels.items():
                found.setdefault(k, set()).add(v)
    return found


def _controls(report: Report) -> str:
    """The selectors that pick a view, each starting at the report's first view."""
    parts = []
    for key, values in _views(list(report.sections)).items():
        first = report.first_view.get(key, min(values))
        opts = "".join(
            f'<option value="{html.escape(v)}"{" selected" if v == first else ""}>{html.escape(v)}</option>'
            for v in sorted(values)
        )
        parts.append(f'<label>{key} <select id="select-{key}" data-key="{key}">{opts}</select></label>')
    return f'<div class="controls">{"".join(parts)}</div>'
