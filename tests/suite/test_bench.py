"""The benchmark suite's machinery, never its speed: bench, report, compare, and the fairness rules."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import impls
from benchmarks.core import sweep
from benchmarks.core.machines import this_machine
from benchmarks.core.results import load
from benchmarks.suite import bench_fit, harness, runners
from benchmarks.suite.memory import RssPeak, rss_supported
from benchmarks.suite.merge import merge
from tests.support.cli import gdbench
from tests.support.runs import FIXTURE, scaled

# --- gdbench bench --quick, end to end through pytest-benchmark (one run shared by the tests below)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any], Path]:
    """`gdbench bench --quick` at the smallest size, d = 1 and 10, the fewest passes: well under a minute."""
    out = tmp_path_factory.mktemp("bench")
    rc, stdout, stderr = gdbench(
        "bench", "--quick", "--sizes", "100", "--features", "1,10", "--budget", "1", "--startup", "0",
        "--out", str(out), "--name", "q.json",
    )  # the fresh processes of --startup are tested in test_startup.py
    path = out / "q.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    return rc, stdout + stderr, data, path


def test_quick_bench_times_every_available_backend_and_the_floor(quick_run):
    rc, output, data, _ = quick_run
    assert rc == 0, output[-3000:]
    status = data["gdbench"]["backend_info"]
    # every registered backend, run or explained; data-parallel ones as one variant per world size
    assert set(status) == set(sweep.expand(impls.backend_names()))
    assert {"torch-ddp-1", "torch-ddp-2", "jax-sharded-1", "jax-sharded-2"} <= set(status)
    available = {name for name, b in status.items() if b["available"]}
    assert "numpy-closed" in available  # needs nothing beyond numpy, so it always runs
    assert all(b["reason"] for b in status.values() if not b["available"])
    infos = [b["extra_info"] for b in data["benchmarks"]]
    fits = [e for e in infos if e["kind"] == "fit"]
    at_100 = {b for b in available if sweep.spec(b).runs_at(100)}  # variants run at DIST_SIZES only
    cases = {(e["backend"], e["d"], e["mode"]) for e in fits}
    wide = {b for b in available if sweep.spec(b).runs_at(100, 10)}  # d > 1: no history, no variants
    expected = {(b, 1, m) for b in at_100 for m in sweep.MODES} | {(b, 10, "nohist") for b in wide}
    assert wide and cases == expected
    assert [(e["n"], e.get("d", 1)) for e in infos if e["kind"] == "floor"] == [(100, 1)]  # floors: d = 1
    passes = data["gdbench"]["protocol"]["passes"]
    assert passes == sweep.policy(quick=True).min_passes  # a 1 s budget: the fewest passes, no more
    for e in fits:
        counts = list(sweep.epoch_counts(100, e["d"]))
        assert e["epoch_counts"] == counts == [s["epochs"] for s in e["samples"]]
        assert e["lr"] == sweep.learning_rate(e["d"])
        # every pass visits every case: one round per count, repeated while a visit stays short
        assert all(passes <= len(s["seconds"]) == len(s["at"]) <= 8 * passes for s in e["samples"])
        assert all(set(s["pass"]) == set(range(passes)) for s in e["samples"])
        t0, te = e["t0_s"], e["te_s"]
        assert t0[1] <= t0[0] <= t0[2] and te[1] <= te[0] <= te[2] and e["estimator"] == "min"
        assert e["first_call_s"] > 0 and e["prepare_s"] >= 0 and e["check_err"] <= e["check_tol"]
        assert "per_epoch_median_s" in e and "mem_peak_bytes" in e
    groups = {b["group"] for b in data["benchmarks"] if b["extra_info"]["kind"] == "fit"}
    assert groups == {f"fit cpu float64 N=1e2 {m}" for m in ("nohist", "history", "d=10 nohist")}
    # pytest-benchmark's own stats hold the rounds at the largest epoch count
    for b in data["benchmarks"]:
        if b["extra_info"]["kind"] == "fit":
            top = b["extra_info"]["samples"][-1]["seconds"]
            assert b["stats"]["rounds"] == len(top) and b["stats"]["data"] == top  # bit for bit


def test_quick_bench_interleaves_the_rounds_of_all_backends(quick_run):
    _, _, data, _ = quick_run
    rounds = sorted(
        (at, b["extra_info"]["backend"], p)
        for b in data["benchmarks"]
        if b["extra_info"]["kind"] == "fit"
        for s in b["extra_info"]["samples"]
        for at, p in zip(s["at"], s["pass"], strict=True)
    )
    # every pass visits every case once, and passes follow one another in time
    assert [p for _, _, p in rounds] == sorted(p for _, _, p in rounds)
    orders = [[name for _, name, p in rounds if p == k] for k in range(3)]
    firsts = [list(dict.fromkeys(o)) for o in orders]
    assert len({tuple(f) for f in firsts}) > 1  # a fresh random order in each pass


def test_quick_bench_records_threads_versions_and_every_backends_status(quick_run):
    _, _, data, path = quick_run
    g = data["machine_info"]["gdbench"]
    assert g["threads"] == sweep.default_threads()
    assert all(g["env"][v] == str(g["threads"]) for v in sweep.THREAD_VARS)
    assert g["versions"]["numpy"] and "torch_threads" in g
    assert load([path]).machine == this_machine()  # the record: CPU, cores, memory, OS, versions
    busy = data["gdbench"]["busy_during"]  # measured over the run, no second spent before it
    assert "busy_before" not in data["gdbench"] and (busy is None or 0 <= busy <= (os.cpu_count() or 1))
    assert data["gdbench"]["wall_seconds"] > 0 and data["gdbench"]["failed"] == []
    assert data["gdbench"]["schema"] == 2 and data["gdbench"]["protocol"]["stopped"] == "budget"


def test_quick_bench_then_report_and_compare_end_to_end(quick_run, tmp_path, undrawn):
    rc, _, _, path = quick_run
    assert rc == 0
    assert gdbench("report", str(path), "--out", str(tmp_path))[0] == 0
    assert "## Recommendation per regime" in (tmp_path / "REPORT.md").read_text()
    rc, out, _ = gdbench("compare", str(path), str(path))
    assert rc == 0 and "no regression" in out


# --- fairness, checked on the harness itself with a spy backend and a stand-in for pytest-benchmark


class FakeBench:
    """pytest-benchmark's fixture, reduced to what the suite asks of it: ``pedantic``, with the
    timer the test's ``benchmark`` marker names (runners.perf_counter_replay, as in bench_fit)."""

    def __init__(self, timer: Callable[[], float] = runners.perf_counter_replay) -> None:
        self.group: str | None = None
        self.extra_info: dict[str, Any] = {}
        self.has_error = False
        self.disabled = False
        self.timer = timer
        self.seconds: list[float] = []

    def pedantic(self, target: Callable[[], Any], *, rounds: int = 1, iterations: int = 1) -> Any:
        assert iterations == 1
        for _ in range(rounds):  # as pytest-benchmark's runner: timer, target, timer
            start = self.timer()
            target()
            self.seconds.append(self.timer() - start)


