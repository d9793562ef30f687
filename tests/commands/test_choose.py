"""gdbench choose as a user types it: the table, JSON, beyond the sweep, memory, --fits, bad input.

The cost model itself is tested on synthetic runs in tests/core/test_costmodel.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.commands import choose
from benchmarks.core import costmodel as model
from benchmarks.core import memory, stats
from benchmarks.core.results import Run, Startup, load
from tests.support.cli import gdbench
from tests.support.synthetic import COUNTS

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "bench_v2.json"


def exact(t0: float, te: float) -> dict[int, list[float]]:
    """Noise-free rounds of a fit costing t0 + E·te."""
    return {e: [t0 + e * te] * 5 for e in COUNTS}


def test_cli_answers_from_a_saved_run_as_a_table_and_as_json():
    rc, out, _ = gdbench("choose", "--size", "3e3", "--epochs", "1000", "--runs", str(FIXTURE))
    assert rc == 0 and ("recommended:" in out or "tie within noise" in out)
    rc, out, _ = gdbench("choose", "--size", "3000", "--epochs", "1000", "--runs", str(FIXTURE), "--json")
    data = json.loads(out)
    assert rc == 0 and data["epochs"] == 1000 and data["recommended"]
    assert data["verdict"] == ("tie" if len(data["recommended"]) > 1 else "recommended")
    inputs = {"n": 3000, "d": 1, "epochs": 1000, "tol": None, "dtype": "float64", "device": "cpu"}
    assert inputs.items() <= data["inputs"].items() and data["inputs"]["fits"] == 1
    assert data["source"]["runs"] == [str(FIXTURE)] and "this_machine" in data["source"]
    assert data["source"]["this_machine"] is None  # a run without a machine record: never "same"
    keys = {"backend", "seconds", "low", "high", "one_time", "fit_seconds", "extrapolated", "peak_bytes"}
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
        (["--size", "100", "--epochs", "5", "--fits", "0"], "--fits"),
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


def small_memory(monkeypatch, size: int) -> None:
    """This machine has ``size`` bytes available, whatever it really has."""
    monkeypatch.setattr(memory, "available", lambda: memory.Available(size, "a test's figure"))


def test_far_beyond_the_sweep_the_intervals_stay_finite_and_choose_cannot_tell():
    rc, out, _ = gdbench("choose", "--size", "1e12", "--epochs", "1000", "--runs", str(FIXTURE), "--json")
    data = json.loads(out)
    assert rc == 0 and data["verdict"] == "cannot tell" and data["recommended"] == []
    for p in data["predictions"]:  # 10¹² points at ~10 ns each: days, not 10³⁹ s
        assert p["beyond"] and 0 < p["low"] <= p["seconds"] <= p["high"] < 1e12
    rc, out, _ = gdbench("choose", "--size", "1e12", "--epochs", "1000", "--runs", str(FIXTURE))
    assert rc == 0 and "cannot tell" in out and "e+39" not in out
    assert "measure it: none on this machine" in out  # 16 TB of data fit nowhere


def test_a_job_that_fits_nowhere_here_rules_every_backend_out_and_suggests_no_measure(monkeypatch):
    small_memory(monkeypatch, 8 << 30)
    rc, out, _ = gdbench("choose", "--size", "1e9", "--epochs", "100", "--runs", str(FIXTURE))
    assert rc == 0 and "cannot tell: no backend fits in the memory available" in out
    assert "--measure" not in out and "none on this machine" in out and "8 GiB" in out
    assert out.count("ruled out") >= len(model.predictions(load([FIXTURE]), model.Job(10**9, 1, 100)))


def test_measure_refuses_a_job_that_cannot_fit_before_allocating(monkeypatch):
    small_memory(monkeypatch, 1 << 20)

    def never(_: list[str]) -> Path:
        raise AssertionError("measured a job that cannot fit")

    monkeypatch.setattr(choose, "_measure", never)
    rc, out, err = gdbench("choose", "--size", "1e5", "--epochs", "10", "--measure", "--runs", str(FIXTURE))
    assert (rc, out) == (2, "") and "needs about" in err and len(err.strip().splitlines()) == 1


def test_features_beyond_a_run_measured_at_d_1_give_the_measure_command_not_a_recommendation():
    rc, out, _ = gdbench(
        "choose", "--size", "1e4", "--features", "10", "--epochs", "100", "--runs", str(FIXTURE)
    )
    assert rc == 0 and "recommended:" not in out and "cannot tell" in out
    assert "d = 10: measured at d = 1 only" in out and "--features 10" in out and "--measure" in out


def test_fits_adds_k_fits_to_one_one_time_cost():
    job = ["--size", "3000", "--epochs", "100", "--runs", str(FIXTURE), "--json"]
    one = {p["backend"]: p for p in json.loads(gdbench("choose", *job)[1])["predictions"]}
    rc, out, _ = gdbench("choose", *job, "--fits", "5")
    assert rc == 0
    for p in json.loads(out)["predictions"]:
        assert p["one_time"] == pytest.approx(one[p["backend"]]["one_time"])
        assert p["seconds"] == pytest.approx(p["one_time"] + 5 * one[p["backend"]]["fit_seconds"])
    rc, out, _ = gdbench("choose", *job[:-1], "--fits", "5")
    assert rc == 0 and "5 fits" in out.splitlines()[0] and "one-time" in out


def test_a_tol_not_reached_within_the_epoch_limit_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(choose, "EPOCH_LIMIT", 3)
    rng = np.random.default_rng(0)
    x = rng.random((200, 1))
    np.save(tmp_path / "d.npy", np.c_[x, 0.3 * x[:, 0] + 0.5])
    job = ["--tol", "1e-12", "--data", str(tmp_path / "d.npy"), "--runs", str(FIXTURE)]
    rc, out, _ = gdbench("choose", *job, "--json")
    data = json.loads(out)
    assert rc == 0 and data["epochs"] == "not reached" and data["epochs_predicted"] == 3
    assert data["inputs"]["tol"] == 1e-12 and data["inputs"]["epochs"] is None
    rc, out, _ = gdbench("choose", *job)
    assert rc == 0 and "not reached within 3 epochs" in out


def test_validate_choose_times_jobs_as_a_script_and_the_report_reads_them(tmp_path, monkeypatch):
    from benchmarks.commands import validate_choose
    from benchmarks.report import markdown, validation

    # two tiny jobs, one backend each, one process each: the structure, not the speed, is checked
    monkeypatch.setattr(validate_choose, "JOBS", [(200, 1, 5, "float64", 2), (200, 3, 5, "float64", 1)])
    monkeypatch.setattr(validate_choose, "TOP", 1)
    monkeypatch.setattr(validate_choose, "REPEATS", 1)
    out = tmp_path / validation.NAME
    rc, _, err = gdbench("validate-choose", "--runs", str(FIXTURE), "--out", str(out))
    assert rc in (0, 1), err
    data = json.loads(out.read_text())
    first, second = data["jobs"]
    assert (first["d"], first["fits"], second["d"], second["fits"]) == (1, 2, 3, 1)
    assert second["recommended"] == [] and second["recommended_vs_fastest"] is None  # d = 3: beyond
    assert all(r["measured"] > 0 and isinstance(r["inside"], bool) for j in data["jobs"] for r in j["rows"])
    text = markdown.section(validation.section(out))
    assert "within ×1.3 of it in" in text and "no recommendation in 1" in text
    assert "N = 200, d = 3, 5 epochs, float64, 1 fit (a fresh script)" in text


def test_measure_times_the_leaders_at_n_and_d_and_keeps_the_runs_one_time_costs(monkeypatch, tmp_path):
    asked: list[list[str]] = []
    copy = tmp_path / "measured.json"
    copy.write_text(FIXTURE.read_text())

    def fake(args: list[str]) -> Path:
        asked.append(args)
        return copy  # what the short bench would have saved

    def saved(paths: list[Path]) -> Run:
        run = load(paths)
        if paths == [FIXTURE]:  # the saved run timed numpy-closed's fresh process
            once = stats.Interval(0.2, 0.15, 0.3)
            run.startup = {"numpy-closed": Startup("numpy-closed", once, once)}
        return run

    monkeypatch.setattr(choose, "_measure", fake)
    monkeypatch.setattr(choose, "load", saved)
    job = ["--size", "1e5", "--features", "10", "--epochs", "10", "--measure", "--json"]
    rc, out, err = gdbench("choose", *job, "--runs", str(FIXTURE))
    assert rc == 0, err
    (args,) = asked
    assert args[args.index("--sizes") + 1] == "100000" and args[args.index("--features") + 1] == "10"
    assert args[args.index("--startup") + 1] == "0"  # fresh processes are the saved run's, not timed again
    data = json.loads(out)
    assert data["source"]["runs"] == [str(copy)]
    closed = next(p for p in data["predictions"] if p["backend"] == "numpy-closed")
    assert closed["one_time_source"] == model.FRESH and closed["one_time"] == 0.2
