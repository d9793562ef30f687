"""report.html: self-contained, says only what its run measured, and works in a real browser.

The browser tests drive the system's headless Chromium through Playwright; without either they skip
with the reason, except under CI (CI=true), where .ci/run installs both and a skip would hide a gap.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks.core.results import load
from benchmarks.core.scaling import read as read_scaling
from benchmarks.report import build, figures, html, interactive, scope
from benchmarks.report.sections import plain
from tests.support.runs import FIXTURE, REFERENCE, RESULTS

LIMIT = 2_000_000  # bytes: report.html at most 2 MB


def _page(run_path: Path, out: Path, borrowed: bool = False) -> Path:
    """report.html of a run, built as gdbench report builds it but without drawing the PNGs."""
    run = load([run_path])
    charts = [(spec, Path("figures") / f"{spec.name}.png") for spec in figures.charts(run)]
    scaling = None
    if borrowed:  # the committed reference borrows results/scaling/, its figure inlined in the page
        json_ = RESULTS / "scaling" / "scaling.json"
        scaling = (json_, read_scaling(json_), Path("scaling/scaling.png"))
    page = out / "report.html"
    page.write_text(html.render(build.assemble(run, charts, scaling, []), RESULTS))
    return page


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of the fixture run."""
    return _page(FIXTURE, tmp_path_factory.mktemp("html"))


def test_page_is_self_contained(page):
    text = page.read_text()
    bundle = html.PLOTLY.read_text(encoding="utf-8")
    assert bundle.startswith("/**\n* plotly.js (basic - minified)") and text.count(bundle) == 1  # inlined
    text = text.replace(bundle, "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing fetched
    assert "<link" not in text and "<script src" not in text
    assert "Plotly.newPlot" in text
    for heading in (
        "Recommendation per regime",
        "Distance from the limit",
        "Results by case",
        "Machine and versions",
    ):
        assert f">{heading}</h2>" in text


def test_the_reference_runs_page_weighs_at_most_2_mb_with_every_figure_and_table(tmp_path):
    built = _page(REFERENCE, tmp_path, borrowed=True)
    text = built.read_text()
    assert "data:image/png;base64," in text and text.count('class="js-plotly-plot"') == 0  # drawn on load
    assert built.stat().st_size <= LIMIT
    assert len(re.findall(r'<div id="fig-', text)) == 2 * 4 + 1  # tₑ and floor per (dtype, mode); the trace


def test_every_trace_type_the_page_draws_is_in_the_basic_bundle():
    run = load([REFERENCE])
    types = {
        t["type"]
        for spec in figures.charts(run)
        for p in spec.panels
        for t in json.loads(interactive.figure(spec, p))["data"]
    }
    assert types == {"scatter"}  # the basic bundle holds scatter, bar and pie; a browser test below draws it


def test_page_has_a_view_and_figures_for_every_measured_case(page):
    text = page.read_text()
    run = load([FIXTURE])
    for dtype in run.values("dtype"):
        for mode in run.values("mode"):
            assert f'id="fig-te-cpu-{dtype}-{mode}"' in text and f'id="fig-floor-cpu-{dtype}-{mode}"' in text
            assert f'<div class="view" data-device="cpu" data-dtype="{dtype}" data-mode="{mode}"><h3>' in text
    assert 'id="fig-growth-cpu"' in text
    assert re.findall(r'<option value="([^"]+)"', text) == ["cpu", "float32", "float64", "history", "nohist"]
    assert re.findall(r'<option value="([^"]+)" selected>', text) == ["cpu", "float64", "nohist"]


def test_report_lists_what_the_run_did_not_measure():
    run = load([FIXTURE])
    text = "\n".join(plain(line) for line in scope.not_measured(run))
    assert "Sizes not run: N = 10³, N = 10⁵, N = 10⁶, N = 10⁷ (a --quick run)" in text
    assert "cuda (no GPU on this machine)" in text
    assert "jax-sharded: unavailable here" in text and "made-up failure" in text
    assert "torch-ddp: not selected" in text
    named = set(re.findall(r"^([\w-]+):", text, flags=re.M))
    assert named and not named & set(run.backends())  # a backend with results is never listed as not run


def test_borrowed_section_names_its_source_date_and_machine():
    data = {
        "created": "2026-11-30T06:09:08+00:00",
        "cores": 2,
        "machine": {"platform": "Linux-x", "torch": "2.1"},
    }
    line = plain(scope.source(Path("/x/results/scaling/scaling.json"), data))
    assert "scaling/scaling.json" in line and "2026-11-30 06:09" in line and "2 cores, Linux-x" in line
    assert "not part of this run" in line


def test_screenshot_without_a_browser_is_a_usage_error_and_writes_nothing(tmp_path, monkeypatch):
    from benchmarks.commands import main
    from benchmarks.report import screenshot

    monkeypatch.delenv("GDBENCH_CHROMIUM", raising=False)
    monkeypatch.setattr(screenshot.shutil, "which", lambda name: None)
    assert main(["report", str(FIXTURE), "--out", str(tmp_path), "--screenshot"]) == 2
    assert list(tmp_path.iterdir()) == []


# --- in a real browser


def _chromium() -> str:
    """The system Chromium for Playwright, or a skip (a failure under CI) saying what is missing."""
    from benchmarks.core.files import UsageError
    from benchmarks.report.screenshot import browser

    try:
        return browser("the browser tests of report.html")
    except UsageError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {e}")
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def browser_page(page: Path) -> Any:
    """report.html open in headless Chromium, offline, with every console error collected."""
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        tab = b.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        fetched: list[str] = []
        tab.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else (
            fetched.append(r.request.url), r.abort()))  # fmt: skip
        tab.goto(page.as_uri())
        tab.wait_for_selector(".view:not([hidden]) .js-plotly-plot .main-svg")
        yield SimpleNamespace(tab=tab, errors=errors, fetched=fetched)
        b.close()


