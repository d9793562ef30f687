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

Compilation: ``fit_loop`` is compiled once per dtype (d, N, lr, tol, the epoch limit and the path
are runtime values; history buffers are always passed, empty without history) and written to numba's
on-disk cache (``cache=True``), so another process loads it instead of compiling. The first fit of
a ``prepare()`` compiles or loads before its clock starts; ``FitResult.info`` records how long
that took (``compile_seconds``, 0 when already in memory), where the code came from (``code``:
"compiled", "disk cache" or "memory"), the compiles made by this process, whether the fit ran in
parallel, and numba's thread count (``NUMBA_NUM_THREADS``, which the suite sets; one thread means
the serial path at every N).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numba
import numpy as np
from numba import njit, prange

from .base import StopReason, TrainConfig
from .trainer import BackendBase, Problem, Trace

CHUNK = 1 << 14  # rows per partial sum: a few hundred KB of x, and up to 610 chunks at N = 10⁷
PARALLEL_FROM = 1 << 15  # rows; where prange started to pay here, measured as the docstring says
# reassoc lets LLVM vectorise the sums; contract allows FMA. Not nnan/ninf: divergence is detected
# by a non-finite loss, which those flags would let the compiler assume away.
FASTMATH = {"reassoc", "contract"}
RUNNING, TOL, DIVERGED = 0, 1, 2
STOPS: dict[int, StopReason] = {RUNNING: "max_epochs", TOL: "tol", DIVERGED: "diverged"}

Params = np.ndarray  # (d + 1,) in the working dtype: w, then b


@njit(cache=True, fastmath=FASTMATH)
def sums_d1(x: np.ndarray, y: np.ndarray, w: float, b: float) -> tuple[float, float, float]:
    """(Σr², Σr, Σr·x) for one feature, in float64: a loop LLVM vectorises."""
    s2 = 0.0
    s1 = 0.0
    sx = 0.0
    for i in range(y.shape[0]):
        xi = np.float64(x[i])
        r = xi * w + b - np.float64(y[i])
        s2 += r * r
        s1 += r
        sx += r * xi
    return s2, s1, sx


@njit(cache=True, fastmath=FASTMATH)
def sums(x: np.ndarray, y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    """Σr², Σr and Σr·x_j over all rows into out[0], out[1], out[2:], in float64.

    x is the (n, d) data flattened row by row; p holds w then b. Chunks are passed as slices, so
    every loop indexes from 0: an index numba cannot prove non-negative gets a wraparound check
    that stops vectorisation (4x slower at N = 10⁴ here).
    """
    d = p.shape[0] - 1
    b = np.float64(p[d])
    if d == 1:
        out[0], out[1], out[2] = sums_d1(x, y, np.float64(p[0]), b)
        return
    s2 = 0.0
    s1 = 0.0
    for j in range(d):
        out[2 + j] = 0.0
    for i in range(y.shape[0]):
        r = b - np.float64(y[i])
        for j in range(d):
            r += np.float64(x[i * d + j]) * np.float64(p[j])
        s2 += r * r
        s1 += r
        for j in range(d):
            out[2 + j] += r * np.float64(x[i * d + j])
    out[0] = s2
    out[1] = s1


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def fit_loop(
    x: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    lr: float,
    tol: float,
    epochs: int,
    parallel: bool,
    losses: np.ndarray,
    ws: np.ndarray,
    bs: np.ndarray,
) -> tuple[int, int, float]:
    """Up to ``epochs`` epochs from p (updated in place): (updates made, stop code, last loss).

    History rows are written when ``losses`` is as long as ``epochs``; pass empty arrays for none.
    """
    n = y.shape[0]
    d = p.shape[0] - 1
    chunks = (n + CHUNK - 1) // CHUNK if parallel else 0
    part = np.empty((chunks, d + 2))
    total = np.empty(d + 2)
    record = losses.shape[0] >= epochs
    scale = 2.0 / n
    loss = np.nan
    for epoch in range(epochs):
        if parallel:
            for c in prange(chunks):
                lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
                sums(x[lo * d : hi * d], y[lo:hi], p, part[c])
            for k in range(d + 2):  # in chunk order, whatever the threads' timing
                total[k] = 0.0
                for c in range(chunks):
                    total[k] += part[c, k]
        else:
            sums(x, y, p, total)
        loss = total[0] / n
        if not np.isfinite(loss):
            return epoch, DIVERGED, loss
        if loss < tol:
            return epoch, TOL, loss
        for j in range(d):
            p[j] = p[j] - lr * (scale * total[2 + j])
        p[d] = p[d] - lr * (scale * total[1])
        if record:
            losses[epoch] = loss
            for j in range(d):
                ws[epoch, j] = p[j]
            bs[epoch] = p[d]
    return epochs, RUNNING, loss


def plain(a: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """``a`` as a C-contiguous, writeable array of ``dtype`` (copied only if needed).

    numba types layout and read-only-ness, so anything else would compile another signature.
    """
    return np.require(a, dtype, ["C", "W"])


def compiles() -> int:
    """Signatures of ``fit_loop`` compiled (not loaded from disk) in this process."""
    return int(sum(fit_loop.stats.cache_misses.values()))


class NumbaFused(BackendBase):
    """Gradient descent compiled whole by numba: one call per fit, one pass per epoch."""

    name = "numba-fused"
    framework = "numba"

    def __init__(self) -> None:
        self._info: dict[str, object] = {}

    def version(self) -> str:
        """numba's version."""
        return str(numba.__version__)

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
        lr, tol = float(dt.type(cfg.lr)), float(cfg.tol)
        cap = cfg.epochs if cfg.record_history else 0
        threads = numba.get_num_threads()
        parallel = len(y) >= PARALLEL_FROM and threads > 1
        loaded = False

        def load() -> tuple[float, str]:
            """Compile or load fit_loop for this dtype by a call that runs no epoch."""
            sigs, hits, start = len(fit_loop.signatures), _hits(), time.perf_counter()
            none = np.empty(0)
            fit_loop(x, y, p0.copy(), lr, tol, 0, parallel, none, np.empty((0, 1)), none)
            seconds = time.perf_counter() - start
            if len(fit_loop.signatures) == sigs:
                return 0.0, "memory"
            return seconds, "disk cache" if _hits() > hits else "compiled"

        def train() -> Trace[Params]:
            nonlocal loaded
            compile_seconds, code = (0.0, "memory") if loaded else load()
            loaded = True
            p = p0.copy()
            losses, ws, bs = np.empty(cap), np.empty((cap, len(p) - 1)), np.empty(cap)
            start = time.perf_counter()
            epochs, stop, loss = fit_loop(x, y, p, lr, tol, cfg.epochs, parallel, losses, ws, bs)
            seconds = time.perf_counter() - start
            self._info = {
                "compile_seconds": compile_seconds,
                "code": code,
                "compiles": compiles(),
                "parallel": parallel,
                "threads": threads,
                "threading_layer": numba.threading_layer() if parallel else None,
            }
            history = cfg.record_history
            return Trace(
                p,
                float(loss),
                int(epochs),
                STOPS[int(stop)],
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
        sums(plain(x, np.float64).reshape(-1), plain(y, np.float64), np.append(w, b), total)
        return total[0] / n, 2 * total[2:] / n, 2 * total[1] / n


def _hits() -> int:
    return int(sum(fit_loop.stats.cache_hits.values()))
