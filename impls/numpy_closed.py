"""numpy-closed: hand-derived gradients of the mean squared error, no framework at all.

For r = x·w + b - y:  L = mean(r²),  dL/dw = 2·xᵀr / n,  dL/db = 2·mean(r).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .base import TrainConfig
from .trainer import BackendBase, Problem, Trace, run_epochs

Params = tuple[np.ndarray, np.ndarray]  # w of shape (d,), b of shape ()
Step = Callable[[Params], tuple[np.ndarray, Callable[[], Params]]]


def loss_and_grad(
    w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The closed-form (loss, dL/dw, dL/db); dtype follows the inputs."""
    n = x.shape[0]
    r = x @ w + b - y
    return r @ r / n, (2 / n) * (r @ x), (2 / n) * r.sum()


class NumpyClosed(BackendBase):
    """Full-batch gradient descent with the gradient written out by hand."""

    name = "numpy-closed"
    framework = "numpy"
    # The gradient an epoch calls: this module's formula; a plugin's function steps the same way.
    gradient = staticmethod(loss_and_grad)

    def read(self, params: Params) -> tuple[np.ndarray, float]:
        """Copy out (w, b)."""
        return params[0].astype(np.float64), float(params[1])

    def _step(self, x: np.ndarray, y: np.ndarray, lr: np.generic) -> Step:
        """One epoch's step on the prepared data: loss, then the update (numpy-buffered's differs)."""
        grad = type(self).gradient

        def step(p: Params) -> tuple[np.ndarray, Callable[[], Params]]:
            loss, gw, gb = grad(p[0], p[1], x, y)
            return loss, lambda: (p[0] - lr * gw, p[1] - lr * gb)

        return step

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        dt = np.dtype(cfg.dtype)
        step = self._step(prob.x.astype(dt), prob.y.astype(dt), dt.type(cfg.lr))

        def train() -> Trace[Params]:
            params = (prob.w0.astype(dt), np.asarray(prob.b0, dtype=dt))
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not raised
                return run_epochs(step, params, cfg, self.read)

        return train

    def _loss_and_grad(
        self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return loss_and_grad(w, np.asarray(b), x, y)
