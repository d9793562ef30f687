"""Reading saved runs (benchmarks/core/results.py): the one place that knows what a run file holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.core.files import UsageError
from benchmarks.core.results import load
from tests.support.cli import gdbench

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "bench_v2.json"  # schema 2


def _older(tmp_path: Path, schema: int | None) -> Path:
    """The fixture as gdbench wrote runs before the measurement protocol: schema 1, or no number at all."""
    data = json.loads(FIXTURE.read_text())
    if schema is None:
        del data["gdbench"]["schema"]
    else:
        data["gdbench"]["schema"] = schema
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("schema", [1, None])
def test_a_schema_1_run_is_refused_in_one_line_naming_its_version(tmp_path, schema):
    path = _older(tmp_path, schema)
    with pytest.raises(UsageError) as e:
        load([FIXTURE, path])  # also when merged with a current run
    said = str(e.value)
    assert said.startswith(f"{path}: a schema-1 run") and "make a new one with gdbench bench" in said
    assert "\n" not in said


@pytest.mark.parametrize("command", ["report", "compare", "choose"])
def test_every_command_that_reads_runs_refuses_a_schema_1_run_and_writes_nothing(tmp_path, command):
    path = _older(tmp_path, 1)
    out = tmp_path / "out"
    argv = {
        "report": ["report", str(path), "--out", str(out)],
        "compare": ["compare", str(FIXTURE), str(path)],
        "choose": ["choose", "--size", "1e4", "--epochs", "100", "--runs", str(path)],
    }[command]
    rc, stdout, err = gdbench(*argv)
    assert rc == 2 and err.startswith(f"gdbench: error: {path}: a schema-1 run") and stdout == ""
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_a_current_run_loads_its_cost_model_from_the_rounds():
    run = load([FIXTURE])
    assert run.fits and all(f.te.value == f.per_epoch for f in run.fits)
    assert all(f.samples and min(f.samples) < max(f.samples) for f in run.fits)  # several epoch counts
    assert all(fl.boot.size > 0 for fl in run.floors)


def _with_d(tmp_path: Path, d: int | None) -> Path:
    """The fixture with every fit case at ``d`` features (None: the key left out, as before d)."""
    data = json.loads(FIXTURE.read_text())
    for b in data["benchmarks"]:
        if b["extra_info"].get("kind") == "fit":
            b["extra_info"].pop("d", None)
            if d is not None:
                b["extra_info"]["d"] = d
    out = tmp_path / f"d{d}.json"
    out.write_text(json.dumps(data))
    return out


def test_a_run_saved_before_d_was_swept_has_one_feature(tmp_path):
    run = load([_with_d(tmp_path, None)])
    assert {f.d for f in run.fits} == {1} and run.select() == run.fits


def test_cases_that_differ_only_in_d_are_two_cases_and_select_keeps_them_apart(tmp_path):
    run = load([_with_d(tmp_path, None), _with_d(tmp_path, 100)])  # the second file no longer replaces
    one, wide = run.select(), run.select(d=100)
    assert len(one) == len(wide) == len(run.fits) // 2 and {f.d for f in wide} == {100}
    assert [f.key[:4] + f.key[5:] for f in one] == [f.key[:4] + f.key[5:] for f in wide]
    assert run.select(d=None) == run.fits and run.values("d", d=None) == [1, 100]
    assert run.values("n") == run.values("n", d=100)  # values() reads the d = 1 cases unless asked
