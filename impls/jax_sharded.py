"""jax-sharded: the data sharded over several devices along the sample axis, one psum per epoch.

``shard_map`` runs the same local sums as torch-ddp on each device's rows (Σr², Σr, Σr·x) and
``psum`` adds them across the mesh, inside one jitted step compiled once per prepared fit (before
the timed loop). JAX wants equal shards, so N is padded up to a multiple of the device count with
rows whose mask is 0: their residual is multiplied by exactly 0, so the sums, and the trajectory,
are those of the unpadded data.

A process has as many CPU devices as XLA was told when JAX's backend started, normally one. When
this process has too few, the fit runs in one worker process that sets
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before its backend starts; the worker is kept
for every call of one prepared fit and reaped afterwards, like torch-ddp's ranks.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from . import _dist, _jax
from .base import TrainConfig
from .trainer import Problem, Trace, run_epochs

Params = tuple[jax.Array, jax.Array]
Grads = tuple[float, np.ndarray, float]  # (loss, dL/dw, dL/db) on the host
AXIS = "data"


def make_sums(mesh: Mesh) -> Callable[..., tuple[jax.Array, jax.Array, jax.Array]]:
    """(Σr², Σr, Σr·x) over all shards of ``mesh``: each device's local sums, then one psum."""

    def local(w: jax.Array, b: jax.Array, x: jax.Array, y: jax.Array, mask: jax.Array) -> Any:
        r = (x @ w + b - y) * mask  # padded rows contribute exactly 0
        return jax.lax.psum((r @ r, r.sum(), r @ x), AXIS)

    rows = P(AXIS)
    return jax.shard_map(local, mesh=mesh, in_specs=(P(), P(), P(AXIS, None), rows, rows), out_specs=P())


