"""Check each backend's loss_and_grad against a float64 oracle, on easy and hard problems.

The oracle (``benchmarks.core.oracle``) is the hand-derived loss and gradient with every sum taken by
math.fsum, and each value is judged against a tolerance scaled to the terms it is made of, so
float64 rounding passes on any data while a real slip fails. Central finite differences check
the oracle in turn on the well-conditioned seeded problems: the loss is quadratic, so they are
exact up to rounding there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

import impls
from benchmarks.core import memory, oracle, problems
from benchmarks.core.files import UsageError
from benchmarks.core.problems import Case
from impls import PluginError

# What the table's "tolerance:" line says; the whole rule (oracle.RULE) is in --json and the docs.
TOLERANCE = (
    "|value - oracle| <= 2γ·T, the float64 rounding bound of the terms each value sums "
    "(γ ≈ (n + d + 2)·2^-53; T in docs/run-and-check.md)"
)
# Central differences lose ~eps·L/h to rounding: at most ~1e-10 relative here with h = 1e-5·max(1, |θ|).
RTOL_FD = 1e-7


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench check``."""
    p.add_argument("--backends", default="all", help="comma-separated backend names, or all available ones")
    p.add_argument(
        "--families",
        default=",".join(problems.FAMILIES),
        help="problem families: seeded (well-conditioned), polynomial (features t..t^127 on [-1, 1]), "
        "scales (columns 1e-6..1e6), tall (N >> d), square (N close to d)",
    )
    p.add_argument("--datasets", type=int, default=6, help="seeded data sets (1-500 points, 1-5 features)")
    p.add_argument("--points", type=int, default=5, help="random (w, b) points per seeded data set")
    p.add_argument(
        "--data",
        metavar="FILE",
        help="check on this data instead, at w = 0, a random point, a far point and its least-squares "
        "optimum. " + problems.DATA_FORMATS,
    )
    p.add_argument("--json", action="store_true", help="print the same as JSON")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="print the traceback of a backend that raised"
    )


