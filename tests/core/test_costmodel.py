"""choose's cost model on synthetic runs with a known truth: N and d, K fits, beyond the sweep, memory."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from benchmarks.core import costmodel as model
from benchmarks.core import interp, memory, stats
from benchmarks.core.results import Startup
from tests.support.synthetic import COUNTS, fit, rounds, run_of


def exact(t0: float, te: float) -> dict[int, list[float]]:
    """Noise-free rounds of a fit costing t0 + E·te."""
    return {e: [t0 + e * te] * 5 for e in COUNTS}


def job(n: int, d: int = 1, epochs: int = 10, fits: int = 1) -> model.Job:
    return model.Job(n, d, epochs, fits=fits)


def test_log_log_interpolation_is_exact_for_a_power_law():
    points = {100.0: 1e-6, 10_000.0: 1e-4}  # te ∝ N
    assert interp.interpolate(points, 1000) == pytest.approx(1e-5)
    assert interp.interpolate(points, 10**6) == pytest.approx(1e-2)  # the last segment's slope
    assert interp.interpolate({100.0: 2e-6}, 300) == pytest.approx(2e-6)


def test_bounds_hold_a_fixed_plus_per_value_cost_and_its_cache_cliffs():
    sizes = (100.0, 1000.0, 10_000.0, 100_000.0)
    affine = {n: 2e-6 + 1e-9 * n for n in sizes}
    for n in (300, 3000, 30_000):
        low, high = interp.bounds(affine, n)
        assert low <= 2e-6 + 1e-9 * n <= high and low >= affine[interp.bracket(list(sizes), n)[0]]
    # the per-value cost doubles between 10⁴ and 10⁵ (the data leave a cache): any value between
    # the two slopes at 3·10⁴ is allowed, nothing below the smaller size's cost or above the larger's
    cliff = {**affine, 100_000.0: 2e-6 + 2e-9 * 100_000}
    low, high = interp.bounds(cliff, 30_000)
    assert low <= 2e-6 + 1e-9 * 30_000 and 2e-6 + 2e-9 * 30_000 <= high <= cliff[100_000]
    assert interp.bounds(affine, 1000) == (affine[1000], affine[1000])  # a measured size: its value


def test_bounds_beyond_the_sizes_stay_within_a_bounded_factor_of_linear_scaling():
    points = {10.0**6: 1e-3, 10.0**7: 1e-2}
    low, high = interp.bounds(points, 100)  # a data-parallel variant asked about N = 100
    assert 0 < low <= high <= 1e-3
    # a cost near zero at one size and not at the next (an unresolved tₑ) once drove the log-log line
    # to 10³⁹ s at N = 10¹²; the range now stays within GROWTH of the per-value cost times N
    wild = {10.0**6: 1e-11, 10.0**7: 1e-2}
    for pts in (points, wild):
        low, high = interp.bounds(pts, 10**12)
        linear = pts[10.0**7] * 10**5
        assert linear / interp.GROWTH[1] / 1.01 <= low <= high <= linear * interp.GROWTH[1]
        assert low <= interp.estimate(pts, 10**12)[0] <= high
    assert interp.bounds({100.0: -1e-6, 1000.0: 1e-6}, 300)[0] == 0.0  # a cost that came out negative


def test_a_cost_that_does_not_depend_on_n_is_not_extrapolated_along_it():
    points = {100.0: 5e-6, 10_000.0: 6e-6}
    assert interp.flat(points, 10**9) == (6e-6, 6e-6, 6e-6)
    point, low, high = interp.flat(points, 1000)
    assert low == 5e-6 and high == 6e-6 and low <= point <= high


def per_pass(name: str, c: float, grid: dict[int, tuple[int, ...]], fixed: float = 5e-5) -> list:
    """Noise-free cases of a per-pass backend whose epoch costs c·N·d, at each d's sizes."""
    return [fit(name, exact(fixed, c * n * d), n=n, d=d) for d, sizes in grid.items() for n in sizes]


GRID = {1: (100, 10_000, 10**6), 10: (100, 10_000, 10**5), 100: (100, 10_000, 10**5)}


def test_per_pass_cost_is_interpolated_across_d_as_across_n():
    # at d > 1 an epoch runs BLAS matrix-vector products, 4x cheaper per value than the d = 1 path
    # here: d is never folded into N (the d = 1 curve at N·d would be 4x off)
    fits = per_pass("a", 1e-9, {1: GRID[1]}) + per_pass("a", 2.5e-10, {d: GRID[d] for d in (10, 100)})
    p = model.predict(fits, job(1000, d=30, epochs=100))
    truth = 5e-5 + 100 * 2.5e-10 * 1000 * 30
    assert p.fit_seconds == pytest.approx(truth, rel=1e-6)
    assert p.fit_low <= truth <= p.fit_high and not p.extrapolated and not p.beyond


