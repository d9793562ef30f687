"""The memory floor (benchmarks/suite/floor.py): several one-read kernels, each timed, the best kept."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from benchmarks.core import results
from benchmarks.suite import floor


def test_every_kernel_reads_both_arrays_whole():
    x, y = np.arange(1000.0), np.ones(1000)
    kernels = floor.readers(x, y, "float64")
    assert next(iter(kernels)) == floor.DOT == floor.METHOD["cpu"]
    values = {name: float(read()) for name, read in kernels.items()}
    assert values[floor.DOT] == float(x @ y)
    for name in (floor.NUMBA, floor.TORCH):
        if name in kernels:  # numba where it imports; torch once the suite has loaded it
            assert values[name] == pytest.approx(float(x.sum() + y.sum()))
    assert (floor.TORCH in kernels) == ("torch" in sys.modules)


def test_each_visit_times_every_kernel_and_the_fastest_becomes_the_floor(tmp_path):
    runner = floor.FloorRunner(1000, "float32", "cpu", iterations=3, zero=0.0)
    for p in range(3):
        runner.visit([1], p)
    assert set(runner.kernels) == set(runner._reads) and runner.n_rounds() == 3
    info = runner.info()
    best = min(runner.kernels, key=lambda k: min(runner.kernels[k].seconds))
    assert info["method"] == best and info["floor_s"][0] == min(runner.rounds.seconds)
    assert {s["kernel"] for s in info["samples"]} == set(runner.kernels)
    runner.release()
    assert not runner.prepared
    # read back as a run: the floor is the best kernel's fastest read, each kernel's kept beside it
    bench = {"extra_info": info, "stats": {}, "name": "test_floor", "fullname": "f"}
    fits: dict = {}
    floors: dict = {}
    results._add(bench, fits, floors, {})
    (fl,) = floors.values()
    assert fl.method == best and fl.seconds == fl.kernels[best] == min(fl.kernels.values())
    assert fl.bandwidth == pytest.approx(2 * 1000 * 4 / fl.seconds)
    json.dumps(info)  # what pytest-benchmark saves


def test_a_run_from_before_the_kernels_reads_its_one_kernel_as_the_method():
    info = {"kind": "floor", "device": "cpu", "dtype": "float64", "n": 100, "data_bytes": 1600,
            "method": "numpy.dot(x, y)", "samples": [{"epochs": 1, "seconds": [2e-6, 1e-6]}]}  # fmt: skip
    floors: dict = {}
    results._add({"extra_info": info, "stats": {}}, {}, floors, {})
    (fl,) = floors.values()
    assert fl.kernels == {"numpy.dot(x, y)": 1e-6} and fl.seconds == 1e-6
