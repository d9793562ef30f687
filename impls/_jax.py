"""Helpers shared by the JAX backends: devices, dtypes, and float64 without global side effects."""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from .trainer import BackendBase


def devices() -> list[str]:
    """Devices JAX can use in this process ("cuda" stands for any JAX GPU)."""
    try:
        has_gpu = bool(jax.devices("gpu"))
    except RuntimeError:
        has_gpu = False
    return ["cpu", "cuda"] if has_gpu else ["cpu"]


def device(name: str) -> Any:
    """The first JAX device of the kind named "cpu" or "cuda"."""
    return jax.devices("gpu" if name == "cuda" else "cpu")[0]


def precision(dtype: str) -> AbstractContextManager[Any]:
    """Enable 64-bit types for this block only, so other code keeps JAX's float32 default."""
    enable: Any = getattr(jax, "enable_x64", None)
    if enable is None:  # jax releases before the top-level context manager keep it here
        enable = importlib.import_module("jax.experimental").enable_x64
    return cast(AbstractContextManager[Any], enable(dtype == "float64"))


def mse(w: jax.Array, b: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
    """Mean squared error of x·w + b against y."""
    return jnp.mean((x @ w + b - y) ** 2)


def read(params: tuple[jax.Array, jax.Array]) -> tuple[np.ndarray, float]:
    """Copy (w, b) to the host as (float64 array, float)."""
    w, b = params
    return np.asarray(w, dtype=np.float64), float(b)


class JaxBackend(BackendBase):
    """What the JAX backends share: devices, version, reading results, ``value_and_grad`` gradients."""

    framework = "jax"

    def __init__(self) -> None:
        self._info: dict[str, object] = {}

    def devices(self) -> list[str]:
        """CPU, plus a GPU when JAX sees one."""
        return devices()

    def version(self) -> str:
        """jax's version."""
        return str(jax.__version__)

    def read(self, params: Any) -> tuple[np.ndarray, float]:
        """Copy (w, b) to the host."""
        return read(params)

    def fit_info(self) -> dict[str, object]:
        """What the backend recorded about its last fit (compile times, devices...)."""
        return dict(self._info)

    def _loss_and_grad(
        self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        with precision("float64"):
            loss, (gw, gb) = jax.value_and_grad(mse, argnums=(0, 1))(
                jnp.asarray(w), jnp.asarray(b), jnp.asarray(x), jnp.asarray(y)
            )
            return loss, gw, gb