def make_step(mesh: Mesh) -> Any:
    """The jitted epoch over ``mesh``: (loss, new w, new b) from the global sums."""
    sums = make_sums(mesh)

    @jax.jit
    def step(
        w: jax.Array, b: jax.Array, x: jax.Array, y: jax.Array, mask: jax.Array, n: jax.Array, lr: float
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        s2, s1, sx = sums(w, b, x, y, mask)
        return s2 / n, w - lr * (2 / n) * sx, b - lr * (2 / n) * s1

    return step


def place(mesh: Mesh, x: np.ndarray, y: np.ndarray, dtype: str) -> tuple[jax.Array, ...]:
    """(x, y, mask, n) on ``mesh``: rows sharded, N padded to a multiple of the devices with mask 0."""
    n, parts = x.shape[0], mesh.devices.size
    pad = -n % parts
    dt = jnp.dtype(dtype)
    rows = NamedSharding(mesh, P(AXIS))
    return (
        jax.device_put(np.pad(x, ((0, pad), (0, 0))).astype(dt), NamedSharding(mesh, P(AXIS, None))),
        jax.device_put(np.pad(y, (0, pad)).astype(dt), rows),
        jax.device_put((np.arange(n + pad) < n).astype(dt), rows),
        jax.device_put(np.asarray(n, dt), NamedSharding(mesh, P())),
    )


def make_loss_and_grad(mesh: Mesh) -> Callable[[np.ndarray, float, np.ndarray, np.ndarray], Grads]:
    """(loss, dL/dw, dL/db) in float64 by the training path: sharded, padded, psum'd sums on ``mesh``."""
    sums = jax.jit(make_sums(mesh))

    def loss_and_grad(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> Grads:
        with _jax.precision("float64"):
            xs, ys, mask, n = place(mesh, x, y, "float64")
            s2, s1, sx = sums(jnp.asarray(w), jnp.asarray(b), xs, ys, mask)
            return float(s2 / n), np.asarray((2 / n) * sx), float((2 / n) * s1)

    return loss_and_grad


def make_train(
    prob: Problem, cfg: TrainConfig, devices: list[Any]
) -> tuple[Callable[[], Trace[Params]], Callable[[], int]]:
    """Shard the data over ``devices`` and compile the step: (the loop, how often it compiled)."""
    mesh = Mesh(np.array(devices), (AXIS,))
    step = make_step(mesh)
    with _jax.precision(cfg.dtype):
        dt = jnp.dtype(cfg.dtype)
        rep = NamedSharding(mesh, P())
        x, y, mask, count = place(mesh, prob.x, prob.y, cfg.dtype)
        init = (jax.device_put(prob.w0.astype(dt), rep), jax.device_put(np.asarray(prob.b0, dt), rep))
        jax.block_until_ready(step(*init, x, y, mask, count, cfg.lr))  # compile outside the timed loop

    def one(p: Params) -> tuple[jax.Array, Callable[[], Params]]:
        loss, w, b = step(p[0], p[1], x, y, mask, count, cfg.lr)
        return loss, lambda: (w, b)

    def train() -> Trace[Params]:
        with _jax.precision(cfg.dtype):
            return run_epochs(one, init, cfg, _jax.read, jax.block_until_ready)

    return train, lambda: int(step._cache_size())  # 1 after any number of fits: never retraced


def with_device_count(flags: str, count: int) -> str:
    """XLA_FLAGS with the forced host device count set to ``count`` (any earlier one replaced)."""
    kept = re.sub(r"--xla_force_host_platform_device_count=\S+", "", flags).split()
    return " ".join([*kept, f"--xla_force_host_platform_device_count={count}"])


def worker_main(worker: int, cmds: Any, results: Any, prob: Problem, cfg: TrainConfig, parts: int) -> None:
    """Entry point of the worker process that holds ``parts`` host devices."""
    _dist.serve(worker, cmds, results, lambda: _hosted(prob, cfg, parts))


def host_devices(parts: int) -> list[Any]:
    """``parts`` CPU devices in this worker process, whose JAX backend has not started yet."""
    # XLA reads the flag when JAX's backend starts, which has not happened in this process yet.
    os.environ["XLA_FLAGS"] = with_device_count(os.environ.get("XLA_FLAGS", ""), parts)
    jax.config.update("jax_platforms", "cpu")
    devices = jax.devices("cpu")
    if len(devices) < parts:
        raise RuntimeError(f"asked XLA for {parts} host devices but got {len(devices)}")
    return list(devices[:parts])


def grad_worker_main(worker: int, cmds: Any, results: Any, parts: int) -> None:
    """Entry point of the worker kept for loss_and_grad: ``parts`` devices, one (w, b, x, y) per job."""

    @contextmanager
    def hosted() -> Iterator[Callable[[Any], object]]:
        lag = make_loss_and_grad(Mesh(np.array(host_devices(parts)), (AXIS,)))
        yield lambda job: lag(job[0], job[1], job[2], job[3])

    _dist.serve(worker, cmds, results, hosted)


@contextmanager
def _hosted(prob: Problem, cfg: TrainConfig, parts: int) -> Iterator[Callable[[object], object]]:
    """This worker's devices and compiled loop; each job is one fit, returned with host params."""
    train, compiles = make_train(prob, cfg, host_devices(parts))

    def fit(job: object) -> tuple[Trace[Any], int]:
        t = train()
        host = Trace(
            _jax.read(t.params), t.loss, t.epochs, t.stop_reason, t.losses, t.ws, t.bs, t.seconds, t.times
        )
        return host, compiles()

    yield fit


class JaxSharded(_dist.PoolOwner, _jax.JaxBackend):
    """Sample-sharded gradient descent over a device mesh, one psum of the packed sums per epoch.

    ``FitResult.info``: devices, padding, where the fit ran, and how often the step was compiled.
    """

    name = "jax-sharded"
    framework = "jax"

    def __init__(self, devices: int | None = None, *, timeout: float = 120.0) -> None:
        """``devices`` to shard over (default 2); ``timeout`` bounds a worker's start-up."""
        if devices is not None and (isinstance(devices, bool) or not isinstance(devices, int) or devices < 1):
            raise ValueError(f"devices must be an integer >= 1, got {devices!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
            raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
        self.parts, self.timeout = devices or 2, timeout
        self._info: dict[str, object] = {}
        self._grads = _dist.Resident(lambda: _dist.Pool(f"{self.name} loss_and_grad", grad_worker_main,
                                                        [(self.parts,)], self.timeout))
        self._local: Callable[[np.ndarray, float, np.ndarray, np.ndarray], Grads] | None = None
        self.grad_info: dict[str, object] = {}  # how the last loss_and_grad was computed

    def devices(self) -> list[str]:
        """CPU (host devices, in a worker when this process has too few), and CUDA with enough GPUs.

        GPUs cannot be made up in a worker the way host devices can: CUDA is offered only when JAX
        sees at least ``devices`` of them.
        """
        try:
            gpus = len(jax.devices("gpu"))
        except RuntimeError:
            gpus = 0
        return ["cpu", "cuda"] if gpus >= self.parts else ["cpu"]

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Any]]:
        n = prob.x.shape[0]
        if self.parts > n:
            raise ValueError(f"{self.name}: devices={self.parts} is more devices than the {n} samples")
        have = jax.devices("gpu" if device == "cuda" else "cpu")
        pad = -n % self.parts
        facts = {"devices": self.parts, "padded_rows": pad, "rows_per_device": (n + pad) // self.parts}
        if len(have) >= self.parts:
            train, compiles = make_train(prob, cfg, have[: self.parts])

            def in_process() -> Trace[Any]:
                trace = train()
                self._info = {**facts, "where": "this process", "compiles": compiles()}
                return trace

            return in_process
        if device == "cuda":
            raise ValueError(f"{self.name}: devices={self.parts} but JAX sees {len(have)} GPU(s) here")
        args = [(prob, cfg, self.parts)]
        pool = self.own(_dist.Pool(self.name, worker_main, args, self.timeout))

        def in_worker() -> Trace[Any]:
            [(trace, count)] = pool.call("fit")
            self._info = {**facts, "where": f"worker process {pool.pids[0]}", "compiles": count}
            return trace

        return in_worker

    def close(self) -> None:
        """Stop every worker this backend started: the latest prepared fit's and loss_and_grad's."""
        super().close()
        self._grads.close()

    def _loss_and_grad(self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any, Any]:
        """Through the sharded path training takes: padded rows, per-device sums, one psum.

        In this process when it has the devices, else in a worker kept for later calls
        (``close()`` stops it).
        """
        n = len(y)
        pad = -n % self.parts
        facts = {"devices": self.parts, "padded_rows": pad, "rows_per_device": (n + pad) // self.parts}
        have = jax.devices("cpu")
        if len(have) >= self.parts:
            if self._local is None:
                self._local = make_loss_and_grad(Mesh(np.array(have[: self.parts]), (AXIS,)))
            self.grad_info = {**facts, "where": "this process"}
            return self._local(w, b, x, y)
        [result] = self._grads.call((w, b, x, y))
        self.grad_info = {**facts, "where": f"worker process {self._grads.pids[0]}"}
        return result