class Spy:
    """numpy-closed, logging prepare and calls; ``skew`` shifts w from call number ``skew_from`` on."""

    framework = "numpy"

    def __init__(self, log: list[str], skew: float = 0.0, skew_from: int = 1) -> None:
        self.inner = impls.get_backend("numpy-closed")
        self.log, self.skew, self.skew_from, self.calls = log, skew, skew_from, 0

    def prepare(self, x: Any, y: Any, cfg: impls.TrainConfig) -> Callable[[], impls.FitResult]:
        self.log.append(f"prepare {cfg.epochs}")
        run = self.inner.prepare(x, y, cfg)

        def call() -> impls.FitResult:
            self.calls += 1
            self.log.append(f"call {cfg.epochs}")
            res = run()
            if self.calls >= self.skew_from:
                res.w = res.w + self.skew
            return res

        return call


COUNTS = (5, 10, 20)


def _runner(spy: Spy, mode: str = "nohist") -> runners.CaseRunner:
    x, y = harness.data(100)
    r = runners.CaseRunner(spy, harness.FitCase("spy", 100, "float64", "cpu", mode, COUNTS), x, y, 0.0)
    r.collect = lambda: 0  # the suite freezes the frameworks out of gc's view first; tests do not
    r.probe = None  # memory: its own test below
    return r


def test_prepare_and_first_call_stay_outside_the_timed_rounds():
    log: list[str] = []
    r = _runner(Spy(log), "history")
    r.visit([10, 5, 20], 0)
    # each count placed and called once, largest first (its first call is "first result"), then rounds
    assert log[:6] == ["prepare 20", "call 20", "prepare 10", "call 10", "prepare 5", "call 5"]
    assert log[6:] == ["call 10", "call 5", "call 20"]
    r.visit([20, 10, 5], 1)
    assert log[9:] == ["call 20", "call 10", "call 5"]  # prepared once: no second prepare
    assert r.first_s > 0 and r.first is not None and r.first.epochs == 20
    assert all(len(rd.seconds) == 2 and rd.passes == [0, 1] for rd in r.rounds.values())
    assert r.case.group == "fit cpu float64 N=1e2 history"


