"""The benchmark suite's machinery, never its speed: bench, report, compare, and the fairness rules."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import impls
from benchmarks.cli import main
from benchmarks.suite import cases, harness
from benchmarks.suite.memory import RssPeak, rss_supported

DATA = Path(__file__).resolve().parent / "data"
FIXTURE = DATA / "bench_small.json"


def gdbench(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


# --- gdbench bench --quick, end to end through pytest-benchmark (one run shared by the tests below)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any], Path]:
    """`gdbench bench --quick` at the smallest size only, so it stays well under a minute."""
    out = tmp_path_factory.mktemp("bench")
    rc, stdout, stderr = gdbench("bench", "--quick", "--sizes", "100", "--out", str(out), "--name", "q.json")
    path = out / "q.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    return rc, stdout + stderr, data, path


def test_quick_bench_times_every_available_backend_and_the_floor(quick_run):
    rc, output, data, _ = quick_run
    assert rc == 0, output[-3000:]
    status = data["gdbench"]["backend_info"]
    # every registered backend, run or explained; data-parallel ones as one variant per world size
    assert set(status) == set(cases.expand(impls.backend_names()))
    assert {"torch-ddp-1", "torch-ddp-2", "jax-sharded-1", "jax-sharded-2"} <= set(status)
    available = {name for name, b in status.items() if b["available"]}
    assert "numpy-closed" in available  # needs nothing beyond numpy, so it always runs
    assert all(b["reason"] for b in status.values() if not b["available"])
    infos = [b["extra_info"] for b in data["benchmarks"]]
    fits = [e for e in infos if e["kind"] == "fit"]
    at_100 = {b for b in available if cases.spec(b).runs_at(100)}  # variants run at DIST_SIZES only
    assert {(e["backend"], e["mode"]) for e in fits} == {(b, m) for b in at_100 for m in cases.MODES}
    assert [e["n"] for e in infos if e["kind"] == "floor"] == [100]
    for e in fits:
        assert e["epochs"] == cases.work(100, quick=True).epochs and len(e["loop_s"]) == e["rounds"]
        assert e["first_call_s"] > 0 and e["prepare_s"] >= 0 and e["check_err"] <= e["check_tol"]
        assert "per_epoch_median_s" in e and "mem_peak_bytes" in e
    groups = {b["group"] for b in data["benchmarks"] if b["extra_info"]["kind"] == "fit"}
    assert groups == {"fit cpu float64 N=1e2 nohist", "fit cpu float64 N=1e2 history"}


def test_quick_bench_records_threads_versions_and_every_backends_status(quick_run):
    _, _, data, _ = quick_run
    g = data["machine_info"]["gdbench"]
    assert g["threads"] == cases.default_threads()
    assert all(g["env"][v] == str(g["threads"]) for v in cases.THREAD_VARS)
    assert g["versions"]["numpy"] and "torch_threads" in g
    assert data["gdbench"]["wall_seconds"] > 0 and data["gdbench"]["failed"] == []


def test_quick_bench_then_report_and_compare_end_to_end(quick_run, tmp_path):
    rc, _, _, path = quick_run
    assert rc == 0
    assert gdbench("report", str(path), "--out", str(tmp_path))[0] == 0
    assert "Which implementation should I choose" in (tmp_path / "REPORT.md").read_text()
    assert gdbench("compare", str(path), str(path))[0] == 0


# --- fairness, checked on the harness itself with a spy backend and a stand-in for pytest-benchmark


class FakeBench:
    """Records what the harness asks of pytest-benchmark; runs setup and target like pedantic does."""

    def __init__(self, log: list[str]) -> None:
        self.group: str | None = None
        self.extra_info: dict[str, Any] = {}
        self.has_error = False
        self.log = log
        self.rounds = 0

    def pedantic(
        self, target: Callable[[], Any], *, setup: Any = None, rounds: int = 1, iterations: int = 1
    ) -> Any:
        self.log.append("pedantic")
        for _ in range(rounds):
            setup()
            self.log.append("timed-call")
            result = target()
            self.rounds += 1
        return result


class Spy:
    """numpy-closed, logging prepare and calls; ``skew`` shifts w from call number ``skew_from`` on."""

    framework = "numpy"

    def __init__(self, log: list[str], skew: float = 0.0, skew_from: int = 1) -> None:
        self.inner = impls.get_backend("numpy-closed")
        self.log, self.skew, self.skew_from, self.calls = log, skew, skew_from, 0

    def prepare(self, x: Any, y: Any, cfg: impls.TrainConfig) -> Callable[[], impls.FitResult]:
        self.log.append("prepare")
        run = self.inner.prepare(x, y, cfg)

        def call() -> impls.FitResult:
            self.calls += 1
            self.log.append("call")
            res = run()
            if self.calls >= self.skew_from:
                res.w = res.w + self.skew
            return res

        return call


def _case(mode: str = "nohist") -> harness.FitCase:
    return harness.FitCase("spy", 100, "float64", "cpu", mode, cases.Work(epochs=20, rounds=4))


def test_prepare_and_first_call_stay_outside_the_timed_rounds():
    log: list[str] = []
    bench = FakeBench(log)
    x, y = harness.data(100)
    info = harness.run_fit(bench, Spy(log), x, y, _case("history"))
    assert log[:3] == ["prepare", "call", "pedantic"]  # data placed, first call made and timed apart
    assert log.count("prepare") == 1 and log[3:] == ["timed-call", "call"] * 4
    assert bench.rounds == len(info["loop_s"]) == 4 and info["first_call_s"] > 0
    assert bench.group == "fit cpu float64 N=1e2 history"
    assert info["per_epoch_q1_s"] <= info["per_epoch_median_s"] <= info["per_epoch_q3_s"]


def test_a_wrong_backend_fails_before_any_round_is_timed():
    log: list[str] = []
    x, y = harness.data(100)
    with pytest.raises(harness.CheckFailed, match="from the exact iterate"):
        harness.run_fit(FakeBench(log), Spy(log, skew=1e-3), x, y, _case())
    assert "pedantic" not in log


def test_a_backend_wrong_only_after_its_first_call_is_left_out_of_the_json():
    log: list[str] = []
    bench = FakeBench(log)
    x, y = harness.data(100)
    with pytest.raises(harness.CheckFailed):
        harness.run_fit(bench, Spy(log, skew=1e-3, skew_from=2), x, y, _case())
    assert bench.has_error  # pytest-benchmark drops cases with has_error from its JSON


def test_reference_is_the_iterate_every_backend_reaches():
    x, y = harness.data(1000)
    cfg = _case().config()
    w, b = harness.reference(x, y, cfg)
    res = impls.get_backend("numpy-closed").fit(x, y, cfg)
    assert np.allclose(res.w, w, rtol=0, atol=1e-12) and abs(res.b - b) < 1e-12
    assert harness.check(res, (w, b), cfg) < 1e-12


def test_thread_env_sets_every_framework_alike_and_leaves_the_rest():
    env = cases.thread_env(3, {"OPENBLAS_CORETYPE": "Haswell", "XLA_FLAGS": "--x"})
    assert all(env[v] == "3" for v in cases.THREAD_VARS) and env["GDBENCH_THREADS"] == "3"
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["XLA_FLAGS"] == "--x"
    assert cases.XLA_ONE_THREAD in cases.thread_env(1, {"XLA_FLAGS": "--x"})["XLA_FLAGS"]


@pytest.mark.skipif(not rss_supported(), reason="needs Linux /proc/self/clear_refs")
def test_rss_probe_sees_an_allocation_made_after_its_reset():
    probe = RssPeak()
    probe.reset()
    block = np.ones(8 * 2**20 // 8)  # 8 MiB, every page touched
    assert probe.peak() >= 6 * 2**20
    del block


def test_sizes_parse_in_every_written_form():
    assert [cases.parse_size(s) for s in ("100", "1e4", "10**6", "1E7")] == [100, 10**4, 10**6, 10**7]
    assert [cases.size_label(n) for n in (100, 10**7, 2500)] == ["1e2", "1e7", "2500"]


# --- gdbench report, from a fixed small JSON (tests/data/bench_small.json: a trimmed quick run)


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The report of the fixture, made in a fresh process: (directory, its last output line)."""
    out = tmp_path_factory.mktemp("report")
    code = (
        "import sys; from benchmarks.cli import main; "
        f"rc = main(['report', {str(FIXTURE)!r}, '--out', {str(out)!r}]); "
        "print(rc, sorted(m for m in ('torch', 'jax', 'pytest_benchmark') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out, done.stdout.strip().splitlines()[-1]


def test_report_renders_markdown_and_figures_from_saved_json_alone(fixture_report):
    out, last = fixture_report
    assert last == "0 []"  # it succeeded without importing a framework: nothing can have been timed
    text = (out / "REPORT.md").read_text()
    for heading in (
        "## Which implementation should I choose",
        "### Headline ratios",
        "## Distance from the memory floor",
        "## Results by case",
        "## How this was measured",
    ):
        assert heading in text
    assert "use `jax-fused`" in text and "graph growth" in text and "(algorithmic)" in text
    assert "`jax-sharded`: unavailable here" in text and "made-up failure" in text
    pngs = sorted(p.name for p in (out / "figures").iterdir())
    assert pngs == ["growth_cpu.png", "per_epoch_cpu.png", "ratio_to_floor_cpu.png", "scaling.png"]
    assert "## Beyond one machine" in text and "### Measured apart, and the model beyond it" in text
    assert all((out / "figures" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_report_regenerates_its_own_report_but_not_one_of_other_runs(fixture_report, tmp_path):
    assert gdbench("report", str(FIXTURE), "--out", str(fixture_report[0]))[0] == 0
    (tmp_path / "REPORT.md").write_text("# an earlier report\n")
    rc, _, err = gdbench("report", str(FIXTURE), "--out", str(tmp_path))
    assert rc == 2 and "--force" in err
    assert (tmp_path / "REPORT.md").read_text() == "# an earlier report\n"
    assert gdbench("report", str(FIXTURE), "--out", str(tmp_path), "--force")[0] == 0


# --- gdbench compare


def _scaled(tmp_path: Path, factor: float) -> Path:
    data = json.loads(FIXTURE.read_text())
    for b in data["benchmarks"]:
        b["stats"]["median"] *= factor
    path = tmp_path / f"x{factor}.json"
    path.write_text(json.dumps(data))
    return path


def test_compare_passes_an_equal_pair_and_flags_a_2x_regression(tmp_path):
    rc, out, _ = gdbench("compare", str(FIXTURE), str(FIXTURE))
    assert rc == 0 and "no regression" in out
    rc, out, _ = gdbench("compare", str(FIXTURE), str(_scaled(tmp_path, 2.0)))
    assert rc == 1 and "REGRESSION" in out
    assert gdbench("compare", str(FIXTURE), str(_scaled(tmp_path, 2.0)), "--threshold", "3")[0] == 0
    assert gdbench("compare", str(_scaled(tmp_path, 2.0)), str(FIXTURE))[0] == 0  # faster is fine


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
