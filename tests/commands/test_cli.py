"""End-to-end tests of ``gdbench run``, ``check`` and ``list``, mostly through cli.main in-process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import impls
from benchmarks.commands import check, main
from benchmarks.commands import run as run_command
from benchmarks.core import oracle
from benchmarks.report import tutorial as figures
from tests.support.cli import gdbench
from tests.support.fakes import Skewed, unavailable

FIGURES = ("data.png", "loss.png", "loss_time.png", "params.png")
SMALL = ["--size", "40", "--epochs", "60"]  # where the test is not about the tutorial's defaults
ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def registered(name: str, factory: impls.registry.Factory) -> Iterator[None]:
    """A test backend in the registry for the duration of the block only."""
    impls.register_backend(name, factory)
    try:
        yield
    finally:
        impls.unregister_backend(name)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    """``gdbench run`` with the tutorial's defaults, run once, with one registered backend missing."""
    out = tmp_path_factory.mktemp("default")
    with registered("cli-missing", unavailable):
        rc, stdout, stderr = gdbench("run", "--out", str(out))
    return rc, stdout, stderr, out


def test_default_run_agrees_and_writes_figures_and_json(default_run):
    rc, stdout, stderr, out = default_run
    assert rc == 0, stdout + stderr
    available = impls.available_backends()
    assert "note: skipping cli-missing: unavailable: framework 'nowhere' is not installed" in stderr
    rows = {line.split()[0]: line for line in stdout.splitlines() if line.strip()}
    for name in available:
        assert rows[name].endswith(" yes"), rows[name]
        assert f"  {name}" in stderr  # its progress line
    assert "tolerance (float64)" in stdout and "1e-10" in stdout
    n = len(available)
    assert stdout.strip().splitlines()[-1] == f"verdict: every backend agrees ({n} of {n})"
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = json.loads((out / "run.json").read_text())
    assert run["train"]["lr"] == 0.1 and run["train"]["epochs"] == 500 and run["data"]["size"] == 100
    assert [r["backend"] for r in run["results"]] == available
    assert "cli-missing" in [s["backend"] for s in run["skipped"]]
    for r in run["results"]:
        assert r["status"] == "ok" and r["stop_reason"] == "tol"
        assert len(r["history"]["loss"]) == len(r["history"]["b"]) == r["epochs"] > 0
        assert r["distance_to_optimum"] < 0.05
        clock = r["history"]["seconds"]  # per-epoch times, for the loss-against-time figure
        if r["backend"] not in ("jax-fused", "numba-fused"):  # one compiled call: no per-epoch clock
            assert len(clock) == r["epochs"] and clock[0] > 0 and clock == sorted(clock)
            assert clock[-1] <= r["seconds"]
    assert {"python", "numpy", "torch", "jax"} <= set(run["versions"])


def test_figures_redraw_from_run_json_alone(default_run, tmp_path):
    out = default_run[3]
    assert gdbench("figures", str(out / "run.json"), "--out", str(tmp_path))[0] == 0
    for name in FIGURES:  # drawn from the saved data only, so byte for byte the same
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


@pytest.mark.parametrize("backends", ["numpy-closed,cli-skewed", "cli-skewed,numpy-closed"],
                         ids=["reference-first", "reference-last"])
@pytest.mark.parametrize(("shift", "rc"), [(0.0, 0), (0.05, 1)], ids=["faithful", "wrong"])
def test_a_backend_that_disagrees_fails_the_run(tmp_path, shift, rc, backends):
    # The reference is numpy-closed by name, wherever it stands in --backends.
    with registered("cli-skewed", lambda **o: Skewed("cli-skewed", shift=shift)):
        got, stdout, _ = gdbench("run", "--backends", backends, *SMALL, "--out", str(tmp_path))
    assert got == rc, stdout
    statuses = {r["backend"]: r["status"] for r in json.loads((tmp_path / "run.json").read_text())["results"]}
    assert statuses == {"numpy-closed": "ok", "cli-skewed": "ok" if rc == 0 else "disagrees"}
    assert ("disagree with numpy-closed: cli-skewed" in stdout) == (rc == 1)


