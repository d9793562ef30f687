"""The data-parallel backends: same trajectory as numpy-closed on 1-3 workers, faults, bad input.

Every test here must leave no worker behind: the autouse ``reaped`` fixture checks this
process's descendants (multiprocessing's forkserver and resource tracker excepted).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import impls
from tests.support.backends import build
from tests.support.faults import Fault, inject

# Even N: 2 workers split it equally, 3 do not (torch-ddp: 34/33/33 rows, jax-sharded: 2 padded rows).
DATA = impls.make_linear(w=[0.3, -0.7], b=0.2, size=100, seed=4)
CFG = impls.TrainConfig(epochs=200, tol=2e-3)
DIST = ["torch-ddp", "jax-sharded"]
SIZE = {"torch-ddp": "world_size", "jax-sharded": "devices"}
BOUND_S = 60  # the limit for one multi-process test; each needs far less


def _procs() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) for every process /proc shows."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]  # the command name may hold spaces
        out[int(d)] = (int(ppid), state, cmd)
    return out


def workers() -> set[int]:
    """Live descendants of this process, except multiprocessing's forkserver and resource tracker.

    Workers are the forkserver's children and share its command line, so only direct children
    of this process count as helpers.
    """
    procs, found, frontier = _procs(), set(), [os.getpid()]
    while frontier:
        me = frontier.pop()
        for pid, (ppid, state, cmd) in procs.items():
            if ppid == me and pid not in found:
                frontier.append(pid)
                helper = me == os.getpid() and (
                    "multiprocessing.forkserver" in cmd or "resource_tracker" in cmd
                )
                if state != "Z" and not helper:
                    found.add(pid)
    return found


@pytest.fixture(autouse=True)
def reaped():
    """Fail the test if it leaves a worker process behind."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to check that workers are reaped")
    before = workers()
    yield
    deadline = time.monotonic() + 5
    while (left := workers() - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes left behind: {left}"


def backend(name: str, size: int | None = None, **options: object) -> impls.BackendBase:
    """``name`` with ``size`` workers, skipped with a reason if its framework is missing."""
    build(name)
    if size is not None:
        options[SIZE[name]] = size
    b = impls.get_backend(name, **options)
    assert isinstance(b, impls.BackendBase)
    return b


def assert_same_trajectory(got: impls.FitResult, ref: impls.FitResult, atol: float) -> None:
    """Same stop, same number of updates, and every recorded value within ``atol``."""
    assert (got.stop_reason, got.epochs) == (ref.stop_reason, ref.epochs)
    for a, b in [(got.losses, ref.losses), (got.ws, ref.ws), (got.bs, ref.bs), (got.w, ref.w)]:
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)
    assert got.b == pytest.approx(ref.b, abs=atol) and got.loss == pytest.approx(ref.loss, abs=atol)


@pytest.fixture(scope="module")
def ref() -> impls.FitResult:
    """numpy-closed on DATA with CFG: stops on tol, so the stopping rule is compared too."""
    got = impls.get_backend("numpy-closed").fit(*DATA, CFG)
    assert got.stop_reason == "tol" and 10 < got.epochs < CFG.epochs
    return got


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("name", DIST)
def test_float64_trajectory_matches_numpy_closed(name, size, ref):
    start = time.monotonic()
    got = backend(name, size).fit(*DATA, CFG)
    assert_same_trajectory(got, ref, atol=1e-10)
    assert got.info.get("world_size", got.info.get("devices")) == size
    assert time.monotonic() - start < BOUND_S


@pytest.mark.parametrize("name", DIST)
def test_float32_within_1e4_of_float64(name):
    cfg = impls.TrainConfig(epochs=150, tol=0)
    ref = impls.get_backend("numpy-closed").fit(*DATA, cfg)
    got = backend(name, 3).fit(*DATA, impls.TrainConfig(epochs=150, tol=0, dtype="float32"))
    assert got.dtype == "float32"
    assert_same_trajectory(got, ref, atol=1e-4)


def test_torch_ddp_keeps_its_ranks_between_calls_and_reaps_them(ref):
    b = backend("torch-ddp", 2)
    run = b.prepare(*DATA, CFG)
    first = run()
    pids = first.info["pids"]
    assert set(pids) <= workers()  # alive between calls
    second = run()
    assert second.info["pids"] == pids
    np.testing.assert_array_equal(first.ws, second.ws)
    assert_same_trajectory(second, ref, atol=1e-10)
    info = second.info
    assert info["shard_sizes"] == [50, 50] and info["threads_per_rank"] >= 1
    assert info["launcher"] == "started here" and info["dist_backend"] == "gloo"
    # every epoch all-reduces once, the stopping one too
    assert info["allreduce_calls"] == second.epochs + 1
    assert 0 < info["allreduce_seconds"] < second.seconds
    del run  # the ranks go with the prepared fit
    deadline = time.monotonic() + 10
    while set(pids) & workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not set(pids) & workers()


