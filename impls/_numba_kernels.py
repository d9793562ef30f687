"""numba-fused's compiled code: the sums of an epoch, the serial and the parallel fit loops.

Imported only when numba must compile or run something: the serial loop is also kept as native
code that loads without numba (``impls/_native.py``), which is how a new process gets its first
result without paying numba's import and its type system (see ``impls/numba_fused.py``).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import carray, cfunc, njit, prange, types

CHUNK = 1 << 14  # rows per partial sum: a few hundred KB of x, and up to 610 chunks at N = 10⁷
# reassoc lets LLVM vectorise the sums; contract allows FMA. Not nnan/ninf: divergence is detected
# by a non-finite loss, which those flags would let the compiler assume away.
FASTMATH = {"reassoc", "contract"}
RUNNING, TOL, DIVERGED = 0, 1, 2  # stop codes: numba_fused.STOPS names them


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


@njit(fastmath=FASTMATH)
def step(
    total: np.ndarray,
    p: np.ndarray,
    n: int,
    lr: float,
    tol: float,
    epoch: int,
    losses: np.ndarray,
    ws: np.ndarray,
    bs: np.ndarray,
) -> int:
    """After an epoch's sums: the stop rule, then the update and its history row; RUNNING or a stop."""
    d = p.shape[0] - 1
    loss = total[0] / n
    if not np.isfinite(loss):
        return DIVERGED
    if loss < tol:
        return TOL
    scale = 2.0 / n
    for j in range(d):
        p[j] = p[j] - lr * (scale * total[2 + j])
    p[d] = p[d] - lr * (scale * total[1])
    if losses.shape[0] > epoch:
        losses[epoch] = loss
        for j in range(d):
            ws[epoch, j] = p[j]
        bs[epoch] = p[d]
    return RUNNING


@njit(fastmath=FASTMATH)
def fit_serial(
    x: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    lr: float,
    tol: float,
    epochs: int,
    losses: np.ndarray,
    ws: np.ndarray,
    bs: np.ndarray,
    total: np.ndarray,
    out: np.ndarray,
) -> None:
    """Up to ``epochs`` epochs from p (updated in place), one loop over all rows each; allocates nothing.

    out receives (updates made, stop code, last loss); total (d + 2 floats) is scratch. History rows
    are written when ``losses`` is as long as ``epochs``: pass empty arrays for none.
    """
    n = y.shape[0]
    stop, epoch = RUNNING, 0
    while epoch < epochs:
        sums(x, y, p, total)
        stop = step(total, p, n, lr, tol, epoch, losses, ws, bs)
        if stop != RUNNING:
            break
        epoch += 1
    out[0], out[1], out[2] = epoch, stop, total[0] / n if epochs > 0 else np.nan


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def fit_loop(
    x: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    lr: float,
    tol: float,
    epochs: int,
    losses: np.ndarray,
    ws: np.ndarray,
    bs: np.ndarray,
    out: np.ndarray,
) -> None:
    """``fit_serial`` with each epoch's sums over fixed chunks in a ``prange``, added in chunk order."""
    n = y.shape[0]
    d = p.shape[0] - 1
    chunks = (n + CHUNK - 1) // CHUNK
    part = np.empty((chunks, d + 2))
    total = np.empty(d + 2)
    stop, epoch = RUNNING, 0
    while epoch < epochs:
        for c in prange(chunks):
            lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
            sums(x[lo * d : hi * d], y[lo:hi], p, part[c])
        for k in range(d + 2):  # in chunk order, whatever the threads' timing
            total[k] = 0.0
            for c in range(chunks):
                total[k] += part[c, k]
        stop = step(total, p, n, lr, tol, epoch, losses, ws, bs)
        if stop != RUNNING:
            break
        epoch += 1
    out[0], out[1], out[2] = epoch, stop, total[0] / n if epochs > 0 else np.nan


def serial_cfunc(dtype: np.dtype) -> Any:
    """``fit_serial`` for ``dtype`` behind a C signature of pointers and sizes (``impls/_native.py``).

    Arguments: x, y, p, n, d, lr, tol, epochs, history rows, losses, ws, bs, total, out.
    """
    data = types.CPointer(numba.from_dtype(dtype))
    f64 = types.CPointer(types.float64)
    i, r = types.intp, types.float64
    sig = types.void(data, data, data, i, i, r, r, i, i, f64, f64, f64, f64, f64)

    def run(xp, yp, pp, n, d, lr, tol, epochs, rows, lp, wp, bp, tp, op):  # type: ignore[no-untyped-def]
        fit_serial(
            carray(xp, (n * d,)), carray(yp, (n,)), carray(pp, (d + 1,)), lr, tol, epochs,
            carray(lp, (rows,)), carray(wp, (rows, d)), carray(bp, (rows,)), carray(tp, (d + 2,)),
            carray(op, (3,)),
        )  # fmt: skip

    return cfunc(sig, fastmath=FASTMATH, error_model="numpy")(run)  # _native keeps it on disk
