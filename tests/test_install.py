"""`pip install .` outside a clone: the installed package alone runs the commands, finds runs where
the user keeps them (never beside its own code), and ships its modules and data, no tests or results.

gdbench is installed without dependencies into a folder of its own, from a copy of the sources (so
the build leaves nothing in the clone), and run from a working directory outside the clone by the
venv's Python without its site (-S): the clone's editable install is then out of sight, and the
dependencies come from the venv's site-packages on PYTHONPATH, after the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from benchmarks.core.paths import machine_id

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmarks", "impls")
FIXTURE = ROOT / "tests" / "data" / "bench_v2.json"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder gdbench is installed into (no dependencies, no network)."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    target = base / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index"]
    done = subprocess.run(
        [*pip, "--no-deps", "--no-build-isolation", "--no-compile", "--target", str(target), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A user's home with nothing in it, and an empty working directory outside the clone."""
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path / "home"


def run(site: Path, home: Path, *argv: str) -> tuple[int, str, str]:
    """``gdbench ARGV`` as installed (``python ARGV`` if it starts with an option), run in ``home``'s
    empty working directory: (exit status, stdout, stderr)."""
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GDBENCH_RESULTS")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),  # platformdirs' Linux default, said outright
        PYTHONPATH=os.pathsep.join([str(site), *deps]),
        MPLCONFIGDIR=str(site.parent / "matplotlib"),  # its font cache, built once, not once per home
    )
    script = list(argv) if argv[0].startswith("-") else [str(site / "bin" / "gdbench"), *argv]
    done = subprocess.run(
        [sys.executable, "-S", *script],
        cwd=home.parent / "work",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout, done.stderr


def test_the_installed_package_is_its_sources_without_tests_or_results(site):
    installed = {
        p.relative_to(site).as_posix()
        for package in PACKAGES
        for p in (site / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    sources = {
        p.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for p in (ROOT / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert installed == sources  # every module and data file (the suite's conftest, the report's vendor/)
    assert "benchmarks/suite/conftest.py" in installed and "benchmarks/suite/bench_fit.py" in installed
    tops = {p.name for p in site.iterdir()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {*PACKAGES, "bin"}  # no tests, no results


def test_the_installed_commands_run_outside_a_clone(site, home):
    rc, out, err = run(site, home, "-m", "benchmarks", "--help")
    assert rc == 0 and "bench" in out and "choose" in out, err
    rc, out, _ = run(site, home, "-c", "import benchmarks, impls; print(benchmarks.__file__, impls.__file__)")
    assert rc == 0 and all(Path(f).is_relative_to(site) for f in out.split()), out
    runs = shutil.copy(FIXTURE, home.parent / "work" / "mine.json")
    rc, out, err = run(site, home, "choose", "--runs", str(runs), "--size", "1e4", "--epochs", "100")
    assert rc == 0 and "from: mine.json" in out and "numpy-closed" in out, err


def test_without_runs_the_installed_commands_say_where_they_looked(site, home):
    for argv in (["choose", "--size", "1e4", "--epochs", "100"], ["report"]):
        rc, _, err = run(site, home, *argv)
        assert rc == 2 and str(home) in err and "per-user data folder" in err, err
        assert "GDBENCH_RESULTS" in err and "gdbench bench" in err
    assert not any((home.parent / "work").iterdir()) and not (home / ".local").exists()  # made nothing


def test_the_installed_suite_saves_in_the_per_user_folder_and_choose_and_report_find_it(site, home):
    rc, out, err = run(
        site, home, "bench", "--quick", "--backends", "numpy-closed", "--sizes", "100", "--modes", "nohist",
        "--budget", "1",
    )  # fmt: skip
    assert rc == 0, (out + err)[-3000:]
    (saved,) = home.rglob("0001_*_quick.json")  # pytest-benchmark's layout: a folder per machine
    assert saved.parent.name == machine_id() and saved.parent.parent.name == "bench"
    assert saved.parent.parent.parent.name == "gdbench"
    assert not any((home.parent / "work").iterdir())  # nothing in the working directory
    rc, out, err = run(site, home, "choose", "--size", "100", "--epochs", "100")
    assert rc == 0 and f"from: {saved}" in out, err
    rc, out, err = run(site, home, "report")
    assert rc == 0 and (saved.parent / "REPORT.md").exists() and (saved.parent / "report.html").exists(), err
