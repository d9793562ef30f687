"""REPORT.md: the report's sections as Markdown, for reading on a code host or in a terminal."""

from __future__ import annotations

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
)

LINK = (
    "The same report to explore (values on hover, backends to hide, views to pick, every case's "
    "table): [report.html](report.html) beside this file, one page that opens offline."
)


def render(report: Report) -> str:
    """The whole REPORT.md (HTML-only sections left out)."""
    lines = [f"# {report.title}", ""]
    for b in report.lead:
        lines += block(b, 2)
    lines += [LINK, ""]
    for s in report.sections:
        lines += block(s, 2)
    return "\n".join(lines).rstrip() + "\n"


def inline(t: Inline | Text) -> str:
    """Spans as Markdown marks."""
    if isinstance(t, tuple):
        return "".join(inline(p) for p in t)
    if isinstance(t, Code):
        return f"`{t.text}`"
    if isinstance(t, (Strong, Em)):  # spaces outside the marks, or Markdown does not close them
        inner, mark = inline(t.parts), "**" if isinstance(t, Strong) else "*"
        core = inner.strip()
        return inner[: len(inner) - len(inner.lstrip())] + mark + core + mark + inner[len(inner.rstrip()) :]
    return t


def block(b: Block, level: int) -> list[str]:
    """One block's lines, a blank line after it; ``level``: the heading level of a section."""
    if isinstance(b, Section):
        if b.html_only:
            return []
        return [f"{'#' * level} {inline(b.title)}", ""] + [ln for x in b.blocks for ln in block(x, level + 1)]
    if isinstance(b, Paragraph):
        return [("> " if b.note else "") + inline(b.text), ""]
    if isinstance(b, Bullets):
        return [f"- {inline(item)}" for item in b.items] + [""]
    if isinstance(b, Table):
        cap = [inline(b.caption), ""] if b.caption else []
        body = ["| " + " | ".join(inline(c.text).replace("|", "\\|") for c in row) + " |" for row in b.rows]
        return [*cap, "| " + " | ".join(b.head) + " |", "|" + "---|" * len(b.head), *body, ""]
    if isinstance(b, Image):
        return [f"![{b.alt}]({b.path.as_posix()})", ""]
    if isinstance(b, Chart):
        return [f"![{b.spec.title}]({b.path.as_posix()})", ""]
    if isinstance(b, View):
        return [f"**{b.title}**", ""] + [ln for x in b.blocks for ln in block(x, level)]
    raise TypeError(f"not a block: {b!r}")


def section(s: Section) -> str:
    """One section alone, as a command prints it (``gdbench scaling``, ``gdbench reproduce``)."""
    return "\n".join(block(s, 2)).rstrip()
