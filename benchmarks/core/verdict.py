"""How a run is judged and shown: each backend against the float64 reference, the table, the verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.core.fmt import aligned
from impls import FitResult, TrainConfig

REFERENCE = "numpy-closed"  # always available: it needs nothing beyond numpy
# Allowed |value - reference| / max(1, |reference|) on w, b and the loss, at every shared epoch.
# float64 backends differ only in summation order; float32 ones drift ~1e-7 a step from float64.
TOLERANCE = {"float64": 1e-10, "float32": 1e-4}


@dataclass
class Outcome:
    """One backend's fit (None if it raised) and how it compares with the reference."""

    name: str
    result: FitResult | None
    about: dict[str, str]  # framework and version, for the record
    status: str = "ok"  # ok | disagrees | diverged | error
    error: str = ""
    wall: float = math.nan  # the whole fit() call: data placement, compilation, workers, the loop
    deviation: float = math.nan
    agrees: bool = False  # with the reference: same trajectory, or diverging as the reference does
    notes: list[str] = field(default_factory=list)


def judge(o: Outcome, ref: FitResult, tol: float) -> None:
    """Set the outcome's status and its largest relative deviation from the reference."""
    r = o.result
    if r is None:
        return
    if r.stop_reason == "diverged":
        o.status = "diverged"
        if ref.stop_reason == "diverged":  # then diverging is the right answer: compare the way up
            o.deviation = deviation(r, ref, finite=True)
            o.agrees = o.deviation <= tol
        return
    o.deviation = deviation(r, ref)
    if r.stop_reason != ref.stop_reason or not o.deviation <= tol:  # NaN deviates too
        o.status = "disagrees"
    o.agrees = o.status == "ok"


def deviation(r: FitResult, ref: FitResult, finite: bool = False) -> float:
    """Largest |r - ref| / max(1, |ref|) over the shared epochs' loss, w, b, and the final ones.

    With ``finite``, over the shared epochs where both are still finite (two diverging fits).
    """

    def rows(f: FitResult) -> np.ndarray:
        if f.losses is None or f.ws is None or f.bs is None:
            return np.empty((0, 2 + f.w.size))
        return np.column_stack([f.losses, f.ws, f.bs])

    a, b = rows(r), rows(ref)
    k = min(len(a), len(b))
    a, b = a[:k], b[:k]
    if finite:
        keep = np.all(np.isfinite(a), axis=1) & np.all(np.isfinite(b), axis=1)
        a, b = a[keep], b[keep]
    pairs = [(a.ravel(), b.ravel())]
    # runs that stop an epoch apart end an update apart: compare their history only
    if r.epochs == ref.epochs and not finite:
        pairs.append((np.r_[r.loss, r.w, r.b], np.r_[ref.loss, ref.w, ref.b]))
    with np.errstate(invalid="ignore", over="ignore"):
        devs = np.concatenate([np.abs(u - v) / np.maximum(1.0, np.abs(v)) for u, v in pairs])
    return float(np.max(devs, initial=0.0)) if np.all(np.isfinite(devs)) else math.inf


def optimum(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float, int]:
    """Least-squares (w, b), its loss and the rank of [x, 1], by lstsq (least norm if rank-deficient)."""
    a = np.column_stack([x, np.ones(len(x))])
    theta, _, rank, _ = np.linalg.lstsq(a, y, rcond=None)
    return theta[:-1], float(theta[-1]), float(np.mean((a @ theta - y) ** 2)), int(rank)


