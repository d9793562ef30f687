"""REPORT.md's Markdown as HTML for report.html: inline marks, tables that sort, prose, sections."""

from __future__ import annotations

import html
import re

Cell = str | tuple[str, float]  # text, or (text, the number it sorts by)


def inline(text: str) -> str:
    """The report's Markdown bullets' inline marks (**bold**, *em*, `code`) as HTML, the rest escaped."""
    s = html.escape(text.removeprefix("- "), quote=False)
    s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
    s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", s)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", s)


def table(head: list[str], rows: list[list[Cell]], cls: str = "sortable") -> str:
    """An HTML table; numeric cells carry data-sort so they sort as numbers."""

    def td(c: Cell) -> str:
        if isinstance(c, tuple):
            return f'<td data-sort="{c[1]:.6g}">{html.escape(c[0])}</td>'
        return f"<td>{inline(c)}</td>"

    body = "".join("<tr>" + "".join(td(c) for c in r) + "</tr>" for r in rows)
    heads = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f'<table class="{cls}"><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>'


def prose(lines: list[str]) -> str:
    """Markdown paragraphs, quotes and bullets (continued by indented lines) as HTML; headings dropped."""
    blocks: list[str] = []
    for line in lines:
        if line.startswith("  ") and blocks:
            blocks[-1] += " " + line.strip()
        elif line.strip() and not line.startswith("#"):
            blocks.append(line.removeprefix("> "))
    items = "".join(f"<li>{inline(b)}</li>" for b in blocks if b.startswith("- "))
    paras = "".join(f"<p>{inline(b)}</p>" for b in blocks if not b.startswith("- "))
    return paras + (f"<ul>{items}</ul>" if items else "")


def to_html(lines: list[str]) -> str:
    """REPORT.md's sections as HTML: "## " headings, tables (sortable), bold captions, prose."""
    out: list[str] = []
    text: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if text:
            out.append(prose(text))
            text.clear()
        if rows:
            out.append(table(rows[0], [list(r) for r in rows[1:]]))
            rows.clear()

    for line in lines:
        if line.startswith("|"):
            if text:
                flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= {"-", ":"} for c in cells):  # the |---| line
                rows.append(cells)
        elif line.startswith("## "):
            flush()
            out.append(f"<h2>{inline(line[3:])}</h2>")
        else:
            if rows:
                flush()
            text.append(line)
    flush()
    return "".join(out)
