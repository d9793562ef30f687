"""The memory floor: the time of one read of x and y, the least any per-pass epoch can cost.

Every per-pass epoch must read all of x and y at least once, so one ``dot(x, y)`` (BLAS, with the
same threads as the frameworks) on the same machine, in the same session, is the bar each backend's
time per epoch is held against. At small N it is a call's overhead, not a memory read.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

METHOD = {"cpu": "numpy.dot(x, y)", "cuda": "torch.dot(x, y) + torch.cuda.synchronize()"}


def reader(x: np.ndarray, y: np.ndarray, dtype: str, device: str = "cpu") -> Callable[[], object]:
    """A callable that reads all of x and y once, on ``device``, in ``dtype``."""
    xs = np.ascontiguousarray(x.reshape(-1), dtype=dtype)
    ys = np.ascontiguousarray(y, dtype=dtype)
    if device == "cpu":
        return lambda: np.dot(xs, ys)
    if device == "cuda":
        import torch  # only a CUDA floor needs torch

        xt, yt = torch.from_numpy(xs).to("cuda"), torch.from_numpy(ys).to("cuda")

        def read() -> object:
            out = torch.dot(xt, yt)
            torch.cuda.synchronize()  # the read is done only when the device says so
            return out

        return read
    raise ValueError(f"no memory floor for device {device!r}")


def data_bytes(n: int, dtype: str) -> int:
    """Bytes of x and y together: what one read moves."""
    return 2 * n * np.dtype(dtype).itemsize
