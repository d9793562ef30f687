"""--plugin as a user types it: check, run, list, a quick bench and its report, choose and compare on it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from impls import plugins
from tests.support.cli import gdbench
from tests.support.plugins import EXAMPLES, GOOD, isolated, write

MYGD, BUGGY, FULL = (str(EXAMPLES / f) for f in ("mygd.py", "mygd_buggy.py", "mygd_backend.py"))
FEW = ["--datasets", "2", "--points", "2"]  # check: every family, fewer seeded cases


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    """Each command loads its plugins into this process's registry: none outlives the test."""
    with isolated():
        yield


def test_check_names_the_component_a_plugin_gets_wrong():
    rc, out, err = gdbench("check", "--plugin", BUGGY, "--backends", "mygd_buggy,numpy-closed", *FEW)
    assert rc == 1, out + err
    row = next(line for line in out.splitlines() if line.startswith("mygd_buggy (plugin)"))
    assert "dL/db" in row and "FAIL" in row
    assert "verdict: FAILED: mygd_buggy" in out


def test_check_passes_the_correct_one_on_every_family():
    rc, out, err = gdbench("check", "--plugin", MYGD, "--backends", "mygd", *FEW, "--json")
    assert rc == 0, out + err
    report = json.loads(out)
    assert report["ok"] and set(report["backends"][0]["families"]) == set(report["families"])


def test_run_trains_the_tutorial_with_both_forms_and_they_agree(tmp_path):
    argv = ["run", "--plugin", MYGD, "--plugin", FULL, "--backends", "mygd,mygd-inplace,numpy-closed"]
    rc, out, err = gdbench(*argv, "--out", str(tmp_path))
    assert rc == 0, out + err
    assert "mygd (plugin)" in out and "mygd-inplace (plugin)" in out
    assert "verdict: every backend agrees (3 of 3)" in out
    record = json.loads((tmp_path / "run.json").read_text())
    assert {r["backend"]: r["plugin"] for r in record["results"]} == {
        "mygd": MYGD, "mygd-inplace": FULL, "numpy-closed": None
    }  # fmt: skip


def test_a_module_is_found_from_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path, "mygd.py", GOOD)
    monkeypatch.chdir(tmp_path)
    rc, out, err = gdbench("check", "--plugin", "mygd:loss_and_grad", "--backends", "mygd", *FEW)
    assert rc == 0 and "mygd (plugin)" in out, out + err


def test_a_plugin_that_raises_fails_alone_with_its_traceback_under_verbose(tmp_path):
    boom = write(tmp_path, "boom.py", "def loss_and_grad(w, b, x, y):\n    raise RuntimeError('kaboom')\n")
    argv = ["run", "--plugin", boom, "--backends", "boom,numpy-closed", "--epochs", "20", "-v"]
    rc, out, err = gdbench(*argv, "--out", str(tmp_path / "run"))
    assert rc == 1
    assert "RuntimeError: kaboom" in out and 'boom.py", line 2, in loss_and_grad' in err
    assert "numpy-closed " in out and "failed: boom: RuntimeError: kaboom" in out


def test_a_plugin_returning_nan_is_named_with_what_was_wrong(tmp_path):
    nan = write(tmp_path, "nanny.py", GOOD.replace("return r @ r / n", "return float('nan')"))
    rc, out, _ = gdbench("check", "--plugin", nan, "--backends", "nanny", *FEW)
    assert rc == 1 and "plugin 'nanny'" in out and "returned NaN in loss" in out


def test_list_shows_plugins_beside_the_built_ins():
    rc, out, _ = gdbench("list", "--plugin", MYGD, "--json")
    rows = {r["backend"]: r for r in json.loads(out)["backends"]}
    assert rc == 0 and rows["mygd"]["plugin"] == MYGD and rows["numpy-closed"]["plugin"] is None
    assert rows["mygd"]["available"] and rows["mygd"]["framework"] == "numpy"


