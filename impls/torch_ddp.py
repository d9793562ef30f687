"""torch-ddp: data-parallel gradient descent on ``torch.distributed``, one data shard per rank.

Each epoch every rank computes its local sums Σr², Σr and Σr·x (r = x·w + b − y), one
``all_reduce(SUM)`` adds them up, and every rank takes the same step from the global sums; the
sample counts are all-reduced once per fit. So unequal shards are exact, and every rank sees the
same loss and makes the same stop decision inside the shared ``run_epochs``.

From a single process ``fit`` starts the ranks itself (gloo on loopback, NCCL for CUDA when each
rank gets its own GPU), keeps them for every call of one prepared fit and reaps them afterwards.
Under ``torchrun`` (or any initialised process group) it uses that group: every rank passes the
full data, keeps its own shard and returns the same result.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from . import _dist, _torch
from ._torch import Params
from .base import TrainConfig
from .trainer import Problem, Step, Trace, run_epochs


@dataclass(frozen=True)
class Spec:
    """What every spawned rank needs besides its shard."""

    world: int
    port: int
    threads: int
    dist_backend: str
    device: str
    timeout: float
    cfg: TrainConfig
    w0: np.ndarray
    b0: float


def sums(w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """This shard's [Σr², Σr, Σr·x...] for r = x·w + b − y, packed for one all-reduce."""
    r = x @ w + b - y
    return torch.cat((torch.stack((r @ r, r.sum())), r @ x))


def from_sums(s: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, dL/dw, dL/db) from the all-reduced sums of all n samples."""
    return s[0] / n, (2 / n) * s[2:], (2 / n) * s[1]


def all_reduce(t: torch.Tensor) -> None:
    """Sum ``t`` over the ranks in place; a failure is tagged so the parent blames the rank that left."""
    try:
        dist.all_reduce(t)
    except Exception as e:
        raise _dist.CollectiveError(f"all_reduce failed: {e}") from e


def make_step(
    x: torch.Tensor, y: torch.Tensor, n: int, lr: float, reduce: Callable[[torch.Tensor], None]
) -> Step[Params]:
    """One epoch on this shard: local sums, ``reduce`` them across ranks, the global step."""

    def step(p: Params) -> tuple[torch.Tensor, Callable[[], Params]]:
        w, b = p
        s = sums(w, b, x, y)
        reduce(s)
        loss, gw, gb = from_sums(s, n)
        return loss, lambda: (w - lr * gw, b - lr * gb)

    return step


def shard_loss_and_grad(
    w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray, rank: int, world: int
) -> tuple[float, np.ndarray, float]:
    """(loss, dL/dw, dL/db) in float64 by the training path: this rank's shard sums, all-reduced.

    Every rank is given the full data and keeps its own contiguous shard, as under torchrun.
    """
    lo, hi = _dist.shard_bounds(len(y), world)[rank]
    xs, ys = torch.from_numpy(x[lo:hi]), torch.from_numpy(y[lo:hi])
    s = sums(torch.from_numpy(w), torch.tensor(b, dtype=torch.float64), xs, ys)
    all_reduce(s)
    loss, gw, gb = from_sums(s, len(y))
    return float(loss), gw.numpy(), float(gb)


def fit_shard(
    x: torch.Tensor, y: torch.Tensor, spec: Spec
) -> tuple[Trace[tuple[np.ndarray, float]], float, int]:
    """The shared loop over this rank's shard: (trace with host params, seconds in all_reduce, calls)."""
    count = torch.tensor([x.shape[0]], dtype=torch.int64, device=x.device)
    dist.all_reduce(count)  # counts are fixed, so once per fit is enough
    n = int(count.item())
    clock = {"s": 0.0, "calls": 0}

    def reduce(t: torch.Tensor) -> None:
        _torch.sync(spec.device)  # on a GPU the compute queued before must not count as all-reduce
        start = time.perf_counter()
        all_reduce(t)
        _torch.sync(spec.device)
        clock["s"] += time.perf_counter() - start
        clock["calls"] += 1

    step = make_step(x, y, n, spec.cfg.lr, reduce)
    dt = x.dtype
    w = torch.tensor(spec.w0, dtype=dt, device=x.device)
    b = torch.tensor(spec.b0, dtype=dt, device=x.device)
    trace = run_epochs(step, (w, b), spec.cfg, _torch.read, lambda p: _torch.sync(spec.device))
    t = trace
    host = Trace(
        _torch.read(t.params), t.loss, t.epochs, t.stop_reason, t.losses, t.ws, t.bs, t.seconds, t.times
    )
    return host, clock["s"], int(clock["calls"])


