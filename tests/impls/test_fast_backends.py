"""What the fast backends promise beyond the contract: no recompiles, exact moments, no side effects."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import impls
from benchmarks.core import sweep
from tests.support.backends import build


def cfg(**kw: object) -> impls.TrainConfig:
    """A short fit without early stopping."""
    return impls.TrainConfig(**{"epochs": 20, "tol": 0.0, **kw})  # type: ignore[arg-type]


# --- jax-fused: one trace per shape, dtype and history capacity -------------------------------


def test_jax_fused_traces_once_per_shape_and_is_reused():
    jax_fused = pytest.importorskip("impls.jax_fused", reason="jax not installed")
    backend = build("jax-fused")
    x, y = impls.make_linear(size=37, seed=5)  # a shape no other test uses, so the first fit traces
    before = jax_fused.trace_count
    first = backend.fit(x, y, cfg())
    assert jax_fused.trace_count == before + 1 and first.info["compile_seconds"] > 0
    # Same shapes: a second fit, a new prepare(), other lr, tol, init and seed trace nothing.
    backend.fit(x, y, cfg())
    run = build("jax-fused").prepare(x, y, cfg(lr=0.05, tol=1e-9, init=(0.3, -1.0)))
    again = run()
    run()
    build("jax-fused").fit(x + 1.0, y, cfg(seed=4))
    assert jax_fused.trace_count == before + 1
    assert again.info == {"compile_seconds": 0.0, "traces": before + 1}
    # Without history the epoch limit is traced too: a new epoch count does not retrace.
    build("jax-fused").fit(x, y, cfg(epochs=7, record_history=False))
    build("jax-fused").fit(x, y, cfg(epochs=70, record_history=False))
    assert jax_fused.trace_count == before + 2


def test_jax_fused_allocates_no_history_without_it():
    jax_fused = pytest.importorskip("impls.jax_fused", reason="jax not installed")
    x, y = impls.make_linear(size=10, seed=0)
    args = (np.array([0.1], np.float32), np.float32(0.2), x.reshape(-1, 1).astype(np.float32))
    rest = (y.astype(np.float32), np.float32(0.1), np.float32(0.0), np.int32(5))
    bare = jax_fused.fit_loop(*args, *rest, capacity=0)
    full = jax_fused.fit_loop(*args, *rest, capacity=5)
    assert bare.history is None and full.history.ws.shape == (5, 1)
    assert int(full.epoch) == int(bare.epoch) == 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tol", [5e-5, 1e-3, 0.1, 1.0, 0.0])
def test_jax_fused_tol_threshold_is_exact_in_the_working_dtype(dtype, tol):
    jax_fused = pytest.importorskip("impls.jax_fused", reason="jax not installed")
    t = jax_fused.threshold(tol, np.dtype(dtype))
    below = np.nextafter(t, dtype(-np.inf))
    assert t.dtype == dtype and t >= tol and below < tol  # loss < t in dtype <=> loss < tol


def test_jax_fused_stops_on_tol_like_the_python_loop_in_float32():
    x, y = impls.make_linear(size=100, seed=3)
    ref = build("numpy-closed").fit(x, y, impls.TrainConfig(dtype="float32", tol=1e-3))
    got = build("jax-fused").fit(x, y, impls.TrainConfig(dtype="float32", tol=1e-3))
    assert (got.epochs, got.stop_reason) == (ref.epochs, ref.stop_reason) == (got.epochs, "tol")


# --- torch-compile: compiled once, reused across epochs, fits, lrs and data sizes -------------


def test_torch_compile_never_recompiles_for_the_same_dtype_and_d():
    torch_compile = pytest.importorskip("impls.torch_compile", reason="torch not installed")
    backend = build("torch-compile")
    x, y = impls.make_linear(size=100, seed=1)
    first = backend.fit(x, y, cfg())  # compiles unless an earlier test compiled float64, d = 1
    compiles = torch_compile.compile_count
    assert compiles >= 1 and first.info["recompiles_during_fit"] == 0
    # N is dynamic and lr a tensor: other sizes, lrs, inits and new prepare()s reuse the step.
    for size, lr in ((100, 0.1), (2, 0.3), (1234, 0.05)):
        xs, ys = impls.make_linear(size=size, seed=size)
        got = build("torch-compile").fit(xs, ys, cfg(lr=lr, init=(0.5, 0.5), epochs=30))
        assert got.info == {"compile_seconds": 0.0, "compiles": compiles, "recompiles_during_fit": 0}
    run = backend.prepare(x, y, cfg(epochs=50))
    run(), run()
    with pytest.warns(RuntimeWarning, match="diverged"):  # w and b grow until the loss overflows
        assert backend.fit(x, y, cfg(lr=50.0, epochs=500)).info["recompiles_during_fit"] == 0
    assert torch_compile.compile_count == compiles
    # Large data gets the OpenMP step, small data the serial one, whatever order fits come in.
    n = torch_compile.PARALLEL_FROM
    assert torch_compile.compiled_step(n - 1) is torch_compile.compiled_serial
    assert torch_compile.compiled_step(n) is torch_compile.compiled_parallel


# --- numba-fused: one compile per dtype, found on disk by the next process, threads from the suite


def test_numba_fused_compiles_once_per_dtype_whatever_d_n_lr_or_history():
    numba_fused = pytest.importorskip("impls.numba_fused", reason="numba not installed")
    x, y = impls.make_linear(size=37, seed=5)
    wide = impls.make_linear(w=[0.3, -0.7, 1.0], b=0.2, size=numba_fused.PARALLEL_FROM, seed=4)
    for data in ((x, y), wide):  # each loop compiled or loaded for float64, unless a test did already
        build("numba-fused").fit(*data, cfg())
    fit_loop = numba_fused.kernels().fit_loop
    compiles, signatures = numba_fused.compiles(), len(fit_loop.signatures)
    for data, kw in (
        ((x, y), {"lr": 0.05, "init": (0.3, -1.0), "epochs": 7}),
        ((x, y), {"record_history": False, "epochs": 70}),
        (wide, {"tol": 1e-9}),  # d = 3, and the parallel path where numba has threads
    ):
        got = build("numba-fused").fit(*data, cfg(**kw))
        assert (got.info["code"], got.info["compile_seconds"]) == ("memory", 0.0)
    run = build("numba-fused").prepare(x, y, cfg(epochs=50))
    run(), run()
    with pytest.warns(RuntimeWarning, match="diverged"):
        build("numba-fused").fit(x, y, cfg(lr=50.0, epochs=500))
    assert numba_fused.compiles() == compiles and len(fit_loop.signatures) == signatures


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("w", [0.3, [0.3, -0.7]], ids=["d1", "d2"])
def test_numba_fused_parallel_path_follows_numpy_closed(dtype, w):
    numba_fused = pytest.importorskip("impls.numba_fused", reason="numba not installed")
    if numba_fused.threads() < 2:
        pytest.skip("numba has one thread here (NUMBA_NUM_THREADS=1), so it never takes the parallel path")
    # Two full chunks and a partial third, so the partial sums are really merged.
    data = impls.make_linear(w=w, b=0.2, size=numba_fused.PARALLEL_FROM + 1000, seed=4)
    ref = build("numpy-closed").fit(*data, cfg(epochs=30))
    got = build("numba-fused").fit(*data, cfg(epochs=30, dtype=dtype))
    assert got.info["parallel"] is True and got.epochs == 30
    # float64's is the contract's; float32's is 100x tighter than the contract's 1e-4: the sums are
    # float64, so only the rounding of data and parameters to float32 remains.
    atol = {"float64": 1e-10, "float32": 1e-6}[dtype]
    for a, b in ((got.losses, ref.losses), (got.ws, ref.ws), (got.bs, ref.bs)):
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


SECOND_PROCESS = """
import json, sys, impls
from impls import numba_fused
x, y = impls.make_linear(size=int(sys.argv[1]), seed=1)
got = impls.get_backend("numba-fused").fit(x, y, impls.TrainConfig(epochs=3, tol=0))
info = {k: got.info[k] for k in ("code", "compiles", "threads", "parallel")}
print(json.dumps({**info, "numba imported": "numba" in sys.modules}))
"""


def _warm_float64() -> None:
    """Both loops compiled for float64 and on disk, whatever this process's threads."""
    numba_fused = pytest.importorskip("impls.numba_fused", reason="numba not installed")
    build("numba-fused").fit(*impls.make_linear(size=50), cfg())  # the serial loop
    x, y = impls.make_linear(size=50)
    p, none, out = np.zeros(2), np.empty(0), np.empty(3)
    numba_fused.kernels().fit_loop(x.reshape(-1), y, p, 0.1, 0.0, 0, none, np.empty((0, 1)), none, out)


