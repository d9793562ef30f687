"""Cases at d > 1: which (N, d) the sweep runs, at what rate and epoch counts, and that each is checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import impls
from benchmarks.commands import bench
from benchmarks.core import sweep
from benchmarks.core.files import UsageError
from benchmarks.suite import harness
from tests.support.cli import gdbench


def test_the_full_sweep_has_every_d_where_n_times_d_fits_the_cap_and_d_1_everywhere():
    shapes = sweep.grid_shapes([], [], quick=False)
    assert {n for n, d in shapes if d == 1} == set(sweep.SIZES)
    assert {d for _, d in shapes} == set(sweep.FEATURES) >= {1, 10, 100, 1000}
    wide = [(n, d) for n, d in shapes if d > 1]
    assert all(n * d <= sweep.MAX_ELEMENTS for n, d in wide)
    # each d at several N, up to the cap: what the cost model interpolates between
    for d in sweep.FEATURES[1:]:
        sizes = [n for n, e in wide if e == d]
        assert len(sizes) >= 3 and max(sizes) * d == sweep.MAX_ELEMENTS


def test_the_quick_sweep_has_a_small_d_above_1_slice():
    shapes = sweep.grid_shapes([], [], quick=True)
    assert [s for s in shapes if s[1] > 1] == [(10**2, 10)]
    assert {n for n, d in shapes if d == 1} == set(sweep.QUICK_SIZES)


def test_sizes_asked_for_run_at_d_1_unless_features_are_asked_for_too_and_then_every_pair():
    assert sweep.grid_shapes([10**4], [], quick=False) == [(10**4, 1)]
    both = sweep.grid_shapes([10**4, 10**6], [1, 1000], quick=True)
    assert both == [(10**4, 1), (10**4, 1000), (10**6, 1), (10**6, 1000)]  # no cap: the user picked them
    own = sweep.grid_shapes([], [1000], quick=False)
    assert own and all(d == 1000 and n * d <= sweep.MAX_ELEMENTS for n, d in own)


def test_which_backends_run_at_d_above_1():
    assert all(not sweep.spec(v).runs_at(10**6, 10) for v in sweep.SPECS if sweep.spec(v).base)
    assert sweep.spec("numpy-closed").runs_at(10**4, 1000)
    moments = sweep.spec("numpy-moments")  # its one pass is a QR, O(N·d²): bounded
    assert moments.runs_at(10**3, 1000) and not moments.runs_at(10**4, 1000) and moments.runs_at(10**7, 1)


def test_epoch_counts_follow_the_values_an_epoch_reads():
    assert sweep.epoch_counts(10**2, 100) == sweep.epoch_counts(10**4) == (50, 100, 200)
    assert sweep.epoch_counts(10**4, 1000) == sweep.epoch_counts(10**7) == (1, 2, 4)
    assert sweep.epoch_counts(10**5) == sweep.epoch_counts(10**3, 100)


@pytest.mark.parametrize("d", sweep.FEATURES)
def test_the_rate_at_every_d_keeps_gradient_descent_stable(d):
    x, y = harness.data(200, d)
    assert x.shape == ((200,) if d == 1 else (200, d)) and y.shape == (200,)
    z = np.column_stack([x.reshape(200, -1), np.ones(200)])
    top = np.linalg.eigvalsh(2 * z.T @ z / 200)[-1]  # the Hessian of the mean squared error
    assert sweep.learning_rate(d) * top < 1  # stable below 2; a margin of 2 at least


@pytest.mark.parametrize("name", ["numpy-closed", "numpy-moments"])
def test_the_check_against_the_exact_iterate_runs_at_d_above_1(name):
    case = harness.FitCase(name, 100, "float64", "cpu", "nohist", (5, 10, 20), d=10)
    x, y = harness.data(100, 10)
    cfg = case.config(20)
    ref = harness.reference(x, y, cfg)
    assert ref[0].shape == (10,) and cfg.lr == sweep.learning_rate(10)
    res = impls.get_backend(name).prepare(x, y, cfg)()
    assert harness.check(res, ref, cfg) < 1e-9
    res.w = res.w + 1e-3 * (np.arange(10) == 7)  # one weight of ten wrong
    with pytest.raises(harness.CheckFailed, match="from the exact iterate"):
        harness.check(res, ref, cfg)


def test_a_case_names_its_d_only_above_1():
    one = harness.FitCase("numpy-closed", 10**4, "float64", "cpu", "nohist", (1, 2, 4))
    wide = harness.FitCase("numpy-closed", 10**4, "float64", "cpu", "nohist", (1, 2, 4), d=100)
    assert one.label == "numpy-closed cpu float64 N=1e4 nohist"
    assert wide.label == "numpy-closed cpu float64 N=1e4 d=100 nohist"
    assert wide.group == "fit cpu float64 N=1e4 d=100 nohist"
    assert wide.data_bytes == 101 * 10**4 * 8 and one.data_bytes == 2 * 10**4 * 8


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--features", "0"], "bad --features '0': d must be an integer >= 1"),
        (["--features", "ten"], "bad --features 'ten'"),
        (
            ["--backends", "torch-ddp", "--sizes", "1e6", "--features", "10"],
            "no case to run at N = 1e6 d = 10:",
        ),
    ],
)
def test_bad_features_are_usage_errors(argv, message, tmp_path):
    rc, _, err = gdbench("bench", *argv, "--out", str(tmp_path))
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_check_cases_names_what_runs_only_at_d_1():
    with pytest.raises(UsageError, match=r"torch-ddp only at N = 1e6, 1e7, d = 1"):
        bench.check_cases(["torch-ddp"], [(10**6, 10)])
    bench.check_cases(["torch-ddp", "numpy-closed"], [(10**6, 10)])  # numpy-closed has a case


def _collected(*options: str) -> set[tuple[str, ...]]:
    """(dtype, N, d, mode) of every fit case the suite would run with these options (collected only)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(bench.SUITE), "--collect-only", "-q", "-p", "no:cacheprovider",
         "--gd-backends=numpy-closed", *options],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    ids = re.findall(r"test_fit\[cpu-(\w+)-N(\w+?)(?:-d(\d+))?-(nohist|history)-numpy-closed\]", proc.stdout)
    return {(t, n, d or "1", m) for t, n, d, m in ids}


def test_the_sweeps_own_d_above_1_cases_are_float64_without_history_and_what_is_asked_for_runs():
    own = _collected()
    wide = {c for c in own if c[2] != "1"}
    assert wide and {(t, m) for t, _, _, m in wide} == {("float64", "nohist")}
    assert {(t, m) for t, _, d, m in own if d == "1"} == {(t, m) for t in sweep.DTYPES for m in sweep.MODES}
    asked = _collected("--gd-sizes=100", "--gd-features=1,10", "--gd-dtypes=float32", "--gd-modes=history")
    assert asked == {("float32", "1e2", "1", "history"), ("float32", "1e2", "10", "history")}
