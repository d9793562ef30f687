"""Shared fixtures: every registered backend, skipped with a reason where it cannot run here."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import impls
from benchmarks.cli import main

DEVICES = ["cpu", "cuda"]


def gdbench(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def build(name: str, device: str = "cpu") -> impls.BackendBase:
    """The backend ``name``, or a pytest skip saying why it cannot run on ``device`` here."""
    try:
        backend = impls.get_backend(name)
    except impls.BackendUnavailable as e:
        pytest.skip(f"{name} unavailable: {e}")
    assert isinstance(backend, impls.BackendBase)
    if device not in backend.devices():
        pytest.skip(f"{name}: no {device} device here (usable: {', '.join(backend.devices())})")
    return backend


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


def cuda_anywhere() -> bool:
    """Whether any available backend can use a CUDA device in this process."""
    for name in impls.backend_names():
        try:
            if "cuda" in impls.get_backend(name).devices():
                return True
        except impls.BackendUnavailable:
            continue
    return False


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


def lstsq(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact least-squares (w, b) for y ≈ x·w + b."""
    xs = x.reshape(len(y), -1)
    sol = np.linalg.lstsq(np.c_[xs, np.ones(len(y))], y, rcond=None)[0]
    return sol[:-1], float(sol[-1])


def optimal_lr(x: np.ndarray) -> tuple[float, float]:
    """(lr, contraction per epoch) of the fastest fixed step for this data's quadratic loss."""
    xs = x.reshape(x.shape[0], -1)
    a = np.c_[xs, np.ones(xs.shape[0])]
    ev = np.linalg.eigvalsh(2 * a.T @ a / xs.shape[0])
    return 2 / (ev[0] + ev[-1]), (ev[-1] - ev[0]) / (ev[-1] + ev[0])


@pytest.fixture(scope="module")
def kept() -> Iterator[dict[str, impls.BackendBase]]:
    """One backend per name for the module: data-parallel workers start once; closed at the end."""
    cache: dict[str, impls.BackendBase] = {}
    yield cache
    for backend in cache.values():
        close = getattr(backend, "close", None)
        if callable(close):
            close()
