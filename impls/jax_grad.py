"""jax-grad: ``jax.value_and_grad`` of the loss inside one jitted step, called from Python."""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import _jax
from .base import TrainConfig
from .trainer import Problem, Trace, run_epochs

Params = tuple[jax.Array, jax.Array]


@jax.jit
def step(
    w: jax.Array, b: jax.Array, x: jax.Array, y: jax.Array, lr: float
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Loss at (w, b) and the parameters after one update; lr is traced, so it never retraces."""
    loss, (gw, gb) = jax.value_and_grad(_jax.mse, argnums=(0, 1))(w, b, x, y)
    return loss, w - lr * gw, b - lr * gb


class JaxGrad(_jax.JaxBackend):
    """Functional gradient descent: parameters are immutable arrays, each step returns new ones.

    ``FitResult.info``: seconds the first call of the last prepared fit spent compiling (or finding) the step.
    """

    name = "jax-grad"

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        dev = _jax.device(device)
        with _jax.precision(cfg.dtype):
            dt = jnp.dtype(cfg.dtype)
            x = jax.device_put(prob.x.astype(dt), dev)
            y = jax.device_put(prob.y.astype(dt), dev)
            init = (jax.device_put(prob.w0.astype(dt), dev), jax.device_put(np.asarray(prob.b0, dt), dev))

        def one(p: Params) -> tuple[jax.Array, Callable[[], Params]]:
            loss, w, b = step(p[0], p[1], x, y, cfg.lr)
            return loss, lambda: (w, b)

        compiled = False

        def train() -> Trace[Params]:
            nonlocal compiled
            with _jax.precision(cfg.dtype):  # traces made here see float64 when asked for
                if not compiled:  # compile before the clock: the cost goes to info, not seconds
                    start = time.perf_counter()
                    jax.block_until_ready(step(*init, x, y, cfg.lr))
                    self._info = {"first_call_seconds": time.perf_counter() - start}
                    compiled = True
                return run_epochs(one, init, cfg, self.read, jax.block_until_ready)

        return train
