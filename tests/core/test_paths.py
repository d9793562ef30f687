"""The results folder: $GDBENCH_RESULTS, else ./results, else the per-user data folder; never the code's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.commands import build_parser, main
from benchmarks.core import paths
from benchmarks.core.files import UsageError
from tests.support.cli import gdbench

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "bench_v2.json"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory outside the clone, and a per-user data folder of its own."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv(paths.ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


def test_the_results_folder_is_the_variable_else_dot_results_else_the_per_user_one(elsewhere, monkeypatch):
    assert paths.results_dir() == elsewhere / "data" / "gdbench" == paths.user_dir()
    (elsewhere / "work" / "results").mkdir()
    assert paths.results_dir() == Path("results")
    monkeypatch.setenv(paths.ENV, str(elsewhere / "mine"))
    assert paths.results_dir() == elsewhere / "mine"  # even where ./results exists
    monkeypatch.setenv(paths.ENV, "")  # empty: as if unset
    assert paths.results_dir() == Path("results")


def test_runs_are_found_in_the_results_folder_newest_full_run_first(elsewhere, monkeypatch):
    root = elsewhere / "data" / "gdbench"
    mine = root / "bench" / paths.machine_id()
    names = (
        "bench-20260101-000000.json",  # gdbench's names before pytest-benchmark's layout
        "0001_abc_20260201_000000_choose.json",  # a labelled part-run: never the default
        "0002_abc_20260301_000000_quick.json",
    )
    for name in names:
        (root / "bench" / paths.machine_id()).mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURE, mine / name)
    assert paths.default_runs() == [mine / "bench-20260101-000000.json"]  # full before quick
    assert paths.newest() == mine / names[-1]
    assert paths.next_number(mine) == 3
    monkeypatch.setenv(paths.ENV, str(elsewhere / "empty"))
    with pytest.raises(UsageError, match=r"\$GDBENCH_RESULTS\)"):
        paths.default_runs()


def test_a_missing_run_names_the_folder_searched_and_how_to_change_it(elsewhere):
    user = str(elsewhere / "data" / "gdbench")
    rc, _, err = gdbench("choose", "--size", "1e4", "--epochs", "100")
    assert rc == 2 and user in err and "per-user data folder" in err
    assert "--runs" in err and "GDBENCH_RESULTS" in err
    rc, _, err = gdbench("report")
    assert rc == 2 and f"{user}/bench" in err and "GDBENCH_RESULTS" in err
    rc, _, err = gdbench("validate-choose")
    assert rc == 2 and user in err
    assert not (elsewhere / "work" / "results").exists()  # looking created nothing


def test_defaults_follow_the_results_folder_and_help_says_where(elsewhere, monkeypatch, capsys):
    mine = elsewhere / "mine"
    monkeypatch.setenv(paths.ENV, str(mine))
    outs = {
        "bench": "bench",
        "run": "run",
        "scaling": "scaling",
        "reproduce": "reproduce",
    }
    for command, default in outs.items():
        assert build_parser(command).parse_args([command]).out == mine / default, command
    with pytest.raises(SystemExit):
        main(["choose", "--help"])
    text = "".join(capsys.readouterr().out.split())  # argparse wraps lines, at hyphens too

    def shown(words: str) -> bool:
        return "".join(words.split()) in text

    assert shown(f"(default: the newest full run under {mine})")
    assert shown("$GDBENCH_RESULTS if set, else ./results") and shown(f"Here: {mine}.")


def test_the_package_never_finds_data_through_its_own_location():
    package = Path(paths.__file__).resolve().parents[1]
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        if source.name != "paths.py":  # the one place that knows ./results, relative to the user
            assert 'Path("results' not in text, source
        for line in text.splitlines():
            if "__file__" in line:  # only to read the package's own code (a command's docstring)
                assert "results" not in line and "parents[" not in line, f"{source}: {line}"


def test_runs_are_named_and_stored_as_pytest_benchmark_stores_them():
    from datetime import datetime

    from pytest_benchmark.utils import get_machine_id

    assert paths.machine_id() == get_machine_id()
    when = datetime(2026, 12, 4, 18, 5, 9)
    name = paths.run_name(7, "9fbf39e2", False, when)
    assert name == "0007_9fbf39e2_20261204_180509.json" and paths.label(Path(name)) == ""
    dirty = Path(paths.run_name(12, "abc", True, when, "quick"))
    assert dirty.name == "0012_abc_20261204_180509_uncommitted-changes_quick.json"
    assert (paths.stamp(dirty), paths.label(dirty)) == ("20261204_180509", "quick")
    assert paths.stamp(Path("bench-20261130-233123-quick.json")) == "20261130_233123"
    assert paths.stamp(Path("notes.json")) is None


def test_a_run_from_this_machine_is_preferred_to_a_newer_one_from_elsewhere(elsewhere, tmp_path):
    import json

    from benchmarks.core.machines import this_machine

    mine = elsewhere / "data" / "gdbench" / "bench" / paths.machine_id()
    mine.mkdir(parents=True)
    data = json.loads(FIXTURE.read_text())
    data["machine_info"]["gdbench"]["machine"] = this_machine().to_json()
    (mine / "0001_abc_20260101_000000.json").write_text(json.dumps(data))
    shutil.copy(FIXTURE, mine / "0002_abc_20260301_000000.json")  # newer, but no record
    assert paths.default_runs() == [mine / "0001_abc_20260101_000000.json"]
    assert paths.from_here(mine / "0001_abc_20260101_000000.json")
    assert not paths.from_here(mine / "0002_abc_20260301_000000.json")


def test_pytest_benchmarks_own_cli_tells_the_stored_runs_apart():
    import subprocess
    import sys

    from tests.support.runs import REFERENCE

    cli = [sys.executable, "-m", "pytest_benchmark", "--storage", str(REFERENCE.parents[1])]
    listed = subprocess.run([*cli, "list"], capture_output=True, text=True, check=True).stdout
    assert [Path(line).name[:4] for line in listed.split()] == ["0001", "0002"]
    cmd = [*cli, "compare", "0001", "0002", "--columns", "min"]
    table = subprocess.run(cmd, capture_output=True, text=True)
    assert table.returncode == 0 and "(0001_9fbf39e)" in table.stdout and "(0002_9fbf39e)" in table.stdout


def test_list_runs_shows_each_saved_run_with_its_commit_and_machine(elsewhere):
    import json

    from benchmarks.core.machines import this_machine

    rc, out, _ = gdbench("list", "--runs")
    assert rc == 0 and out.strip() == "no saved run where gdbench looks"
    mine = elsewhere / "data" / "gdbench" / "bench" / paths.machine_id()
    mine.mkdir(parents=True)
    data = json.loads(FIXTURE.read_text())
    data["machine_info"]["gdbench"]["machine"] = this_machine().to_json()
    data["commit_info"] = {"id": "0123456789abcdef", "dirty": True}
    (mine / "0001_0123456789abcdef_20260101_000000_quick.json").write_text(json.dumps(data))
    shutil.copy(FIXTURE, mine / "0002_abc_20260301_000000.json")
    rc, out, _ = gdbench("list", "--runs")
    rows = out.splitlines()[2:]
    assert rc == 0 and len(rows) == 2
    assert rows[0].split()[-6:] == ["20260101", "000000", "0123456789+", "quick", "this", "machine"]
    assert rows[1].endswith("full   unknown machine")
    listed = json.loads(gdbench("list", "--runs", "--json")[1])["runs"]
    assert [r["this_machine"] for r in listed] == [True, None] and listed[0]["label"] == "quick"
