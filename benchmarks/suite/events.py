"""The suite's progress, for `gdbench bench`'s bar: one JSON object a line on a pipe of its own.

`gdbench bench` passes the write end's file descriptor in ``GDBENCH_PROGRESS_FD``; without it (a
direct pytest run) nothing is sent. A pipe of its own keeps the events apart from pytest's output,
which the bar replaces unless ``--verbose``.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

ENV = "GDBENCH_PROGRESS_FD"


def emit(kind: str, **fields: Any) -> None:
    """Send one event: ``kind`` ("stage", "plan", "tick") and its fields; a reader that left is ignored."""
    fd = os.environ.get(ENV)
    if not fd:
        return
    line = json.dumps({"kind": kind, **fields}) + "\n"
    with contextlib.suppress(OSError, ValueError):  # gdbench bench stopped reading: nothing to tell
        os.write(int(fd), line.encode())
