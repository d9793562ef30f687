"""Plugins in tests: the registry restored after a test loaded some, and plugin files written on the fly."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from impls import plugins, registry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# A correct loss_and_grad, and the bad plugins the issue lists: file name -> source.
GOOD = """\
def loss_and_grad(w, b, x, y):
    n = x.shape[0]
    r = x @ w + b - y
    return r @ r / n, (2 / n) * (r @ x), (2 / n) * r.sum()
"""


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """The registry, the loaded plugins and sys.modules restored when the block ends."""
    saved = dict(registry._REGISTRY), dict(registry._PLUGINS), dict(plugins._LOADED)
    modules, path = set(sys.modules), list(sys.path)
    try:
        yield
    finally:
        for d, old in zip((registry._REGISTRY, registry._PLUGINS, plugins._LOADED), saved, strict=True):
            d.clear()
            d.update(old)  # type: ignore[arg-type]
        for name in set(sys.modules) - modules:
            where = str(getattr(sys.modules[name], "__file__", None) or "")
            if name.startswith(plugins._PREFIX) or where.startswith(tempfile.gettempdir()):
                del sys.modules[name]  # plugins, and the modules tests wrote in tmp_path
        sys.path[:] = path


def write(folder: Path, name: str, source: str) -> str:
    """Write a plugin file; its path as a --plugin spec."""
    path = folder / name
    path.write_text(source)
    return str(path)