def finite_differences(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Central differences of the oracle's loss in every parameter, (dL/dw..., dL/db)."""
    theta = np.r_[w, b]
    grad = np.empty_like(theta)
    for k in range(theta.size):
        h = 1e-5 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        loss = oracle.exact
        grad[k] = (loss(up[:-1], up[-1], x, y)[0] - loss(down[:-1], down[-1], x, y)[0]) / (2 * h)
    return grad


def value_name(i: int, d: int) -> str:
    """Name of entry i of [loss, dL/dw..., dL/db]."""
    return "loss" if i == 0 else "dL/db" if i == d + 1 else f"dL/dw[{i - 1}]"


class Judge:
    """The oracle's answer, tolerance and (seeded cases only) finite differences for every case."""

    def __init__(self, cases: list[Case]) -> None:
        self.cases = cases
        self.tracebacks: dict[str, str] = {}  # backend -> what it raised, for --verbose
        self.wants = [oracle.exact(c.w, c.b, c.x, c.y) for c in cases]
        self.tols = [oracle.tolerance(c.w, c.b, c.x, c.y) for c in cases]
        self.fds = [
            np.r_[want[0], finite_differences(c.w, c.b, c.x, c.y)] if c.family == "seeded" else None
            for c, want in zip(cases, self.wants, strict=True)
        ]

    def oracle_error(self) -> float | None:
        """Worst relative gap between the oracle's gradient and finite differences (None: no FD)."""
        gaps = [
            float(np.max(np.abs(fd - want)) / max(np.max(np.abs(want)), 1e-300))
            for want, fd in zip(self.wants, self.fds, strict=True)
            if fd is not None
        ]
        return max(gaps) if gaps else None

    def verify(self, name: str) -> dict[str, Any]:
        """Worst |error| / tolerance of one backend over every case, where it was, and the FD error."""
        worst: dict[str, Any] = {"ratio": 0.0, "where": "", "abs_error": 0.0, "tolerance": 0.0}
        families: dict[str, float] = {}
        rel_fd: float | None = None
        be = None
        try:
            be = impls.get_backend(name)
            for c, want, tol, fd in zip(self.cases, self.wants, self.tols, self.fds, strict=True):
                loss, gw, gb = be.loss_and_grad(c.w, c.b, c.x, c.y)
                got = np.r_[loss, np.asarray(gw, dtype=np.float64).reshape(-1), gb]
                ratio = oracle.excess(got, want, tol)
                i = int(np.argmax(ratio))
                families[c.family] = max(families.get(c.family, 0.0), float(ratio[i]))
                if ratio[i] > worst["ratio"] or not worst["where"]:
                    what = "negative loss" if not got[0] >= 0 else value_name(i, c.x.shape[1])
                    err = float(abs(got[i] - want[i]))
                    worst = {"ratio": float(ratio[i]), "where": f"{c.label}: {what}", "abs_error": err,
                             "tolerance": float(tol[i])}
                if fd is not None:
                    gap = float(np.max(np.abs(got - fd)) / max(float(np.max(np.abs(fd))), 1e-300))
                    rel_fd = gap if rel_fd is None or not gap <= rel_fd else rel_fd
        except Exception as e:  # a backend that crashes fails the check, the others still run
            self.tracebacks[name] = traceback.format_exc()
            return {"backend": name, "ok": False, "error": _error(e), "worst": worst,
                    "families": families, "rel_fd": rel_fd}
        finally:
            close = getattr(be, "close", None)
            if callable(close):
                close()  # the data-parallel backends keep workers for loss_and_grad
        ok = bool(worst["ratio"] <= 1.0 and (rel_fd is None or rel_fd <= RTOL_FD))  # NaN fails too
        return {"backend": name, "ok": ok, "error": None, "worst": worst, "families": families,
                "rel_fd": rel_fd}


def _error(e: Exception) -> str:
    """One line for a backend that raised; a plugin's own messages already say who and what."""
    return str(e) if isinstance(e, PluginError) else f"{type(e).__name__}: {e}"


def select_cases(args: argparse.Namespace) -> Callable[[], list[Case]]:
    """Check the options now; what makes the cases they ask for (the hard families take seconds)."""
    if args.data is not None:
        mine = problems.from_file(args.data)  # a bad file is bad input: refused before any work
        return lambda: mine
    if args.datasets < 1 or args.points < 1:
        raise UsageError("--datasets and --points must be integers >= 1")
    names = [s.strip() for s in args.families.split(",") if s.strip()]
    unknown = [n for n in names if n not in problems.FAMILIES]
    if unknown or not names:
        valid = ", ".join(problems.FAMILIES)
        raise UsageError(f"unknown family {', '.join(map(repr, unknown))}; valid: {valid}")

    def make() -> list[Case]:
        print("gdbench check: making the problems and their float64 oracle ...", file=sys.stderr, flush=True)
        seeded = problems.seeded(args.datasets, args.points) if "seeded" in names else []
        return seeded + problems.hard(tuple(n for n in problems.FAMILIES[1:] if n in names))

    return make


def main(args: argparse.Namespace) -> int:
    """Check every selected backend; exit 1 if one exceeds the tolerance."""
    if args.data is not None:
        fits_in_memory(args.data, args.backends)
    make = select_cases(args)  # before _select, which imports every framework
    names, skipped = _select(args.backends)
    cases = make()
    judge = Judge(cases)
    print(f"gdbench check: {len(cases)} cases on {len(names)} backend(s)", file=sys.stderr)
    rows = [_verify(judge, n) for n in names]
    if getattr(args, "verbose", False):
        for name, tb in judge.tracebacks.items():
            print(f"{name} raised:\n{tb.rstrip()}", file=sys.stderr)
    counts: dict[str, int] = {}
    for c in cases:
        counts[c.family] = counts.get(c.family, 0) + 1
    report = {
        "tolerance": {"rule": oracle.RULE, "rel_vs_finite_differences": RTOL_FD},
        "cases": len(cases),
        "families": counts,
        "oracle_rel_error_vs_finite_differences": judge.oracle_error(),
        "backends": rows,
        "skipped": [{"backend": n, "reason": r} for n, r in skipped],
        "ok": all(r["ok"] for r in rows),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0 if report["ok"] else 1


def fits_in_memory(path: str, spec: str, free: memory.Available | None = None) -> None:
    """UsageError when checking ``path`` cannot fit in memory here, told from the file's header."""
    found = problems.shape(path)
    if found is None:
        return  # load says what is wrong with the file
    n, d, text = found
    names = impls.backend_names() if spec.strip().lower() == "all" else spec.split(",")
    # The data as floats, a copy for the optimum's solve, the oracle's |x| and products, the scales;
    # a CSV first as Python strings and floats, ~64 bytes a value.
    need = memory.together([s.strip() for s in names], n, d, copies=4 + (8 if text else 0))
    memory.require(need.total, f"gdbench check --data {path} (N = {n:,}, d = {d})", free, "")


def _verify(judge: Judge, name: str) -> dict[str, Any]:
    """One backend's check, with its progress line on stderr."""
    print(f"  {name:<16} checking ...", end="", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        row = judge.verify(name)
    except KeyboardInterrupt:  # end the line before the CLI's own
        print(" interrupted", file=sys.stderr)
        raise
    print(f" {'ok' if row['ok'] else 'FAIL'} ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return row


def _select(spec: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Names to check and (name, reason) skipped; explicit names that cannot run are usage errors."""
    names = impls.backend_names()
    if spec.strip().lower() == "all":
        reasons = {n: impls.unavailable_reason(n) for n in names}
        return [n for n in names if reasons[n] is None], [(n, r) for n, r in reasons.items() if r]
    wanted = list(dict.fromkeys(s.strip() for s in spec.split(",") if s.strip()))
    unknown = [s for s in wanted if s not in names]
    if unknown or not wanted:
        what = f"unknown backend {', '.join(map(repr, unknown))}" if unknown else "no backend named"
        raise UsageError(f"{what}; valid names: {', '.join(names)}, or all")
    for n in wanted:
        why = impls.unavailable_reason(n)
        if why:
            raise UsageError(f"backend {n!r}: unavailable: {why}")
    return wanted, []


def _print(report: dict[str, Any]) -> None:
    head = ["backend", "worst err/tol", "FD rel err", "worst at"]
    rows = [head]
    for r in report["backends"]:
        w, fd = r["worst"], r["rel_fd"]
        verdict = "ok" if r["ok"] else f"FAIL{': ' + r['error'] if r['error'] else ''}"
        fd_text = "-" if fd is None else f"{fd:.1e}"
        rows.append([impls.shown(r["backend"]), f"{w['ratio']:.2g}", fd_text, w["where"], verdict])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for i, row in enumerate(rows):
        cells = [c.ljust(w) for c, w in zip(row[: len(head)], widths, strict=True)]
        print("  ".join(cells + (["result"] if i == 0 else [row[-1]])))
        if i == 0:
            print("  ".join("-" * w for w in widths) + "  ------")
    fams = ", ".join(f"{k} {v}" for k, v in report["families"].items())
    print(f"{report['cases']} cases ({fams}); per case the loss and every gradient component")
    print(f"tolerance: {TOLERANCE}")
    gap = report["oracle_rel_error_vs_finite_differences"]
    if gap is not None:
        print(
            f"finite differences (seeded cases only): rel err <= {RTOL_FD:g}; "
            f"the oracle itself differs from them by at most {gap:.1e}"
        )
    for s in report["skipped"]:
        print(f"skipped {s['backend']}: {s['reason']}", file=sys.stderr)
    failed = [r["backend"] for r in report["backends"] if not r["ok"]]
    print(f"verdict: {'FAILED: ' + ', '.join(failed) if failed else 'all gradients correct'}")