def _traces_drawn(tab: Any, div_id: str) -> int:
    return int(tab.eval_on_selector(f"#{div_id}", "d => d.querySelectorAll('.scatterlayer .trace').length"))


def test_page_loads_offline_without_console_errors(browser_page):
    assert browser_page.errors == [] and browser_page.fetched == []
    assert browser_page.tab.evaluate("typeof Plotly") == "object"


def test_every_figure_renders_in_every_view(browser_page):
    tab = browser_page.tab
    ids = tab.eval_on_selector_all(".js-plotly-plot", "ds => ds.map(d => d.id)")
    assert len(ids) == 2 * 4 + 1  # tₑ and floor ratio per (dtype, mode), and the epoch trace
    for dtype in ("float32", "float64"):
        for mode in ("nohist", "history"):
            tab.select_option("#select-dtype", dtype)
            tab.select_option("#select-mode", mode)
            for kind in ("te", "floor"):
                div = f"fig-{kind}-cpu-{dtype}-{mode}"
                assert tab.is_visible(f"#{div}")
                assert (
                    _traces_drawn(tab, div) == tab.eval_on_selector(f"#{div}", "d => d._fullData.length") > 3
                )
                box = tab.eval_on_selector(f"#{div} .main-svg", "s => s.getBoundingClientRect().width")
                assert box > 500
            hidden = f"fig-te-cpu-{'float64' if dtype == 'float32' else 'float32'}-{mode}"
            assert not tab.is_visible(f"#{hidden}")  # the selector shows one view at a time
    assert _traces_drawn(tab, "fig-growth-cpu") == 2 * 2  # per traced backend: raw epochs, rolling median


def test_clicking_a_backend_in_the_legend_hides_its_line(browser_page):
    tab = browser_page.tab
    tab.select_option("#select-dtype", "float64")
    tab.select_option("#select-mode", "nohist")
    div = "fig-te-cpu-float64-nohist"
    before = _traces_drawn(tab, div)
    group = tab.eval_on_selector(f"#{div}", "d => d._fullData[0].legendgroup")
    size = tab.eval_on_selector(
        f"#{div}", f"d => d._fullData.filter(t => t.legendgroup === '{group}').length"
    )
    tab.locator(f"#{div} .legend .traces").first.click()
    tab.wait_for_function(f"document.getElementById('{div}')._fullData[0].visible === 'legendonly'")
    assert _traces_drawn(tab, div) == before - size  # its line and its unresolved points, if any
    shown = tab.eval_on_selector(
        f"#{div}", "d => d._fullData.filter(t => t.visible === true).map(t => t.legendgroup)"
    )
    assert group not in shown and len(shown) == before - size
    tab.locator(f"#{div} .legend .traces").first.click()  # and shows it again
    tab.wait_for_function(f"document.getElementById('{div}')._fullData[0].visible === true")
    assert _traces_drawn(tab, div) == before


def test_clicking_a_header_sorts_the_table(browser_page):
    tab = browser_page.tab
    table = "table.sortable >> nth=0"
    heads = tab.eval_on_selector(table, "t => Array.from(t.tHead.rows[0].cells).map(c => c.textContent)")
    col = heads.index("N")
    values = f"t => Array.from(t.tBodies[0].rows).map(r => Number(r.cells[{col}].dataset.sort))"
    start = tab.eval_on_selector(table, values)
    assert len(set(start)) > 1
    header = tab.locator(table).locator("th").nth(col)
    header.click()
    assert tab.eval_on_selector(table, values) == sorted(start)
    header.click()
    assert tab.eval_on_selector(table, values) == sorted(start, reverse=True)


def test_screenshot_shows_the_figures(page, tmp_path):
    _chromium()
    png = tmp_path / "report.png"
    code = "import sys; from pathlib import Path; from benchmarks.report.screenshot import screenshot; "
    code += "screenshot(Path(sys.argv[1]), Path(sys.argv[2]), width=900, height=700)"
    # a process of its own: Playwright's sync API allows one instance per thread, and the module's is open
    subprocess.run([sys.executable, "-c", code, str(page), str(png)], check=True, timeout=120)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png.read_bytes()[16:20], "big") == 900  # the PNG header's width


def test_hovering_a_point_shows_its_values(browser_page):
    tab = browser_page.tab
    tab.select_option("#select-dtype", "float64")
    tab.select_option("#select-mode", "nohist")
    point = tab.locator("#fig-te-cpu-float64-nohist .scatterlayer .trace .points path").first
    point.hover(force=True)
    label = tab.locator("#fig-te-cpu-float64-nohist .hoverlayer .hovertext")
    label.first.wait_for(timeout=5000)
    text = label.first.text_content() or ""
    assert "N = 10²" in text and "tₑ = " in text and "× floor" in text, text