def loopback() -> str:
    """Name of the loopback interface, so gloo never reaches beyond this machine."""
    return next((name for _, name in socket.if_nameindex() if name.startswith("lo")), "lo")


def rank_main(rank: int, cmds: Any, results: Any, spec: Spec, x: np.ndarray, y: np.ndarray) -> None:
    """Entry point of one started rank: join the group, then fit the shard once per command."""
    _dist.serve(rank, cmds, results, lambda: _joined(rank, spec, x, y))


@contextmanager
def process_group(
    rank: int, world: int, port: int, backend: str, timeout: float, threads: int
) -> Iterator[None]:
    """This started process as ``rank`` of a group met at 127.0.0.1:port; leaves the group on exit."""
    torch.set_num_threads(threads)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", loopback())
    wait = timedelta(seconds=timeout)
    store = dist.TCPStore("127.0.0.1", port, is_master=False, timeout=wait)
    dist.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=wait)
    try:
        yield
    finally:
        dist.destroy_process_group()


@contextmanager
def _joined(rank: int, spec: Spec, x: np.ndarray, y: np.ndarray) -> Iterator[Callable[[object], object]]:
    """This rank inside the group with its shard on its device; each job is one fit."""
    with process_group(rank, spec.world, spec.port, spec.dist_backend, spec.timeout, spec.threads):
        device = f"cuda:{rank % torch.cuda.device_count()}" if spec.device == "cuda" else "cpu"
        dt = _torch.dtype(spec.cfg.dtype)
        xs, ys = torch.as_tensor(x, dtype=dt, device=device), torch.as_tensor(y, dtype=dt, device=device)
        yield lambda job: fit_shard(xs, ys, spec)


def grad_rank_main(
    rank: int, cmds: Any, results: Any, world: int, port: int, timeout: float, threads: int
) -> None:
    """Entry point of one rank kept for loss_and_grad: join the group, answer each (w, b, x, y)."""

    @contextmanager
    def joined() -> Iterator[Callable[[Any], object]]:
        with process_group(rank, world, port, "gloo", timeout, threads):
            yield lambda job: shard_loss_and_grad(job[0], job[1], job[2], job[3], rank, world)

    _dist.serve(rank, cmds, results, joined)


