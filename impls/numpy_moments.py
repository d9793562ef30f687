"""numpy-moments: exact gradient descent from sufficient statistics, the algorithmic floor.

The loss is quadratic in (w, b), so one pass over the data fixes it completely. With the means
m = mean(x), μ = mean(y), the centred data X_c = x - m, y_c = y - μ, and e = m·w + b - μ (the
mean residual), for r = x·w + b - y:

    n·L = ‖X_c w - y_c‖² + n·e²,   dL/dw = (2/n)·X_cᵀ(X_c w - y_c) + 2e·m,   dL/db = 2e.

The pass keeps the triangular factor of a thin QR of [X_c | y_c], R̃ = [[R, z], [0, ρ]], so
X_c = QR, z = Qᵀy_c and ρ = ‖y_c - QQᵀy_c‖. Then with s = Rw - z:

    n·L = ‖s‖² + ρ² + n·e²,   dL/dw = (2/n)·Rᵀs + 2e·m,

a sum of non-negative terms, where the moments form wᵀCw - 2wᵀc + var(y) cancelled
catastrophically on nearly singular C (a negative loss at the optimum of polynomial features).
Every epoch costs O(d²) (two triangular products), whatever N is, and follows the same iterates
as the per-pass backends within rounding. It is reported apart from them: it does not do the
per-epoch work they are timed on.

Precision, on purpose: the pass runs in float64 whatever ``dtype`` is, in blocks merged by Chan's
pairwise update written as one extra row of the stacked QR (one pass, no N-sized copy), and the
epoch arithmetic is float64 too; ``dtype`` sets the precision the data are rounded to and the
parameters are kept in.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .base import TrainConfig
from .trainer import BackendBase, Problem, Trace, run_epochs

Params = tuple[np.ndarray, np.ndarray]  # w of shape (d,), b of shape (), in the working dtype
BLOCK = 1 << 14  # rows per block: [x | y] of a block stays in cache for its QR (fastest measured)
HAND_QR_COLUMNS = 8  # up to this many columns of [x | y], r_factor reflects by hand


@dataclass(frozen=True)
class Moments:
    """What the loss needs from the data, centred and factored, in float64."""

    n: int
    mx: np.ndarray  # mean(x), (d,)
    my: float  # mean(y)
    r: np.ndarray  # R of the thin QR of X_c, upper triangular (d, d)
    z: np.ndarray  # Qᵀy_c, (d,)
    rho2: float  # ‖y_c - QQᵀy_c‖², the part of y_c no w reaches


def moments(x: np.ndarray, y: np.ndarray) -> Moments:
    """Means and the QR factor of the centred [x | y] in one pass, merging blocks by Chan's update.

    Chan et al.'s update adds f·δδᵀ to the sum of centred outer products when a block with mean
    offset δ joins (f = n·k / (n + k)); as a QR that is one more row, √f·δ, stacked under the
    running factor and the block's own centred rows. The stack is held transposed (a matrix
    column per row of ``cols``), so the means and the reflections run along contiguous memory.
    """
    n, d = 0, x.shape[1]
    mx, my = np.zeros(d), 0.0
    tri = np.zeros((0, d + 1))  # the running R̃ of the centred [x | y] seen so far
    for lo in range(0, x.shape[0], BLOCK):
        k, p = min(BLOCK, x.shape[0] - lo), tri.shape[0]
        cols = np.empty((d + 1, p + k + 1))
        block = cols[:, p : p + k]
        block[:d] = x[lo : lo + k].T
        block[d] = y[lo : lo + k]
        mean = block.mean(axis=1)
        block -= mean[:, None]
        delta, f = mean - np.r_[mx, my], n * k / (n + k)
        cols[:, :p] = tri.T
        cols[:, -1] = np.sqrt(f) * delta
        tri = r_factor(cols)
        mx, my, n = mx + delta[:d] * (k / (n + k)), my + float(delta[d]) * (k / (n + k)), n + k
    full = np.zeros((d + 1, d + 1))  # fewer rows than d + 1 when n <= d: the rest are zero
    full[: tri.shape[0]] = tri
    return Moments(n, mx, my, np.triu(full[:d, :d]), full[:d, d].copy(), float(full[d, d] ** 2))


def r_factor(cols: np.ndarray) -> np.ndarray:
    """R of the thin QR of ``cols.T`` (signs of its rows aside); ``cols`` is overwritten.

    Householder reflections written out for a few columns, where LAPACK's call costs more than
    the arithmetic (~3x faster per block of 16384 rows at d = 1, measured here); LAPACK's blocked
    QR for more.
    """
    c, m = cols.shape
    if c > HAND_QR_COLUMNS:
        return np.asarray(np.linalg.qr(cols.T, mode="r"))
    r = np.zeros((min(c, m), c))
    for j in range(min(c, m)):
        col, rest = cols[j, j:], cols[j + 1 :, j:]
        s = math.sqrt(float(col @ col))
        if s > 0.0:
            alpha = -s if col[0] >= 0 else s  # v[0] = col[0] - alpha never cancels
            v = col.copy()
            v[0] -= alpha
            rest -= ((rest @ v) * (2.0 / float(v @ v)))[:, None] * v
            r[j, j] = alpha
        r[j, j + 1 :] = rest[:, 0]
    return r


def loss_and_grad(w: np.ndarray, b: float, m: Moments) -> tuple[float, np.ndarray, float]:
    """(loss, dL/dw, dL/db) at (w, b) from the factored moments alone, in float64."""
    w = w.astype(np.float64)
    s = m.r @ w - m.z
    e = float(m.mx @ w) + float(b) - m.my
    loss = (float(s @ s) + m.rho2) / m.n + e * e
    return loss, (2 / m.n) * (m.r.T @ s) + 2 * e * m.mx, 2 * e


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
