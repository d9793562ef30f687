"""gdbench's implementations of y = x·w + b by full-batch gradient descent.

Importing this package imports neither torch nor JAX: each backend module imports its
framework when the backend is built, so a missing framework only disables its backends.
"""

from .base import (
    DEVICES,
    DTYPES,
    Backend,
    BackendUnavailable,
    FitResult,
    PluginError,
    StopReason,
    TrainConfig,
)
from .data import make_linear
from .registry import (
    available_backends,
    backend_names,
    get_backend,
    plugin_source,
    register_backend,
    shown,
    unavailable_reason,
    unregister_backend,
)
from .trainer import BackendBase

__all__ = [
    "DEVICES",
    "DTYPES",
    "Backend",
    "BackendBase",
    "BackendUnavailable",
    "FitResult",
    "PluginError",
    "StopReason",
    "TrainConfig",
    "available_backends",
    "backend_names",
    "get_backend",
    "make_linear",
    "plugin_source",
    "register_backend",
    "shown",
    "unavailable_reason",
    "unregister_backend",
]