def verdict(outcomes: list[Outcome], cfg: TrainConfig, ref: FitResult | None = None) -> int:
    """Print the tolerance and the closing lines; 0 if every backend agrees and converges, else 1."""
    tol = TOLERANCE[cfg.dtype]
    print(
        f"tolerance ({cfg.dtype}): |value - {REFERENCE} float64| <= {tol:g} x max(1, |value|) for w, b "
        f"and the loss at every shared epoch (float64: {TOLERANCE['float64']:g}, "
        f"float32: {TOLERANCE['float32']:g})"
    )
    bad = {s: [o for o in outcomes if o.status == s] for s in ("diverged", "disagrees", "error")}
    if bad["diverged"]:
        many = len(bad["diverged"]) == len(outcomes) > 1
        names = f"all {len(outcomes)} backends" if many else ", ".join(o.name for o in bad["diverged"])
        print(f"diverged: {names} (lr={cfg.lr:g}); try a smaller --lr")
    if bad["disagrees"]:
        worst = ", ".join(f"{o.name} (by {o.deviation:.2g})" for o in bad["disagrees"])
        print(f"disagree with {REFERENCE}: {worst}")
    if bad["error"]:
        print("failed: " + "; ".join(f"{o.name}: {o.error}" for o in bad["error"]))
    n = len(outcomes)
    failed = [o for o in outcomes if not o.agrees]
    if not failed and not bad["diverged"]:
        print(f"verdict: every backend agrees ({n} of {n})")
        return 0
    if not failed and len(bad["diverged"]) == n and ref is not None and ref.stop_reason == "diverged":
        print(
            f"verdict: every backend diverged at lr={cfg.lr:g}, as the {REFERENCE} float64 reference "
            f"does after {ref.epochs} epoch(s), and they agree in doing so ({n} of {n})"
        )
        return 1
    print(f"verdict: the backends do NOT agree ({len(failed)} of {n} diverged, disagree or failed)")
    return 1


def table(record: dict[str, Any]) -> str:
    """The results of a run record as an aligned text table."""
    rows = [["backend", "w", "b", "final loss", "epochs", "stop", "loop (s)", "|θ-θ*|", "vs ref", "agrees"]]
    for r in record["results"]:
        name = r["backend"] + (" (plugin)" if r.get("plugin") else "")
        if r.get("epochs") is None:
            rows.append([name, "-", "-", "-", "-", "error", "-", "-", "-", "NO"])
            continue
        rows.append(
            [
                name,
                vec(r["w"], ".6g"),
                fmt(r["b"], ".6g"),
                fmt(r["loss"], ".3e"),
                str(r["epochs"]),
                r["stop_reason"],
                f"{r['seconds']:.3f}",
                fmt(r["distance_to_optimum"], ".2e"),
                fmt(r["deviation"], ".1e"),
                "yes" if r.get("agrees", r["status"] == "ok") else "NO",
            ]
        )
    lines = aligned(rows, rule=True)
    opt = record["optimum"]
    lines.append(
        f"θ* = least-squares optimum: w = {vec(opt['w'], '.6g')}, b = {opt['b']:.6g}, "
        f"loss {opt['loss']:.3e}; |θ-θ*| is each fit's distance to it"
    )
    if "rank" in opt and opt["rank"] < opt["parameters"]:  # older run.json files have no rank
        n, p = record["data"]["size"], opt["parameters"]
        lines.append(
            f"note: underdetermined: {n} point(s) with rank {opt['rank']} for {p} parameters (w and b), "
            f"so every θ on a line (or plane) of exact fits has this loss; θ* is the one of least norm, "
            f"and |θ-θ*| says how far each fit lies from that choice, not how wrong it is"
        )
    return "\n".join(lines)


def fmt(v: float | None, spec: str) -> str:
    """A number in ``spec``, or "-" where there is none (non-finite in run.json)."""
    return "-" if v is None else format(v, spec)


def vec(w: Any, spec: str) -> str:
    """One weight as a number, several as a list, more than three shortened."""
    vals = [fmt(None if v is None else float(v), spec) for v in np.asarray(w, dtype=object).ravel()]
    return vals[0] if len(vals) == 1 else "[" + ", ".join(vals[:3] + (["…"] if len(vals) > 3 else [])) + "]"
