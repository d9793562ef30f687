"""Finding the processes a test started, by a tag in their environment (children inherit it)."""

from __future__ import annotations

import os
from pathlib import Path


def tagged(tag: str) -> list[int]:
    """Pids of the processes whose environment carries ``tag``: a command and all it started."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if tag.encode() in (entry / "environ").read_bytes():
                    pids.append(int(entry.name))
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return pids
