"""numpy-moments: exact gradient descent from sufficient statistics, the algorithmic floor.

The loss is quadratic in (w, b), so one pass over the data fixes it completely. With the means
m = mean(x), μ = mean(y), the centred moments C = cov(x, x), c = cov(x, y), v = var(y), and
e = m·w + b - μ (the mean residual), for r = x·w + b - y:

    L = wᵀCw - 2wᵀc + v + e²,   dL/dw = 2(Cw - c) + 2e·m,   dL/db = 2e.

Every epoch then costs O(d²), whatever N is, and follows the same iterates as the per-pass
backends. It is reported apart from them: it does not do the per-epoch work they are timed on.

Precision, on purpose: the moments are accumulated in float64 whatever ``dtype`` is, in blocks
merged by Chan's pairwise update (one pass, no N-sized copy), and the epoch arithmetic is float64
too; ``dtype`` sets the precision the data are rounded to and the parameters are kept in. Near the
optimum L is a small difference of large terms (here var(y) ≈ 200·L), so float32 moments would
lose the loss's last digits that float32 residuals keep; in float64 that costs nothing at O(d²).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .base import TrainConfig
from .trainer import BackendBase, Problem, Trace, run_epochs

Params = tuple[np.ndarray, np.ndarray]  # w of shape (d,), b of shape (), in the working dtype
BLOCK = 1 << 18  # rows per block: float64 copies of a few MB, never N-sized, and few BLAS calls


@dataclass(frozen=True)
class Moments:
    """What the loss needs from the data, centred, in float64."""

    n: int
    mx: np.ndarray  # mean(x), (d,)
    my: float  # mean(y)
    cxx: np.ndarray  # cov(x, x) = mean((x - mx)ᵀ(x - mx)), (d, d)
    cxy: np.ndarray  # cov(x, y), (d,)
    vy: float  # var(y)


def moments(x: np.ndarray, y: np.ndarray) -> Moments:
    """Centred moments of (x, y) in one pass, merging blocks by Chan et al.'s pairwise update."""
    n, d = 0, x.shape[1]
    mx, my = np.zeros(d), 0.0
    sxx, sxy, syy = np.zeros((d, d)), np.zeros(d), 0.0  # sums of centred products
    for lo in range(0, x.shape[0], BLOCK):
        xb = x[lo : lo + BLOCK].astype(np.float64)
        yb = y[lo : lo + BLOCK].astype(np.float64)
        k = xb.shape[0]
        bx, by = xb.mean(axis=0), float(yb.mean())
        xb -= bx
        yb -= by
        dx, dy, f = bx - mx, by - my, n * k / (n + k)
        sxx += xb.T @ xb + f * np.outer(dx, dx)
        sxy += xb.T @ yb + f * dx * dy
        syy += float(yb @ yb) + f * dy * dy
        mx, my, n = mx + dx * (k / (n + k)), my + dy * (k / (n + k)), n + k
    return Moments(n, mx, my, sxx / n, sxy / n, syy / n)


def loss_and_grad(w: np.ndarray, b: float, m: Moments) -> tuple[float, np.ndarray, float]:
    """(loss, dL/dw, dL/db) at (w, b) from the moments alone, in float64."""
    w = w.astype(np.float64)
    cw = m.cxx @ w
    e = float(m.mx @ w) + float(b) - m.my
    return float(w @ cw - 2 * (w @ m.cxy) + m.vy + e * e), 2 * (cw - m.cxy) + 2 * e * m.mx, 2 * e


class NumpyMoments(BackendBase):
    """Gradient descent on the quadratic fixed by one pass over the data."""

    name = "numpy-moments"
    framework = "numpy"

    def __init__(self) -> None:
        self._moments_seconds = 0.0

    def read(self, params: Params) -> tuple[np.ndarray, float]:
        """Copy out (w, b)."""
        return params[0].astype(np.float64), float(params[1])

    def fit_info(self) -> dict[str, object]:
        """Time of the one pass over the data, part of ``seconds`` (the loop itself never reads x)."""
        return {"moments_seconds": self._moments_seconds, "passes_over_data": 1}

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        dt = np.dtype(cfg.dtype)
        x, y = prob.x.astype(dt), prob.y.astype(dt)  # the data every backend of this dtype sees
        lr = float(dt.type(cfg.lr))

        def train() -> Trace[Params]:
            # The pass over the data belongs to every fit, so it is timed with the loop.
            start = time.perf_counter()
            m = moments(x, y)
            self._moments_seconds = time.perf_counter() - start

            def step(p: Params) -> tuple[float, Callable[[], Params]]:
                loss, gw, gb = loss_and_grad(p[0], float(p[1]), m)
                return loss, lambda: ((p[0] - lr * gw).astype(dt), np.asarray(p[1] - lr * gb, dtype=dt))

            params = (prob.w0.astype(dt), np.asarray(prob.b0, dtype=dt))
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not raised
                trace = run_epochs(step, params, cfg, self.read)
            return replace(trace, seconds=trace.seconds + self._moments_seconds)

        return train

    def _loss_and_grad(
        self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray, float]:
        return loss_and_grad(w, b, moments(x, y))
