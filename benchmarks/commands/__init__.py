"""The ``gdbench`` commands: argparse and printing, one module per ``gdbench X``, registered in COMMANDS.

The top layer: nothing in ``benchmarks`` imports a command. Each module defines
``add_arguments(parser)`` and ``main(args) -> int``; the work itself lives below, in ``suite``
(measuring), ``report`` (rendering) and ``core`` (the logic both share).
"""

from __future__ import annotations

import argparse
import ast
import atexit
import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchmarks.commands import _interrupt
from benchmarks.core.files import UsageError, check_writable, out_dir

# name -> module in this package; each module defines add_arguments(parser) and main(args) -> int.
# A module is imported only when its command runs (its summary is read from its source), so
# --help and the light commands do not pay for matplotlib, impls or the report's renderers.
COMMANDS: dict[str, str] = {
    "run": "run",
    "check": "check",
    "list": "listing",
    "bench": "bench",
    "report": "report",
    "compare": "compare",
    "choose": "choose",
    "figures": "figures",
    "reproduce": "reproduce",
    "scaling": "scaling",
    "validate-choose": "validate_choose",
}
# The commands that take --plugin, and see the installed entry points of gdbench.backends.
PLUGIN_COMMANDS = ("run", "check", "list", "bench", "choose")
# The commands whose --out names a file; every other --out is a folder.
FILE_OUT_COMMANDS = ("validate-choose",)


def summary(module: str) -> str:
    """The first line of a command module's docstring, read from its source without importing it."""
    path = Path(__file__).parent.joinpath(*module.split(".")).with_suffix(".py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2, no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: …)" only where the help does not already say it and there is one to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, "", False) or action.default is argparse.SUPPRESS:
            return text
        return super()._get_help_string(action)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every registered sub-command, with ``command``'s module imported and its options."""
    parser = _Parser(prog="gdbench", description="Compare gradient-descent implementations of y = x·w + b.")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        sub = subs.add_parser(
            name, help=summary(module), formatter_class=_Formatter
        )
        if name == command:
            mod = importlib.import_module(f"{__name__}.{module}")
            sub.description = mod.__doc__
            mod.add_arguments(sub)
            if name in PLUGIN_COMMANDS:
                add_plugin_option(sub)
            for action in sub._actions:  # every command's --out refuses "" (Path("") would mean "here")
                if "--out" in action.option_strings:
                    action.type = out_dir
            sub.set_defaults(_main=mod.main)
    return parser


def add_plugin_option(p: argparse.ArgumentParser) -> None:
    """The --plugin option the commands that train or list backends share."""
    p.add_argument(
        "--plugin",
        action="append",
        metavar="SPEC",
        help="your own backend: FILE.py[:NAME] or package.module[:NAME], a loss_and_grad(w, b, x, y) "
        "function or a backend class (repeatable; docs/plugins.md)",
    )


def load_plugins(specs: list[str]) -> None:
    """Register the named plugins and the installed ones, before any work; a bad one is a usage error."""
    from impls import plugins  # numpy only; frameworks load when a backend is built

    try:
        plugins.load_all(specs)
    except plugins.PluginError as e:
        raise UsageError(str(e)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script (argv None: the process ends here); returns the exit status."""
    if argv is not None:
        with _interrupt.handled(), _quiet_libraries():
            return _answered(list(argv))
    with _interrupt.handled(until_exit=True), _quiet_libraries():
        status = _answered(sys.argv[1:])
    _exit_now(status)
    return status  # not reached


@contextlib.contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Hide the warnings a user of the CLI cannot act on, in this one place; -W or PYTHONWARNINGS win.

    Deprecations inside torch, JAX and numba are for those who call them, not for gdbench's user.
    A RuntimeWarning is numeric trouble (overflow on diverging data, a fit that diverged), and
    every command says it in its own words: `run` records each one as a note in its table (its
    own filter), `choose --tol` stops with one error line.
    """
    with warnings.catch_warnings():
        if not sys.warnoptions:
            for kind in (DeprecationWarning, PendingDeprecationWarning, FutureWarning, RuntimeWarning):
                warnings.simplefilter("ignore", kind)
        yield


def _exit_now(status: int) -> None:
    """End the process once the work is done, skipping the interpreter's teardown.

    Tearing down torch, JAX and XLA module by module took 0.5-7 s after the last line of a
    `gdbench run` here, a wait with nothing left to do in which Ctrl-C could not be answered.
    What must run at exit does: the streams are flushed and the atexit functions (worker pools,
    the frameworks' own clean-ups, finalizers) run first.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a reader that left was dealt with by _run
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(status)


def _answered(argv: list[str]) -> int:
    """_run, and a Ctrl-C that came as it was returning: one line and 130 in every case."""
    try:
        return _run(argv)
    except KeyboardInterrupt:
        _interrupt.say()
        return 130


def _run(argv: list[str]) -> int:
    """Parse, run the command, and turn its ways of ending into an exit status and at most one line."""
    try:
        parser = build_parser(next((a for a in argv if not a.startswith("-")), None))  # imports the command
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        if getattr(args, "out", None) is not None:  # every command's output folder, once, before any work
            check_writable(args.out.parent if args.command in FILE_OUT_COMMANDS else args.out)
        if args.command in PLUGIN_COMMANDS:
            load_plugins(args.plugin or [])
        status = int(args._main(args))
        sys.stdout.flush()  # here, not at exit, so a reader that left is noticed below
    except UsageError as e:
        print(f"gdbench: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: what was written stays whole (atomic writes); no traceback
        _interrupt.say()
        return 130
    except BrokenPipeError:  # `gdbench run | head`: the reader left; say nothing more to it
        _silence_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a process killed by it
    if _interrupt.asked():  # also when a library caught the KeyboardInterrupt and the command went on
        _interrupt.say()
        return 130
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's flush at exit does not raise BrokenPipeError again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's StringIO)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
