"""The gdbench command run in-process, as the tests drive it."""

from __future__ import annotations

import contextlib
import io

from benchmarks.commands import main


def gdbench(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()
