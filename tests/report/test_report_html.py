"""report.html: self-contained, says only what its run measured, and works in a real browser.

The browser tests drive the system's headless Chromium through Playwright; without either they skip
with the reason, except under CI (CI=true), where .ci/run installs both and a skip would hide a gap.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks.core.results import load
from benchmarks.report import html, scope

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURE = DATA / "bench_v2.json"  # a trimmed quick run: sizes 100 and 10⁴, both dtypes, cpu


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of the fixture run."""
    return html.write(load([FIXTURE]), tmp_path_factory.mktemp("html") / "report.html")


def test_page_is_self_contained(page):
    from plotly.offline import get_plotlyjs

    text = page.read_text()
    assert get_plotlyjs() in text  # plotly.js itself is inlined; the rest of the page links nothing
    text = text.replace(get_plotlyjs(), "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing fetched
    assert "<link" not in text and "<script src" not in text
    assert "Plotly.newPlot" in text
    for heading in (
        "Which implementation should I choose",
        "Recommendation per regime",
        "Machine and versions",
    ):
        assert heading in text


def test_page_has_a_view_and_figures_for_every_measured_case(page):
    text = page.read_text()
    run = load([FIXTURE])
    for dtype in run.values("dtype"):
        for mode in run.values("mode"):
            assert f'id="fig-te-cpu-{dtype}-{mode}"' in text and f'id="fig-floor-cpu-{dtype}-{mode}"' in text
    assert 'id="fig-growth-cpu"' in text
    assert re.findall(r'<option value="([^"]+)"', text) == ["cpu", "float32", "float64", "history", "nohist"]


def test_report_lists_what_the_run_did_not_measure():
    run = load([FIXTURE])
    lines = scope.not_measured(run)
    text = "\n".join(lines)
    assert "Sizes not run: N = 10³, N = 10⁵, N = 10⁶, N = 10⁷ (a --quick run)" in text
    assert "cuda (no GPU on this machine)" in text
    assert "`jax-sharded`: unavailable here" in text and "made-up failure" in text
    assert "`torch-ddp`: not selected" in text
    named = set(re.findall(r"^- `([\w-]+)`:", text, flags=re.M))
    assert named and not named & set(run.backends())  # a backend with results is never listed as not run


def test_borrowed_section_names_its_source_date_and_machine():
    data = {
        "created": "2026-11-30T06:09:08+00:00",
        "cores": 2,
        "machine": {"platform": "Linux-x", "torch": "2.1"},
    }
    line = scope.source(Path("/x/results/scaling/scaling.json"), data)
    assert "`scaling/scaling.json`" in line and "2026-11-30 06:09" in line and "2 cores, Linux-x" in line
    assert "not part of this run" in line


def test_page_carries_the_limit_table_and_the_sections_it_is_given(tmp_path):
    sections = [
        "## Reproducibility: two runs of the same code",
        "",
        "Two runs, **one** verdict.",
        "",
        "| regime | first | second |",
        "|---|---|---|",
        "| a | `x` | `y` |",
        "",
        "- every regime agrees",
    ]
    text = html.write(load([FIXTURE]), tmp_path / "r.html", None, sections).read_text()
    assert "<h2>Distance from the limit</h2>" in text and "<b>cpu, float64</b>" in text
    assert "<h2>Reproducibility: two runs of the same code</h2><p>Two runs, <b>one</b> verdict.</p>" in text
    assert "<th>regime</th><th>first</th><th>second</th>" in text
    assert "<tr><td>a</td><td><code>x</code></td><td><code>y</code></td></tr>" in text
    assert "<ul><li>every regime agrees</li></ul>" in text and "|---|" not in text


def test_inline_marks_are_escaped_then_formatted():
    assert html.inline("- **use `a<b`** (*x*)") == "<b>use <code>a&lt;b</code></b> (<em>x</em>)"


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
    assert _traces_drawn(tab, "fig-growth-cpu") == 2


def test_clicking_a_backend_in_the_legend_hides_its_line(browser_page):
    tab = browser_page.tab
    tab.select_option("#select-dtype", "float64")
    tab.select_option("#select-mode", "nohist")
    div = "fig-te-cpu-float64-nohist"
    before = _traces_drawn(tab, div)
    name = tab.eval_on_selector(f"#{div}", "d => d._fullData[0].name")
    tab.locator(f"#{div} .legend .traces").first.click()
    tab.wait_for_function(f"document.getElementById('{div}')._fullData[0].visible === 'legendonly'")
    assert _traces_drawn(tab, div) == before - 1
    shown = tab.eval_on_selector(
        f"#{div}", "d => d._fullData.filter(t => t.visible === true).map(t => t.name)"
    )
    assert name not in shown and len(shown) == before - 1
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
