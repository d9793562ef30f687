"""Plugins: the user's own backend, named by a file, a module or an installed entry point.

A plugin module offers either of two things:

- a function ``loss_and_grad(w, b, x, y) -> (loss, dL/dw, dL/db)`` in NumPy (w of shape (d,), x
  (n, d), y (n,)), which ``function_backend.FunctionBackend`` drives by the shared trainer with
  numpy-closed's very structure, so the stop rule, divergence and history come with it;
- a backend class: a ``BackendBase`` subclass, or any class following ``impls.Backend``.

``load(spec)`` takes ``FILE.py[:NAME]`` or ``package.module[:NAME]``; installed packages declare
entry points of the group ``gdbench.backends`` (``load_entry_points``), as pytest finds its
plugins. Every mistake is a ``PluginError`` of one line, raised before any work.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .base import BackendUnavailable, PluginError
from .function_backend import function_backend
from .registry import BUILTIN, backend_names, plugin_source, register_backend

GROUP = "gdbench.backends"
# Specs that `gdbench bench` hands its child pytest process (os.pathsep between them).
ENV = "GDBENCH_PLUGINS"
# Set to skip the installed entry points, as PYTEST_DISABLE_PLUGIN_AUTOLOAD does for pytest.
NO_AUTOLOAD = "GDBENCH_DISABLE_PLUGIN_AUTOLOAD"

_PREFIX = "gdbench_plugin_"  # of the module names plugin files are imported under
_LOADED: dict[str, list[str]] = {}  # spec as given (files made absolute) -> backend names it added


def load(spec: str) -> list[str]:
    """Register the backend(s) of ``FILE.py[:NAME]`` or ``package.module[:NAME]``; their names."""
    target, name = _split(spec)
    is_file = target.endswith(".py") or os.sep in target or "/" in target
    key = f"{Path(target).resolve()}{':' + name if name else ''}" if is_file else spec
    if key in _LOADED:  # the same plugin named twice (the option and the environment) loads once
        return _LOADED[key]
    module = _import_file(spec, target) if is_file else _import_module(spec, target)
    default = Path(target).stem if is_file else target.rsplit(".", 1)[-1]
    names = _register(spec, module, name, default)
    _LOADED[key] = names
    return names


def load_all(specs: list[str]) -> list[str]:
    """Load every spec given, then the installed entry points (unless NO_AUTOLOAD is set)."""
    names = [n for spec in specs for n in load(spec)]
    if not os.environ.get(NO_AUTOLOAD):
        names += load_entry_points()
    return names


def load_entry_points() -> list[str]:
    """Register the backends installed packages declare in the entry-point group ``gdbench.backends``."""
    names = []
    for ep in importlib.metadata.entry_points(group=GROUP):
        key = f"entry point {ep.name} = {ep.value}"
        if key in _LOADED:
            names += _LOADED[key]
            continue
        where = f"entry point {ep.name!r} ({ep.value})"
        try:
            obj = ep.load()
        except SyntaxError as e:
            raise PluginError(f"{where}: {_syntax(e)}") from None
        except Exception as e:
            raise PluginError(f"{where}: cannot import it: {type(e).__name__}: {e}") from None
        if isinstance(obj, ModuleType):
            _LOADED[key] = _register(where, obj, "", ep.name)
        else:
            _LOADED[key] = [_register_object(where, obj, ep.name)]
        names += _LOADED[key]
    return names


def specs_for_child() -> str:
    """The specs loaded so far, for ENV: what a child process loads to see the same backends."""
    return os.pathsep.join(k for k in _LOADED if not k.startswith("entry point "))


def load_env() -> list[str]:
    """Load the specs in ENV and the entry points: a child process (bench's suite) calls this first."""
    return load_all([s for s in os.environ.get(ENV, "").split(os.pathsep) if s])


def _split(spec: str) -> tuple[str, str]:
    """("FILE.py" or "package.module", NAME or "") from ``spec``."""
    head, sep, tail = spec.rpartition(":")
    if sep and tail.isidentifier() and head and not (len(head) == 1 and head.isalpha()):
        return head, tail
    if not spec.strip():
        raise PluginError("--plugin needs FILE.py[:NAME] or package.module[:NAME], got ''")
    return spec, ""


def _syntax(e: SyntaxError) -> str:
    return f"syntax error in {e.filename}, line {e.lineno}: {e.msg}"


def _import_file(spec: str, target: str) -> ModuleType:
    path = Path(target).resolve()
    if not path.is_file():
        raise PluginError(f"plugin {spec!r}: no such file {target}")
    modname = f"{_PREFIX}{path.stem}_{zlib.crc32(str(path).encode()):08x}"  # one per file
    if modname in sys.modules:
        return sys.modules[modname]
    loader_spec = importlib.util.spec_from_file_location(modname, path)
    if loader_spec is None or loader_spec.loader is None:
        raise PluginError(f"plugin {spec!r}: {target} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[modname] = module  # dataclasses and pickle look their module up here
    try:
        loader_spec.loader.exec_module(module)
    except SyntaxError as e:
        del sys.modules[modname]
        raise PluginError(f"plugin {spec!r}: {_syntax(e)}") from None
    except (Exception, SystemExit) as e:  # a plugin that calls sys.exit() on import is broken too
        del sys.modules[modname]
        raise PluginError(f"plugin {spec!r}: cannot import {target}: {type(e).__name__}: {e}") from None
    return module


def _import_module(spec: str, target: str) -> ModuleType:
    # Found from the working directory, as `python -m` finds it (the console script's sys.path
    # starts with its own bin/ instead); last, so it shadows no installed package.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    try:
        return importlib.import_module(target)
    except SyntaxError as e:
        raise PluginError(f"plugin {spec!r}: {_syntax(e)}") from None
    except ModuleNotFoundError as e:
        if e.name and target.startswith(e.name):
            raise PluginError(
                f"plugin {spec!r}: no module named {e.name!r} (a file needs its .py suffix)"
            ) from None
        raise PluginError(f"plugin {spec!r}: cannot import {target}: {type(e).__name__}: {e}") from None
    except Exception as e:
        raise PluginError(f"plugin {spec!r}: cannot import {target}: {type(e).__name__}: {e}") from None


def _register(spec: str, module: ModuleType, name: str, default: str) -> list[str]:
    """Register NAME from ``module``, or its backend classes, or its ``loss_and_grad``; their names."""
    if name:
        if not hasattr(module, name):
            offered = [k for k, v in vars(module).items() if _offers(v, module) and not k.startswith("_")]
            hint = f"it defines {', '.join(offered)}" if offered else "it defines no function or class"
            where = module.__name__
            if where.startswith(_PREFIX):
                where = Path(str(module.__file__)).name
            raise PluginError(f"plugin {spec!r}: no {name!r} in {where}; {hint}")
        backend = default if name == "loss_and_grad" else name
        return [_register_object(spec, getattr(module, name), backend)]
    classes = [v for v in vars(module).values() if inspect.isclass(v) and _offers(v, module)]
    if classes:
        return [_register_object(spec, cls, "") for cls in classes]
    if callable(getattr(module, "loss_and_grad", None)):
        return [_register_object(spec, module.loss_and_grad, default)]
    raise PluginError(
        f"plugin {spec!r}: defines neither a function loss_and_grad(w, b, x, y) nor a backend class"
    )


def _offers(v: object, module: ModuleType) -> bool:
    """Whether ``v`` is something of the module's own a plugin can offer: a function or a backend class."""
    if getattr(v, "__module__", None) != module.__name__:
        return False
    if inspect.isclass(v):
        return not inspect.isabstract(v) and all(callable(getattr(v, m, None)) for m in _METHODS)
    return inspect.isfunction(v)


_METHODS = ("fit", "prepare", "loss_and_grad")


def _register_object(spec: str, obj: object, default: str) -> str:
    """Register one function or backend class; its backend name."""
    if inspect.isclass(obj):
        if inspect.isabstract(obj):
            missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
            raise PluginError(f"plugin {spec!r}: {obj.__name__} is abstract (it lacks {missing})")
        lacking = [m for m in _METHODS if not callable(getattr(obj, m, None))]
        if lacking:
            raise PluginError(
                f"plugin {spec!r}: {obj.__name__} is not a backend: it lacks {', '.join(lacking)} "
                "(see impls.Backend, or subclass impls.BackendBase)"
            )
        name = getattr(obj, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {spec!r}: {obj.__name__} needs a class attribute name = '...'")
        factory: Callable[..., Any] = _guarded(obj, name)
    elif callable(obj):
        _check_signature(spec, obj)
        name = default
        factory = function_backend(name, obj, spec)
    else:
        raise PluginError(f"plugin {spec!r}: {default!r} is a {type(obj).__name__}, not a function or class")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name):  # --backends splits on commas
        raise PluginError(
            f"plugin {spec!r}: backend name {name!r} must be letters, digits, '-', '_', '.' or '+'"
        )
    if name in BUILTIN:
        raise PluginError(
            f"plugin {spec!r}: its backend {name!r} clashes with the built-in backend; give it another name"
        )
    if name in backend_names() and plugin_source(name) != spec:
        raise PluginError(f"plugin {spec!r}: backend {name!r} is already registered by {plugin_source(name)}")
    register_backend(name, factory, replace=True, plugin=spec)
    return name


def _guarded(cls: type, name: str) -> Callable[..., Any]:
    """Build ``cls``; a framework it cannot import makes it unavailable, as for the built-ins."""

    def build(**options: Any) -> Any:
        try:
            return cls(**options)
        except ImportError as e:
            raise BackendUnavailable(f"plugin {name!r} cannot import its framework: {e}") from e

    return build


def _check_signature(spec: str, func: Callable[..., Any]) -> None:
    """Refuse a function that cannot be called as loss_and_grad(w, b, x, y)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return  # a builtin or C function without a signature: it is tried when called
    try:
        sig.bind(0, 0, 0, 0)
    except TypeError:
        fname = getattr(func, "__name__", "the function")
        raise PluginError(
            f"plugin {spec!r}: {fname}{sig} has the wrong signature; expected loss_and_grad(w, b, x, y) "
            "returning (loss, dL/dw, dL/db)"
        ) from None
