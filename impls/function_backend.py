"""Plugin functions: a user's ``loss_and_grad(w, b, x, y)`` made a backend under the shared trainer.

``FunctionBackend`` steps exactly as numpy-closed does (one call per epoch, the update deferred in
a closure), so the stop rule, divergence and history follow the contract and the harness costs no
more than numpy-closed's (docs/plugins.md). What the function returns is checked outside the loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import PluginError, TrainConfig
from .numpy_closed import NumpyClosed, Params
from .trainer import Problem, Trace

LossAndGrad = Callable[[np.ndarray, Any, np.ndarray, np.ndarray], tuple[Any, Any, Any]]


class FunctionBackend(NumpyClosed):
    """A user's ``loss_and_grad`` under the shared trainer, stepped exactly as numpy-closed steps.

    ``prepare`` calls it once at the initial (w, b) to check what it returns (shapes, dtypes, NaN),
    naming the plugin when it is wrong; the timed epochs call it bare, so it is not slowed.
    """

    source: str

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        train = super()._prepare(prob, cfg, device)  # numpy-closed's loop, with the plugin's gradient
        # Once per prepare, outside every timed fit: what the function returns at the init.
        dt = np.dtype(cfg.dtype)
        self._checked(prob.w0.astype(dt), np.asarray(prob.b0, dtype=dt), prob.x.astype(dt), prob.y.astype(dt))
        return train

    def _loss_and_grad(self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any, Any]:
        return self._checked(w, np.asarray(b, dtype=x.dtype), x, y)

    def _checked(self, w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any, Any]:
        """Call the function; refuse a result of the wrong shape or dtype, or NaN from finite input."""
        out = type(self).gradient(w, b, x, y)
        where = f"plugin {self.name!r} ({self.source}): loss_and_grad"
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise PluginError(f"{where} must return (loss, dL/dw, dL/db), got {_kind(out)}")
        loss, gw, gb = out
        d, dt = w.shape[0], x.dtype
        for label, v in (("loss", loss), ("dL/db", gb)):
            a = np.asarray(v)
            if a.shape != ():
                raise PluginError(f"{where} returned {label} of shape {a.shape}; it must be a scalar")
            if not (type(v) is float or a.dtype == dt):  # a Python float adapts; np.float64 would not
                raise PluginError(f"{where} returned {label} as {a.dtype}; it must be {dt} (as x)")
        ga = np.asarray(gw)
        if not isinstance(gw, np.ndarray) or ga.shape != (d,):
            raise PluginError(f"{where} returned dL/dw of shape {ga.shape}; it must be (d,) = ({d},)")
        if ga.dtype != dt:
            raise PluginError(f"{where} returned dL/dw as {ga.dtype}; it must be {dt} (as x)")
        if np.all(np.isfinite(w)) and math.isfinite(float(b)):
            bad = [k for k, v in (("loss", loss), ("dL/dw", gw), ("dL/db", gb)) if np.any(np.isnan(v))]
            if bad:
                raise PluginError(f"{where} returned NaN in {', '.join(bad)} at finite (w, b)")
        return loss, gw, gb


def function_backend(name: str, func: LossAndGrad, source: str) -> type[FunctionBackend]:
    """A backend class named ``name`` that trains with ``func``."""
    attrs = {
        "name": name,
        "source": source,
        "gradient": staticmethod(func),
        "__doc__": func.__doc__,
    }
    return type(f"Plugin_{name}", (FunctionBackend,), attrs)


def _kind(v: object) -> str:
    return f"a tuple of {len(v)}" if isinstance(v, tuple) else type(v).__name__
