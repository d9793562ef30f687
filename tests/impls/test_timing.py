"""A fit's clock stops only when its device work is done: the loop's sync, and every backend's wait.

On a GPU (and with JAX on any device) work is queued and runs later, so a clock read before
waiting would time the queueing. On the CPU a spy stands in for the busy device: each wait
sleeps as if the device still had work, and a fit that waits inside its clock must count it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest

import impls
from impls import trainer
from tests.support.backends import build

DATA = impls.make_linear(size=64, seed=2)
BUSY = 0.05  # seconds each spied wait pretends the device is still busy
HOST_FRAMEWORKS = ("numpy", "numba")  # compiled or not, they compute on the host, synchronously
NUMPY_SKIP = "NumPy and numba compute synchronously on the host: there is no queued work to wait for"


def test_run_epochs_syncs_the_final_parameters_then_reads_the_clock(monkeypatch):
    events: list[object] = []
    ticks = iter(range(100, 1000, 10))  # not from 0, where start + end = end - start
    clock = SimpleNamespace(perf_counter=lambda: events.append("clock") or next(ticks))
    monkeypatch.setattr(trainer, "time", clock)

    def step(p: int) -> tuple[float, object]:
        events.append(("step", p))
        return 1.0, lambda: p + 1

    cfg = impls.TrainConfig(epochs=3, tol=0, record_history=False)
    read = lambda p: (np.array([p]), 0.0)  # noqa: E731
    trace = trainer.run_epochs(step, 0, cfg, read, lambda p: events.append(("sync", p)))
    # Work queued before the loop is waited for before the clock starts; the final parameters,
    # after the last update, are waited for before it stops.
    assert events == [("sync", 0), "clock", ("step", 0), ("step", 1), ("step", 2), ("sync", 3), "clock"]
    assert trace.params == 3 and trace.seconds == 10
    events.clear()  # with history each epoch also stamps the clock after reading (w, b) back
    history = impls.TrainConfig(epochs=3, tol=0)
    trace = trainer.run_epochs(step, 0, history, read, lambda p: events.append(("sync", p)))
    assert events[:3] == [("sync", 0), "clock", ("step", 0)] and events[-2:] == [("sync", 3), "clock"]
    assert trace.times is not None and len(trace.times) == 3


@pytest.mark.parametrize(("loss", "stop"), [(0.0, "tol"), (float("nan"), "diverged")])
def test_run_epochs_syncs_before_the_clock_when_the_fit_stops_early(monkeypatch, loss, stop):
    events: list[object] = []
    monkeypatch.setattr(trainer, "time", SimpleNamespace(perf_counter=lambda: events.append("clock") or 0.0))

    def step(p: int) -> tuple[float, object]:
        return loss, lambda: p + 1

    trace = trainer.run_epochs(step, 7, impls.TrainConfig(epochs=5, tol=1e-3), lambda p: (np.array([p]), 0.0),
                               lambda p: events.append(("sync", p)))
    assert trace.stop_reason == stop and trace.epochs == 0
    assert events == [("sync", 7), "clock", ("sync", 7), "clock"]


@contextlib.contextmanager
def in_process(name: str) -> Iterator[impls.BackendBase]:
    """The backend with its training loop in this process, where a spy can see it."""
    backend = build(name)
    if name == "jax-sharded":
        yield impls.get_backend(name, devices=1)  # one device: this process has it
    elif name == "torch-ddp":  # joins a one-rank group made here, as under torchrun
        import torch.distributed as dist

        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        try:
            yield impls.get_backend(name)
        finally:
            dist.destroy_process_group()
    else:
        yield backend


def spy_on_wait(framework: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Replace the framework's wait for device work by one that also sleeps BUSY; its calls' arguments."""
    if framework == "torch":
        from impls import _torch as owner

        attr = "sync"
    else:
        import jax as owner

        attr = "block_until_ready"
    real, calls = getattr(owner, attr), []

    def wait(*args: object) -> object:
        out = real(*args)
        time.sleep(BUSY)
        calls.append(args)
        return out

    monkeypatch.setattr(owner, attr, wait)
    return calls


def test_every_fit_waits_for_its_device_inside_its_clock(backend_name, device, monkeypatch):
    if build(backend_name, device).framework in HOST_FRAMEWORKS:
        pytest.skip(NUMPY_SKIP)
    with in_process(backend_name) as backend:
        cfg = impls.TrainConfig(epochs=3, tol=0, device=device, record_history=False)
        run = backend.prepare(*DATA, cfg)
        run()  # compiles and warms up outside the spy
        calls = spy_on_wait(backend.framework, monkeypatch)
        got = run()
    assert calls, f"{backend_name} never waited for its device"
    assert got.seconds >= BUSY, f"{backend_name}: clock stopped before its last wait ({got.seconds:.3f} s)"
    if backend.framework == "jax":  # the last wait was on the final parameters
        import jax

        leaves = [np.asarray(v) for v in jax.tree_util.tree_leaves(calls[-1])]
        assert any(v.shape == got.w.shape and np.array_equal(v, got.w) for v in leaves)
        assert any(v.shape == () and float(v) == got.b for v in leaves)
    else:
        assert calls[-1] == (device,)


def test_torch_sync_waits_for_cuda_and_nothing_else(monkeypatch):
    torch = pytest.importorskip("torch")
    from impls import _torch

    waited: list[str] = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a: waited.append("cuda"))
    _torch.sync("cpu")  # the CPU runs torch's work as it is called
    assert waited == []
    _torch.sync("cuda")
    assert waited == ["cuda"]


def test_torch_sync_leaves_no_work_queued_on_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device: on the CPU torch has no queue to drain")
    from impls import _torch

    a = torch.randn(4096, 4096, device="cuda")
    for _ in range(20):
        a = a @ a / 64  # seconds of queued work on any GPU
    _torch.sync("cuda")
    assert torch.cuda.current_stream().query()  # nothing left running


def test_numpy_moments_clock_includes_its_pass_over_the_data():
    # Its epochs never read the data; the one pass that does belongs to every fit's time.
    x, y = impls.make_linear(size=200_000, seed=1)
    start = time.perf_counter()
    got = impls.get_backend("numpy-moments").fit(x, y, impls.TrainConfig(epochs=1, tol=0))
    wall = time.perf_counter() - start
    one_pass = got.info["moments_seconds"]
    assert isinstance(one_pass, float) and 0 < one_pass < got.seconds <= wall
