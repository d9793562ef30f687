"""Where choose's numbers come from, and the warning when they are not this machine's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.core import origin, paths
from benchmarks.core.machines import Machine, this_machine
from benchmarks.core.results import load
from tests.support.cli import gdbench
from tests.support.runs import FIXTURE

HERE = Machine("Intel Xeon", 2, 24 * 2**30, "Linux x86_64", {"python": "3.11.7"})


def recorded(tmp_path: Path, machine: Machine) -> Path:
    """A copy of the fixture that records ``machine``."""
    data = json.loads(FIXTURE.read_text())
    data["machine_info"]["gdbench"]["machine"] = machine.to_json()
    path = tmp_path / f"{machine.cpu}.json".replace(" ", "-")
    path.write_text(json.dumps(data))
    return path


def test_a_run_from_this_machine_says_so_and_warns_of_nothing(tmp_path):
    run = load([recorded(tmp_path, HERE)])
    assert origin.lines(run, HERE) == [f"machine: {HERE.describe()} (this machine)"]
    said = origin.origin(run, HERE)
    assert said["same_machine"] is True and said["source"] == [str(run.sources[0])]
    assert said["source_machine"]["cpu"] == "Intel Xeon" and said["this_machine"] == HERE.to_json()


def test_another_machine_is_named_with_what_differs_and_the_quick_bench_offered(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.ENV, str(tmp_path / "mine"))
    run = load([recorded(tmp_path, Machine("AMD EPYC", 2, 24 * 2**30, "Linux x86_64"))])
    head, warn, offer = origin.lines(run, HERE)
    assert head == "machine: AMD EPYC, 2 cores, 24.0 GiB, Linux x86_64"
    assert warn == (
        "warning: these times come from another machine (CPU AMD EPYC vs Intel Xeon); they need not hold here"
    )
    command = f"gdbench bench --quick --out {tmp_path / 'mine' / 'bench'}"
    assert offer.startswith(f"to measure this machine: {command}  (about ")
    assert origin.origin(run, HERE)["same_machine"] is False


def test_a_run_without_a_record_may_not_be_this_machine(monkeypatch, tmp_path):
    monkeypatch.delenv(paths.ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    run = load([FIXTURE])
    here = Machine(run.machine.cpu, run.machine.cores, 2**30, run.machine.os)  # all it has agrees
    head, warn, offer = origin.lines(run, here)
    assert "memory not recorded" in head and "may not be this one" in warn and here.describe() in warn
    assert str(tmp_path / "data" / "gdbench" / "bench") in offer  # the per-user folder, not ./results
    assert origin.origin(run, here)["same_machine"] is None
    assert origin.quick_minutes() >= 1


@pytest.mark.parametrize("as_json", [False, True])
def test_choose_prints_the_machine_and_puts_it_in_its_json(tmp_path, as_json):
    path = recorded(tmp_path, this_machine())
    argv = ["choose", "--size", "3e3", "--epochs", "1000", "--runs", str(path)]
    rc, out, _ = gdbench(*argv, *(["--json"] if as_json else []))
    assert rc == 0
    if as_json:
        data = json.loads(out)
        assert data["same_machine"] is True and data["source"] == [str(path)]
    else:
        assert f"machine: {this_machine().describe()} (this machine)" in out and "warning" not in out