def test_jax_sharded_offers_cuda_only_with_as_many_gpus_as_devices(monkeypatch):
    jax = pytest.importorskip("jax", reason="jax-sharded needs JAX")
    sharded = backend("jax-sharded", 2)
    for gpus, want in ((0, ["cpu"]), (1, ["cpu"]), (2, ["cpu", "cuda"])):
        monkeypatch.setattr(jax, "devices", lambda kind=None, n=gpus: [object()] * n if kind == "gpu" else [])
        assert sharded.devices() == want, gpus


def test_jax_sharded_compiles_once_and_pads_unequal_shards(ref):
    run = backend("jax-sharded", 3).prepare(*DATA, CFG)
    run()
    got = run()
    assert got.info["compiles"] == 1
    assert (got.info["padded_rows"], got.info["rows_per_device"]) == (2, 34)
    assert_same_trajectory(got, ref, atol=1e-10)


FAULTS = [
    ("torch-ddp", {}, Fault("raise", 1), r"rank 1 failed .*RuntimeError: injected failure at epoch 2"),
    ("torch-ddp", {}, Fault("exit", 1), "rank 1 failed .*exited with code 3"),
    ("torch-ddp", {"timeout": 3}, Fault("hang", 0), "rank 0 failed .*no reply"),
    ("jax-sharded", {}, Fault("raise"), "worker 0 failed .*injected failure at epoch 2"),
    ("jax-sharded", {}, Fault("exit"), "worker 0 failed .*exited with code 3"),
]


@pytest.mark.parametrize(
    ("name", "options", "fault", "message"), FAULTS, ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_a_failing_worker_ends_the_fit_with_an_error_naming_it(name, options, fault, message, monkeypatch):
    b = backend(name, **options)
    inject(monkeypatch, name, fault)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=message):
        b.fit(*DATA, CFG)
    assert time.monotonic() - start < BOUND_S


def test_after_a_failure_the_prepared_fit_says_so(monkeypatch):
    b = backend("torch-ddp", 2)
    inject(monkeypatch, "torch-ddp", Fault("raise", 1))
    run = b.prepare(*DATA, CFG)
    with pytest.raises(RuntimeError, match="rank 1 failed"):
        run()
    with pytest.raises(RuntimeError, match="shut down; call prepare"):
        run()


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "2"])
@pytest.mark.parametrize("name", DIST)
def test_bad_worker_counts_are_value_errors(name, size):
    build(name)
    with pytest.raises(ValueError, match=f"{SIZE[name]} must be an integer >= 1"):
        impls.get_backend(name, **{SIZE[name]: size})


@pytest.mark.parametrize("name", DIST)
def test_more_workers_than_samples_is_a_value_error_before_any_start(name):
    b = backend(name, 3)
    with pytest.raises(ValueError, match=r"more .* than the 2 samples"):
        b.fit([0.1, 0.2], [0.3, 0.4])


def test_a_port_that_cannot_be_bound_is_a_runtime_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{port}"):
            backend("torch-ddp", 2, port=port).fit(*DATA, CFG)


@pytest.mark.parametrize("name", DIST)
def test_loss_and_grad_goes_through_the_workers_with_unequal_shards(name):
    """What gdbench check checks is what trains: shard sums in the workers, then the all-reduce."""
    from benchmarks.core import oracle

    be = build(name)
    x, y = DATA[0][:97], DATA[1][:97]  # odd N: shards of 49 and 48 rows (jax-sharded: 1 padded row)
    w, b = np.array([1.5, -2.0]), 0.7
    try:
        first = be.loss_and_grad(w, b, x, y)
        info = dict(be.grad_info)
        again = be.loss_and_grad(w, b, x, y)
        assert be.grad_info == info  # the same workers answered both calls
    finally:
        be.close()
    if name == "torch-ddp":
        assert info["shard_sizes"] == [49, 48] and info["launcher"] == "started here"
        pids = info["pids"]
        assert isinstance(pids, list) and len(pids) == 2 and os.getpid() not in pids
    else:
        assert info["padded_rows"] == 1 and str(info["where"]).startswith("worker process ")
    got = np.r_[first[0], first[1], first[2]]
    assert np.array_equal(got, np.r_[again[0], again[1], again[2]])
    xs = x.reshape(-1, 2)
    assert np.all(oracle.excess(got, oracle.exact(w, b, xs, y), oracle.tolerance(w, b, xs, y)) <= 1)


