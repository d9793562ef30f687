"""Properties of every backend on random designs, ill-conditioned ones included (hypothesis).

For any design and point: the loss is >= 0 and, with every gradient component, within the
term-scaled tolerance of ``benchmarks.core.oracle`` (math.fsum of float64 residuals); and no fit
reports stop_reason="tol" at parameters whose loss the direct sum puts above tol.

Runs are derandomized, so ``make test`` sees the same examples every time; set
HYPOTHESIS_PROFILE=explore for fresh random ones and more of them.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import impls
from benchmarks.core import oracle
from tests.support.backends import build

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis not installed (pip install -e '.[dev]')")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "explore", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SIZES = (2, 40)  # few shapes, so the compiling backends compile a few times, not per example
FEATURES = (1, 5)
COSTLY = {"torch-ddp", "jax-sharded", "jax-fused", "torch-compile"}  # workers or a compile per fit


@dataclass(frozen=True)
class Design:
    """A data set (x, y) with a point (w, b) on it."""

    kind: str
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    b: float


@st.composite
def designs(draw: st.DrawFn) -> Design:
    """Random designs: plain, polynomial, nearly collinear or wildly scaled columns; any point."""
    n, d = draw(st.sampled_from(SIZES)), draw(st.sampled_from(FEATURES))
    kind = draw(st.sampled_from(["normal", "polynomial", "collinear", "scaled"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "normal":
        x = rng.normal(size=(n, d))
    elif kind == "polynomial":
        t = rng.uniform(-1, 1, n)
        x = t[:, None] ** rng.choice(np.arange(1, 40), size=d, replace=False)
    elif kind == "collinear":
        x = rng.normal(size=(n, 1)) + 10.0 ** -draw(st.integers(4, 12)) * rng.normal(size=(n, d))
    else:
        x = rng.normal(size=(n, d)) * 10.0 ** rng.uniform(-6, 6, d)
    noise = draw(st.sampled_from([0.0, 1e-8, 1e-2, 1.0]))
    y = x @ rng.normal(size=d) + rng.normal() + noise * rng.normal(size=n)
    sol = np.linalg.lstsq(np.c_[x, np.ones(n)], y, rcond=None)[0]
    where = draw(st.sampled_from(["random", "optimum", "near"]))
    if where == "random":
        w, b = rng.normal(size=d) * 10.0 ** draw(st.integers(-3, 8)), float(rng.normal())
    else:
        jitter = 0.0 if where == "optimum" else 10.0 ** -draw(st.integers(1, 10))
        w, b = sol[:-1] * (1 + jitter * rng.normal(size=d)), float(sol[-1])
    return Design(kind, x, y, w, b)


def examples(name: str, cheap: int, costly: int) -> settings:
    """Hypothesis settings: fewer examples where each one starts workers or compiles."""
    return settings(max_examples=costly if name in COSTLY else cheap)


@pytest.mark.parametrize("name", impls.backend_names())
def test_loss_and_grad_within_the_scaled_tolerance_of_fsum(kept, name):
    backend = kept.get(name) or kept.setdefault(name, build(name))

    @examples(name, cheap=50, costly=15)
    @given(designs())
    def holds(c: Design) -> None:
        loss, gw, gb = backend.loss_and_grad(c.w, c.b, c.x, c.y)
        got = np.r_[loss, gw, gb]
        assert loss >= 0, (c.kind, loss)
        ratio = oracle.excess(got, oracle.exact(c.w, c.b, c.x, c.y), oracle.tolerance(c.w, c.b, c.x, c.y))
        assert np.all(ratio <= 1), (c.kind, ratio)

    holds()


@pytest.mark.parametrize("name", impls.backend_names())
def test_no_fit_stops_on_tol_above_tol(kept, name):
    """Started at or near the optimum, with tol around the least loss: a "tol" stop must be true."""
    backend = kept.get(name) or kept.setdefault(name, build(name))

    @examples(name, cheap=30, costly=4)
    @given(designs(), st.floats(0.5, 2.0))
    def holds(c: Design, factor: float) -> None:
        a = np.c_[c.x, np.ones(len(c.y))]
        lr = 1.0 / max(float(np.linalg.eigvalsh(2 * a.T @ a / len(c.y))[-1]), 1e-300)
        sol = np.linalg.lstsq(a, c.y, rcond=None)[0]
        best = oracle.exact(sol[:-1], float(sol[-1]), c.x, c.y)[0]
        tol = max(best, oracle.exact(c.w, c.b, c.x, c.y)[0] * 1e-3) * factor
        if not (math.isfinite(tol) and tol > 0 and math.isfinite(lr)):
            return
        cfg = impls.TrainConfig(lr=lr, epochs=3, tol=tol, init=(tuple(c.w), c.b), record_history=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a diverging fit is not this property's concern
            res = backend.fit(c.x, c.y, cfg)
        hypothesis.event(f"stop: {res.stop_reason}")
        if res.stop_reason == "tol":
            direct = oracle.exact(res.w, res.b, c.x, c.y)[0]
            slack = oracle.tolerance(res.w, res.b, c.x, c.y)[0]
            assert res.loss >= 0 and direct < tol + slack, (c.kind, res.loss, direct, tol)

    holds()
