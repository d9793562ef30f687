"""Test-only backends for the CLI tests, registered and removed by fixtures in tests/commands/test_cli.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

import impls


class Skewed:
    """numpy-closed behind the Backend Protocol, wrong on purpose unless shift = 0 and scale = 1.

    ``fit`` trains on y + shift, so it lands on another optimum; ``loss_and_grad`` scales the
    gradient. With the neutral values it must agree exactly, which keeps the tests honest.
    """

    framework = "numpy"

    def __init__(self, name: str, shift: float = 0.0, scale: float = 1.0) -> None:
        self.name = name
        self.shift = shift
        self.scale = scale
        self.inner = impls.get_backend("numpy-closed")

    def fit(self, x: ArrayLike, y: ArrayLike, cfg: impls.TrainConfig | None = None) -> impls.FitResult:
        """The reference fit on shifted targets."""
        return self.prepare(x, y, cfg)()

    def prepare(
        self, x: ArrayLike, y: ArrayLike, cfg: impls.TrainConfig | None = None
    ) -> Callable[[], impls.FitResult]:
        """As numpy-closed's, on shifted targets."""
        return self.inner.prepare(x, np.asarray(y, dtype=np.float64) + self.shift, cfg)

    def loss_and_grad(
        self, w: ArrayLike, b: float, x: ArrayLike, y: ArrayLike
    ) -> tuple[float, np.ndarray, float]:
        """The reference gradient, scaled."""
        loss, gw, gb = self.inner.loss_and_grad(w, b, x, y)
        return loss, gw * self.scale, gb * self.scale

    def version(self) -> str:
        """numpy's version."""
        return str(np.__version__)

    def devices(self) -> list[str]:
        """CPU only."""
        return ["cpu"]


def unavailable(**options: Any) -> impls.Backend:
    """A factory whose framework is missing, as a registered backend on a machine without it."""
    raise impls.BackendUnavailable("framework 'nowhere' is not installed (pip install nowhere)")


class Slipped:
    """The hand-derived loss and gradient with one deliberate slip, for ``gdbench check`` to catch.

    ``slip``: "none" (faithful, keeps the tests honest), "factor2" (every value doubled), "sign_db"
    (dL/db negated), "sum" (sums where means belong), "float32" (float32 arithmetic) or
    "moments" (the cancelling form wᵀCw - 2wᵀc + var(y) + e² of the loss, from float64 moments).
    """

    framework = "numpy"
    SLIPS = ("none", "factor2", "sign_db", "sum", "float32", "moments")

    def __init__(self, name: str, slip: str) -> None:
        assert slip in self.SLIPS
        self.name = name
        self.slip = slip

    def loss_and_grad(
        self, w: ArrayLike, b: float, x: ArrayLike, y: ArrayLike
    ) -> tuple[float, np.ndarray, float]:
        """(loss, dL/dw, dL/db) with the slip."""
        ya = np.asarray(y, dtype=np.float64)
        n = len(ya)
        xa, wa = np.asarray(x, dtype=np.float64).reshape(n, -1), np.asarray(w, dtype=np.float64)
        if self.slip == "moments":
            mx, my = xa.mean(axis=0), ya.mean()
            xc, yc = xa - mx, ya - my
            c, cxy, e = xc.T @ xc / n, xc.T @ yc / n, float(mx @ wa) + b - my
            loss = float(wa @ c @ wa - 2 * wa @ cxy + yc @ yc / n + e * e)
            return loss, 2 * (c @ wa - cxy) + 2 * e * mx, 2 * e
        dt = np.float32 if self.slip == "float32" else np.float64
        r = xa.astype(dt) @ wa.astype(dt) + dt(b) - ya.astype(dt)
        scale = {"factor2": 2.0, "sum": float(n)}.get(self.slip, 1.0)
        loss, gw = scale * float(r @ r) / n, scale * 2 * (r @ xa.astype(dt)) / n
        gb = scale * 2 * float(r.sum()) / n
        return loss, np.asarray(gw, dtype=np.float64), -gb if self.slip == "sign_db" else gb

    def version(self) -> str:
        """numpy's version."""
        return str(np.__version__)

    def devices(self) -> list[str]:
        """CPU only."""
        return ["cpu"]