class SpyProbe:
    """A memory probe that logs its resets and reads into the spy backend's log."""

    method = "spy"

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def reset(self) -> None:
        self.log.append("reset")

    def peak(self) -> int:
        self.log.append("peak")
        return 4096


def test_memory_is_probed_on_an_untimed_fit_never_around_a_timed_round():
    log: list[str] = []
    r = _runner(Spy(log))
    r.probe = SpyProbe(log)
    r.visit([20, 5, 10], 0)
    # the probe brackets one more call of the largest count, after the timed rounds
    assert log[6:] == ["call 20", "call 5", "call 10", "reset", "call 20", "peak"]
    r.visit([20, 5, 10], 1)
    assert log[12:] == ["call 20", "call 5", "call 10"]  # once a case: no probe near later rounds
    assert [len(rd.seconds) for rd in r.rounds.values()] == [2, 2, 2]
    r.finish()
    assert r.info()["mem_peak_bytes"] == 4096 and r.info()["mem_method"] == "spy"


def test_a_released_case_is_prepared_and_checked_again_before_its_next_round():
    log: list[str] = []
    r = _runner(Spy(log))
    r.visit([5, 10, 20], 0)
    r.release()
    assert not r.prepared
    r.visit([5, 10, 20], 1)
    assert log[9:12] == ["prepare 20", "call 20", "prepare 10"] and r.error is None


def test_a_wrong_backend_fails_before_any_round_is_timed():
    log: list[str] = []
    r = _runner(Spy(log, skew=1e-3))
    r.visit(list(COUNTS), 0)
    assert r.error is not None and "from the exact iterate" in r.error
    assert log == ["prepare 20", "call 20"]  # stopped at the first check
    assert all(not rd.seconds for rd in r.rounds.values())
    bench = FakeBench()
    with pytest.raises(harness.CheckFailed):
        bench_fit._report(bench, r, r.case.group)
    assert bench.has_error  # pytest-benchmark then leaves the case out of the JSON


def test_a_backend_wrong_only_after_its_first_call_is_left_out_of_the_json():
    log: list[str] = []
    r = _runner(Spy(log, skew=1e-3, skew_from=4))  # right on the three first calls, wrong after
    r.visit(list(COUNTS), 0)
    assert r.error is None
    r.finish()
    assert r.error is not None and "CheckFailed" in r.error


def test_a_case_hands_its_rounds_and_cost_model_to_pytest_benchmark():
    r = _runner(Spy([]))
    for p in range(3):
        r.visit(list(COUNTS), p)
    r.finish()
    bench = FakeBench()
    bench_fit._report(bench, r, r.case.group)
    assert bench.seconds == r.rounds[20].seconds and not bench.has_error  # bit for bit
    info = bench.extra_info
    assert info["epoch_counts"] == list(COUNTS) and info["rounds"] == 3
    te, t0 = info["te_s"], info["t0_s"]  # timings of a loaded machine: only their shape is certain
    assert te[1] <= te[0] <= te[2] and t0[1] <= t0[0] <= t0[2] and info["fit_residual"] >= 0


def test_rounds_reach_pytest_benchmark_only_through_the_replaying_timer():
    for test in (bench_fit.test_fit, bench_fit.test_floor):  # the marker pytest-benchmark reads
        (mark,) = [m for m in test.pytestmark if m.name == "benchmark"]
        assert mark.kwargs == {"timer": runners.perf_counter_replay}
    bench = FakeBench(timer=time.perf_counter)  # a test without the marker: its numbers are junk
    with pytest.raises(RuntimeError, match="read 0 of 2 rounds"):
        runners.record(bench, [1.0, 2.0])
    assert bench.has_error  # pytest-benchmark then leaves them out of the JSON
    with pytest.raises(RuntimeError, match="no round queued"):  # and nothing is left queued
        runners.perf_counter_replay()
    bench = FakeBench()
    bench.disabled = True  # --benchmark-disable, or a pytest-xdist worker: it would save nothing
    with pytest.raises(RuntimeError, match="pytest-benchmark is disabled"):
        runners.record(bench, [1.0])
    assert bench.has_error and not bench.seconds


