"""The one registry of backends: name -> factory. A new backend is one module and one line here."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .base import Backend, BackendUnavailable

Factory = Callable[..., Backend]


def _lazy(module: str, cls: str) -> Factory:
    """A factory that imports ``module`` (and so its framework) only when the backend is built."""

    def build(**options: Any) -> Backend:
        try:
            mod = importlib.import_module(f"impls.{module}")
        except ImportError as e:
            raise BackendUnavailable(f"backend module impls.{module} cannot be imported: {e}") from e
        backend: Backend = getattr(mod, cls)(**options)
        return backend

    return build


_REGISTRY: dict[str, Factory] = {
    "torch-autograd": _lazy("torch_autograd", "TorchAutograd"),
    "torch-nograd": _lazy("torch_nograd", "TorchNograd"),
    "jax-grad": _lazy("jax_grad", "JaxGrad"),
    "numpy-closed": _lazy("numpy_closed", "NumpyClosed"),
    "jax-fused": _lazy("jax_fused", "JaxFused"),
    "torch-compile": _lazy("torch_compile", "TorchCompile"),
    "torch-optim": _lazy("torch_optim", "TorchOptim"),
    "numpy-moments": _lazy("numpy_moments", "NumpyMoments"),
    "numpy-buffered": _lazy("numpy_buffered", "NumpyBuffered"),
    "numba-fused": _lazy("numba_fused", "NumbaFused"),
    "torch-ddp": _lazy("torch_ddp", "TorchDDP"),
    "jax-sharded": _lazy("jax_sharded", "JaxSharded"),
}
BUILTIN = frozenset(_REGISTRY)  # a plugin never takes one of these names
_PLUGINS: dict[str, str] = {}  # plugin backend name -> where it came from (file, module, entry point)


def backend_names() -> list[str]:
    """Every registered backend name, available here or not."""
    return list(_REGISTRY)


def get_backend(name: str, **options: Any) -> Backend:
    """Build the backend ``name``; ValueError lists the valid names if it is unknown.

    Raises BackendUnavailable (a RuntimeError) when its framework is missing or broken.
    """
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; valid names: {', '.join(_REGISTRY)}") from None
    return factory(**options)


def unavailable_reason(name: str) -> str | None:
    """None if backend ``name`` can be built here, else why not."""
    try:
        get_backend(name)
    except BackendUnavailable as e:
        return str(e)
    return None


def available_backends() -> list[str]:
    """The registered backends whose frameworks import here."""
    return [n for n in _REGISTRY if unavailable_reason(n) is None]


def register_backend(
    name: str, factory: Factory, *, replace: bool = False, plugin: str | None = None
) -> None:
    """Add a backend (a plugin, or a test double) under ``name``; ``plugin`` says where it came from.

    A plugin never replaces a built-in backend, even with ``replace``.
    """
    if plugin is not None and name in BUILTIN:
        raise ValueError(f"backend {name!r} from {plugin} clashes with the built-in backend {name!r}")
    if name in _REGISTRY and not replace:
        raise ValueError(f"backend {name!r} is already registered")
    _REGISTRY[name] = factory
    if plugin is not None:
        _PLUGINS[name] = plugin
    else:
        _PLUGINS.pop(name, None)


def unregister_backend(name: str) -> None:
    """Remove a backend added with register_backend."""
    _REGISTRY.pop(name, None)
    _PLUGINS.pop(name, None)


def plugin_source(name: str) -> str | None:
    """Where plugin backend ``name`` came from; None for a built-in or a test double."""
    return _PLUGINS.get(name)


def shown(name: str) -> str:
    """A backend's name as tables write it: plugins are marked, "mygd (plugin)"."""
    return f"{name} (plugin)" if name in _PLUGINS else name
