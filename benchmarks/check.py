"""Verify each backend's loss_and_grad against the hand-derived gradient and finite differences.

The oracle is the closed form of the mean squared error in float64, written again here rather
than imported, so that no backend is checked against its own code. Central differences check
the oracle in turn: the loss is quadratic, so they are exact up to rounding.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

import impls

from .common import UsageError

# |backend - oracle| <= RTOL x max|oracle| over the loss and every gradient component. Every
# backend computes in float64, so only summation order separates it from the closed form.
RTOL_EXACT = 1e-10
# Central differences lose ~eps·L/h to rounding: at most ~1e-10 relative here with h = 1e-5·max(1, |θ|).
RTOL_FD = 1e-7
Case = tuple[np.ndarray, float, np.ndarray, np.ndarray]  # (w, b, x, y)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench check``."""
    p.add_argument("--backends", default="all", help="comma-separated backend names, or all available ones")
    p.add_argument("--datasets", type=int, default=6, help="seeded data sets (1-500 points, 1-5 features)")
    p.add_argument("--points", type=int, default=5, help="random (w, b) points per data set")
    p.add_argument("--json", action="store_true", help="print the same as JSON")


def exact(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, float]:
    """The hand-derived (loss, dL/dw, dL/db) for r = x·w + b - y: mean(r²), 2·xᵀr/n, 2·mean(r)."""
    r = x @ w + b - y
    return float(np.mean(r**2)), 2.0 * (x.T @ r) / len(y), 2.0 * float(np.mean(r))


def finite_differences(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Central differences of the float64 loss in every parameter, (dL/dw..., dL/db)."""
    theta = np.r_[w, b]
    grad = np.empty_like(theta)
    for k in range(theta.size):
        h = 1e-5 * max(1.0, abs(theta[k]))
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (exact(up[:-1], up[-1], x, y)[0] - exact(down[:-1], down[-1], x, y)[0]) / (2 * h)
    return grad


def cases(datasets: int, points: int) -> list[Case]:
    """Seeded (w, b, x, y): varied sizes, features and scales, points away from the optimum."""
    out = []
    for i in range(datasets):
        rng = np.random.default_rng([i, 7])
        d, n = 1 + i % 5, (1, 7, 100, 500)[i % 4]
        x, y = impls.make_linear(w=list(rng.normal(size=d)), b=float(rng.normal()), size=n, noise=0.1, seed=i)
        x = x.reshape(n, d) * (10.0 ** (i % 3 - 1))  # scales 0.1, 1, 10
        out += [(rng.normal(scale=2.0, size=d), float(rng.normal(scale=2.0)), x, y) for _ in range(points)]
    return out


def answers(all_cases: list[Case]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each case, (loss, gradient) from the hand-derived formula and from finite differences."""
    out = []
    for w, b, x, y in all_cases:
        loss, gw, gb = exact(w, b, x, y)
        out.append((np.r_[loss, gw, gb], np.r_[loss, finite_differences(w, b, x, y)]))
    return out


def verify(name: str, all_cases: list[Case], wants: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Worst absolute and relative errors of one backend against the oracle and finite differences."""
    worst = {"abs_exact": 0.0, "rel_exact": 0.0, "abs_fd": 0.0, "rel_fd": 0.0}
    try:
        be = impls.get_backend(name)
        for (w, b, x, y), pair in zip(all_cases, wants, strict=True):
            loss, gw, gb = be.loss_and_grad(w, b, x, y)
            got = np.r_[loss, np.asarray(gw, dtype=np.float64).reshape(-1), gb]
            for key, want in zip(("exact", "fd"), pair, strict=True):
                err = float(np.max(np.abs(got - want)))
                worst[f"abs_{key}"] = max(worst[f"abs_{key}"], err)
                worst[f"rel_{key}"] = max(worst[f"rel_{key}"], err / max(float(np.max(np.abs(want))), 1e-300))
    except Exception as e:  # a backend that crashes fails the check, the others still run
        return {"backend": name, "ok": False, "error": f"{type(e).__name__}: {e}", **worst}
    ok = bool(worst["rel_exact"] <= RTOL_EXACT and worst["rel_fd"] <= RTOL_FD)  # NaN fails too
    return {"backend": name, "ok": ok, "error": None, **worst}


def oracle_error(wants: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Worst relative gap between the hand-derived gradient and finite differences."""
    return max(float(np.max(np.abs(fd - ex)) / max(np.max(np.abs(ex)), 1e-300)) for ex, fd in wants)


def main(args: argparse.Namespace) -> int:
    """Check every selected backend; exit 1 if one exceeds the tolerance."""
    if args.datasets < 1 or args.points < 1:
        raise UsageError("--datasets and --points must be integers >= 1")
    names, skipped = _select(args.backends)
    all_cases = cases(args.datasets, args.points)
    wants = answers(all_cases)
    rows = [verify(n, all_cases, wants) for n in names]
    report = {
        "tolerance": {"rel_vs_hand_derived": RTOL_EXACT, "rel_vs_finite_differences": RTOL_FD},
        "cases": len(all_cases),
        "oracle_rel_error_vs_finite_differences": oracle_error(wants),
        "backends": rows,
        "skipped": [{"backend": n, "reason": r} for n, r in skipped],
        "ok": all(r["ok"] for r in rows),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0 if report["ok"] else 1


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
    head = ["backend", "abs err", "rel err", "abs err (FD)", "rel err (FD)", "result"]
    rows = [head]
    for r in report["backends"]:
        verdict = "ok" if r["ok"] else f"FAIL{': ' + r['error'] if r['error'] else ''}"
        rows.append(
            [r["backend"], *(f"{r[k]:.1e}" for k in ("abs_exact", "rel_exact", "abs_fd", "rel_fd")), verdict]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
        if i == 0:
            print("  ".join("-" * w for w in widths) + "  ------")
    tol = report["tolerance"]
    print(
        f"{report['cases']} cases; errors are the worst over the loss and every gradient component, "
        f"relative to the largest of them"
    )
    print(
        f"tolerance: rel err <= {tol['rel_vs_hand_derived']:g} against the hand-derived float64 gradient, "
        f"<= {tol['rel_vs_finite_differences']:g} against central finite differences (FD)"
    )
    gap = report["oracle_rel_error_vs_finite_differences"]
    print(f"the oracle itself: hand-derived and FD gradients differ by at most {gap:.1e} (relative)")
    for s in report["skipped"]:
        print(f"skipped {s['backend']}: {s['reason']}", file=sys.stderr)
    failed = [r["backend"] for r in report["backends"] if not r["ok"]]
    print(f"verdict: {'FAILED: ' + ', '.join(failed) if failed else 'all gradients correct'}")
