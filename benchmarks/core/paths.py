"""Where saved runs live when none is named on the command line: the results folder.

The results folder is ``$GDBENCH_RESULTS`` if set; else ``./results`` when the working directory
has one (a clone, or a user who keeps runs there); else the per-user data folder (platformdirs:
``~/.local/share/gdbench`` on Linux). Commands save under it by default and look there for runs.
Never the package's own location: an installed gdbench has no results beside its code.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from benchmarks.core.files import UsageError

ENV = "GDBENCH_RESULTS"
LOCAL = Path("results")  # relative on purpose: help texts and messages then say "results/bench"


def results_dir() -> Path:
    """The results folder: $GDBENCH_RESULTS, else ./results if it is a folder, else the per-user one."""
    return _chosen()[0]


def user_dir() -> Path:
    """The per-user data folder, the results folder of last resort."""
    return platformdirs.user_data_path("gdbench", appauthor=False)


def _chosen() -> tuple[Path, str]:
    """The results folder and why it is that one."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser(), f"${ENV}"
    if LOCAL.is_dir():
        return LOCAL, "./results in the working directory"
    return user_dir(), f"the per-user data folder: ${ENV} is unset and there is no ./results here"


def rule() -> str:
    """How the results folder is chosen, and which it is here: the epilog of the commands' help."""
    return (
        f"Runs are saved in and read from the results folder: ${ENV} if set, else ./results if that "
        f"is a folder, else the per-user data folder ({user_dir()}). Here: {results_dir().resolve()}."
    )


def default_runs() -> list[Path]:
    """The newest full run under the results folder (by the time in its name), else the newest quick one."""
    root, why = _chosen()
    # By the time in the name (bench-YYYYMMDD-HHMMSS), not the file's: a clone's files are all new.
    found = sorted(root.rglob("bench-*.json"), key=lambda p: p.name, reverse=True)
    full = [p for p in found if "quick" not in p.name]
    if not (full or found):
        raise UsageError(
            f"no saved run (bench-*.json) under {root} ({why}); run `gdbench bench` first, "
            f"pass --runs, or set {ENV} to the folder that holds your runs"
        )
    return [(full or found)[0]]


def newest() -> Path:
    """The most recent saved run in the results folder's bench/, where `gdbench bench` saves."""
    root, why = _chosen()
    runs = sorted((root / "bench").glob("bench-*.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise UsageError(
            f"no JSON given and no bench-*.json in {root / 'bench'} (bench/ in {why}); run "
            f"`gdbench bench` first, name a JSON, or set {ENV} to the folder that holds bench/"
        )
    return runs[-1]
