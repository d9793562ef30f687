"""numba-fused: the whole fit in one compiled function, one pass over the data per epoch.

``fit_loop`` runs ``trainer.run_epochs``'s contract (stop rule, divergence, history) in machine
code. Every epoch reads x and y once, computing Σr², Σr and Σr·x together (r = x·w + b − y), from
which the loss and both gradients follow; nothing N-sized is allocated, during an epoch or a fit.

Serial below ``PARALLEL_FROM`` rows, one loop over all rows. From there on, a ``prange`` over
fixed chunks of ``CHUNK`` rows, each summed into its own row of partial sums, which are then added
in chunk order: the result does not depend on the thread count or on which thread ran which
chunk, and differs from the serial path's only by rounding. ``PARALLEL_FROM`` was measured on the
2-core development machine (numba 0.68.1, omp threading layer, 2 threads, marginal cost per epoch
from whole fits at two epoch counts, min of 9 interleaved repeats): the parallel path cost 1.5x
the serial one at N = 16384 (one chunk: the parallel region's ~1.5 µs buys nothing), 1.0x in
float64 and 0.76x in float32 at 32768, 0.72x at 65536, 0.36-0.5x from 3·10⁵ on. With many more
threads the region costs more and pays off later; the constant is this machine's.

Precision: the data and the parameters are held in ``dtype``, but every residual and every sum is
float64, and the update is computed in float64 and rounded to ``dtype`` once when stored. A float32
sum of N terms loses digits as N grows; widened, only the rounding of the data remains: after 5
epochs at N = 10⁷ the float32 losses are within 1.4e-8 of the float64 ones here (numpy-closed's
float32: 3e-6). It costs nothing measurable: at large N an epoch is bound by reading the data, and
at small N by the loop's latency (float32 and float64 both ~0.06 µs per epoch at N = 100).

Compilation (the loops are in ``impls/_numba_kernels.py``): each loop is compiled once per dtype
(d, N, lr, tol and the epoch limit are runtime values; history buffers are always passed, empty
without history). The parallel loop goes to numba's on-disk cache (``cache=True``). The serial loop
is a ``cfunc`` whose machine code is stored and loaded back by llvmlite alone (``impls/_native.py``),
so a new process gets a serial first result without importing numba: where the first result of a
second process (warm cache, N = 1000, 10 epochs) went before, measured on the 2-core development
machine: ``import numba`` 0.34-0.43 s, then numba's first load from its cache 0.41-0.86 s (its type
system's registries, 0.38 s of it importing scipy.linalg for numba's BLAS check); now ~0.05 s.
The first fit of a ``prepare()`` compiles or loads before its clock starts; ``FitResult.info``
records how long that took (``compile_seconds``, 0 when already in memory), where the code came
from (``code``: "compiled", "disk cache" or "memory"), the compiles made by this process, whether
the fit ran in parallel, and numba's thread count (``NUMBA_NUM_THREADS``, which the suite sets; one
thread means the serial path at every N).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from . import _native
from .base import BackendUnavailable, StopReason, TrainConfig
from .trainer import BackendBase, Problem, Trace

PARALLEL_FROM = 1 << 15  # rows; where prange started to pay here, measured as the docstring says
STOPS: dict[int, StopReason] = {0: "max_epochs", 1: "tol", 2: "diverged"}  # _numba_kernels' codes

Params = np.ndarray  # (d + 1,) in the working dtype: w, then b
_SERIAL: dict[str, tuple[Callable[..., None], Any]] = {}  # dtype -> the serial loop (and its cfunc)
_BUILT = [0]  # serial loops compiled by this process


def kernels() -> ModuleType:
    """The compiled loops' module: importing it imports numba."""
    from . import _numba_kernels

    return _numba_kernels


def threads() -> int:
    """numba's thread count, without importing numba when it is not loaded yet."""
    if "numba" in sys.modules:
        return int(sys.modules["numba"].get_num_threads())
    return int(os.environ.get("NUMBA_NUM_THREADS") or os.cpu_count() or 1)


def serial(dtype: str) -> tuple[Callable[..., None], float, str]:
    """The serial loop for ``dtype``, the seconds it took to get, and from where."""
    if dtype in _SERIAL:
        return _SERIAL[dtype][0], 0.0, "memory"
    start = time.perf_counter()
    fn, code, compiled = _native.load(dtype), "disk cache", None
    if fn is None:
        compiled = kernels().serial_cfunc(np.dtype(dtype))
        _native.store(dtype, compiled)
        fn, code = _native.SIGNATURE(compiled.address), "compiled"
        _BUILT[0] += 1
    _SERIAL[dtype] = (fn, compiled)
    return fn, time.perf_counter() - start, code


