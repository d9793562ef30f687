"""run, bench and check --data refuse a job that cannot fit, in one line, before allocating it."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.core import memory
from tests.support.cli import gdbench

GIB = 2**30


@pytest.fixture
def little(monkeypatch):
    """A machine with 1 GiB available, whatever this one has."""
    monkeypatch.setattr(memory, "available", lambda: memory.Available(GIB, "injected"))


def _refused(rc: int, err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and len(lines) == 1, err
    assert lines[0].startswith("gdbench: error: ") and "1 GiB is available (injected)" in lines[0]
    return lines[0]


def test_run_refuses_a_job_too_big_before_drawing_its_data(little, tmp_path, monkeypatch):
    def never(*a, **k):
        raise AssertionError("the data were drawn")

    monkeypatch.setattr("impls.make_linear", never)
    rc, _, err = gdbench("run", "--size", "1e9", "--backends", "numpy-closed", "--out", str(tmp_path))
    line = _refused(rc, err)
    assert "N = 10⁹" in line and "needs about" in line and "GiB" in line
    assert not list(tmp_path.iterdir())  # nothing written


def test_run_of_a_small_job_is_not_refused(little, tmp_path):
    rc, _, err = gdbench("run", "--size", "100", "--backends", "numpy-closed", "--out", str(tmp_path))
    assert rc == 0, err


def test_check_refuses_data_too_big_before_reading_it(little, tmp_path):
    path = tmp_path / "big.npy"
    np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(30_000_000, 2))  # sparse on disk
    rc, _, err = gdbench("check", "--data", str(path), "--backends", "numpy-closed")
    assert "N = 30,000,000, d = 1" in _refused(rc, err)


def test_bench_refuses_a_size_too_big_before_starting_its_suite(little, tmp_path):
    rc, _, err = gdbench("bench", "--sizes", "1e9", "--backends", "numpy-closed", "--out", str(tmp_path))
    assert "N = 10⁹" in _refused(rc, err)
    assert not list(tmp_path.iterdir())
