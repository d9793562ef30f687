"""The timed cases: the memory floor, every backend's fixed-work fit, and the per-epoch trace.

Run through `gdbench bench`, which sets threads and saves the JSON; the grid comes from conftest.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.suite import cases, harness, trace
from benchmarks.suite.harness import built


def _backend(name: str, device: str) -> Any:
    backend, reason = built(name)
    if backend is None:
        pytest.skip(f"{name} unavailable: {reason}")
    if device not in backend.devices():
        pytest.skip(f"{name}: no {device} here (usable: {', '.join(backend.devices())})")
    return backend


def test_floor(benchmark: Any, sweep: dict[str, Any], device: str, dtype: str, n: int) -> None:
    """One read of x and y: the bar for every per-pass epoch at this (N, dtype, device)."""
    rounds = cases.floor_rounds(sweep["quick"])
    harness.run_floor(benchmark, n, dtype, device, rounds, cases.floor_iterations(n))


def test_fit(
    benchmark: Any, sweep: dict[str, Any], device: str, dtype: str, n: int, mode: str, backend_name: str
) -> None:
    """A fixed number of epochs from the same init, checked, then timed."""
    backend = _backend(backend_name, device)
    work = cases.work(n, sweep["quick"])
    case = harness.FitCase(backend_name, n, dtype, device, mode, work)
    x, y = harness.data(n)
    harness.run_fit(benchmark, backend, x, y, case)


def test_trace(benchmark: Any, sweep: dict[str, Any], device: str, backend_name: str) -> None:
    """Time per epoch against the epoch index, at a small N where dispatch dominates."""
    backend = _backend(backend_name, device)
    if not trace.traceable(backend):
        pytest.skip(f"{backend_name} has no Python-level epoch function to time")
    work = cases.trace_work(sweep["quick"])
    trace.run_trace(benchmark, backend, backend_name, cases.TRACE_N, device, work)
