"""The memory floor: the fastest way this machine reads x and y once, the least any per-pass epoch costs.

Every per-pass epoch must read all of x and y at least once, so the fastest single read of both is
the bar each backend's time per epoch is held against. No one kernel reads fastest everywhere
(``numpy.dot`` runs BLAS's threads and kernels, which differ by dtype and size), so the floor is the
best of several one-read kernels, each timed in the same interleaved passes as the fits, with the
same threads: ``numpy.dot(x, y)``; a multi-threaded numba reduction over both arrays (``prange``,
compiled once and cached), where numba imports; and torch's sums, where the suite has loaded torch
(a torch backend is selected). At small N a read is a call's overhead, not a memory read.

``FloorRunner`` times them for the scheduler (``protocol.py``) as ``runners.CaseRunner`` times a
fit: each visit, one round of every kernel in a random order.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.core import stats
from benchmarks.core.sweep import size_label
from benchmarks.suite.harness import data, data_bytes
from benchmarks.suite.runners import Rounds, repeats

Reader = Callable[[], object]
DOT = "numpy.dot(x, y)"
NUMBA = "numba prange Σ(x + y)"
TORCH = "torch x.sum() + y.sum()"
CUDA = "torch.dot(x, y) + torch.cuda.synchronize()"
METHOD = {"cpu": DOT, "cuda": CUDA}  # the first kernel per device: what runs before this one called


def readers(x: np.ndarray, y: np.ndarray, dtype: str, device: str = "cpu") -> dict[str, Reader]:
    """Kernels that each read all of x and y once, on ``device``, in ``dtype``, by name."""
    xs = np.ascontiguousarray(x.reshape(-1), dtype=dtype)
    ys = np.ascontiguousarray(y, dtype=dtype)
    if device == "cuda":
        return {CUDA: _cuda(xs, ys)}
    if device != "cpu":
        raise ValueError(f"no memory floor for device {device!r}")
    out: dict[str, Reader] = {DOT: lambda: np.dot(xs, ys)}
    if importlib.util.find_spec("numba") is not None:
        from benchmarks.suite.floor_numba import read_both  # compiles or loads it on first use

        out[NUMBA] = lambda: read_both(xs, ys)
    torch = sys.modules.get("torch")  # loaded (and its threads set) by the suite when it benches torch
    if torch is not None:
        xt, yt = torch.from_numpy(xs), torch.from_numpy(ys)  # the same memory: no copy
        out[TORCH] = lambda: xt.sum() + yt.sum()
    return out


def reader(x: np.ndarray, y: np.ndarray, dtype: str, device: str = "cpu") -> Reader:
    """The device's first kernel alone (``METHOD``)."""
    return readers(x, y, dtype, device)[METHOD[device]]


def _cuda(xs: np.ndarray, ys: np.ndarray) -> Reader:
    import torch  # only a CUDA floor needs torch

    xt, yt = torch.from_numpy(xs).to("cuda"), torch.from_numpy(ys).to("cuda")

    def read() -> object:
        out = torch.dot(xt, yt)
        torch.cuda.synchronize()  # the read is done only when the device says so
        return out

    return read


class FloorRunner:
    """The memory floor at (N, dtype, device): each kernel's reads, timed a round at a time."""

    def __init__(
        self, n: int, dtype: str, device: str, iterations: int, zero: float, visit_s: float = 0.0
    ) -> None:
        self.n, self.dtype, self.device, self.iterations, self.zero = n, dtype, device, iterations, zero
        self.visit_s = visit_s
        self.label = f"floor {device} {dtype} N={size_label(n)}"
        self._reads: dict[str, Reader] = {}
        self.kernels: dict[str, Rounds] = {}  # kernel -> its rounds, seconds per read
        self.error: str | None = None
        self._rng = np.random.default_rng(n)

    @property
    def prepared(self) -> bool:
        """Whether the data are cast and placed."""
        return bool(self._reads)

    @property
    def rounds(self) -> Rounds:
        """The rounds of the kernel with the fastest read so far: what pytest-benchmark keeps."""
        return min(self.kernels.values(), key=lambda r: min(r.seconds, default=float("inf")))

    def release(self) -> None:
        """Drop the cast copies of the data."""
        self._reads = {}

    def visit(self, order: list[int], pass_index: int) -> None:
        """One round of each kernel, in a random order: ``iterations`` reads timed together."""
        if not self._reads:
            x, y = data(self.n)
            self._reads = readers(x, y, self.dtype, self.device)  # the cast and any copy: not timed
            for name, read in self._reads.items():
                read()  # compiles or loads numba's kernel, warms every cache: never a round
                self.kernels.setdefault(name, Rounds(1))
        names = list(self._reads)
        for k in self._rng.permutation(len(names)):
            self._time(names[int(k)], pass_index)

    def _time(self, name: str, pass_index: int) -> None:
        read, rounds = self._reads[name], self.kernels[name]
        # Untimed: the first read after another kernel's wakes this kernel's threads while the other
        # pool's (BLAS, OpenMP) may still spin; on 2 cores that read can take 1000x a read's time.
        read()
        so_far = min(rounds.seconds) * self.iterations if rounds.seconds else float("inf")
        for _ in range(repeats(self.visit_s, so_far)):
            start = time.perf_counter()
            for _ in range(self.iterations):
                read()
            seconds = (time.perf_counter() - start) / self.iterations
            rounds.add(seconds, seconds, start - self.zero, pass_index)

    def finish(self) -> None:
        """Nothing to check: a read has no result to judge."""

    def n_rounds(self) -> int:
        """Rounds so far of the least-sampled kernel."""
        return min((len(r.seconds) for r in self.kernels.values()), default=0)

    def precision(self) -> float:
        """Relative width of the fastest kernel's minimum's interval."""
        if self.n_rounds() < 2:
            return float("inf")
        return stats.minimum(self.rounds.seconds)[0].rel_width()

    def info(self) -> dict[str, Any]:
        """Everything pytest-benchmark's extra_info keeps for this floor."""
        best = self.rounds
        return {
            "kind": "floor",
            "n": self.n,
            "dtype": self.dtype,
            "device": self.device,
            "method": next(k for k, r in self.kernels.items() if r is best),
            "data_bytes": data_bytes(self.n, self.dtype),
            "iterations": self.iterations,
            "estimator": "min",
            "floor_s": stats.minimum(best.seconds)[0].as_list(),
            "samples": [{**r.as_json(), "kernel": k} for k, r in self.kernels.items()],
        }
