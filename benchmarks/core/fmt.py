"""How the report writes numbers, sizes, names and tables; plain text, shared by every renderer.

No impossible number is written, by one rule used by every renderer, ``choose`` and ``compare``:

- a time is never negative (``stats.line`` fits t₀, tₑ ≥ 0; intervals end at zero); one the data
  could not tell from zero (``stats.Interval.resolved``) is written as its upper end, "≤ x";
- a time at or below what the clock resolves (``stats.TICK``, a one-time cost from ``stats.once``)
  is written "< 1 µs (below the clock's resolution)", not as nanoseconds it never measured;
- a ratio whose interval is unbounded (a denominator not told from zero) is written "unresolved"
  with the reason, never "≤ inf" or "×inf".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from benchmarks.core.stats import TICK

if TYPE_CHECKING:
    from benchmarks.core import stats
    from benchmarks.core.results import Fit

UNBOUNDED_WHY = "a cost not told from zero"


def fmt_ci(i: stats.Interval, unit: str = "×", why: str = UNBOUNDED_WHY) -> str:
    """A ratio with its interval, e.g. ×1.03 (0.98–1.09); "unresolved (why)" when unbounded."""
    if not (math.isfinite(i.value) and math.isfinite(i.high)):
        return f"unresolved ({why})"
    return f"{unit}{i.value:.3g} ({i.low:.3g}–{i.high:.3g})"


def fmt_ratio(i: stats.Interval, why: str = UNBOUNDED_WHY) -> str:
    """A ratio without its interval: the value, "≤ x" when unresolved, "unresolved (why)" when unbounded."""
    if not (math.isfinite(i.value) and math.isfinite(i.high)):
        return f"unresolved ({why})"
    return f"{i.value:.3g}" if i.resolved else f"≤ {i.high:.3g}"


def fmt_t_ci(i: stats.Interval | None) -> str:
    """Seconds with the interval, e.g. 3.5 µs (3.4–3.7 µs); "≤ 3.7 µs" when it is not resolved.

    Unresolved (``stats.Interval.resolved``, the one rule): the data could not tell the cost from
    zero, so its point value means nothing and only the upper end is shown (module docstring).
    """
    if i is None:
        return "n/a"
    if not i.resolved:
        return _unresolved(i) + ("" if _below_clock(i) else " (unresolved)")
    return f"{fmt_t(i.value)} ({fmt_t(i.low)}–{fmt_t(i.high)})"


def fmt_t_bound(i: stats.Interval | None) -> str:
    """Seconds without the interval: the value, or as ``fmt_t_ci`` says an unresolved one."""
    if i is None:
        return "n/a"
    return fmt_t(i.value) if i.resolved else _unresolved(i)


def _below_clock(i: stats.Interval) -> bool:
    return i.zero >= TICK and i.high <= i.zero


def _unresolved(i: stats.Interval) -> str:
    """An unresolved time: its upper end, or below the clock's resolution, or ≈ 0; never negative."""
    if _below_clock(i):
        return f"< {fmt_t(i.zero)} (below the clock's resolution)"
    return f"≤ {fmt_t(i.high)}" if i.high > max(i.zero, 0.0) else "≈ 0"


def names(fits: list[Fit]) -> str:
    """`a`, `b` and `c`."""
    q = [f"`{f.backend}`" for f in fits]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def fmt_t(s: float) -> str:
    """Seconds in a readable unit, three significant digits."""
    if not math.isfinite(s):
        return "n/a"
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def fmt_n(n: int) -> str:
    """10000 -> 10⁴; other sizes as digits."""
    s = str(n)
    if n >= 10 and s[0] == "1" and set(s[1:]) == {"0"}:
        return "10" + (str(len(s) - 1)).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{n:,}"


def fmt_approx(n: float) -> str:
    """A size to two significant digits, e.g. 8.4×10²."""
    k = math.floor(math.log10(n))
    return f"{n / 10**k:.2g}×" + fmt_n(10**k) if k >= 2 else f"{n:.0f}"


def times(r: float) -> str:
    return f"{r:.3g}× faster than" if r >= 1 else f"{1 / r:.3g}× slower than"


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table with a blank line after it."""
    body = ["| " + " | ".join(r) + " |" for r in rows]
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *body, ""]


def fmt_bytes(b: int | None) -> str:
    """Bytes in a binary unit, n/a for None."""
    if b is None:
        return "n/a"
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b} B"


def aligned(rows: list[list[str]], rule: bool = False) -> list[str]:
    """Rows of cells as text lines, each column padded to its widest cell, two spaces apart.

    ``rule``: a line of dashes under the first row (the header).
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return lines