def test_a_run_without_the_reference_still_judges_against_it(tmp_path):
    with registered("cli-skewed", lambda **o: Skewed("cli-skewed", shift=0.05)):
        rc, stdout, _ = gdbench("run", "--backends", "cli-skewed", *SMALL, "--out", str(tmp_path))
    assert rc == 1 and "disagree with numpy-closed: cli-skewed" in stdout


def test_float32_run_agrees_within_its_tolerance(tmp_path):
    rc, stdout, _ = gdbench("run", "--backends", "numpy-closed,torch-nograd", "--dtype", "float32",
                            "--features", "2", *SMALL, "--out", str(tmp_path))
    assert rc == 0, stdout
    assert "tolerance (float32)" in stdout and "0.0001" in stdout
    # numpy-closed in float32 is judged too, against its float64 self: it differs, within 1e-4
    dev = {r["backend"]: r["deviation"] for r in json.loads((tmp_path / "run.json").read_text())["results"]}
    assert 0 < dev["numpy-closed"] <= 1e-4 and 0 < dev["torch-nograd"] <= 1e-4


def test_backend_options_reach_only_the_backends_that_take_them(tmp_path, monkeypatch):
    seen: dict[str, dict] = {}

    def factory(name: str) -> impls.registry.Factory:
        def build(**options: object) -> Skewed:
            seen[name] = options
            return Skewed(name)

        return build

    # as a later --workers will be wired: one run argument, a keyword per backend that takes it
    monkeypatch.setattr(run_command, "BACKEND_OPTIONS", {"seed": {"cli-a": "world_size", "cli-b": "devices"}})
    with registered("cli-a", factory("cli-a")), registered("cli-b", factory("cli-b")):
        rc, stdout, _ = gdbench("run", "--backends", "cli-a,cli-b,numpy-closed", "--seed", "3", *SMALL,
                                "--out", str(tmp_path))
    assert rc == 0, stdout
    assert seen == {"cli-a": {"world_size": 3}, "cli-b": {"devices": 3}}


def test_divergence_is_reported_per_backend_and_exits_1(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc, stdout, stderr = gdbench("run", "--lr", "50", "--backends", "numpy-closed,torch-nograd",
                                     "--out", str(tmp_path))
    assert rc == 1
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert "Warning" not in stderr
    rows = [line for line in stdout.splitlines() if line.startswith(("numpy-closed ", "torch-nograd "))]
    assert len(rows) == 2 and all(" diverged " in row for row in rows)
    assert "diverged: all 2 backends (lr=50); try a smaller --lr" in stdout
    assert stdout.strip().splitlines()[-1].startswith("verdict: every backend diverged at lr=50")
    assert all(row.endswith(" yes") for row in rows)  # they agree with the reference in diverging
    for name in FIGURES:
        assert (tmp_path / name).stat().st_size > 0
    run = json.loads((tmp_path / "run.json").read_text())
    assert all(r["stop_reason"] == "diverged" and r["history"]["loss"] for r in run["results"])


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["run", "--backends", "numpy-closed,nope"], ["unknown backend 'nope'", "numpy-closed", "jax-grad"]),
        (["run", "--size", "-5"], ["--size", ">= 1", "-5"]),
        (["run", "--dtype", "float16"], ["--dtype", "float16", "float32", "float64"]),
        (["run", "--lr", "0"], ["--lr", "> 0"]),
        (["run", "--lr", "-1"], ["argument --lr: expected a finite number > 0, got '-1'"]),
        (["run", "--lr", "nan"], ["--lr", "finite"]),
        (["run", "--device", "tpu"], ["--device", "cpu", "cuda", "auto"]),
        (["run", "--features", "2", "--w", "1,2,3"], ["--w has 3 values", "--features is 2"]),
        (["run", "--backends", "numpy-closed", "--device", "cuda"], ["numpy-closed", "cuda", "usable: cpu"]),
        (["run", "--out", __file__], ["--out", "is a file, not a folder"]),
        (["check", "--backends", "nope"], ["unknown backend 'nope'", "numpy-closed"]),
        (["bogus"], ["bogus", "run", "check", "list"]),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, argv, words):
    out = tmp_path / "out"
    own_out = argv[0] == "run" and "--out" not in argv
    rc, stdout, stderr = gdbench(*argv, "--out", str(out)) if own_out else gdbench(*argv)
    assert rc == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("gdbench: error: ")
    assert all(w in stderr for w in words), stderr
    assert not out.exists()  # refused before anything was trained or written