def test_numpy_moments_pass_grows_with_n_d_squared_and_its_epochs_with_d_squared():
    # t₀ = the QR, 1e-10·N·d²; tₑ = 1e-8·d², whatever N is
    fits = [
        fit("m", exact(1e-10 * n * d * d, 1e-8 * d * d), n=n, d=d, kind="algorithmic")
        for d in (1, 10, 100)
        for n in (1000, 10_000, 100_000)
    ]
    p = model.predict(fits, job(30_000, d=30, epochs=1000))
    truth = 1e-10 * 30_000 * 900 + 1000 * 1e-8 * 900
    assert p.fit_seconds == pytest.approx(truth, rel=1e-6)
    assert p.fit_low <= truth <= p.fit_high


def test_beyond_the_measured_d_or_n_is_flagged_and_never_recommended():
    fits = per_pass("a", 1e-9, GRID) + per_pass("b", 2e-9, GRID)
    run = run_of(*fits)
    far = model.predictions(run, job(1000, d=1000))
    assert all(p.beyond and any("measured up to d = 100" in r for r in p.extrapolated) for p in far)
    assert model.recommended(far) == []
    big = model.predictions(run, job(10**6, d=100))  # d = 100 measured up to N = 10⁵ only
    assert all(p.beyond for p in big) and model.recommended(big) == []
    assert model.recommended(model.predictions(run, job(30_000, d=50))) == ["a"]


def test_a_run_measured_at_d_1_only_never_recommends_for_d_above_1():
    run = run_of(*per_pass("a", 1e-9, {1: (100, 10_000)}))
    (p,) = model.predictions(run, job(1000, d=10))
    assert p.beyond and any("measured at d = 1 only" in r for r in p.extrapolated)
    assert p.low <= p.seconds <= p.high and math.isfinite(p.high)
    assert model.recommended([p]) == []


def test_below_the_smallest_size_is_flagged_but_may_be_recommended():
    run = run_of(*per_pass("a", 1e-9, {1: (100, 10_000)}))
    (p,) = model.predictions(run, job(50))
    assert not p.beyond and any("below the measured" in r for r in p.extrapolated)
    assert model.recommended([p]) == ["a"]


def test_prediction_is_the_one_time_cost_plus_k_fits():
    # te = 1 µs·N/100, t0 = 50 µs, and a first result 0.3 s above a warm fit (a run without startup)
    fits = [
        fit("a", exact(5e-5, 1e-6 * n / 100), n=n, startup=0.3 + 5e-5 + 200 * 1e-6 * n / 100)
        for n in (100, 10_000)
    ]
    one = 5e-5 + 1000 * 1e-5
    for k in (1, 7):
        p = model.predict(fits, job(1000, epochs=1000, fits=k))
        assert p.one_time == pytest.approx(0.3, rel=1e-6) and p.one_time_source == model.SUITE
        assert p.fit_seconds == pytest.approx(one, rel=1e-6)
        assert p.seconds == pytest.approx(0.3 + k * one, rel=1e-6)
        assert p.low <= p.noise_low <= p.seconds <= p.noise_high <= p.high


def test_a_fresh_process_one_time_cost_is_used_when_the_run_has_it():
    fits = [fit("a", exact(5e-5, 1e-8 * n), n=n, startup=0.01) for n in (100, 10_000)]
    run = run_of(*fits)
    warm, cold = stats.Interval(0.5, 0.45, 0.6), stats.Interval(2.0, 1.8, 2.5)
    run.startup = {"a": Startup("a", cold, warm)}
    (p,) = model.predictions(run, job(1000, epochs=100, fits=3))
    assert p.one_time_source == model.FRESH and p.one_time == 0.5
    assert p.seconds == pytest.approx(0.5 + 3 * p.fit_seconds)
    assert p.low == pytest.approx(0.45 + 3 * p.fit_low) and p.high == pytest.approx(2.5 + 3 * p.fit_high)
    assert p.noise_low == pytest.approx(0.5 + 3 * p.fit_low)  # ties: the one-time part at its estimate
    run.startup = {"a": Startup("a", cold, None)}  # no compile cache: every process starts cold
    (p,) = model.predictions(run, job(1000, epochs=100, fits=3))
    assert p.one_time == 2.0 and p.one_time_low == 1.8 and p.one_time_high == 2.5
    run.startup = {"a": Startup("a", None, warm)}  # a quick run: the filled cache only, and it says so
    (p,) = model.predictions(run, job(1000, epochs=100, fits=3))
    assert p.one_time == 0.5 and p.one_time_high == 0.6 and p.one_time_source == model.WARM_ONLY
    run.startup = {"a": Startup("a", None, None, error="exit status 1")}  # measured nothing: the old way
    assert model.predictions(run, job(1000))[0].one_time_source == model.SUITE


