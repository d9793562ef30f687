"""Flag regressions between two saved runs: exit 1 when a case's median got slower past the threshold.

Cases are matched by pytest-benchmark's full name (backend, N, dtype, device, mode); the ratio is
NEW median / OLD median of pytest-benchmark's per-call time. The default threshold, 1.25, sits
above the round-to-round noise of a quiet machine (IQRs of a few percent) but below a real
regression; on a shared or throttled machine raise it (e.g. --threshold 1.5), and compare only
runs made with the same settings on the same machine. Inside pytest, the equivalent is
pytest-benchmark's own ``--benchmark-compare-fail=median:25%``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from .common import UsageError
from .report_advice import fmt_t
from .report_data import read_json

DEFAULT_THRESHOLD = 1.25


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench compare``."""
    p.add_argument("old", type=Path, help="the earlier run's JSON")
    p.add_argument("new", type=Path, help="the later run's JSON")
    p.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="fail when NEW/OLD median exceeds this ratio",
    )


def medians(data: dict[str, Any]) -> dict[str, float]:
    """Case full name -> median seconds per call."""
    out = {}
    for b in data["benchmarks"]:
        median = float(b.get("stats", {}).get("median", math.nan))
        if math.isfinite(median) and median > 0:
            out[str(b.get("fullname") or b["name"])] = median
    return out


def compare(old: dict[str, float], new: dict[str, float], threshold: float) -> tuple[list[list[str]], int]:
    """Table rows (slowest change first) and the number of regressions past ``threshold``."""
    common = sorted(set(old) & set(new), key=lambda k: new[k] / old[k], reverse=True)
    rows, bad = [], 0
    for k in common:
        ratio = new[k] / old[k]
        flag = "REGRESSION" if ratio > threshold else ("faster" if ratio < 1 / threshold else "")
        bad += ratio > threshold
        rows.append([k.split("::")[-1], fmt_t(old[k]), fmt_t(new[k]), f"{ratio:.3f}", flag])
    return rows, bad


def main(args: argparse.Namespace) -> int:
    """Print the comparison; 0 when nothing regressed past the threshold, 1 otherwise."""
    if not (math.isfinite(args.threshold) and args.threshold >= 1):
        raise UsageError(f"--threshold must be a ratio >= 1, got {args.threshold}")
    old, new = medians(read_json(args.old)), medians(read_json(args.new))
    rows, bad = compare(old, new, args.threshold)
    if not rows:
        raise UsageError(f"{args.old} and {args.new} have no case in common")
    head = ["case", "old median", "new median", "new/old", ""]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    only = sorted(set(old) ^ set(new))
    if only:
        print(
            f"{len(only)} case(s) in only one run, not compared: "
            + ", ".join(k.split("::")[-1] for k in only[:5])
            + (" ..." if len(only) > 5 else "")
        )
    verdict = (
        f"{bad} regression(s) past ×{args.threshold:g}" if bad else f"no regression past ×{args.threshold:g}"
    )
    print(f"gdbench compare: {len(rows)} case(s) compared, {verdict}")
    return 1 if bad else 0