def test_unavailable_backend_named_is_a_usage_error_and_listed_with_why(tmp_path):
    with registered("cli-missing", unavailable):
        for command in ("run", "check"):
            rc, _, stderr = gdbench(command, "--backends", "numpy-closed,cli-missing")
            assert rc == 2 and stderr.strip() == (
                "gdbench: error: backend 'cli-missing': unavailable: framework 'nowhere' is not installed "
                "(pip install nowhere)")
        rc, stdout, _ = gdbench("list")
    assert rc == 0 and "cli-missing: unavailable: framework 'nowhere' is not installed" in stdout


def test_a_failed_run_leaves_earlier_files_whole(tmp_path, monkeypatch):
    old = {name: b"earlier " + name.encode() for name in (*FIGURES, "notes.txt")}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)

    def broken(run: dict) -> None:
        raise KeyboardInterrupt  # as if stopped while drawing the last figure

    monkeypatch.setattr(figures, "params_figure", broken)
    rc, _, stderr = gdbench("run", "--backends", "numpy-closed", *SMALL, "--out", str(tmp_path))
    assert rc == 130 and stderr.endswith("\ngdbench: interrupted\n")
    assert (tmp_path / "params.png").read_bytes() == old["params.png"]
    assert (tmp_path / "notes.txt").read_bytes() == old["notes.txt"]
    assert json.loads((tmp_path / "run.json").read_text())["results"][0]["status"] == "ok"
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*old, "run.json"])  # no temporary files


def test_check_passes_every_available_backend():
    # two hard families: each new shape costs the compiling backends (jax-grad: every op) a compile
    rc, stdout, _ = gdbench("check", "--datasets", "1", "--points", "2", "--families", "seeded,scales,square")
    assert rc == 0, stdout
    for name in impls.available_backends():
        assert any(line.startswith(name + " ") and line.endswith(" ok") for line in stdout.splitlines())
    assert f"tolerance: {check.TOLERANCE}\n" in stdout and len(check.TOLERANCE) < 160


@pytest.mark.parametrize(("scale", "ok"), [(1.0, True), (1.001, False)], ids=["faithful", "wrong"])
def test_check_json_fails_a_wrong_gradient(scale, ok):
    with registered("cli-skewed", lambda **o: Skewed("cli-skewed", scale=scale)):
        rc, stdout, _ = gdbench("check", "--backends", "numpy-closed,cli-skewed", "--json",
                                "--datasets", "2", "--points", "2")
    report = json.loads(stdout)
    assert rc == (0 if ok else 1) and report["ok"] is ok
    rows = {r["backend"]: r for r in report["backends"]}
    assert rows["numpy-closed"]["ok"] and rows["cli-skewed"]["ok"] is ok
    assert report["tolerance"]["rule"] == oracle.RULE


def test_list_shows_every_backend_with_version_and_devices():
    rc, stdout, _ = gdbench("list", "--json")
    rows = {r["backend"]: r for r in json.loads(stdout)["backends"]}
    assert rc == 0 and list(rows) == impls.backend_names()
    for name in impls.available_backends():
        assert rows[name]["available"] and rows[name]["version"] and "cpu" in rows[name]["devices"]
    rc, stdout, _ = gdbench("list")
    assert rc == 0 and all(name in stdout for name in impls.backend_names())


@pytest.mark.parametrize(
    ("command", "shown"),
    [("run", ["(default: 0.1)", "(default: 500)", "(default: results/run)", "(default: float64)"]),
     ("check", ["(default: all)", "(default: 6)"]),
     ("list", ["--json"])],
)
def test_help_shows_defaults(command, shown, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert all(s in text for s in shown), text


def test_console_script_in_a_subprocess(tmp_path):
    script = Path(sys.executable).with_name("gdbench")  # installed by pip install -e .
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "benchmarks"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([*cmd, "run", "--backends", "numpy-closed", *SMALL, "--out", str(tmp_path)],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "verdict: every backend agrees (1 of 1)" in ok.stdout and (tmp_path / "loss.png").exists()
    bad = subprocess.run([sys.executable, "-m", "benchmarks", "run", "--size", "-5"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert bad.stderr == (
        "gdbench: error: argument --size: expected an integer >= 1 (e.g. 100, 1e6, 10**6), got '-5'\n"
    )
