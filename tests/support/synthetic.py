"""Synthetic timings with a known truth, and the records benchmarks.core.results would build from them."""

from __future__ import annotations

import numpy as np

from benchmarks.core import stats
from benchmarks.core.results import Fit, Run

COUNTS = (50, 100, 200)


def rounds(
    t0: float, te: float, rng: np.random.Generator, n: int = 8, noise: float = 0.02, slow: float = 0.2
) -> dict[int, list[float]]:
    """Rounds of a fit costing t0 + E·te, plus what a shared machine adds: noise only ever adds time.

    Each round gets exponential jitter (mean ``noise`` of its time), and a fraction ``slow`` of the
    rounds fall in a slow period that stretches them 1.2-2.7x, as seen on the development machine.
    """
    out = {}
    for e in COUNTS:
        base = t0 + e * te
        jitter = rng.exponential(noise * base, size=n)
        stretch = np.where(rng.random(n) < slow, rng.uniform(1.2, 2.7, size=n), 1.0)
        out[e] = list(base * stretch + jitter)
    return out


def fit(
    name: str,
    samples: dict[int, list[float]],
    n: int = 100,
    startup: float = 0.0,
    kind: str = "per-pass",
    d: int = 1,
) -> Fit:
    """A schema-2 Fit at N = n, d features, made from rounds alone; ``startup``: its first result."""
    cost = stats.fit_cost(samples)
    top = max(samples)
    q1, med, q3 = stats.median_quartiles([s / top for s in samples[top]])
    return Fit(
        backend=name,
        kind=kind,
        device="cpu",
        dtype="float64",
        n=n,
        mode="nohist",
        epochs=top,
        rounds=len(samples[top]),
        per_epoch=cost.te.value,
        q1=q1,
        q3=q3,
        fit_median=med * top,
        prepare_s=0.0,
        first_call_s=startup,
        mem_bytes=None,
        mem_method=None,
        check_err=0.0,
        samples=samples,
        cost=cost,
        d=d,
    )


def run_of(*fits: Fit) -> Run:
    """A Run holding these fits and nothing else."""
    return Run([], [], [{"schema": 2}], list(fits), [], [], {}, [])
