"""The harness's own cost per epoch around a plugin's loss_and_grad, beside numpy-closed's, at N = 100.

    .venv/bin/python tools/plugin_overhead.py [--size 100] [--epochs 2000] [--repeats 30]

For each backend, the loop time of a fit (FitResult.seconds, tol = 0 so every fit makes exactly
``--epochs`` updates) per epoch, minus the same function and update in a bare Python loop: what
the shared trainer adds (the stop rule, the divergence test, the closure per epoch; with history,
copying w and b out). Medians of ``--repeats`` interleaved runs; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import impls
from impls import numpy_closed, plugins

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mygd.py"


def bare(func: Callable[..., Any], x: np.ndarray, y: np.ndarray, cfg: impls.TrainConfig) -> float:
    """Seconds per epoch of ``func`` and the update in a plain loop: no harness at all."""
    w, b0 = cfg.initial_params(x.shape[1])
    b, lr = np.asarray(b0), cfg.lr
    start = time.perf_counter()
    for _ in range(cfg.epochs):
        _, gw, gb = func(w, b, x, y)
        w, b = w - lr * gw, b - lr * gb
    return (time.perf_counter() - start) / cfg.epochs


def main() -> int:
    """Print the median per-epoch cost of each loop and each harness's overhead, in µs."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--epochs", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=30)
    args = p.parse_args()
    plugins.load(str(EXAMPLE))
    user = impls.get_backend("mygd")
    closed = impls.get_backend("numpy-closed")
    x, y = impls.make_linear(w=0.3, b=0.5, size=args.size, noise=0.01, seed=0)
    x = x.reshape(-1, 1)
    func = type(user).gradient  # type: ignore[attr-defined]
    for history in (False, True):
        cfg = impls.TrainConfig(epochs=args.epochs, tol=0.0, record_history=history)
        runs: dict[str, list[float]] = {k: [] for k in ("bare mygd", "bare closed", "mygd", "closed")}
        fit_user, fit_closed = user.prepare(x, y, cfg), closed.prepare(x, y, cfg)
        for _ in range(args.repeats):  # interleaved, so drift in the machine hits all four alike
            runs["bare mygd"].append(bare(func, x, y, cfg))
            runs["mygd"].append(fit_user().seconds / args.epochs)
            runs["bare closed"].append(bare(numpy_closed.loss_and_grad, x, y, cfg))
            runs["closed"].append(fit_closed().seconds / args.epochs)
        med = {k: statistics.median(v) * 1e6 for k, v in runs.items()}
        mode = "history" if history else "nohist"
        print(
            f"N={args.size} {mode}, µs per epoch, median of {args.repeats}: "
            f"bare mygd {med['bare mygd']:.2f}, plugin mygd {med['mygd']:.2f}, "
            f"bare numpy-closed function {med['bare closed']:.2f}, numpy-closed {med['closed']:.2f}; "
            f"harness overhead: plugin {med['mygd'] - med['bare mygd']:.2f}, "
            f"numpy-closed {med['closed'] - med['bare closed']:.2f}; "
            f"plugin - numpy-closed {med['mygd'] - med['closed']:+.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
