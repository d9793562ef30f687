"""The timed cases: the memory floor, every backend's fit, and the per-epoch trace.

Run through `gdbench bench`, which sets threads and saves the JSON; the grid comes from conftest.
Floors and fits are measured together first (the ``measured`` fixture runs the protocol over the
whole grid, rounds interleaved); each test then checks its case and hands its rounds to
pytest-benchmark, so a failed case fails its own test and its numbers stay out of the JSON.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.core import sweep
from benchmarks.suite import harness, runners, trace
from benchmarks.suite.harness import built


def _backend(name: str, device: str) -> Any:
    backend, reason = built(name)
    if backend is None:
        pytest.skip(f"{name} unavailable: {reason}")
    if device not in backend.devices():
        pytest.skip(f"{name}: no {device} here (usable: {', '.join(backend.devices())})")
    return backend


def _report(benchmark: Any, runner: Any, group: str) -> None:
    if runner.error is not None:
        benchmark.has_error = True  # pytest-benchmark then leaves the case out of the JSON
        raise harness.CheckFailed(f"{runner.label}: {runner.error}")
    benchmark.group = group
    benchmark.extra_info.update(runner.info())
    top = max(runner.rounds) if isinstance(runner.rounds, dict) else None
    rounds = runner.rounds[top] if top is not None else runner.rounds
    runners.record(benchmark, rounds.seconds)


# The rounds were timed by the protocol; pytest-benchmark reads them back through this timer.
replayed = pytest.mark.benchmark(timer=runners.perf_counter_replay)


@replayed
def test_floor(benchmark: Any, measured: dict[Any, Any], device: str, dtype: str, n: int) -> None:
    """One read of x and y: the bar for every per-pass epoch at this (N, dtype, device)."""
    _report(benchmark, measured[("floor", device, n, dtype)], f"floor {device} {dtype}")


@replayed
def test_fit(
    benchmark: Any,
    measured: dict[Any, Any],
    device: str,
    dtype: str,
    n: int,
    d: int,
    mode: str,
    backend_name: str,
) -> None:
    """One backend at this (N, d, dtype, device, mode): checked, then its rounds at every epoch count."""
    _backend(backend_name, device)
    runner = measured[("fit", device, n, d, dtype, mode, backend_name)]
    _report(benchmark, runner, runner.case.group)


def test_trace(benchmark: Any, session_grid: dict[str, Any], device: str, backend_name: str) -> None:
    """Time per epoch against the epoch index, at a small N where dispatch dominates."""
    backend = _backend(backend_name, device)
    if not trace.traceable(backend):
        pytest.skip(f"{backend_name} has no Python-level epoch function to time")
    work = sweep.trace_work(session_grid["quick"])
    trace.run_trace(benchmark, backend, backend_name, sweep.TRACE_N, device, work)
