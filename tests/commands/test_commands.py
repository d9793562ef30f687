"""The command layer: one module per sub-command, imported only when that command runs."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import commands as cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "data" / "bench_v2.json"
HEAVY = ("matplotlib", "plotly", "torch", "jax", "impls", "pytest_benchmark")


def _imported_after(argv: list[str]) -> tuple[int, str, set[str]]:
    """Run gdbench in a fresh process: (exit status, stdout, the heavy modules it imported)."""
    code = (
        "import sys, contextlib, io; from benchmarks.commands import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try: rc = main(sys.argv[1:])\n"
        "    except SystemExit as e: rc = e.code\n"
        f"print(rc, sorted(m for m in {HEAVY!r} if m in sys.modules)); print(out.getvalue())"
    )
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT)
    first, _, rest = done.stdout.partition("\n")
    rc, _, mods = first.partition(" ")
    return int(rc), rest, set(eval(mods))  # a list literal printed by the child


def test_help_lists_every_command_with_its_modules_summary_and_imports_none():
    rc, out, heavy = _imported_after(["--help"])
    assert rc == 0 and heavy == set()
    text = " ".join(out.split())
    for name, module in cli.COMMANDS.items():
        doc = importlib.import_module(f"benchmarks.commands.{module}").__doc__ or ""
        assert f"{name} {' '.join(doc.strip().splitlines()[0].split())}" in text


def test_compare_imports_no_framework_and_no_plotting():
    rc, out, heavy = _imported_after(["compare", str(FIXTURE), str(FIXTURE)])
    assert rc == 0 and heavy == set(), out


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_each_command_builds_its_own_options(name):
    sub = cli.build_parser(name)._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
    assert sub.description and any(a.dest == "help" for a in sub._actions)
    assert "_main" in sub._defaults
