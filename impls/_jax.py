"""Helpers shared by the JAX backends: devices, dtypes, and float64 without global side effects."""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np


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
