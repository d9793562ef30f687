"""The floor's numba kernel: one multi-threaded pass over x and y (imported only where numba is).

A module of its own so ``cache=True`` has a fixed home: compiled once per dtype, then loaded.
Threads: numba's pool, sized by ``NUMBA_NUM_THREADS``, which the suite sets to its thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True, fastmath=True)
def read_both(x: np.ndarray, y: np.ndarray) -> float:
    """Σ(x + y): every element of both read once, summed so nothing can be skipped."""
    s = 0.0
    for i in prange(x.shape[0]):
        s += x[i] + y[i]
    return s
