"""A gdbench plugin in its full form: a backend class, for when the loop itself is what you measure.

    gdbench run --plugin examples/mygd_backend.py --backends mygd-inplace,numpy-closed

Subclassing impls.BackendBase gives validation, the init, device handling and the FitResult;
run_epochs gives the contract (stop rule, history, divergence). Yours are the three methods below.
Any class with ``name``, ``fit``, ``prepare`` and ``loss_and_grad`` (impls.Backend) is accepted too.
"""

from collections.abc import Callable

import numpy as np

from impls import BackendBase, TrainConfig
from impls.trainer import Problem, Trace, run_epochs


class MygdInplace(BackendBase):
    """Gradient descent that updates w and b in place, with the residuals in one buffer."""

    name = "mygd-inplace"
    framework = "numpy"

    def read(self, params: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, float]:
        return params[0].astype(np.float64), float(params[1])

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace]:
        dt = np.dtype(cfg.dtype)
        x, y = prob.x.astype(dt), prob.y.astype(dt)
        n, lr = x.shape[0], dt.type(cfg.lr)
        r = np.empty_like(y)

        def step(p: tuple[np.ndarray, np.ndarray]):
            w, b = p
            np.matmul(x, w, out=r)
            np.add(r, b, out=r)
            np.subtract(r, y, out=r)
            loss = r @ r / n

            def update() -> tuple[np.ndarray, np.ndarray]:
                np.subtract(w, lr * (2 / n) * (r @ x), out=w)  # r still holds this epoch's residuals
                np.subtract(b, lr * (2 / n) * r.sum(), out=b)
                return w, b

            return loss, update

        def train() -> Trace:
            params = (prob.w0.astype(dt), np.asarray(prob.b0, dtype=dt))  # b: a 0-d array, updated in place
            with np.errstate(over="ignore", invalid="ignore"):
                return run_epochs(step, params, cfg, self.read)

        return train

    def _loss_and_grad(self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray):
        n = x.shape[0]
        r = x @ w + b - y
        return r @ r / n, (2 / n) * (r @ x), (2 / n) * r.sum()
