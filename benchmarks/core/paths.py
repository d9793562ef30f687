"""Where saved runs live when none is named on the command line: the results folder.

The results folder is ``$GDBENCH_RESULTS`` if set; else ``./results`` when the working directory
has one (a clone, or a user who keeps runs there); else the per-user data folder (platformdirs:
``~/.local/share/gdbench`` on Linux). Commands save under it by default and look there for runs.
Never the package's own location: an installed gdbench has no results beside its code.

Runs are stored as pytest-benchmark stores them (``--benchmark-autosave``): a folder per machine
named by pytest-benchmark's machine id (``Linux-CPython-3.11-64bit``), and in it
``NNNN_<commit>_<YYYYMMDD_HHMMSS>[_uncommitted-changes][_<label>].json``, numbered in order, the
date in UTC. ``pytest-benchmark --storage <folder> list`` and ``compare 0001 0002`` then tell runs
apart; gdbench's commands find them the same way. Files named ``bench-<date>-<time>.json`` (gdbench
before this layout) are still found. The machine id names OS and Python, not the hardware: which
machine a run came from is in its record (benchmarks/core/machines.py).
"""

from __future__ import annotations

import os
import platform
import re
from datetime import datetime
from pathlib import Path

import platformdirs

from benchmarks.core.files import UsageError
from benchmarks.core.machines import from_info, same_machine, this_machine
from benchmarks.core.results import read_json

RUN_GLOB = "[0-9][0-9][0-9][0-9]_*.json"  # pytest-benchmark's numbered runs
OLD_GLOB = "bench-*.json"  # gdbench's names before the layout
_NEW = re.compile(r"^(\d{4})_([^_]+)_(\d{8}_\d{6})((?:_[^_]+)*)\.json$")
_OLD = re.compile(r"^bench-(\d{8})-(\d{6})(.*)\.json$")

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


def machine_id() -> str:
    """pytest-benchmark's name for this machine's folder: system, Python implementation, version, bits."""
    return "{}-{}-{}-{}".format(
        platform.system(),
        platform.python_implementation(),
        ".".join(platform.python_version_tuple()[:2]),
        platform.architecture()[0],
    )


def run_name(number: int, commit: str, dirty: bool, when: datetime, label: str = "") -> str:
    """A run's file name as pytest-benchmark's autosave makes it, plus gdbench's label ("quick")."""
    parts = [f"{number:04d}", commit or "unversioned", f"{when:%Y%m%d_%H%M%S}"]
    return "_".join(parts + ["uncommitted-changes"] * dirty + [label] * bool(label)) + ".json"


def next_number(folder: Path) -> int:
    """The number of the next run in a machine's folder: one past the highest there (1 when none)."""
    numbers = [int(p.name[:4]) for p in folder.glob(RUN_GLOB) if _NEW.match(p.name)]
    return max(numbers, default=0) + 1


def stamp(path: Path) -> str | None:
    """The date in a run's name, "YYYYMMDD_HHMMSS" (sorts by time); None for another name."""
    if m := _NEW.match(path.name):
        return m.group(3)
    if m := _OLD.match(path.name):
        return f"{m.group(1)}_{m.group(2)}"
    return None


def label(path: Path) -> str:
    """What the name says of the run beyond number, commit and date: "quick", "", or another label."""
    if m := _NEW.match(path.name):
        flags = [f for f in m.group(4).split("_") if f and f != "uncommitted-changes"]
    elif m := _OLD.match(path.name):
        flags = [f for f in m.group(3).split("-") if f and not f.isdigit()]
    else:
        return ""
    return "_".join(flags)


def saved_runs(root: Path) -> list[Path]:
    """Every run saved under ``root`` in either layout, oldest first by the date in its name."""
    found = {p for glob in (RUN_GLOB, OLD_GLOB) for p in root.rglob(glob) if stamp(p)}
    return sorted(found, key=lambda p: (stamp(p), p.name))


def roots() -> list[Path]:
    """Where runs are looked for: $GDBENCH_RESULTS alone if set, else ./results and the per-user folder."""
    return list(dict.fromkeys([results_dir()] if os.environ.get(ENV) else [results_dir(), user_dir()]))


def own_runs() -> Path:
    """Where choose's own measurements of this machine go: never the repository's results/.

    The storage folder (``bench/``) of $GDBENCH_RESULTS if set, else of the per-user data folder.
    """
    return (Path(os.environ[ENV]).expanduser() if os.environ.get(ENV) else user_dir()) / "bench"


def from_here(path: Path) -> bool:
    """Whether a saved run's record says it was made on this machine (never for a run without one)."""
    try:
        info = read_json(path).get("machine_info", {})
    except UsageError:
        return False
    return same_machine(from_info(info), this_machine()) is True


def default_runs() -> list[Path]:
    """The run choose and validate-choose read: the newest full run from this machine, else its
    newest quick run, else the newest full run from anywhere, else the newest quick one."""
    root, why = _chosen()
    found = [p for r in roots() for p in saved_runs(r) if label(p) in ("", "quick")]
    found.sort(key=lambda p: stamp(p) or "", reverse=True)
    if not found:
        raise UsageError(
            f"no saved run ({RUN_GLOB} or {OLD_GLOB}) under {root} ({why}); run `gdbench bench` "
            f"first, pass --runs, or set {ENV} to the folder that holds your runs"
        )
    full = [p for p in found if label(p) == ""]
    quick = [p for p in found if label(p) == "quick"]
    here = next((p for p in full + quick if from_here(p)), None)
    return [here or (full or quick)[0]]


def newest() -> Path:
    """The most recent saved run under the results folder's bench/, where `gdbench bench` saves."""
    root, why = _chosen()
    runs = saved_runs(root / "bench")
    if not runs:
        raise UsageError(
            f"no JSON given and no saved run under {root / 'bench'} (bench/ in {why}); run "
            f"`gdbench bench` first, name a JSON, or set {ENV} to the folder that holds bench/"
        )
    return runs[-1]
