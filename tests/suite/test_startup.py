"""The one-time cost of a fresh process (benchmarks/suite/startup.py), and how a run exposes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.core.files import UsageError
from benchmarks.core.results import load, startups
from benchmarks.suite import startup
from tests.support.runs import FIXTURE

numba = pytest.importorskip("numba")


@pytest.fixture(scope="module")
def measured() -> dict:
    """numba-fused (compile cache) and numpy-closed (none), one round cold and warm."""
    import impls  # the suite's first fits fill the usual cache before the warm processes; so here

    impls.get_backend("numba-fused").fit(*impls.make_linear(size=100), impls.TrainConfig(epochs=1))
    picked = [("numba-fused", "numba-fused", {}, 1000), ("numpy-closed", "numpy-closed", {}, 1000)]
    return startup.measure(picked, rounds=1, cold=True, budget_s=0.0)


def test_a_backend_with_a_compile_cache_is_timed_cold_and_warm_in_separate_processes(measured):
    e = measured["numba-fused"]
    assert e["cache"] is True and len(e["cold"]) == len(e["warm"]) == len(e["first_result"]) == 1
    phases = e["phases"][0]
    assert phases["info"]["code"] == "disk cache"  # the warm process loaded what the suite compiled
    assert 0 < phases["warm_fit"] < phases["first_result"]
    assert e["warm"][0] == pytest.approx(phases["first_result"] - phases["warm_fit"])
    assert e["job"] == {**startup.JOB, "n": 1000}


def test_a_backend_without_one_counts_its_cold_process_as_warm(measured):
    e = measured["numpy-closed"]
    assert e["cache"] is False and e["cold"] == e["warm"] and len(e["warm"]) == 1


def test_a_failing_backend_is_recorded_with_why_and_never_stops_the_others():
    lines: list[str] = []
    picked = [("broken", "no-such-backend", {}, 100), ("numpy-closed", "numpy-closed", {}, 100)]
    out = startup.measure(picked, rounds=2, cold=False, budget_s=60.0, log=lines.append)
    assert "no-such-backend" in out["broken"]["error"] and out["broken"]["warm"] == []
    assert len(out["numpy-closed"]["warm"]) == 2  # a second round: the budget allowed it
    assert any("startup of broken: FAILED" in line for line in lines)


def test_later_rounds_stop_at_the_budget_the_first_always_runs_whole():
    out = startup.measure([("numpy-closed", "numpy-closed", {}, 100)], rounds=5, cold=False, budget_s=0.0)
    assert len(out["numpy-closed"]["warm"]) == 1


def test_a_run_exposes_the_one_time_cost_per_backend_as_intervals(tmp_path):
    section = {
        "numba-fused": {
            "job": {"n": 1000},
            "cold": [2.0, 3.0],
            "warm": [0.5, 0.4, 0.6],
            "first_result": [0.41],
            "phases": [{"build": 0.2, "info": {}}, {"build": 0.4}],
            "cache": True,
        }
    }
    s = startups(section)["numba-fused"]
    assert s.cold is not None and s.warm is not None and s.first is not None
    assert s.cold.value == 2.0 and s.warm.value == 0.4 and s.warm.low <= 0.4 <= s.warm.high
    assert s.phases == {"build": pytest.approx(0.3)} and s.cache is True and s.job == {"n": 1000}
    data = json.loads(FIXTURE.read_text())
    assert load([FIXTURE]).startup == {}  # a run from before the measurement: none
    data["gdbench"]["startup"] = section
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    assert load([path]).startup["numba-fused"].warm == s.warm
    data["gdbench"]["startup"] = {"numba-fused": {"warm": ["fast"]}}
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="malformed 'startup'"):
        load([path])


def test_the_child_prints_one_line_of_json(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin"}
    got = startup.run_child("numpy-closed", {}, env, {"n": 100, "dtype": "float32", "epochs": 3})
    assert set(got) >= {"impls", "build", "first_fit", "warm_fit", "first_result", "one_time", "info"}
