"""A gdbench plugin in its smallest form: one NumPy function, trained by gdbench's shared loop.

    gdbench check --plugin examples/mygd.py
    gdbench run --plugin examples/mygd.py --backends mygd,numpy-closed

The backend is named after the file: mygd.
"""

import numpy as np


def loss_and_grad(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray):
    """Mean squared error of y ≈ x·w + b and its gradient: (loss, dL/dw, dL/db).

    w has shape (d,), x (n, d), y (n,); return values keep x's dtype.
    """
    n = x.shape[0]
    r = x @ w + b - y  # residuals
    return r @ r / n, (2 / n) * (r @ x), (2 / n) * r.sum()
