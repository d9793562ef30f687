"""Files and folders: atomic writes, output folders checked before work, and the usage error."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


class UsageError(Exception):
    """Bad command-line input: reported as one line on stderr, exit status 2."""


def out_dir(text: str) -> Path:
    """An argparse type for an output folder: any path but the empty one (it would mean "here")."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty path (use . for this folder)")
    return Path(text)


def check_writable(folder: Path, flag: str = "--out") -> None:
    """UsageError unless ``folder`` is, or can be made, a folder we can write into; creates nothing.

    Checked before any work, so a bad folder costs nothing; the probe is a temporary file in the
    nearest existing ancestor, which also catches read-only file systems, where permissions lie.
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.is_symlink():  # a dangling link: mkdir would fail on it
            raise UsageError(f"{flag} {folder}: {probe} is a broken symbolic link")
        probe = probe.parent
    if not probe.is_dir():
        what = "is a file, not a folder" if probe == folder else f"cannot be made: {probe} is a file"
        raise UsageError(f"{flag} {folder} {what}")
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".gdbench-probe-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        where = "" if probe == folder else f" (its nearest existing folder {probe} is not writable)"
        raise UsageError(f"{flag} {folder} cannot be written{where}: {e.strerror or e}") from None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` completely or not at all (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the mode open() would have
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of atomic_write_bytes (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")
