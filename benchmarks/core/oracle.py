"""The float64 reference for the mean squared error and the tolerance every backend is judged by.

For r = x·w + b - y the hand-derived values are L = mean(r²), dL/dw = 2·xᵀr/n, dL/db = 2·mean(r);
the oracle forms r in float64 and adds every sum with ``math.fsum`` (exactly rounded), so its own
error is that of r alone. It is written here, not imported from a backend, so that no backend is
checked against its own code.

The tolerance follows the terms each value is made of. Residual i is made of
t_i = |y_i| + |b| + Σ_j |x_ij·w_j|, and any float64 evaluation of it errs by at most γ·t_i; a sum
of n such products, in any order, adds at most γ times the sum of their magnitudes. With
γ = k·u / (1 - k·u), k = n + d + 2 and u = 2⁻⁵³, propagated to each value:

    T_loss = (1/n)·Σ t_i·(2|r_i| + γ·t_i),   T_w_j = (2/n)·Σ |x_ij|·t_i,   T_b = (2/n)·Σ t_i,

and a backend's value passes when |value - oracle| ≤ 2γ·T (its own error plus the oracle's).
So float64 rounding passes whatever the summation order, while a factor 2, a sign, a mean for a
sum or float32 arithmetic fails wherever the value stands above its rounding (away from an exact
zero). A loss must also be ≥ 0.
"""

from __future__ import annotations

import math

import numpy as np

U = 2.0**-53  # unit roundoff of float64
RULE = (
    "|value - oracle| <= 2γ·T, γ = k·u/(1 - k·u), k = n + d + 2, u = 2^-53; with t_i = |y_i| + |b| + "
    "Σ_j |x_ij·w_j| (what residual i is made of): T = (1/n)Σ t_i(2|r_i| + γ t_i) for the loss, "
    "(2/n)Σ |x_ij| t_i for dL/dw_j, (2/n)Σ t_i for dL/db; and the loss >= 0. "
    "The oracle forms r in float64 and sums with math.fsum"
)


def exact(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The hand-derived [loss, dL/dw..., dL/db] in float64, every sum by math.fsum."""
    r = x @ w + b - y
    n = len(y)
    grad_w = [2.0 * math.fsum(r * x[:, j]) / n for j in range(x.shape[1])]
    return np.array([math.fsum(r * r) / n, *grad_w, 2.0 * math.fsum(r) / n])


def gamma(n: int, d: int) -> float:
    """Higham's γ_k for k = n + d + 2 roundings: the relative error bound of one value's terms."""
    k = n + d + 2
    return k * U / (1.0 - k * U)


def terms(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """T for [loss, dL/dw..., dL/db]: each value's rounding bound divided by γ (module docstring)."""
    n = len(y)
    g = gamma(n, x.shape[1])
    t = np.abs(y) + abs(b) + np.abs(x) @ np.abs(w)
    r = np.abs(x @ w + b - y)
    return np.r_[np.sum(t * (2 * r + g * t)) / n, 2 * (t @ np.abs(x)) / n, 2 * np.sum(t) / n]


def tolerance(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The allowed |value - oracle| for [loss, dL/dw..., dL/db]: 2γ·T."""
    return 2 * gamma(len(y), x.shape[1]) * terms(w, b, x, y)


def excess(got: np.ndarray, want: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """|got - want| / tol per value (≤ 1 passes); a negative loss or a NaN counts as infinite."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(got - want) / tol
    ratio = np.where(np.abs(got - want) == 0, 0.0, ratio)  # 0/0: an exact match at a zero tolerance
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    if not got[0] >= 0:
        ratio[0] = np.inf
    return ratio
