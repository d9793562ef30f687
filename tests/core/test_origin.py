"""The quick bench choose offers when its numbers are not this machine's, and where its runs go."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.core import origin, paths
from benchmarks.core.machines import Machine, this_machine
from tests.support.cli import gdbench
from tests.support.runs import FIXTURE


def recorded(tmp_path: Path, machine: Machine) -> Path:
    """A copy of the fixture that records ``machine``."""
    data = json.loads(FIXTURE.read_text())
    data["machine_info"]["gdbench"]["machine"] = machine.to_json()
    path = tmp_path / "recorded.json"
    path.write_text(json.dumps(data))
    return path


def test_the_offer_saves_in_the_per_user_folder_never_in_dot_results(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()  # a clone: its results/ is the results folder, not where this goes
    user = tmp_path / "data" / "gdbench" / "bench"
    assert origin.measure_command() == f"gdbench bench --quick --out {user}"
    monkeypatch.setenv(paths.ENV, str(tmp_path / "mine"))
    assert origin.measure_command().endswith(f" --out {tmp_path / 'mine' / 'bench'}")
    assert origin.offer().startswith(origin.measure_command() + "  (about ")
    assert origin.quick_minutes() >= 1


def test_choose_offers_the_quick_bench_only_when_the_run_is_not_this_machines(tmp_path):
    argv = ["choose", "--size", "3e3", "--epochs", "1000", "--runs"]
    rc, out, _ = gdbench(*argv, str(recorded(tmp_path, this_machine())))
    assert rc == 0 and "this machine)" in out and "to measure this machine" not in out
    other = Machine("AMD EPYC 7B13", 64, 2**38, "Linux x86_64")
    rc, out, _ = gdbench(*argv, str(recorded(tmp_path, other)))
    assert rc == 0 and f"to measure this machine: {origin.offer()}" in out.splitlines()
    rc, out, _ = gdbench(*argv, str(FIXTURE))  # no record: it may not be this machine either
    assert rc == 0 and f"to measure this machine: {origin.offer()}" in out.splitlines()
