"""jax-fused: the whole training loop, stop rule and history included, in one jitted call.

``lax.while_loop`` runs ``trainer.run_epochs``'s contract on the device: its carry holds the
epoch, (w, b), the last loss, a stop code and, when history is recorded, preallocated buffers
that each epoch writes one row of. Python is entered once per fit instead of once per epoch, and
XLA allocates its temporaries (one N-vector at d = 1) once per call, not per epoch.

``fit_loop`` is jitted once at module level, so one compiled loop serves every ``fit`` and every
``prepare()`` with the same shapes, dtype and history capacity. lr, tol, the epoch limit and the
init are traced arguments. The capacity is static because buffer shapes must be: it is
``cfg.epochs`` with history (so a new epoch count compiles a new loop) and 0 without (so it
does not).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _jax
from .base import StopReason, TrainConfig
from .trainer import Problem, Trace

Params = tuple[jax.Array, jax.Array]
RUNNING, TOL, DIVERGED = np.int32(0), np.int32(1), np.int32(2)  # int32, as the carry holds them
STOPS: dict[int, StopReason] = {0: "max_epochs", 1: "tol", 2: "diverged"}
trace_count = 0  # times fit_loop has been traced in this process; tests assert it is reused


class History(NamedTuple):
    """Preallocated buffers with one row per epoch the loop may run.

    ``FitResult.info``: compile time the last fit paid before its loop (0 when reused), and traces so far.
    """

    losses: jax.Array
    ws: jax.Array
    bs: jax.Array


class Carry(NamedTuple):
    """The loop's state."""

    epoch: jax.Array  # updates made so far
    w: jax.Array
    b: jax.Array
    loss: jax.Array  # loss at the start of the last epoch run
    stop: jax.Array  # RUNNING, TOL or DIVERGED
    history: History | None  # None without history: no buffers, and fewer outputs to hand back


@partial(jax.jit, static_argnames="capacity")
def fit_loop(
    w: jax.Array,
    b: jax.Array,
    x: jax.Array,
    y: jax.Array,
    lr: jax.Array,
    tol: jax.Array,
    epochs: jax.Array,
    capacity: int,
) -> Carry:
    """Up to ``epochs`` epochs of gradient descent under the shared stop rule, on the device."""
    global trace_count
    trace_count += 1  # runs only while tracing
    value_and_grad = jax.value_and_grad(_jax.mse, argnums=(0, 1))

    def running(c: Carry) -> jax.Array:
        return (c.epoch < epochs) & (c.stop == RUNNING)

    def epoch(c: Carry) -> Carry:
        loss, (gw, gb) = value_and_grad(c.w, c.b, x, y)
        stop = jnp.where(jnp.isfinite(loss), jnp.where(loss < tol, TOL, RUNNING), DIVERGED)
        go = stop == RUNNING  # the stopping epoch makes no update
        new_w = jnp.where(go, c.w - lr * gw, c.w)
        new_b = jnp.where(go, c.b - lr * gb, c.b)
        h = c.history
        if h is not None:  # a stopping epoch writes a row too; the host slices it off
            i = c.epoch
            h = History(h.losses.at[i].set(loss), h.ws.at[i].set(new_w), h.bs.at[i].set(new_b))
        return Carry(c.epoch + go, new_w, new_b, loss, stop, h)

    dt = x.dtype
    history = History(jnp.zeros(capacity, dt), jnp.zeros((capacity, w.shape[0]), dt), jnp.zeros(capacity, dt))
    start = Carry(jnp.int32(0), w, b, jnp.full((), jnp.nan, dt), RUNNING, history if capacity else None)
    return lax.while_loop(running, epoch, start)


def threshold(tol: float, dtype: np.dtype) -> np.ndarray:
    """The smallest ``dtype`` value t >= tol, so that ``loss < t`` in dtype means ``loss < tol`` exactly."""
    t = np.asarray(tol, dtype=dtype)
    return t if t >= tol else np.nextafter(t, np.asarray(np.inf, dtype))


class JaxFused(_jax.JaxBackend):
    """Gradient descent with the epoch loop compiled: one device call per fit."""

    name = "jax-fused"

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        dev = _jax.device(device)
        capacity = cfg.epochs if cfg.record_history else 0
        with _jax.precision(cfg.dtype):
            dt = np.dtype(cfg.dtype)
            args = jax.device_put(
                (
                    prob.w0.astype(dt),
                    np.asarray(prob.b0, dt),
                    prob.x.astype(dt),
                    prob.y.astype(dt),
                    np.asarray(cfg.lr, dt),
                    threshold(cfg.tol, dt),
                    np.int32(cfg.epochs),
                ),
                dev,
            )
            no_epochs = jax.device_put(np.int32(0), dev)
        compiled = False

        def compile_loop() -> float:
            """Trace and compile by a call that runs no epoch; seconds spent, 0 if jit had it cached."""
            traces, start = trace_count, time.perf_counter()
            jax.block_until_ready(fit_loop(*args[:-1], no_epochs, capacity=capacity))
            return time.perf_counter() - start if trace_count > traces else 0.0

        def train() -> Trace[Params]:
            nonlocal compiled
            with _jax.precision(cfg.dtype):
                # The first call compiles before its clock starts: the cost shows in its wall time
                # and in info, never in Trace.seconds.
                compile_seconds = 0.0 if compiled else compile_loop()
                compiled = True
                start = time.perf_counter()
                c = jax.block_until_ready(fit_loop(*args, capacity=capacity))
                seconds = time.perf_counter() - start
            n, h = int(c.epoch), c.history
            self._info = {"compile_seconds": compile_seconds, "traces": trace_count}
            return Trace(
                (c.w, c.b),
                float(c.loss),
                n,
                STOPS[int(c.stop)],
                None if h is None else np.asarray(h.losses)[:n].tolist(),
                None if h is None else list(np.asarray(h.ws)[:n]),
                None if h is None else np.asarray(h.bs)[:n].tolist(),
                seconds,
            )

        return train