def test_torch_ddp_uses_an_existing_process_group(ref, monkeypatch):
    build("torch-ddp")
    import torch.distributed as dist

    from impls.torch_ddp import loopback

    monkeypatch.setenv("GLOO_SOCKET_IFNAME", loopback())
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        be = impls.get_backend("torch-ddp")
        got = be.fit(*DATA, CFG)
        loss = be.loss_and_grad([0.3, -0.7], 0.2, *DATA)[0]
        assert be.grad_info["launcher"] == "existing process group" and be.grad_info["shard_sizes"] == [100]
        want = impls.get_backend("numpy-closed").loss_and_grad([0.3, -0.7], 0.2, *DATA)[0]
        assert loss == pytest.approx(want, rel=1e-12)
        with pytest.raises(ValueError, match="world_size=2 but the process group has 1"):
            impls.get_backend("torch-ddp", world_size=2).fit(*DATA, CFG)
    finally:
        dist.destroy_process_group()
    assert got.info["launcher"] == "existing process group" and got.info["world_size"] == 1
    assert_same_trajectory(got, ref, atol=1e-10)


TORCHRUN_SCRIPT = """
    import json
    import impls
    import torch
    import torch.distributed as dist
    x, y = impls.make_linear(w=[0.3, -0.7], b=0.2, size=100, seed=4)
    res = impls.get_backend("torch-ddp").fit(x, y, impls.TrainConfig(epochs=200, tol=2e-3))
    out = {"rank": dist.get_rank(), "ws": res.ws.tolist(), "losses": res.losses.tolist(),
           "stop": res.stop_reason, "info": res.info, "omp": torch.get_num_threads()}
    # One file per rank: two ranks printing to one pipe can interleave their lines.
    with open(f"result-{dist.get_rank()}.json", "w") as f:
        json.dump(out, f)
    dist.destroy_process_group()
"""


def test_torch_ddp_under_torchrun(tmp_path, ref):
    build("torch-ddp")
    script = tmp_path / "fit.py"
    script.write_text(textwrap.dedent(TORCHRUN_SCRIPT))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2", "--master-addr=127.0.0.1",
           f"--master-port={port}", str(script)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    from impls.torch_ddp import loopback

    env["GLOO_SOCKET_IFNAME"] = loopback()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=BOUND_S, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    results = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("result-*.json"))]
    assert sorted(r["rank"] for r in results) == [0, 1]
    for r in results:
        assert r["stop"] == ref.stop_reason and len(r["losses"]) == ref.epochs
        np.testing.assert_allclose(r["ws"], ref.ws, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r["losses"], ref.losses, rtol=0, atol=1e-10)
        assert r["info"]["launcher"] == "existing process group" and r["info"]["shard_sizes"] == [50, 50]
        assert r["info"]["threads_per_rank"] == r["omp"] == 1  # torchrun's default, recorded


def test_scaling_model_and_report_section_from_saved_data(tmp_path):
    from benchmarks.core import scaling
    data = {
        "schema": scaling.SCHEMA, "created": "2026-01-01T00:00:00+00:00", "machine": {"torch": "x"},
        "cores": 2, "load_average": [1.0, 1.0, 1.0],
        "allreduce": [{"world": 2, "elements": e, "bytes": 8 * e, "repeats": 10, "p10_s": 1e-4, "p90_s": 2e-4,
                       "median_s": 1e-4 * (1 + e / 1e4), "min_s": 1e-4} for e in scaling.ELEMENTS],
        "epochs": [{"n": n, "world": p, "epochs": 20, "rounds": 3, "threads_per_rank": 1,
                    "per_epoch_s": 2e-5 + 1e-9 * n / p + (p - 1) * 1e-4, "compute_s": 2e-5 + 1e-9 * n / p,
                    "allreduce_s": (p - 1) * 1e-4} for n in (10**3, 10**7) for p in (1, 2)],
    }  # fmt: skip
    m = scaling.model(data)
    assert (
        m.a2 == pytest.approx(1e-4 * (1 + 3e-4))
        and m.c == pytest.approx(1e-9)
        and m.o == pytest.approx(2.1e-5)
    )
    assert m.crossover(2) == pytest.approx(m.a2 / m.c) and m.allreduce(1) == 0
    assert m.allreduce(8) == pytest.approx(7 * m.a2) and m.allreduce(8, "tree") == pytest.approx(3 * m.a2)
    path = tmp_path / "scaling.json"
    path.write_text(json.dumps(data))
    from benchmarks.report import markdown
    from benchmarks.report import scaling as shown

    text = markdown.section(shown.section(scaling.read(path), Path("scaling.png")))
    assert text.startswith("## Beyond one machine") and "Measured" in text and "Modelled" in text
    assert "![time per epoch against nodes and N](scaling.png)" in text
    assert shown.plot(data, tmp_path / "scaling.png").stat().st_size > 10_000