def launched() -> bool:
    """True inside a process group already made, or one torchrun's environment describes."""
    env = all(k in os.environ for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR"))
    return dist.is_available() and (dist.is_initialized() or env)


class TorchDDP(_dist.PoolOwner):
    """Data-parallel full-batch gradient descent with one all-reduce of the packed sums per epoch."""

    name = "torch-ddp"
    framework = "torch"

    def __init__(
        self,
        world_size: int | None = None,
        *,
        threads: int | None = None,
        port: int | None = None,
        timeout: float = 120.0,
    ) -> None:
        """``world_size`` ranks (2 when started here; the group's own size under torchrun).

        ``threads`` per rank defaults to this process's torch threads // ranks when started here,
        and to torch's setting under torchrun (which makes it 1); it is recorded in ``FitResult.info``.
        ``port`` is the rendezvous port on 127.0.0.1 (default: a free one). ``timeout`` bounds the
        start-up and every collective, so a lost rank ends the fit with an error, not a hang.
        """
        _check_int("world_size", world_size, 1)
        _check_int("threads", threads, 1)
        _check_int("port", port, 1, 65535)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
            raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
        self.world_size, self.threads, self.port, self.timeout = world_size, threads, port, timeout
        self._info: dict[str, object] = {}
        self._grads = _dist.Resident(self._start_grad_ranks)
        self.grad_info: dict[str, object] = {}  # how the last loss_and_grad was computed

    def devices(self) -> list[str]:
        """CPU, plus CUDA when torch sees a GPU."""
        return _torch.devices()

    def version(self) -> str:
        """torch's version."""
        return str(torch.__version__)

    def read(self, params: tuple[np.ndarray, float]) -> tuple[np.ndarray, float]:
        """Parameters come back from the ranks already on the host."""
        return np.asarray(params[0], dtype=np.float64), float(params[1])

    def fit_info(self) -> dict[str, object]:
        """World size, threads per rank, launcher, shard sizes, and time spent in all_reduce."""
        return dict(self._info)

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Any]]:
        if launched():
            return self._prepare_in_group(prob, cfg, device)
        world = self.world_size or 2
        n = prob.x.shape[0]
        if world > n:
            raise ValueError(f"{self.name}: world_size={world} is more ranks than the {n} samples")
        # this process's thread budget (cores, or what OMP_NUM_THREADS / set_num_threads made it), shared out
        threads = self.threads or max(1, torch.get_num_threads() // world)
        nccl = device == "cuda" and world <= torch.cuda.device_count() and dist.is_nccl_available()
        store = rendezvous(self.port, self.timeout)
        backend = "nccl" if nccl else "gloo"
        spec = Spec(world, store.port, threads, backend, device, self.timeout, cfg, prob.w0, prob.b0)
        bounds = _dist.shard_bounds(n, world)
        args = [(spec, prob.x[lo:hi], prob.y[lo:hi]) for lo, hi in bounds]
        pool = self.own(_dist.Pool(self.name, rank_main, args, self.timeout, keep=store, noun="rank"))
        info = _info(spec, "started here", bounds, pids=pool.pids)

        def train() -> Trace[Any]:
            replies = pool.call("fit")
            return self._agreed(replies, info)

        return train

    def _prepare_in_group(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Any]]:
        """Under torchrun: join (or reuse) the process group and fit this rank's shard in-process."""
        if not dist.is_initialized():
            backend = "nccl" if device == "cuda" else "gloo"
            dist.init_process_group(backend, timeout=timedelta(seconds=self.timeout))
        rank, world = dist.get_rank(), dist.get_world_size()
        if self.world_size is not None and self.world_size != world:
            raise ValueError(f"{self.name}: world_size={self.world_size} but the process group has {world}")
        n = prob.x.shape[0]
        if world > n:
            raise ValueError(f"{self.name}: the group's {world} ranks are more than the {n} samples")
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        bounds = _dist.shard_bounds(n, world)
        lo, hi = bounds[rank]
        local = int(os.environ.get("LOCAL_RANK", rank))
        dev = f"cuda:{local % torch.cuda.device_count()}" if device == "cuda" else "cpu"
        dt = _torch.dtype(cfg.dtype)
        x = torch.as_tensor(prob.x[lo:hi], dtype=dt, device=dev)
        y = torch.as_tensor(prob.y[lo:hi], dtype=dt, device=dev)
        threads = torch.get_num_threads()  # torchrun's default is 1: recorded as it is
        backend = str(dist.get_backend())
        spec = Spec(world, 0, threads, backend, device, self.timeout, cfg, prob.w0, prob.b0)
        info = _info(spec, "existing process group", bounds, rank=rank)

        def train() -> Trace[Any]:
            trace, seconds, calls = fit_shard(x, y, spec)
            self._info = {**info, "allreduce_seconds": seconds, "allreduce_calls": calls}
            return trace

        return train

    def _agreed(self, replies: list[Any], info: dict[str, object]) -> Trace[Any]:
        """Rank 0's trace, after checking every rank ended on the same parameters."""
        trace, seconds, calls = replies[0]
        for r, (other, _, _) in enumerate(replies[1:], start=1):
            same = np.array_equal(other.params[0], trace.params[0], equal_nan=True) and (
                np.array_equal(other.params[1], trace.params[1], equal_nan=True)
            )
            if not same or other.epochs != trace.epochs:
                raise RuntimeError(f"{self.name}: rank {r} ended on different parameters than rank 0")
        self._info = {**info, "allreduce_seconds": seconds, "allreduce_calls": calls}
        return trace

    def close(self) -> None:
        """Stop every rank this backend started: the latest prepared fit's and loss_and_grad's."""
        super().close()
        self._grads.close()

    def _loss_and_grad(
        self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray, float]:
        """Through the ranks, as training computes it: shard sums and one all-reduce.

        The ranks are started on the first call and kept for later ones (``close()`` stops them);
        under torchrun every rank must make the same call, as for ``fit``. A shard may be empty
        when N < world size: its sums are zero.
        """
        n = len(y)
        if launched():
            if not dist.is_initialized():
                dist.init_process_group("gloo", timeout=timedelta(seconds=self.timeout))
            rank, world = dist.get_rank(), dist.get_world_size()
            self.grad_info = {"launcher": "existing process group", "shard_sizes": _sizes(n, world)}
            return shard_loss_and_grad(w, b, x, y, rank, world)
        replies = self._grads.call((w, b, x, y))
        if any(not (r[0] == replies[0][0] or math.isnan(r[0])) for r in replies[1:]):
            raise RuntimeError(f"{self.name}: the ranks disagree on the all-reduced loss")
        world = self.world_size or 2
        sizes = _sizes(n, world)
        self.grad_info = {"launcher": "started here", "shard_sizes": sizes, "pids": self._grads.pids}
        loss, gw, gb = replies[0]
        return loss, gw, gb

    def _start_grad_ranks(self) -> _dist.Pool:
        """The float64 CPU ranks that loss_and_grad uses, in a group of their own."""
        world = self.world_size or 2
        threads = self.threads or max(1, torch.get_num_threads() // world)
        store = rendezvous(self.port, self.timeout)
        args = [(world, store.port, self.timeout, threads) for _ in range(world)]
        label = f"{self.name} loss_and_grad"
        return _dist.Pool(label, grad_rank_main, args, self.timeout, keep=store, noun="rank")


def rendezvous(port: int | None, timeout: float) -> Any:
    """The rendezvous store, served by this process on 127.0.0.1 (port 0: the OS picks a free one)."""
    try:
        wait = timedelta(seconds=timeout)
        return dist.TCPStore("127.0.0.1", port or 0, None, True, wait, wait_for_workers=False)
    except (RuntimeError, OSError) as e:
        raise RuntimeError(f"torch-ddp: cannot listen on 127.0.0.1:{port}: {e}") from e


def _sizes(n: int, world: int) -> list[int]:
    """Rows of each rank's shard."""
    return [hi - lo for lo, hi in _dist.shard_bounds(n, world)]


def _info(spec: Spec, launcher: str, bounds: list[tuple[int, int]], **extra: object) -> dict[str, object]:
    """What FitResult.info reports about the group, before the fit adds its all-reduce time."""
    return {
        "world_size": spec.world,
        "threads_per_rank": spec.threads,
        "dist_backend": spec.dist_backend,
        "launcher": launcher,
        "shard_sizes": [hi - lo for lo, hi in bounds],
        **extra,
    }


def _check_int(name: str, v: object, lo: int, hi: float = math.inf) -> None:
    """ValueError unless v is None or an integer in [lo, hi]."""
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        top = "" if hi == math.inf else f" and <= {int(hi)}"
        raise ValueError(f"{name} must be an integer >= {lo}{top}, got {v!r}")
