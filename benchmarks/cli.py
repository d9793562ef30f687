"""The ``gdbench`` command: one sub-command per module, registered in COMMANDS."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .common import UsageError

# name -> module in this package; each module defines add_arguments(parser) and main(args) -> int.
COMMANDS: dict[str, str] = {
    "run": "run",
    "check": "check",
    "list": "listing",
    "bench": "bench",
    "report": "report",
    "compare": "compare",
    "choose": "choose",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2, no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered sub-command."""
    parser = _Parser(prog="gdbench", description="Compare gradient-descent implementations of y = x·w + b.")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        mod = importlib.import_module(f"benchmarks.{module}")
        sub = subs.add_parser(
            name,
            help=(mod.__doc__ or "").strip().splitlines()[0],
            description=mod.__doc__,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        mod.add_arguments(sub)
        sub.set_defaults(_main=mod.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
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