@pytest.mark.parametrize("threads", [1, 2])
def test_numba_fused_next_process_loads_from_disk_with_the_suites_threads(threads):
    _warm_float64()
    env = sweep.thread_env(threads, os.environ)  # what `gdbench bench --threads` gives its child
    argv = [sys.executable, "-c", SECOND_PROCESS, str(impls.numba_fused.PARALLEL_FROM)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.splitlines()[-1])
    assert info == {
        "code": "disk cache", "compiles": 0, "threads": threads, "parallel": threads > 1,
        "numba imported": threads > 1,  # the serial loop loads natively, without numba
    }  # fmt: skip


def test_numba_fused_serial_first_result_needs_no_numba_import():
    _warm_float64()
    out = subprocess.run([sys.executable, "-c", SECOND_PROCESS, "1000"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.splitlines()[-1])
    assert info["code"] == "disk cache" and not info["numba imported"] and not info["parallel"]


def test_numba_fused_native_code_is_stored_keyed_and_loaded_back_the_same(tmp_path, monkeypatch):
    pytest.importorskip("impls.numba_fused", reason="numba not installed")
    from impls import _native, numba_fused

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert _native.folder() == tmp_path and _native.load("float32") is None  # nothing stored here
    compiled = numba_fused.kernels().serial_cfunc(np.dtype("float32"))
    _native.store("float32", compiled)
    assert _native.path("float32").is_file() and _native.key("float32") != _native.key("float64")
    loaded = _native.load("float32")
    assert loaded is not None
    x, y = (a.astype(np.float32) for a in impls.make_linear(size=300, seed=2))
    results = []
    for fn in (loaded, _native.SIGNATURE(compiled.address)):
        p, out, total, none = np.array([0.0, 0.0], np.float32), np.empty(3), np.empty(3), np.empty(0)
        ptrs = (a.ctypes.data for a in (none, none, none, total, out))
        fn(x.ctypes.data, y.ctypes.data, p.ctypes.data, 300, 1, 0.1, 0.0, 20, 0, *ptrs)
        results.append((p.tolist(), out.tolist()))
    assert results[0] == results[1] and results[0][1][:2] == [20.0, 0.0]  # same code, same bits


def test_numba_fused_without_numba_is_unavailable_with_the_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    monkeypatch.delitem(sys.modules, "impls.numba_fused", raising=False)
    with pytest.raises(impls.BackendUnavailable, match="numba"):
        impls.get_backend("numba-fused")
    assert "numba" in str(impls.unavailable_reason("numba-fused"))


# --- torch-optim: the habit, without side effects ---------------------------------------------


def test_torch_optim_leaves_torchs_global_rng_alone():
    torch = pytest.importorskip("torch", reason="torch not installed")
    state = torch.random.get_rng_state()
    build("torch-optim").fit(*impls.make_linear(size=50), cfg())
    assert torch.equal(torch.random.get_rng_state(), state)


# --- numpy-moments: exact moments, one pass, float64 arithmetic --------------------------------


@pytest.mark.parametrize("hand", [True, False], ids=["hand-reflections", "lapack"])
def test_moments_merged_over_blocks_match_the_direct_formulas(monkeypatch, hand):
    from impls import numpy_moments

    x, y = impls.make_linear(w=[0.3, -0.7, 2.0], b=0.2, size=1001, noise=0.5, seed=6)
    x, y = x + 1e4, y - 3e3  # a large offset, where uncentred sums would cancel
    monkeypatch.setattr(numpy_moments, "BLOCK", 64)  # many uneven blocks to merge
    monkeypatch.setattr(numpy_moments, "HAND_QR_COLUMNS", 8 if hand else 0)
    m = numpy_moments.moments(x, y)
    assert m.n == 1001
    # Against the correctly rounded means (math.fsum), not numpy's x.mean(axis=0): that one adds
    # down each column in an order of numpy's choosing, whose error may reach n·u ≈ 1e-13 (1.7e-15
    # here), past the tolerance; the merged means err by 2e-16.
    mx, my = [math.fsum(col) / m.n for col in x.T], math.fsum(y) / m.n
    np.testing.assert_allclose(m.mx, mx, rtol=1e-14)
    assert m.my == pytest.approx(my, rel=1e-14)
    assert np.array_equal(m.r, np.triu(m.r))
    # R̃ᵀR̃ of the stacked factor is the centred Gram matrix of [x | y]
    np.testing.assert_allclose(m.r.T @ m.r / m.n, np.cov(x.T, bias=True), rtol=1e-10, atol=1e-12)
    cxy = ((x - x.mean(0)) * (y - y.mean())[:, None]).mean(0)
    np.testing.assert_allclose(m.r.T @ m.z / m.n, cxy, rtol=1e-10, atol=1e-12)
    assert (m.z @ m.z + m.rho2) / m.n == pytest.approx(y.var(), rel=1e-10)
    w, b = np.array([0.2, -0.1, 1.5]), 0.7
    r = x @ w + b - y
    loss, gw, gb = numpy_moments.loss_and_grad(w, b, m)
    assert loss == pytest.approx(np.mean(r**2), rel=1e-10)
    np.testing.assert_allclose(gw, 2 * (r @ x) / len(y), rtol=1e-10)
    assert gb == pytest.approx(2 * r.mean(), rel=1e-10)


@pytest.mark.parametrize("lead", [0.5, 3.0, -0.5, 0.0])
def test_hand_reflections_keep_the_gram_matrix_of_a_column_nearly_along_e1(lead):
    # A column whose first entry carries almost all of its norm: reflecting it with the wrong sign
    # (v[0] = col[0] - |col|) cancels to nothing and the next column's row of R comes out wrong.
    from impls import numpy_moments

    first = np.r_[lead, np.full(7, 1e-9)] if lead else np.r_[0.0, 1.0, np.full(6, 1e-9)]
    cols = np.array([first, np.arange(8.0) - 2.5])
    gram = cols @ cols.T
    r = numpy_moments.r_factor(cols.copy())
    assert np.array_equal(r, np.triu(r))
    np.testing.assert_allclose(r.T @ r, gram, rtol=1e-12, atol=1e-15)


def test_moments_with_fewer_samples_than_columns():
    from impls import numpy_moments

    x, y = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]]), np.array([1.0, -2.0])
    w, b = np.array([0.1, 0.2, -0.3]), 0.4
    r = x @ w + b - y
    loss, gw, gb = numpy_moments.loss_and_grad(w, b, numpy_moments.moments(x, y))
    assert loss == pytest.approx(np.mean(r**2), rel=1e-13)
    np.testing.assert_allclose(gw, 2 * (r @ x) / 2, rtol=1e-13)
    assert gb == pytest.approx(2 * r.mean(), rel=1e-13)