BAD = {
    "a missing file": (None, "no such file"),
    "a syntax error": ("def loss_and_grad(w, b, x, y)\n", "syntax error in .*bad.py, line 1"),
    "an import error": ("import no_such_gdbench_module\n", "No module named 'no_such_gdbench_module'"),
    "a name not found": (GOOD, "no 'fast' in bad.py"),
    "a wrong signature": ("def loss_and_grad(w, x, y):\n    return 0\n", "has the wrong signature"),
    "a built-in's name": (GOOD, "'numpy-closed' clashes with the built-in backend"),
}


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("command", ["check", "run", "bench", "choose", "list"])
def test_a_bad_plugin_is_one_line_and_exit_2_before_any_work(case, command, tmp_path):
    source, message = BAD[case]
    folder = tmp_path / "numpy-closed" if case == "a built-in's name" else tmp_path
    folder.mkdir(exist_ok=True)
    name = "numpy-closed.py" if case == "a built-in's name" else "bad.py"
    spec = str(folder / name) if source is None else write(folder, name, source)
    spec += ":fast" if case == "a name not found" else ""
    extra = {"choose": ["--size", "100", "--epochs", "10"], "run": ["--out", str(tmp_path / "run")]}
    rc, out, err = gdbench(command, "--plugin", spec, *extra.get(command, []))
    assert (rc, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("gdbench: error: plugin ")
    assert re.search(message, err), err
    assert not (tmp_path / "run").exists()


# --- a quick bench with a plugin, once for the tests below


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, dict[str, Any], Path]]:
    """`gdbench bench --quick --plugin mygd.py --backends mygd,numpy-closed`, the class too; N = 100, 1 s."""
    out = tmp_path_factory.mktemp("bench")
    with isolated():
        rc, stdout, stderr = gdbench(
            "bench", "--quick", "--plugin", MYGD, "--plugin", FULL,
            "--backends", "mygd,mygd-inplace,numpy-closed", "--sizes", "100",
            "--budget", "1", "--out", str(out), "--name", "q.json",
        )  # fmt: skip
    path = out / "q.json"
    yield rc, stdout + stderr, json.loads(path.read_text()) if path.exists() else {}, path


def test_a_quick_bench_times_the_plugin_in_its_suite_process(quick):
    rc, output, data, _ = quick
    assert rc == 0, output[-3000:]
    info = data["gdbench"]["backend_info"]
    assert info["mygd"]["available"] and info["mygd"]["plugin"] == MYGD
    assert info["numpy-closed"]["plugin"] is None
    fits = {(b["extra_info"]["backend"], b["extra_info"]["mode"]) for b in data["benchmarks"]
            if b["extra_info"]["kind"] == "fit"}  # fmt: skip
    assert fits == {(b, m) for b in ("mygd", "mygd-inplace", "numpy-closed") for m in ("nohist", "history")}
    assert not data["gdbench"]["failed"]


def test_the_report_ranks_the_plugin_and_names_it(quick, tmp_path):
    *_, path = quick
    rc, out, err = gdbench("report", str(path), "--out", str(tmp_path))
    assert rc == 0, out + err
    md = (tmp_path / "REPORT.md").read_text()
    mine = f"`mygd` (plugin) from {MYGD}; `mygd-inplace` (plugin) from {FULL}."
    assert f"**Plugins** (the user's own backends, ranked as gdbench's): {mine}" in md
    assert "`mygd` (plugin)" in md.split("## Recommendation per regime")[1]  # marked in the tables
    assert "`mygd` " not in md.replace("`mygd` (plugin)", "") and "`numpy-closed` (plugin)" not in md
    page = (tmp_path / "report.html").read_text()
    assert "<code>mygd</code> (plugin)" in page and "<code>numpy-closed</code> (plugin)" not in page


def test_choose_predicts_the_plugin_and_compare_reads_its_run(quick):
    *_, path = quick
    job = ["--size", "1000", "--epochs", "100"]
    rc, out, err = gdbench("choose", "--plugin", MYGD, "--runs", str(path), *job)
    assert rc == 0, out + err
    assert any(line.startswith("mygd (plugin) ") for line in out.splitlines())
    rc, out, err = gdbench("compare", str(path), str(path))
    assert rc == 0 and "mygd (plugin) cpu float64 N=10² nohist" in out, out + err
    assert "numpy-closed cpu float64 N=10² nohist" in out


def test_choose_measures_a_plugin_only_when_named_again(quick):
    *_, path = quick
    job = ["--runs", str(path), "--size", "100", "--epochs", "10", "--measure"]
    rc, out, err = gdbench("choose", *job)
    assert (rc, out) == (2, "") and f"of that run: add --plugin {MYGD}" in err


def test_a_plugin_the_suite_process_cannot_load_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(plugins, "specs_for_child", lambda: str(tmp_path / "gone.py"))
    rc, out, err = gdbench(
        "bench", "--quick", "--plugin", MYGD, "--backends", "mygd", "--sizes", "100", "--budget", "1",
        "--out", str(tmp_path), "--name", "q.json",
    )  # fmt: skip
    assert rc == 1 and "saved no results" in err, out + err
    assert "no such file" in out + err and not (tmp_path / "q.json").exists()
