"""mygd with a slip in dL/db (the 2 is missing): the fit still ends near the optimum, check catches it.

    gdbench check --plugin examples/mygd_buggy.py      # exit 1, naming dL/db
"""

import numpy as np


def loss_and_grad(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray):
    """(loss, dL/dw, dL/db), with dL/db half what it should be."""
    n = x.shape[0]
    r = x @ w + b - y
    return r @ r / n, (2 / n) * (r @ x), r.sum() / n