def test_moments_epochs_never_read_the_data(monkeypatch):
    from impls import numpy_moments

    passes = []
    real = numpy_moments.moments
    monkeypatch.setattr(numpy_moments, "moments", lambda x, y: passes.append(len(y)) or real(x, y))
    got = build("numpy-moments").fit(*impls.make_linear(size=80), cfg(epochs=300))
    assert got.epochs == 300 and passes == [80]
    assert got.info["passes_over_data"] == 1 and 0 < got.info["moments_seconds"] <= got.seconds


def test_moments_float32_tracks_float64_closer_than_the_contract_asks():
    data = impls.make_linear(w=[0.3, -0.7], b=0.2, size=150, seed=4)
    ref = build("numpy-closed").fit(*data, cfg(epochs=150))
    got = build("numpy-moments").fit(*data, cfg(epochs=150, dtype="float32"))
    # Only the data and parameters are rounded to float32; the loss never cancels in float32.
    np.testing.assert_allclose(got.losses, ref.losses, rtol=1e-5)
    np.testing.assert_allclose(got.ws, ref.ws, rtol=0, atol=1e-6)


def test_moments_float32_is_float64_arithmetic_on_float32_data_and_parameters():
    # x far from 0 with a small spread, and an init near the data: rounding x, w0 or b0 to float32
    # moves the loss by 1e-5 or more relative, so a fit that skips one rounding shows at 1e-10.
    rng = np.random.default_rng(7)
    u = rng.random(200)
    x, y = 1000 + 1e-3 * u, 0.5 + 0.3 * u + 1e-4 * rng.random(200)
    w0, b0 = 0.3, -299.6123456789
    got = build("numpy-moments").fit(x, y, cfg(lr=5e-7, dtype="float32", init=(w0, b0)))
    x32, y32 = (a.astype(np.float32).astype(np.float64) for a in (x, y))
    ws = np.r_[np.float32(w0), got.ws[:-1, 0]]  # the parameters each epoch's loss was taken at
    bs = np.r_[np.float32(b0), got.bs[:-1]]
    exact = np.mean((np.outer(x32, ws) + bs - y32[:, None]) ** 2, axis=0)
    np.testing.assert_allclose(got.losses, exact, rtol=1e-10, atol=0)


