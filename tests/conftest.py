"""Shared fixtures and hooks: every registered backend, skipped with a reason where it cannot run here.

Helpers live in tests/support/ and are imported from there, never from this file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import impls
from tests.support.backends import build, cuda_anywhere

# The tests run from the clone, whose results/ is the results folder (benchmarks/core/paths.py);
# a GDBENCH_RESULTS of the developer's would move it. Tests that need it set it themselves.
os.environ.pop("GDBENCH_RESULTS", None)

DEVICES = ["cpu", "cuda"]


@pytest.fixture(params=impls.backend_names())
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each registered backend name in turn."""
    return str(request.param)


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """Each device: "cpu" always runs, "cuda" skips where absent."""
    return str(request.param)


@pytest.fixture
def backend(backend_name: str, device: str) -> impls.BackendBase:
    """The backend under test, usable on ``device``."""
    return build(backend_name, device)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without any CUDA device, deselect the cuda cases, said in one closing line, not one per case."""
    params = [getattr(getattr(it, "callspec", None), "params", {}) for it in items]
    cuda = [it for it, p in zip(items, params, strict=True) if p.get("device") == "cuda"]
    if not cuda or cuda_anywhere():
        return
    config.hook.pytest_deselected(items=cuda)
    drop = set(cuda)
    items[:] = [it for it in items if it not in drop]
    config.stash[_NO_CUDA] = len(cuda)
    if hasattr(config, "workeroutput"):  # a pytest-xdist worker: tell the controller, which prints
        config.workeroutput["no_cuda"] = len(cuda)


_NO_CUDA = pytest.StashKey[int]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker finished; keep its count of deselected cuda cases (all count the same)."""
    n = int(getattr(node, "workeroutput", {}).get("no_cuda", 0))
    node.config.stash[_NO_CUDA] = max(node.config.stash.get(_NO_CUDA, 0), n)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Say why the cuda cases did not run."""
    if n := config.stash.get(_NO_CUDA, 0):
        terminalreporter.write_line(f"{n} cuda case(s) deselected: no CUDA device here")


@pytest.fixture(scope="module")
def kept() -> Iterator[dict[str, impls.BackendBase]]:
    """One backend per name for the module: data-parallel workers start once; closed at the end."""
    cache: dict[str, impls.BackendBase] = {}
    yield cache
    for backend in cache.values():
        close = getattr(backend, "close", None)
        if callable(close):
            close()


@pytest.fixture
def undrawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures built but not rendered (a PNG signature only): for tests about the report's text."""

    def savefig(self: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        data = b"\x89PNG\r\n\x1a\n"
        if hasattr(target, "write"):
            target.write(data)
        else:
            Path(target).write_bytes(data)

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", savefig)
