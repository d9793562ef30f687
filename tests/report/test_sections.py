"""The report's two renderers walk the same section data: REPORT.md and report.html say the same things."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest

from benchmarks.core.results import load
from benchmarks.report import build, figures, markdown
from benchmarks.report import html as page
from benchmarks.report.sections import (
    Bullets,
    Cell,
    Code,
    Image,
    Paragraph,
    Report,
    Section,
    Table,
    View,
    cell,
    em,
    names,
    plain,
    strong,
    text,
    walk,
)
from tests.support.runs import FIXTURE


@pytest.fixture(scope="module")
def report() -> Report:
    """The fixture run's report as data, its charts pointing at PNGs that are never drawn."""
    run = load([FIXTURE])
    charts = [(spec, Path("figures") / f"{spec.name}.png") for spec in figures.charts(run)]
    return build.assemble(run, charts, None, [])


def _norm(text_: str) -> str:
    """Text without the characters Markdown marks with (``*``, backticks, ``|``, ``\\``), spaces collapsed."""
    return " ".join(re.sub(r"[*`|\\]", "", text_).split())


def _visible(text_: str, html: bool) -> str:
    """What a reader sees of Markdown or HTML: marks, tags and escapes gone, spaces collapsed."""
    if html:
        text_ = re.sub(r"<script>.*?</script>|<style>.*?</style>", " ", text_, flags=re.S)
        blocks = r"</?(p|li|ul|h\d|td|th|tr|table|thead|tbody|div|section|label|option)\b[^>]*>"
        text_ = re.sub(blocks, " ", text_)
        text_ = htmllib.unescape(re.sub(r"<[^>]+>", "", text_))  # inline tags: no space where they were
    else:
        text_ = re.sub(r"^(#+ |- |> )", " ", text_, flags=re.M)
    return _norm(text_)


def _shared(blocks: list) -> list[str]:
    """The plain text of every title, paragraph, bullet, header and cell, page-only sections left out."""
    out = []
    for b in blocks:
        if isinstance(b, Section) and not b.html_only:
            out += [plain(b.title), *_shared(list(b.blocks))]
        elif isinstance(b, Paragraph):
            out.append(plain(b.text))
        elif isinstance(b, Bullets):
            out += [plain(i) for i in b.items]
        elif isinstance(b, Table):
            out += [*b.head, *(plain(c.text) for row in b.rows for c in row)]
        elif isinstance(b, View):
            out += [b.title, *_shared(list(b.blocks))]
    return [s for s in out if s.strip()]


def test_every_text_of_the_shared_sections_is_in_both_renderings(report):
    md, web = _visible(markdown.render(report), False), _visible(page.render(report, Path(".")), True)
    shared = _shared(list(report.lead) + list(report.sections))
    assert len(shared) > 100
    for s in shared:
        said = _norm(s)
        assert said in md, said
        assert said in web, said


def test_the_page_only_sections_are_on_the_page_and_not_in_the_markdown(report):
    md, web = markdown.render(report), page.render(report, Path("."))
    only = [s for s in walk(list(report.sections)) if isinstance(s, Section) and s.html_only]
    assert {plain(s.title) for s in only} == {"Results by case", "Every backend against the floor"}
    for s in only:
        assert f">{plain(s.title)}</h" in web and plain(s.title) not in md
        tables = [b for b in walk(list(s.blocks)) if isinstance(b, Table)]
        assert tables and all(f"<th>{b.head[-1]}</th>" in web for b in tables)


def test_the_headings_are_the_same_in_both_in_the_same_order(report):
    md, web = markdown.render(report), page.render(report, Path("."))
    in_md = [h for _, h in re.findall(r"^(#{2,6}) (.+)$", md, flags=re.M)]
    in_web = [_visible(h, True) for h in re.findall(r"<h[2-6]>(.*?)</h[2-6]>", web)]
    views = {b.title for b in walk(list(report.sections)) if isinstance(b, View)}
    only = {plain(s.title) for s in walk(list(report.sections)) if isinstance(s, Section) and s.html_only}
    assert [_visible(h, False) for h in in_md] == [h for h in in_web if h not in views | only]
    assert in_md[0] == "Recommendation per regime" and in_md[-1] == "Machine and versions"


def test_inline_marks_are_each_renderers_own_and_text_is_escaped():
    said = text(strong("use ", Code("a<b")), " (", em("x"), ")")
    assert markdown.inline(said) == "**use `a<b`** (*x*)"
    assert page.inline(said) == "<b>use <code>a&lt;b</code></b> (<em>x</em>)"
    assert markdown.inline(text(strong("N = 10⁵: "), "x")) == "**N = 10⁵:** x"  # Markdown closes the mark
    assert markdown.inline(names(["a", "b", "c"])) == "`a`, `b` and `c`"


def test_a_table_is_a_markdown_table_and_a_sortable_html_table():
    t = Table(
        ("backend", "tₑ"),
        ((cell(Code("x")), cell("1 µs", 1e-6)), (cell("a|b"), Cell(("2 µs",), 2e-6))),
        ("Cap",),
    )
    assert markdown.block(t, 2) == [
        "Cap",
        "",
        "| backend | tₑ |",
        "|---|---|",
        "| `x` | 1 µs |",
        "| a\\|b | 2 µs |",
        "",
    ]
    web = page.block(t, 2, Path("."))
    assert '<table class="sortable">' in web and '<td data-sort="1e-06">1 µs</td>' in web
    assert "<td><code>x</code></td>" in web and "<p>Cap</p>" in web


def test_a_view_is_a_caption_in_markdown_and_a_switchable_block_on_the_page():
    v = View({"device": "cpu", "dtype": "float64"}, "cpu, float64", (Paragraph(("hello",)),))
    assert markdown.block(v, 3) == ["**cpu, float64**", "", "hello", ""]
    assert page.block(v, 3, Path(".")).startswith(
        '<div class="view" data-device="cpu" data-dtype="float64"><h3>'
    )


def test_an_image_is_linked_from_markdown_and_inlined_in_the_page(tmp_path):
    (tmp_path / "f.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    img = Image(Path("f.png"), "a figure")
    assert markdown.block(img, 2) == ["![a figure](f.png)", ""]
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in page.block(img, 2, tmp_path)
    assert "not found" in page.block(Image(Path("gone.png"), "gone"), 2, tmp_path)