def test_reference_is_the_iterate_every_backend_reaches():
    x, y = harness.data(1000)
    cfg = harness.FitCase("spy", 1000, "float64", "cpu", "nohist", COUNTS).config(20)
    w, b = harness.reference(x, y, cfg)
    res = impls.get_backend("numpy-closed").fit(x, y, cfg)
    assert np.allclose(res.w, w, rtol=0, atol=1e-12) and abs(res.b - b) < 1e-12
    assert harness.check(res, (w, b), cfg) < 1e-12


def test_thread_env_sets_every_framework_alike_and_leaves_the_rest():
    env = sweep.thread_env(3, {"OPENBLAS_CORETYPE": "Haswell", "XLA_FLAGS": "--x"})
    assert all(env[v] == "3" for v in sweep.THREAD_VARS) and env["GDBENCH_THREADS"] == "3"
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["XLA_FLAGS"] == "--x"
    assert sweep.XLA_ONE_THREAD in sweep.thread_env(1, {"XLA_FLAGS": "--x"})["XLA_FLAGS"]


@pytest.mark.skipif(not rss_supported(), reason="needs Linux /proc/self/clear_refs")
def test_rss_probe_sees_an_allocation_made_after_its_reset():
    import mmap

    probe = RssPeak()
    probe.reset()
    # 8 MiB of fresh pages, every one touched: a fresh mapping, never memory the allocator kept from
    # an earlier test in this worker (which would be resident already, and rightly not counted)
    block = mmap.mmap(-1, 8 * 2**20)
    pages = np.frombuffer(block, dtype=np.uint8)
    pages[:: mmap.PAGESIZE] = 1
    assert probe.peak() >= 6 * 2**20
    del pages
    block.close()


def test_sizes_parse_in_every_written_form():
    assert [sweep.parse_size(s) for s in ("100", "1e4", "10**6", "1E7")] == [100, 10**4, 10**6, 10**7]
    assert [sweep.size_label(n) for n in (100, 10**7, 2500)] == ["1e2", "1e7", "2500"]


# --- gdbench compare


def test_compare_passes_an_equal_pair_and_flags_a_2x_regression(tmp_path):
    rc, out, _ = gdbench("compare", str(FIXTURE), str(FIXTURE))
    assert rc == 0 and "no regression" in out and " slower" not in out and " faster" not in out
    rc, out, _ = gdbench("compare", str(FIXTURE), str(scaled(tmp_path, 2.0)))
    assert rc == 1 and " slower: " in out
    assert gdbench("compare", str(FIXTURE), str(scaled(tmp_path, 2.0)), "--threshold", "3")[0] == 0
    assert gdbench("compare", str(scaled(tmp_path, 2.0)), str(FIXTURE))[0] == 0  # faster is fine


def test_compare_flags_a_real_1_5x_slowdown_of_one_case_and_only_that_case(tmp_path):
    case = "test_fit[cpu-float64-N1e2-nohist-numpy-closed]"
    rc, out, _ = gdbench("compare", str(FIXTURE), str(scaled(tmp_path, 1.5, only=case)))
    flagged = [line for line in out.splitlines() if " slower: " in line]
    assert rc == 1 and len(flagged) == 1, out
    assert flagged[0].startswith("numpy-closed cpu float64 N=10² nohist") and "p = " in flagged[0]
    assert "1 regression(s)" in out


# --- usage errors: one line, exit 2, nothing run


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--backends", "no-such-backend"],
        ["bench", "--sizes", "ten"],
        ["bench", "--sizes", "0"],
        ["bench", "--dtypes", "float16"],
        ["bench", "--modes", "sometimes"],
        ["bench", "--threads", "0"],
        ["bench", "--startup", "-1"],
        ["bench", "--name", "../escape.json"],
        ["report", "missing.json"],
        ["compare", "missing.json", "missing.json"],
        ["compare", str(FIXTURE), str(FIXTURE), "--threshold", "0.5"],
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, tmp_path):
    argv = [*argv, "--out", str(tmp_path)] if argv[0] == "bench" else argv
    rc, _, err = gdbench(*argv)
    assert rc == 2 and err.startswith("gdbench: error:") and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_bench_never_overwrites_an_earlier_run(tmp_path):
    (tmp_path / "old.json").write_text("{}")
    rc, _, err = gdbench("bench", "--out", str(tmp_path), "--name", "old.json")
    assert rc == 2 and "never overwritten" in err
    assert (tmp_path / "old.json").read_text() == "{}"


