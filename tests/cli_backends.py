"""Test-only backends for the CLI tests, registered and removed by fixtures in test_cli.py."""

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
