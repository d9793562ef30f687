"""The ``gdbench`` command: one sub-command per module, registered in COMMANDS."""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from .common import UsageError

# name -> module in this package; each module defines add_arguments(parser) and main(args) -> int.
# A module is imported only when its command runs (its summary is read from its source), so
# --help and the light commands do not pay for matplotlib, impls or the report's renderers.
COMMANDS: dict[str, str] = {
    "run": "run",
    "check": "check",
    "list": "listing",
    "bench": "bench",
    "report": "report.command",
    "compare": "compare",
    "choose": "choose",
}


def summary(module: str) -> str:
    """The first line of a command module's docstring, read from its source without importing it."""
    path = Path(__file__).parent.joinpath(*module.split(".")).with_suffix(".py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2, no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every registered sub-command, with ``command``'s module imported and its options."""
    parser = _Parser(prog="gdbench", description="Compare gradient-descent implementations of y = x·w + b.")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        sub = subs.add_parser(
            name, help=summary(module), formatter_class=argparse.ArgumentDefaultsHelpFormatter
        )
        if name == command:
            mod = importlib.import_module(f"benchmarks.{module}")
            sub.description = mod.__doc__
            mod.add_arguments(sub)
            sub.set_defaults(_main=mod.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(next((a for a in argv if not a.startswith("-")), None))
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        return int(args._main(args))
    except UsageError as e:
        print(f"gdbench: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
