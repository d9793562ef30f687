"""gdbench choose on synthetic runs: interpolation, intervals, ties, extrapolation, bad input."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.core import costmodel as model
from tests.support.cli import gdbench
from tests.support.synthetic import COUNTS, fit, rounds, run_of

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "bench_v2.json"


def exact(t0: float, te: float) -> dict[int, list[float]]:
    """Noise-free rounds of a fit costing t0 + E·te."""
    return {e: [t0 + e * te] * 5 for e in COUNTS}


def test_log_log_interpolation_is_exact_for_a_power_law_and_flags_extrapolation():
    points = {100: 1e-6, 10_000: 1e-4}  # te ∝ N
    value, out = model.interpolate(points, 1000)
    assert value == pytest.approx(1e-5) and not out
    value, out = model.interpolate(points, 10**6)
    assert value == pytest.approx(1e-2) and out  # the last segment's slope, flagged
    assert model.interpolate({100: 2e-6}, 100) == (pytest.approx(2e-6), False)
    assert model.interpolate({100: 2e-6}, 300)[1]


def test_prediction_adds_the_one_time_cost_to_t0_plus_epochs_times_te():
    # te = 1 µs·N/100, t0 = 50 µs at both sizes, and a first result 0.3 s above a warm fit
    fits = [
        fit("a", exact(5e-5, 1e-6 * n / 100), n=n, startup=0.3 + 5e-5 + 200 * 1e-6 * n / 100)
        for n in (100, 10_000)
    ]
    p = model.predict(fits, n=1000, d=1, epochs=1000)
    assert p.first_result_seconds == pytest.approx(0.3, rel=1e-6)
    assert p.seconds == pytest.approx(0.3 + 5e-5 + 1000 * 1e-5, rel=1e-6)
    assert p.low <= p.seconds <= p.high and not p.extrapolated


def test_bounds_hold_a_fixed_plus_per_value_cost_and_its_cache_cliffs():
    sizes = (100, 1000, 10_000, 100_000)
    affine = {n: 2e-6 + 1e-9 * n for n in sizes}
    for n in (300, 3000, 30_000):
        low, high = model.bounds(affine, n)
        assert low <= 2e-6 + 1e-9 * n <= high and low >= affine[model._bracket(list(sizes), n)[0]]
    # the per-value cost doubles between 10⁴ and 10⁵ (the data leave a cache): any value between
    # the two slopes at 3·10⁴ is allowed, nothing below the smaller size's cost or above the larger's
    cliff = {**affine, 100_000: 2e-6 + 2e-9 * 100_000}
    low, high = model.bounds(cliff, 30_000)
    assert low <= 2e-6 + 1e-9 * 30_000 and 2e-6 + 2e-9 * 30_000 <= high <= cliff[100_000]
    assert model.bounds(affine, 1000) == (affine[1000], affine[1000])  # a measured size: its value


def test_bounds_outside_the_sizes_stay_finite_and_ordered():
    points = {10**6: 1e-3, 10**7: 1e-2}
    low, high = model.bounds(points, 100)  # a data-parallel variant asked about N = 100
    assert 0 < low <= high <= 1e-3
    low, high = model.bounds(points, 10**8)
    assert 1e-2 <= low <= high and high == pytest.approx(1e-1)
    assert model.bounds({100: -1e-6, 1000: 1e-6}, 300)[0] == 0.0  # a cost that came out negative


def test_the_one_time_part_ranges_from_nothing_to_the_largest_seen_up_to_n():
    # float64 found its kernel compiled everywhere (0.01 s); float32 compiled at N = 100 (0.3 s), and
    # at 10⁶ paid 0.5 s (a larger copy, or a variant only sizes that large use)
    def case(dtype: str, n: int, once: float):
        f = fit("a", exact(5e-5, 1e-6 * n / 100), n=n, startup=once + 5e-5 + 200e-6 * n / 100)
        return dataclasses.replace(f, dtype=dtype)

    f64 = [case("float64", n, 0.01) for n in (100, 10_000, 10**6)]
    f32 = [case("float32", 100, 0.3), case("float32", 10_000, 0.02), case("float32", 10**6, 0.5)]
    p = model.predict(f64, n=1000, d=1, epochs=10, others=f64 + f32)
    assert p.first_result_seconds == pytest.approx(0.01, rel=1e-6)  # the smallest seen around N
    assert 0 < p.low < 5e-5 + 10 * 1e-5  # nothing one-time: all of it may be warm already
    assert 0.3 < p.high < 0.5  # N = 10⁶ lies beyond the measured size above N = 1000
    assert model.predict(f64, n=10**5, d=1, epochs=10, others=f64 + f32).high > 0.5
    assert model.predict(f64, n=1000, d=1, epochs=10).high < 0.02  # without them: its own only


def test_interval_carries_the_measurements_noise():
    rng = np.random.default_rng(0)
    noisy = [fit("a", rounds(1e-4, 1e-6, rng), n=n) for n in (100, 10_000)]
    p = model.predict(noisy, n=1000, d=1, epochs=1000)
    assert p.low < p.seconds < p.high and (p.high - p.low) / p.seconds > 0.005


def test_ties_when_intervals_overlap_and_a_clear_winner_otherwise():
    rng = np.random.default_rng(1)
    same = [fit(b, rounds(1e-4, 1e-6, rng), n=n) for b in ("a", "b") for n in (100, 10_000)]
    preds = model.predictions(run_of(*same), 1000, 1, 2000, "float64", "cpu", "nohist")
    assert set(model.recommended(preds)) == {"a", "b"}
    apart = [fit("a", exact(1e-4, 1e-6), n=n) for n in (100, 10_000)]
    apart += [fit("b", exact(1e-4, 3e-6), n=n) for n in (100, 10_000)]
    preds = model.predictions(run_of(*apart), 1000, 1, 2000, "float64", "cpu", "nohist")
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
    preds = model.predictions(run_of(*fits), 1000, 1, 1000, "float64", "cpu", "nohist")
    a, b = preds
    assert a.backend == "a" and b.low <= a.high  # the full intervals overlap
    assert a.noise_high < b.noise_low and a.low <= a.noise_low <= a.seconds <= a.noise_high <= a.high
    assert model.recommended(preds) == ["a"]


def test_features_and_sizes_outside_the_runs_are_flagged():
    fits = [fit("a", exact(1e-4, 1e-6), n=n) for n in (100, 10_000)]
    p = model.predict(fits, n=1000, d=4, epochs=10)
    assert any("d = 4" in r for r in p.extrapolated)
    assert any("outside the measured" in r for r in model.predict(fits, n=50, d=1, epochs=10).extrapolated)


def test_no_run_of_the_dtype_or_device_is_refused_naming_the_command():
    run = run_of(fit("a", exact(1e-4, 1e-6)))
    with pytest.raises(model.UsageError, match="gdbench bench --dtypes float32 --devices cpu"):
        model.predictions(run, 1000, 1, 10, "float32", "cpu", "nohist")


def test_cli_answers_from_a_saved_run_as_a_table_and_as_json():
    rc, out, _ = gdbench("choose", "--size", "3e3", "--epochs", "1000", "--runs", str(FIXTURE))
    assert rc == 0 and ("recommended:" in out or "tie within noise" in out)
    rc, out, _ = gdbench("choose", "--size", "3000", "--epochs", "1000", "--runs", str(FIXTURE), "--json")
    data = json.loads(out)
    assert rc == 0 and data["epochs"] == 1000 and data["recommended"]
    keys = {"backend", "seconds", "low", "high", "first_result_seconds", "extrapolated"}
    assert all(keys <= set(p) for p in data["predictions"])
    seconds = [p["seconds"] for p in data["predictions"]]
    assert seconds == sorted(seconds) and all(math.isfinite(s) for s in seconds)


def test_cli_counts_the_epochs_tol_needs_on_the_users_data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((500, 2))
    y = x @ np.array([0.3, -0.2]) + 0.5 + 0.01 * rng.standard_normal(500)
    np.save(tmp_path / "d.npy", np.c_[x, y])
    data = str(tmp_path / "d.npy")
    rc, out, err = gdbench("choose", "--tol", "1e-3", "--data", data, "--runs", str(FIXTURE))
    assert rc == 0, err
    assert "N = 500, d = 2" in out and "epochs: " in out and "below 0.001" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--size", "1000"], "--epochs"),
        (["--size", "ten", "--epochs", "5"], "bad --size"),
        (["--size", "100", "--epochs", "5", "--features", "0"], "--features"),
        (["--data", "missing.npy", "--tol", "1e-3"], "no such file"),
        (["--data", "x.npy"], "--tol"),
        (["--size", "100", "--epochs", "5", "--device", "cuda"], "bench --dtypes float64 --devices cuda"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message):
    rc, _, err = gdbench("choose", *argv, "--runs", str(FIXTURE))
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_bad_data_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n")
    rc, _, err = gdbench("choose", "--data", str(bad), "--tol", "1e-3", "--runs", str(FIXTURE))
    assert rc == 2 and "bad.csv" in err and len(err.strip().splitlines()) == 1
