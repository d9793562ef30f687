"""The training contract, held for every backend: agreement, convergence, stop rule, divergence."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import impls
from tests.support.backends import build, lstsq, optimal_lr

ONE = impls.make_linear(size=100, seed=3)
TWO = impls.make_linear(w=[0.3, -0.7], b=0.2, size=150, seed=4)


def fit(backend: impls.BackendBase, data: tuple[np.ndarray, np.ndarray], **cfg: object) -> impls.FitResult:
    """Fit quietly (divergence warnings are asserted where they matter)."""
    return backend.fit(*data, impls.TrainConfig(**cfg))  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [ONE, TWO], ids=["d1", "d2"])
def test_float64_trajectory_matches_numpy_closed(backend, device, data):
    ref = fit(build("numpy-closed"), data, epochs=120, tol=1e-3)
    got = fit(backend, data, epochs=120, tol=1e-3, device=device)
    assert got.epochs == ref.epochs and got.stop_reason == ref.stop_reason
    np.testing.assert_allclose(got.losses, ref.losses, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.ws, ref.ws, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.bs, ref.bs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.w, ref.w, rtol=0, atol=1e-10)
    assert got.loss == pytest.approx(ref.loss, abs=1e-10)


def test_float32_within_1e4_of_float64(backend, device):
    ref = fit(build("numpy-closed"), TWO, epochs=150, tol=0)
    got = fit(backend, TWO, epochs=150, tol=0, dtype="float32", device=device)
    assert got.dtype == "float32" and got.epochs == 150
    np.testing.assert_allclose(got.losses, ref.losses, rtol=0, atol=1e-4)
    np.testing.assert_allclose(got.ws, ref.ws, rtol=0, atol=1e-4)
    np.testing.assert_allclose(got.bs, ref.bs, rtol=0, atol=1e-4)


@pytest.mark.parametrize("data", [ONE, TWO], ids=["d1", "d2"])
def test_converges_to_least_squares_optimum(backend, device, data):
    lr, rate = optimal_lr(data[0])
    epochs = math.ceil(math.log(1e-12) / math.log(rate))  # distance shrinks by `rate` per epoch
    got = fit(backend, data, lr=lr, epochs=epochs, tol=0, device=device, record_history=False)
    w_opt, b_opt = lstsq(*data)
    assert got.stop_reason == "max_epochs" and got.epochs == epochs
    np.testing.assert_allclose(got.w, w_opt, rtol=0, atol=1e-8)
    assert got.b == pytest.approx(b_opt, abs=1e-8)


def test_tutorial_defaults(backend, device):
    got = backend.fit(*impls.make_linear(), impls.TrainConfig(device=device))
    assert round(float(got.w[0]), 1) == 0.3 and round(got.b, 1) == 0.5
    assert got.stop_reason == "tol" and got.epochs < 500
    assert got.loss < 5e-5 <= got.losses[-1]


def test_history_semantics_first_epoch(backend, device):
    cfg = impls.TrainConfig(lr=0.2, epochs=3, tol=0, init=([0.9, 0.1], -0.4), device=device)
    got = backend.fit(*TWO, cfg)
    x, y = TWO
    r = x @ np.array([0.9, 0.1]) - 0.4 - y
    assert got.losses.shape == (3,) and got.ws.shape == (3, 2) and got.bs.shape == (3,)
    assert got.losses[0] == pytest.approx(np.mean(r**2), rel=1e-12)
    np.testing.assert_allclose(got.ws[0], [0.9, 0.1] - 0.2 * 2 * (r @ x) / len(y), rtol=1e-12)
    assert got.bs[0] == pytest.approx(-0.4 - 0.2 * 2 * r.mean(), rel=1e-12)
    np.testing.assert_array_equal(got.w, got.ws[-1])


def test_tol_stop_makes_no_update_on_the_stopping_epoch(backend, device):
    got = fit(backend, ONE, tol=1e-3, device=device)
    assert got.stop_reason == "tol"
    assert len(got.losses) == len(got.ws) == got.epochs
    assert got.loss < 1e-3 <= got.losses.min()
    np.testing.assert_array_equal(got.w, got.ws[-1])


def test_without_history_same_result(backend, device):
    full = fit(backend, ONE, epochs=50, tol=0, device=device)
    bare = fit(backend, ONE, epochs=50, tol=0, device=device, record_history=False)
    assert bare.losses is None and bare.ws is None and bare.bs is None and bare.times is None
    np.testing.assert_allclose(bare.w, full.w, rtol=0, atol=1e-12)
    assert (bare.b, bare.loss, bare.epochs) == pytest.approx((full.b, full.loss, full.epochs), abs=1e-12)


COMPILED_LOOPS = {"jax-fused", "numba-fused"}  # the whole loop is one compiled call: no per-epoch clock


def test_history_times_every_epoch_from_the_loop_start(backend, device):
    r = fit(backend, ONE, epochs=40, tol=0, device=device)
    if backend.name in COMPILED_LOOPS:
        assert r.times is None
        return
    assert r.times is not None and r.losses is not None and len(r.times) == len(r.losses) == 40
    assert r.times[0] > 0 and np.all(np.diff(r.times) > 0) and r.times[-1] <= r.seconds


def test_prepared_fit_repeats_from_the_init(backend, device):
    run = backend.prepare(*ONE, impls.TrainConfig(epochs=30, tol=0, device=device))
    first = run()
    start = time.perf_counter()
    second = run()
    wall = time.perf_counter() - start
    np.testing.assert_array_equal(first.losses, second.losses)
    np.testing.assert_array_equal(first.w, second.w)
    assert 0 < second.seconds <= wall  # the loop's own clock, inside the call


def test_float32_fit_keeps_its_parameters_in_float32(backend, device):
    got = fit(backend, TWO, epochs=20, tol=0, dtype="float32", device=device)
    for v in (got.ws, got.bs, got.w, np.float64(got.b)):
        np.testing.assert_array_equal(v, np.asarray(v).astype(np.float32))  # each value is a float32


def test_trajectory_scales_with_the_data(backend, device):
    # Gradient descent on the MSE is homogeneous: y and the init times 2^-40 gives every iterate
    # times 2^-40 and every loss times 2^-80, exactly in binary floating point, whatever the order
    # of summation. An offset or a constant that does not scale (a mean started at 1) breaks it.
    x, y = TWO
    s = 2.0**-40
    ref = fit(backend, TWO, init=([0.4, 0.1], 0.3), epochs=30, tol=0, device=device)
    got = fit(backend, (x, y * s), init=([0.4 * s, 0.1 * s], 0.3 * s), epochs=30, tol=0, device=device)
    np.testing.assert_allclose(got.losses, ref.losses * s * s, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.ws, ref.ws * s, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.bs, ref.bs * s, rtol=1e-12, atol=0)


def test_same_init_for_every_backend_from_seed(backend_name):
    w0, b0 = impls.TrainConfig(seed=7).initial_params(2)
    got = build(backend_name).fit(*TWO, impls.TrainConfig(seed=7, epochs=1, tol=0))
    x, y = TWO
    r = x @ w0 + b0 - y
    assert got.losses[0] == pytest.approx(np.mean(r**2), rel=1e-12)


def test_divergence_is_reported_not_raised(backend, device):
    with pytest.warns(RuntimeWarning, match="diverged") as caught:
        got = fit(backend, ONE, lr=50.0, epochs=500, device=device)
    # Ours and no overflow warning besides; a framework's own deprecation notices vary by version
    # (torch 2.11 adds torch.jit's) and say nothing about the fit.
    said = [w for w in caught if not issubclass(w.category, (DeprecationWarning, FutureWarning))]
    assert len(said) == 1, [str(w.message) for w in said]
    assert got.stop_reason == "diverged"
    assert got.epochs < 500
    assert np.all(np.isfinite(got.losses))
    assert not math.isfinite(got.loss) or not np.all(np.isfinite(got.w))


def test_cuda_request_without_cuda_names_the_problem(backend_name):
    backend = build(backend_name)
    if "cuda" in backend.devices():
        pytest.skip("a CUDA device is present")
    with pytest.raises((ValueError, RuntimeError), match="cuda"):
        backend.fit(*ONE, impls.TrainConfig(device="cuda"))
    assert backend.resolve_device("auto") == "cpu"


# Noise-free data on the line y = 0.5·x + 0.25 with x = ±1 (mean 0): every residual, product, sum
# and mean of the loss and its gradient is exact in float32 and float64, so a loss can sit exactly
# at 0 or exactly at tol and the stop rule's boundary is tested, not rounding.
EXACT = (np.tile([-1.0, 1.0], 8), np.tile([-0.25, 0.75], 8))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tol_zero_runs_every_epoch_even_at_a_loss_of_exactly_zero(backend, device, dtype):
    got = fit(backend, EXACT, init=([0.5], 0.25), tol=0, epochs=4, dtype=dtype, device=device)
    assert got.stop_reason == "max_epochs" and got.epochs == 4
    np.testing.assert_array_equal(got.losses, np.zeros(4))  # started at the solution: loss 0.0
    assert got.loss == 0.0 and got.b == 0.25


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_loss_equal_to_tol_does_not_stop_the_fit(backend, device, dtype):
    # b is 0.5 off: loss 0.25 = tol, which is not below it, so the epoch updates b by lr·2·0.5 and
    # the next loss, 0.0625, stops the fit.
    got = fit(backend, EXACT, init=([0.5], 0.75), lr=0.25, tol=0.25, epochs=10, dtype=dtype, device=device)
    assert (got.stop_reason, got.epochs, got.loss) == ("tol", 1, 0.0625)
    np.testing.assert_array_equal(got.losses, [0.25])
    assert got.b == 0.5 and got.bs.tolist() == [0.5]


def test_float32_loss_stays_accurate_at_the_noise_floor(backend, device):
    # Near the optimum the loss is small against var(y), so a backend that forms it from float32
    # sums of large terms loses its digits there (2.6e-4 relative for numpy-moments with float32
    # moments); per-pass float32 residuals keep it within ~1e-6. So run to the floor and compare
    # every reported loss with the float64 loss at the parameters it was taken at.
    lr, rate = optimal_lr(TWO[0])
    epochs = math.ceil(math.log(1e-9) / math.log(rate))
    got = fit(backend, TWO, lr=lr, epochs=epochs, tol=0, dtype="float32", device=device)
    x32, y32 = (a.astype(np.float32).astype(np.float64) for a in TWO)  # the data as it trained
    exact = np.mean((x32 @ got.ws[:-1].T + got.bs[:-1] - y32[:, None]) ** 2, axis=0)
    w_opt, b_opt = lstsq(x32, y32)
    floor = np.mean((x32 @ w_opt + b_opt - y32) ** 2)
    assert exact[-1] == pytest.approx(floor, rel=1e-4)  # it did reach the floor
    np.testing.assert_allclose(got.losses[1:], exact, rtol=1e-5, atol=0)