def compiles() -> int:
    """Loops compiled (not loaded from disk) in this process."""
    if "impls._numba_kernels" not in sys.modules:
        return _BUILT[0]
    return _BUILT[0] + int(sum(kernels().fit_loop.stats.cache_misses.values()))


def plain(a: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """``a`` as a C-contiguous, writeable array of ``dtype`` (copied only if needed).

    numba types layout and read-only-ness, so anything else would compile another signature.
    """
    return np.require(a, dtype, ["C", "W"])


class NumbaFused(BackendBase):
    """Gradient descent compiled whole by numba: one call per fit, one pass per epoch."""

    name = "numba-fused"
    framework = "numba"

    def __init__(self) -> None:
        if importlib.util.find_spec("numba") is None:
            raise BackendUnavailable("numba is not installed (pip install numba)")
        self._info: dict[str, object] = {}

    def version(self) -> str:
        """numba's version."""
        import importlib.metadata  # not at the top: it costs a fresh process ~0.05-0.4 s

        return importlib.metadata.version("numba")

    def fit_info(self) -> dict[str, object]:
        """Compile or load time the last fit paid before its loop, where its code came from, threads."""
        return dict(self._info)

    def read(self, params: Params) -> tuple[np.ndarray, float]:
        """Copy out (w, b)."""
        return params[:-1].astype(np.float64), float(params[-1])

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        dt = np.dtype(cfg.dtype)
        x, y = plain(prob.x, dt).reshape(-1), plain(prob.y, dt)
        p0 = np.append(prob.w0, prob.b0).astype(dt)
        n, d = len(y), len(p0) - 1
        lr, tol = float(dt.type(cfg.lr)), float(cfg.tol)
        cap = cfg.epochs if cfg.record_history else 0
        nthreads = threads()
        parallel = n >= PARALLEL_FROM and nthreads > 1
        out, total = np.empty(3), np.empty(d + 2)
        loop: Callable[..., None] | None = None

        def load() -> tuple[float, str]:
            """Get the loop for this dtype: the serial one natively, the parallel one from numba."""
            nonlocal loop
            if not parallel:
                fn, seconds, code = serial(dt.name)
                ptrs = (x.ctypes.data, y.ctypes.data)
                total_p, out_p = total.ctypes.data, out.ctypes.data

                def loop(p, losses, ws, bs):  # type: ignore[no-untyped-def]
                    fn(*ptrs, p.ctypes.data, n, d, lr, tol, cfg.epochs, cap,
                       losses.ctypes.data, ws.ctypes.data, bs.ctypes.data, total_p, out_p)  # fmt: skip

                return seconds, code
            k = kernels()
            sigs, hits, start = len(k.fit_loop.signatures), _hits(k), time.perf_counter()
            none = np.empty(0)
            k.fit_loop(x, y, p0.copy(), lr, tol, 0, none, np.empty((0, d)), none, out)
            seconds = time.perf_counter() - start
            loop = lambda p, losses, ws, bs: k.fit_loop(x, y, p, lr, tol, cfg.epochs, losses, ws, bs, out)  # noqa: E731
            if len(k.fit_loop.signatures) == sigs:
                return 0.0, "memory"
            return seconds, "disk cache" if _hits(k) > hits else "compiled"

        def train() -> Trace[Params]:
            compile_seconds, code = (0.0, "memory") if loop is not None else load()
            assert loop is not None
            p = p0.copy()
            losses, ws, bs = np.empty(cap), np.empty((cap, d)), np.empty(cap)
            start = time.perf_counter()
            loop(p, losses, ws, bs)
            seconds = time.perf_counter() - start
            epochs, stop, loss = int(out[0]), int(out[1]), float(out[2])
            self._info = {
                "compile_seconds": compile_seconds,
                "code": code,
                "compiles": compiles(),
                "parallel": parallel,
                "threads": nthreads,
                "threading_layer": sys.modules["numba"].threading_layer() if parallel else None,
            }
            history = cfg.record_history
            return Trace(
                p,
                loss,
                epochs,
                STOPS[stop],
                losses[:epochs].tolist() if history else None,
                list(ws[:epochs]) if history else None,
                bs[:epochs].tolist() if history else None,
                seconds,
            )

        return train

    def _loss_and_grad(
        self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray, float]:
        n, total = len(y), np.empty(w.size + 2)
        kernels().sums(plain(x, np.float64).reshape(-1), plain(y, np.float64), np.append(w, b), total)
        return total[0] / n, 2 * total[2:] / n, 2 * total[1] / n


def _hits(k: ModuleType) -> int:
    return int(sum(k.fit_loop.stats.cache_hits.values()))
