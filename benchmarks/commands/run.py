"""Reproduce the tutorial on every backend from the same data and init; table, verdict, figures.

Exit status 0 when every backend agrees with the float64 reference (numpy-closed), 1 when one
disagrees, diverges or fails, 2 when the results could not be saved (they are printed first).
Everything shown is saved to run.json, and the figures are drawn
from that file alone (``gdbench figures run.json`` redraws them).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

import impls
from benchmarks.commands import _progress as progress
from benchmarks.core import memory
from benchmarks.core.files import UsageError, atomic_write_json
from benchmarks.core.fmt import fmt_n
from benchmarks.core.paths import results_dir, rule
from benchmarks.core.sweep import parse_size
from benchmarks.core.verdict import REFERENCE, TOLERANCE, Outcome, judge, optimum, table, vec, verdict
from benchmarks.suite.machine import versions
from impls import Backend, FitResult, PluginError, TrainConfig

# Options some backends take: run argument -> {backend: keyword of impls.get_backend(name, **kw)},
# passed when the argument is set (not None).
BACKEND_OPTIONS: dict[str, dict[str, str]] = {
    "workers": {"torch-ddp": "world_size", "jax-sharded": "devices"},
}
HISTORY_POINTS = 5000  # run.json keeps at most this many epochs per backend, evenly strided
DATA_POINTS = 1000  # and at most this many data points: enough to draw them


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``gdbench run``; the defaults are the tutorial's."""
    d = TrainConfig()
    p.add_argument("--backends", default="all", help="comma-separated names, or all available backends")
    p.add_argument("--size", type=_size, default=100, help="number of data points, e.g. 100, 1e6 or 10**6")
    p.add_argument(
        "--w",
        type=_weights,
        default="0.3",
        help="true weight: one value, or comma-separated values, one per feature (e.g. 0.3,-1,2)",
    )
    p.add_argument("--b", type=_number(float), default=0.5, help="true bias")
    p.add_argument("--noise", type=_number(float, 0), default=0.01, help="half-width of the uniform noise")
    p.add_argument(
        "--features", type=_number(int, 1), default=None, help="features d (default: one per --w value)"
    )
    p.add_argument("--lr", type=_number(float, 0, strict=True), default=d.lr, help="learning rate")
    p.add_argument("--epochs", type=_number(int, 1), default=d.epochs, help="most epochs to run")
    p.add_argument("--tol", type=_number(float, 0), default=d.tol, help="stop below this loss; 0: never")
    p.add_argument("--dtype", choices=impls.DTYPES, default=d.dtype, help="precision of training")
    p.add_argument("--device", choices=impls.DEVICES, default=d.device, help="where to train")
    p.add_argument("--seed", type=_number(int, 0), default=d.seed, help="seed of the data and the init")
    p.add_argument(
        "--workers",
        type=_number(int, 1),
        default=None,
        help="ranks (torch-ddp) or devices (jax-sharded) of the data-parallel backends (default: 2)",
    )
    p.add_argument(
        "--out", type=Path, default=results_dir() / "run", help="folder for figures and run.json"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print w, b, loss every 5 epochs too")
    p.epilog = rule()


def main(args: argparse.Namespace) -> int:
    """Train every selected backend, print the table and verdict, write run.json and figures."""
    fits_in_memory(args)  # before the data exist: a job too big is refused, not killed
    x, y, w_true = _data(args)
    try:
        cfg = TrainConfig(
            lr=args.lr, epochs=args.epochs, tol=args.tol, seed=args.seed, dtype=args.dtype, device=args.device
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    backends, skipped = select(args.backends, args.device, lambda name: backend_options(args, name))
    for name, why in skipped:
        print(f"note: skipping {name}: {why}", file=sys.stderr)
    sys.stderr.write(  # one write with its newline: a Ctrl-C cannot leave the line open
        f"gdbench run: {len(backends)} backend(s), {x.shape[0]} points, {x.shape[1]} feature(s), "
        f"lr={cfg.lr:g}, up to {cfg.epochs} epochs, tol={cfg.tol:g}, {cfg.dtype} on "
        f"{placement(backends, cfg.device)}\n"
    )
    outcomes = [train(name, be, x, y, cfg, args.verbose) for name, be in backends]
    ref = reference(outcomes, x, y, cfg)
    for o in outcomes:
        judge(o, ref, TOLERANCE[cfg.dtype])
    record = run_record(args, cfg, x, y, w_true, outcomes, skipped)
    try:
        atomic_write_json(args.out / "run.json", record)  # first, so the figures can always be redrawn
        from benchmarks.report import tutorial as figures

        written: list[str] | OSError = [p.name for p in figures.write_figures(record, args.out)]
    except OSError as e:  # the folder changed under us: still show what was computed
        written = e
    print(table(record))
    if isinstance(written, list):
        print(f"wrote {args.out / 'run.json'}, {', '.join(written)}")
    status = verdict(outcomes, cfg, ref)
    if isinstance(written, OSError):
        why = written.strerror or str(written)
        print(f"gdbench: error: could not save the results in {args.out}: {why}", file=sys.stderr)
        return 2
    return status


def fits_in_memory(args: argparse.Namespace, free: memory.Available | None = None) -> None:
    """UsageError, naming what the run needs and what is available, when it cannot fit here."""
    d = args.features if args.features is not None else len(args.w)
    spec = args.backends.strip().lower()
    names = impls.backend_names() if spec == "all" else [s.strip() for s in spec.split(",") if s.strip()]
    if args.workers is not None:  # the data-parallel backends with their worker count, as bench names them
        names = [f"{n}-{args.workers}" if n in BACKEND_OPTIONS["workers"] else n for n in names]
    # The history is kept for every backend, and the optimum is a least-squares solve on a copy.
    need = memory.together(names, args.size, d, args.dtype, args.epochs, True, copies=1, generate=True)
    what = f"gdbench run at N = {fmt_n(args.size)}, d = {d} ({len(names)} backend(s), {args.dtype})"
    memory.require(need.total, what, free)


def placement(backends: list[tuple[str, Backend]], device: str) -> str:
    """The device the run trains on; for "auto", the one each backend resolves it to."""
    if device != "auto":
        return device
    chosen: dict[str, list[str]] = {}
    for name, be in backends:
        usable = be.devices() if hasattr(be, "devices") else ["cpu"]
        chosen.setdefault("cuda" if "cuda" in usable else "cpu", []).append(name)
    if len(chosen) == 1:
        return f"{next(iter(chosen))} (auto)"
    return " and ".join(f"{d} for {', '.join(names)}" for d, names in chosen.items()) + " (auto)"


def select(
    spec: str, device: str, options: Callable[[str], dict[str, Any]] = lambda name: {}
) -> tuple[list[tuple[str, Backend]], list[tuple[str, str]]]:
    """Build the requested backends; one named that cannot run is a usage error, else it is skipped."""
    names = impls.backend_names()
    named = spec.strip().lower() != "all"
    wanted = list(dict.fromkeys(s.strip() for s in spec.split(",") if s.strip())) if named else names
    unknown = [s for s in wanted if s not in names]
    if unknown or not wanted:
        what = f"unknown backend {', '.join(map(repr, unknown))}" if unknown else "no backend named"
        raise UsageError(f"{what}; valid names: {', '.join(names)}, or all")
    built, skipped = [], []
    for name in wanted:
        try:
            be = impls.get_backend(name, **options(name))
            usable = be.devices() if hasattr(be, "devices") else ["cpu"]
            why = (
                ""
                if device in ("auto", *usable)
                else (f"device {device!r} is not usable here (usable: {', '.join(usable)})")
            )
        except impls.BackendUnavailable as e:
            why = f"unavailable: {e}"
        if not why:
            built.append((name, be))
        elif named:
            raise UsageError(f"backend {name!r}: {why}")
        else:
            skipped.append((name, why))
    if not built:
        by_reason: dict[str, list[str]] = {}
        for n, w in skipped:
            by_reason.setdefault(w, []).append(n)
        raise UsageError(  # each reason once: with --device cuda it is the same for every backend
            "no backend can run here: "
            + "; ".join(
                f"{f'all {len(ns)} backends' if len(ns) == len(skipped) > 1 else ', '.join(ns)}: {w}"
                for w, ns in by_reason.items()
            )
        )
    return built, skipped


def backend_options(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """The keyword options of backend ``name`` from the run arguments (see BACKEND_OPTIONS)."""
    return {
        kw: getattr(args, arg)
        for arg, by_backend in BACKEND_OPTIONS.items()
        if (kw := by_backend.get(name)) and getattr(args, arg, None) is not None
    }


def train(name: str, be: Backend, x: np.ndarray, y: np.ndarray, cfg: TrainConfig, verbose: bool) -> Outcome:
    """One backend's fit with its warnings caught: divergence goes in the table, not a warning dump."""
    label = f"  {name:<16}"
    out = Outcome(
        name,
        None,
        {
            "framework": str(getattr(be, "framework", "?")),
            "version": str(be.version()) if hasattr(be, "version") else "?",
        },
    )
    drawn = progress.enabled(sys.stderr)
    tb = ""
    if not drawn:
        print(f"{label} training ...", end="", file=sys.stderr, flush=True)
    try:
        with warnings.catch_warnings(record=True) as caught, progress.bar(label, cfg.epochs):
            warnings.simplefilter("always", RuntimeWarning)  # other kinds keep the user's filters
            start = time.perf_counter()
            try:
                out.result = r = be.fit(x, y, cfg)
            except Exception as e:  # one broken backend must not hide the others' results
                why = str(e) if isinstance(e, PluginError) else f"{type(e).__name__}: {e}"
                out.status, out.error = "error", why
                tb = traceback.format_exc()
            out.wall = time.perf_counter() - start
    except KeyboardInterrupt:  # end this backend's line before the CLI's own
        print(f"{label} interrupted" if drawn else " interrupted", file=sys.stderr)
        raise
    if drawn:  # the bar is gone: the line it stood for
        print(f"{label} training ...", end="", file=sys.stderr)
    diverged = out.result is not None and out.result.stop_reason == "diverged"
    said = (str(w.message) for w in caught)
    out.notes = list(dict.fromkeys(m for m in said if not (diverged and "diverged" in m)))  # once each
    done = f"{r.epochs} epochs, {r.stop_reason}, loop {r.seconds:.3f} s" if out.result else out.error
    print(f" {done} (fit() {out.wall:.2f} s with set-up)", file=sys.stderr)
    if verbose and out.result is None:
        print(tb.rstrip(), file=sys.stderr)
    for note in out.notes:
        print(f"    note: {note}", file=sys.stderr)
    if verbose and out.result is not None and r.losses is not None and r.ws is not None and r.bs is not None:
        for i in range(0, len(r.losses), 5):  # the tutorial's lines, read back from the history
            print(
                f"    {i:03d} w = {vec(r.ws[i], '.5f')}, b = {r.bs[i]:.5f} loss = {r.losses[i]:.5f}",
                file=sys.stderr,
            )
    return out


def reference(outcomes: list[Outcome], x: np.ndarray, y: np.ndarray, cfg: TrainConfig) -> FitResult:
    """numpy-closed in float64 on the CPU from the same init: reused if it just ran so, else run."""
    for o in outcomes:
        if o.name == REFERENCE and o.result is not None and cfg.dtype == "float64":
            return o.result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a diverging reference is judged below
        return impls.get_backend(REFERENCE).fit(x, y, dataclasses.replace(cfg, dtype="float64", device="cpu"))


def run_record(
    args: argparse.Namespace,
    cfg: TrainConfig,
    x: np.ndarray,
    y: np.ndarray,
    w_true: list[float],
    outcomes: list[Outcome],
    skipped: list[tuple[str, str]],
) -> dict[str, Any]:
    """Everything the table and figures show, as strict JSON data (non-finite numbers become null)."""
    w_opt, b_opt, loss_opt, rank = optimum(x, y)
    w0, b0 = cfg.initial_params(x.shape[1])
    results = []
    for o in outcomes:
        item: dict[str, Any] = {
            "backend": o.name,
            "plugin": impls.plugin_source(o.name),
            **o.about,
            "status": o.status,
            "error": o.error or None,
            "notes": o.notes,
            "deviation": _num(o.deviation),
            "agrees": o.agrees,
        }
        if (r := o.result) is not None:
            hist = [h if h is not None else np.empty(0) for h in (r.losses, r.ws, r.bs)]
            step = max(1, math.ceil(len(hist[0]) / HISTORY_POINTS))
            item.update(
                w=_nums(r.w),
                b=_num(r.b),
                loss=_num(r.loss),
                epochs=r.epochs,
                stop_reason=r.stop_reason,
                seconds=r.seconds,
                wall_seconds=o.wall,
                device=r.device,
                dtype=r.dtype,
                distance_to_optimum=_num(math.hypot(float(np.linalg.norm(r.w - w_opt)), r.b - b_opt)),
                info={k: str(v) for k, v in r.info.items()},
                history={
                    "stride": step,
                    "loss": _nums(hist[0][::step]),
                    "w": [_nums(v) for v in hist[1][::step]],
                    "b": _nums(hist[2][::step]),
                    "seconds": None if r.times is None else _nums(r.times[::step]),  # since the loop began
                },
            )
        results.append(item)
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k[0] != "_"},
        "data": {
            "w": w_true,
            "b": args.b,
            "size": args.size,
            "noise": args.noise,
            "features": x.shape[1],
            "seed": args.seed,
            "x": [_nums(v) for v in x[:DATA_POINTS]],
            "y": _nums(y[:DATA_POINTS]),
        },
        "train": {**dataclasses.asdict(cfg), "init": [_nums(w0), b0]},
        "reference": REFERENCE,
        "tolerance": TOLERANCE[cfg.dtype],
        "optimum": {
            "w": _nums(w_opt),
            "b": b_opt,
            "loss": loss_opt,
            "rank": rank,
            "parameters": x.shape[1] + 1,
        },
        "results": results,
        "skipped": [{"backend": n, "reason": why} for n, why in skipped],
        "versions": versions(),
    }


def _data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The tutorial's data: x as (n, d), y, and the true weights."""
    d = args.features if args.features is not None else len(args.w)
    if len(args.w) not in (1, d):
        raise UsageError(f"--w has {len(args.w)} values but --features is {d}; give one value or {d}")
    w = args.w * d if len(args.w) == 1 else args.w
    try:
        x, y = impls.make_linear(
            w=w[0] if d == 1 else w, b=args.b, size=args.size, noise=args.noise, seed=args.seed
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    return x.reshape(len(y), d), y, w


def _number(kind: type, low: float | None = None, strict: bool = False) -> Callable[[str], Any]:
    """An argparse type: a finite int or float, at least (or above, if strict) ``low``."""
    need = f"a finite {'integer' if kind is int else 'number'}" + (
        "" if low is None else f" {'>' if strict else '>='} {low:g}"
    )

    def parse(s: str) -> Any:
        try:
            v = kind(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {need}, got {s!r}") from None
        if not math.isfinite(v) or (low is not None and (v < low or (strict and v == low))):
            raise argparse.ArgumentTypeError(f"expected {need}, got {s!r}")
        return v

    return parse


def _size(s: str) -> int:
    """An argparse type: a number of points written as 100, 1e6 or 10**6 (as ``bench --sizes``)."""
    try:
        return parse_size(s)
    except (ValueError, OverflowError):
        need = "an integer >= 1 (e.g. 100, 1e6, 10**6)"
        raise argparse.ArgumentTypeError(f"expected {need}, got {s!r}") from None


def _weights(s: str) -> list[float]:
    return [_number(float)(p) for p in s.split(",")]


def _num(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _nums(a: Any) -> list[float | None]:
    return [_num(float(v)) for v in np.asarray(a, dtype=np.float64).reshape(-1)]