def test_report_and_compare_refuse_files_that_are_not_runs(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    assert gdbench("report", str(bad), "--out", str(tmp_path))[0] == 2
    bad.write_text(json.dumps({"benchmarks": []}))
    assert gdbench("report", str(bad), "--out", str(tmp_path))[0] == 2
    assert gdbench("compare", str(bad), str(FIXTURE))[0] == 2


# --- several suite processes pooled into one run (gdbench bench --processes)


def test_processes_pool_their_rounds_and_recompute_what_derives_from_them(tmp_path):
    one = json.loads(FIXTURE.read_text())
    two = json.loads(FIXTURE.read_text())
    for b in two["benchmarks"]:
        for smp in b["extra_info"].get("samples", []):
            smp["seconds"] = [s * 2 for s in smp["seconds"]]  # a slower second process
    name = "test_fit[cpu-float64-N1e2-nohist-numpy-closed]"
    two["gdbench"]["failed"] = [{"case": name, "when": "call", "message": "CheckFailed: made up"}]
    merged = merge([one, two], [0.0, 100.0])
    fits = {b["name"]: b for b in merged["benchmarks"]}
    assert name not in fits  # failed in one process: left out, and listed
    assert merged["gdbench"]["failed"][-1]["case"] == name
    b = fits["test_fit[cpu-float64-N1e4-nohist-jax-fused]"]
    top = b["extra_info"]["samples"][-1]
    assert len(top["seconds"]) == 2 * 3 and top["process"] == [0, 0, 0, 1, 1, 1]
    assert sorted(top["pass"][:3]) == [0, 1, 2] and sorted(top["pass"][3:]) == [3, 4, 5]
    assert min(top["at"][3:]) >= 100.0
    assert b["stats"]["rounds"] == 6 and b["stats"]["min"] == min(top["seconds"])
    base = next(x for x in one["benchmarks"] if x["name"] == b["name"])
    assert b["extra_info"]["te_s"][0] == pytest.approx(base["extra_info"]["te_s"][0])  # the faster one
    proto = merged["gdbench"]["protocol"]
    assert proto["processes"] == 2 and proto["passes"] == 6
    (tmp_path / "merged.json").write_text(json.dumps(merged))
    assert load([tmp_path / "merged.json"]).fits  # the report reads it like any run


def test_a_cheap_case_repeats_its_rounds_within_a_visit_a_costly_one_does_not():
    assert runners.repeats(0.05, 0.001) == runners.MAX_REPEATS and runners.repeats(0.05, 0.02) == 2
    assert runners.repeats(0.05, 1.0) == 1 and runners.repeats(0.0, 0.001) == 1
    assert runners.repeats(0.05, float("inf")) == 1  # before any round: one, to learn the cost
    log: list[str] = []
    r = _runner(Spy(log))
    r.visit_s = 10.0  # every round-set of this spy is far cheaper
    r.visit([5, 10, 20], 0)
    assert r.n_rounds() == 1  # the first visit learns what a round-set costs
    r.visit([5, 10, 20], 1)
    assert r.n_rounds() == 1 + runners.MAX_REPEATS and set(r.rounds[5].passes) == {0, 1}


def test_busy_counts_what_other_processes_ran_during_the_bench_less_our_own(tmp_path, monkeypatch):
    from benchmarks.suite import machine

    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    clock, cpu = iter([0.0, 2.0, 0.0]), iter([10.0, 11.0, 0.0])  # 2 s of run, 1 CPU second of ours
    monkeypatch.setattr(machine.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(machine, "_own_cpu", lambda: next(cpu))
    monkeypatch.setattr(machine.os, "cpu_count", lambda: 2)
    busy = machine.Busy(stat)
    stat.write_text("cpu  250 0 100 950 50 0 0 0 0 0\n")  # idle + iowait: 150 of 350 jiffies
    assert busy.others() == pytest.approx(2 * (1 - 150 / 350) - 1 / 2)
    assert machine.Busy(tmp_path / "missing").others() is None


def test_busy_is_never_negative_and_measures_a_spinning_process():
    import subprocess
    import sys

    from benchmarks.suite import machine

    busy = machine.Busy()
    code = "import time\nt = time.time()\nwhile time.time() < t + 1: pass"
    spin = subprocess.Popen([sys.executable, "-c", code])
    spin.wait()  # waited for: our child, so its CPU second is ours, not another process's
    others = busy.others()
    assert others is None or 0 <= others <= (machine.os.cpu_count() or 1)