def test_the_fallback_one_time_part_ranges_from_nothing_to_the_largest_seen_up_to_n():
    # float64 found its kernel compiled everywhere (0.01 s); float32 compiled at N = 100 (0.3 s), and
    # at 10⁶ paid 0.5 s (a larger copy, or a variant only sizes that large use)
    def case(dtype: str, n: int, once: float):
        f = fit("a", exact(5e-5, 1e-6 * n / 100), n=n, startup=once + 5e-5 + 200e-6 * n / 100)
        return dataclasses.replace(f, dtype=dtype)

    f64 = [case("float64", n, 0.01) for n in (100, 10_000, 10**6)]
    f32 = [case("float32", 100, 0.3), case("float32", 10_000, 0.02), case("float32", 10**6, 0.5)]
    p = model.predict(f64, job(1000), others=f64 + f32)
    assert p.one_time == pytest.approx(0.01, rel=1e-6)  # the smallest seen around N
    assert 0 < p.low < 5e-5 + 10 * 1e-5  # nothing one-time: all of it may be warm already
    assert 0.3 < p.high < 0.5  # N = 10⁶ lies beyond the measured size above N = 1000
    assert model.predict(f64, job(10**5), others=f64 + f32).high > 0.5
    assert model.predict(f64, job(1000)).high < 0.02  # without them: its own only


def test_interval_carries_the_measurements_noise():
    rng = np.random.default_rng(0)
    noisy = [fit("a", rounds(1e-4, 1e-6, rng), n=n) for n in (100, 10_000)]
    p = model.predict(noisy, job(1000, epochs=1000))
    assert p.low < p.seconds < p.high and (p.high - p.low) / p.seconds > 0.005


def test_ties_when_intervals_overlap_and_a_clear_winner_otherwise():
    rng = np.random.default_rng(1)
    same = [fit(b, rounds(1e-4, 1e-6, rng), n=n) for b in ("a", "b") for n in (100, 10_000)]
    preds = model.predictions(run_of(*same), job(1000, epochs=2000))
    assert set(model.recommended(preds)) == {"a", "b"}
    apart = [fit("a", exact(1e-4, 1e-6), n=n) for n in (100, 10_000)]
    apart += [fit("b", exact(1e-4, 3e-6), n=n) for n in (100, 10_000)]
    preds = model.predictions(run_of(*apart), job(1000, epochs=2000))
    assert model.recommended(preds) == ["a"] and [p.backend for p in preds] == ["a", "b"]


def test_ties_are_called_on_the_noise_interval_not_on_the_one_time_range():
    # a compiled once, in its first case at N = 100 (0.3 s; its case with history found it warm):
    # its full interval reaches past b's, yet its fits are 3x cheaper and both one-time parts are
    # estimated alike, so a is recommended alone
    def case(name: str, te: float, once: float, n: int):
        return fit(name, exact(5e-5, te), n=n, startup=once + 5e-5 + 200 * te)

    fits = [case("a", 1e-6, 0.3 if n == 100 else 1e-3, n) for n in (100, 10_000)]
    fits += [dataclasses.replace(case("a", 1e-6, 1e-3, 100), mode="history")]
    fits += [case("b", 3e-6, 1e-3, n) for n in (100, 10_000)]
    a, b = model.predictions(run_of(*fits), job(1000, epochs=1000))
    assert a.backend == "a" and b.low <= a.high  # the full intervals overlap
    assert a.noise_high < b.noise_low and a.low <= a.noise_low <= a.seconds <= a.noise_high <= a.high
    assert model.recommended([a, b]) == ["a"]


def test_a_backend_that_cannot_fit_in_memory_is_ruled_out_with_the_reason():
    fits = [fit("numpy-closed", exact(1e-4, 1e-6), n=n) for n in (100, 10_000)]
    fits += [fit("numpy-buffered", exact(1e-4, 3e-6), n=n) for n in (100, 10_000)]
    j = job(1000)
    room = (memory.peak_bytes("numpy-closed", 1000) + memory.peak_bytes("numpy-buffered", 1000)) // 2
    free = memory.Available(room, "a test's figure")
    preds = model.predictions(run_of(*fits), j, free)
    needs = {p.backend: memory.peak_bytes(p.backend, 1000) for p in preds}
    out = [p for p in preds if p.ruled_out]
    assert len(out) == 1 and needs[out[0].backend] > room and "a test's figure" in out[0].ruled_out
    assert preds[-1] is out[0] and out[0].backend not in model.recommended(preds)
    assert not any(p.ruled_out for p in model.predictions(run_of(*fits), j))  # nothing known: none


def test_no_run_of_the_dtype_or_device_is_refused_naming_the_command():
    run = run_of(fit("a", exact(1e-4, 1e-6)))
    with pytest.raises(model.UsageError, match="gdbench bench --dtypes float32 --devices cpu"):
        model.predictions(run, model.Job(1000, 1, 10, dtype="float32"))


def test_an_unresolved_cost_at_one_size_does_not_pull_its_neighbours_to_nothing():
    # tₑ = 5 µs at N = 100; at 10⁴ the rounds could not tell it from zero (its estimate came out < 0)
    small = fit("a", exact(1e-5, 5e-6), n=100)
    big = fit("a", exact(1e-5, 5e-6), n=10_000)
    big = dataclasses.replace(big, cost=dataclasses.replace(big.cost, te=stats.Interval(-1e-5, -5e-5, 6e-5)))
    p = model.predict([small, big], job(3000, epochs=300))
    assert 5e-6 <= p.te <= 3e-5  # between 5 µs and half the upper end, not 10⁻¹¹ s
    assert p.fit_low <= p.fit_seconds <= p.fit_high