# --- numpy-buffered: numpy-closed's iterates without N-sized temporaries -----------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_buffered_matches_numpy_closed_bit_for_bit(dtype):
    data = impls.make_linear(w=[0.3, -0.7, 1.0], b=0.2, size=500, seed=4)
    ref = build("numpy-closed").fit(*data, cfg(epochs=100, dtype=dtype))
    got = build("numpy-buffered").fit(*data, cfg(epochs=100, dtype=dtype))
    # Exact on purpose, on any CPU or thread count: the same BLAS calls on the same data in the same
    # process, in the same order; only the residual's address differs, and OpenBLAS's results do not
    # depend on it for numpy's 16-byte-aligned arrays (checked with OPENBLAS_CORETYPE=Prescott, Nehalem,
    # Sandybridge, Haswell and SkylakeX).
    for a, b in ((got.losses, ref.losses), (got.ws, ref.ws), (got.bs, ref.bs)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["numpy-buffered", "numpy-moments", "numpy-closed"])
def test_numpy_fits_allocate_nothing_of_size_n(name, monkeypatch):
    import tracemalloc

    from impls import numpy_moments

    monkeypatch.setattr(numpy_moments, "BLOCK", 4096)  # its one pass holds a few blocks at a time
    x, y = impls.make_linear(size=400_000, seed=0)  # 3.2 MB of x
    run = build(name).prepare(x, y, cfg(epochs=5, record_history=False))
    run()
    tracemalloc.start()
    try:
        run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if name == "numpy-closed":  # the control: fresh temporaries every epoch
        assert peak > x.nbytes
    else:
        assert peak < 0.05 * x.nbytes
