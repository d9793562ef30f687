"""The report as data: sections of blocks, built once and walked by each renderer.

A section builder (answer.py, limit.py, ...) returns a ``Section``; ``markdown.py`` and ``html.py``
turn the same ``Report`` into REPORT.md and report.html. Text is a tuple of spans, so no renderer
parses another's markup: a backend's name is ``Code``, emphasis is ``Strong`` or ``Em``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from benchmarks.report.figures import FigureSpec


@dataclass(frozen=True)
class Code:
    """Inline code: a backend's name, a call, a file."""

    text: str


@dataclass(frozen=True)
class Strong:
    """Text in bold."""

    parts: Text


@dataclass(frozen=True)
class Em:
    """Text in italics."""

    parts: Text


Inline: TypeAlias = "str | Code | Strong | Em"
Text: TypeAlias = "tuple[Inline, ...]"


def text(*parts: Inline | Text) -> Text:
    """Spans and texts joined into one text."""
    out: list[Inline] = []
    for p in parts:
        out.extend(p if isinstance(p, tuple) else (p,))
    return tuple(out)


def strong(*parts: Inline | Text) -> Strong:
    """Bold spans."""
    return Strong(text(*parts))


def em(*parts: Inline | Text) -> Em:
    """Italic spans."""
    return Em(text(*parts))


def names(backends: Sequence[str]) -> Text:
    """`a`, `b` and `c`."""
    out: list[Inline] = []
    for i, b in enumerate(backends):
        if i:
            out.append(" and " if i == len(backends) - 1 else ", ")
        out.append(Code(b))
    return tuple(out)


def plain(t: Inline | Text) -> str:
    """The characters of a text, without its marks (for lengths, search and alt text)."""
    out = []
    for p in t if isinstance(t, tuple) else (t,):
        out.append(p if isinstance(p, str) else p.text if isinstance(p, Code) else plain(p.parts))
    return "".join(out)


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and the number it sorts by on the page (None: by its text)."""

    text: Text
    sort: float | None = None


def cell(t: Inline | Text, sort: float | None = None) -> Cell:
    """A cell from a span or text."""
    return Cell(text(t), sort)


@dataclass(frozen=True)
class Paragraph:
    """Prose; ``note``: a warning the reader needs first (a quote in Markdown, a callout in HTML)."""

    text: Text
    note: bool = False


@dataclass(frozen=True)
class Bullets:
    """A bulleted list."""

    items: tuple[Text, ...]


@dataclass(frozen=True)
class Table:
    """A table: a header and rows of cells; ``caption`` is said just above it."""

    head: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: Text = ()


@dataclass(frozen=True)
class Image:
    """A PNG drawn apart (the scaling figure), ``path`` relative to the report's folder."""

    path: Path
    alt: str


@dataclass(frozen=True)
class Chart:
    """A figure defined once (figures.FigureSpec): a PNG at ``path`` in Markdown, interactive in HTML."""

    spec: FigureSpec
    path: Path


@dataclass(frozen=True)
class View:
    """Blocks for one view, e.g. {"device": "cpu", "dtype": "float64", "mode": "nohist"}.

    The page shows a view when its selectors match the labels; ``title`` is its caption.
    """

    labels: dict[str, str]
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Section:
    """A titled part of the report; blocks may hold subsections. ``html_only``: not in REPORT.md."""

    title: Text
    blocks: tuple[Block, ...]
    html_only: bool = False


Block: TypeAlias = "Paragraph | Bullets | Table | Image | Chart | View | Section"


@dataclass(frozen=True)
class Report:
    """The title, the blocks that answer before any section, the sections, the page's first view."""

    title: str
    lead: tuple[Block, ...]
    sections: tuple[Section, ...]
    first_view: dict[str, str] = field(default_factory=dict)


def walk(blocks: Sequence[Block]) -> list[Block]:
    """Every block, depth first, subsections and views opened."""
    out: list[Block] = []
    for b in blocks:
        out.append(b)
        if isinstance(b, (Section, View)):
            out += walk(b.blocks)
    return out


def mark(node: Any, names: Collection[str], note: str) -> Any:
    """``node`` with ``note`` after every backend name in ``names`` (a ``Code`` span), at any depth.

    The report marks plugins this way once, on the data both renderers walk, rather than at every
    place a section names a backend.
    """
    if isinstance(node, tuple):
        out: list[Any] = []
        for x in node:
            out.append(mark(x, names, note))
            if isinstance(x, Code) and x.text in names:
                out.append(f" {note}")
        return tuple(out)
    if isinstance(node, Code) or not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    fields = {f.name: mark(getattr(node, f.name), names, note) for f in dataclasses.fields(node) if f.init}
    return dataclasses.replace(node, **fields)

