"""Summarise a ``mutmut run`` over the contract's core into results/mutation/summary.md.

Reads mutmut's own records in mutants/ (``*.py.meta``: exit code per mutant, ``*.py.spans``:
where each mutant's function lies), keeps the functions in SCOPE, and counts a survivor as
equivalent only if results/mutation/equivalent.json explains it *and* its mutated line is still
the one explained (mutant numbers shift when the code changes); an entry of another kind explains
a survivor that still counts against the score. Score = (killed + timeout) / (killed + timeout +
survived + no tests). Exit 1 when it is below --min-score, so ``make mutate`` fails too.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

# Module -> the functions whose mutants count (None: all). From `gdbench run`, its verdict only.
SCOPE: dict[str, set[str] | None] = {
    "impls/trainer.py": None,
    "impls/base.py": None,
    "impls/checks.py": None,
    "impls/numpy_closed.py": None,
    "impls/numpy_moments.py": None,
    "benchmarks/commands/run.py": {"reference"},
    "benchmarks/core/verdict.py": {"judge", "deviation", "verdict"},
    "benchmarks/core/regression.py": None,
}
# mutmut's exit codes (mutmut/stats.py): 1 and 3 kill, 0 survives, 5 and 33 mean no test reached it.
KILLED, SURVIVED, NO_TESTS = {1, 3}, {0}, {5, 33}
TIMEOUT = {36, 24, -24, 152, 255}
# Any other code ("suspicious" to mutmut) is a test process that ended by a signal, not by a failing
# test: mutmut 3.8 records -15 (SIGTERM) for a few dozen mutants whose tests all pass when run
# alone. Counted as survived, so each needs a test or a reason like any survivor.


def function_of(key: str) -> str:
    """'impls.trainer.xǁBackendBaseǁfit__mutmut_3' -> 'BackendBase.fit'."""
    local = key.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    return local.removeprefix("x_").removeprefix("xǁ").replace("ǁ", ".")


def change(mutants: Path, module: str, key: str) -> str:
    """The mutated line, as 'original → mutant', read from mutmut's copy of the module."""
    lines = (mutants / module).read_text().split("\n")
    spans = json.loads((mutants / f"{module}.spans").read_text())["spans"]
    local = key.rsplit(".", 1)[-1]
    orig = local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"

    def body(name: str) -> list[str]:
        a, b = spans[name]
        return lines[a : b + 1]

    diff = [ln for ln in difflib.ndiff(body(orig), body(local)) if "__mutmut_" not in ln]  # def lines
    removed = [ln[2:].strip() for ln in diff if ln.startswith("- ")]
    added = [ln[2:].strip() for ln in diff if ln.startswith("+ ")]
    return f"{' / '.join(removed) or '(nothing)'} → {' / '.join(added) or '(removed)'}"


def collect(mutants: Path) -> dict[str, dict[str, int | None]]:
    """Module -> {mutant key: exit code}, for the mutants in SCOPE."""
    out: dict[str, dict[str, int | None]] = {}
    for module, functions in SCOPE.items():
        meta = mutants / f"{module}.meta"
        if not meta.exists():
            raise SystemExit(f"mutation_summary: {meta} is missing: run `make mutate` first")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        out[module] = {k: v for k, v in codes.items() if functions is None or function_of(k) in functions}
    return out


def render(codes: dict[str, dict[str, int | None]], mutants: Path, equivalent: dict[str, dict[str, str]],
           seconds: float | None) -> tuple[str, float]:
    """The summary as Markdown, and the score."""
    rows, survivors = [], []
    total: Counter[str] = Counter()
    for module, by_key in codes.items():
        c: Counter[str] = Counter()
        for key, code in by_key.items():
            if code in KILLED:
                c["killed"] += 1
            elif code in SURVIVED or (code is not None and code not in TIMEOUT | NO_TESTS):
                line = change(mutants, module, key)
                known = equivalent.get(key)
                if known and known.get("change") == line and known.get("kind") == "equivalent":
                    c["equivalent"] += 1
                    survivors.append((key, line, "equivalent: " + known["why"]))
                elif known and known.get("change") == line:
                    c["survived"] += 1  # explained, but a real difference no test here can see
                    survivors.append((key, line, "survived: " + known["why"]))
                else:
                    c["survived"] += 1
                    survivors.append((key, line, "**not explained: needs a test or a reason**"))
            elif code in TIMEOUT:
                c["timeout"] += 1  # an endless loop is caught: counted as killed below
            elif code in NO_TESTS:
                c["no tests"] += 1
            else:
                c["not run"] += 1
        total.update(c)
        rows.append((module, c))
    rows.append(("**all**", total))

    def score(c: Counter[str]) -> float:
        judged = c["killed"] + c["timeout"] + c["survived"] + c["no tests"]  # not reached: not killed
        return (c["killed"] + c["timeout"]) / judged if judged else float("nan")

    head = "| module | mutants | killed | timeout | equivalent | survived | no tests | not run | score |"
    lines = [
        "# Mutation testing of the contract's core",
        "",
        f"Made by `make mutate` ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
        + (f", {seconds / 60:.1f} min" if seconds else "")
        + "); `tools/mutation_summary.py` wrote this file from mutmut's records in `mutants/`.",
        "Score = (killed + timeout) / (killed + timeout + survived + no tests): a mutant no test reaches "
        "is not killed. Equivalent mutants are left out, each with its reason below; a test process "
        "that ended by a signal rather than a failing test (mutmut's \"suspicious\") counts as survived. "
        "`benchmarks/commands/run.py` counts the verdict only "
        "(`reference`, `judge`, `deviation`, `verdict`).",
        "",
        head,
        "|" + " --- |" * (head.count("|") - 1),
    ]
    for module, c in rows:
        n = sum(c.values())
        lines.append(
            f"| {module} | {n} | {c['killed']} | {c['timeout']} | {c['equivalent']} | {c['survived']} "
            f"| {c['no tests']} | {c['not run']} | {score(c):.1%} |"
        )
    lines += ["", "## Survivors", ""]
    lines += [f"- `{key}`: `{line}` — {why}" for key, line, why in survivors] or ["None."]
    return "\n".join(lines) + "\n", score(total)


def main(argv: list[str] | None = None) -> int:
    """Write the summary; exit 1 when the score is below --min-score."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mutants", type=Path, default=Path("mutants"))
    p.add_argument("--equivalent", type=Path, default=Path("results/mutation/equivalent.json"))
    p.add_argument("--out", type=Path, default=Path("results/mutation/summary.md"))
    p.add_argument("--seconds", type=float, default=None, help="wall time of the mutmut run, to record")
    p.add_argument("--min-score", type=float, default=0.9)
    args = p.parse_args(argv)
    equivalent = json.loads(args.equivalent.read_text()) if args.equivalent.exists() else {}
    text, score = render(collect(args.mutants), args.mutants, equivalent, args.seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"mutation score {score:.1%} (at least {args.min_score:.0%} wanted); wrote {args.out}")
    return 0 if score >= args.min_score else 1


if __name__ == "__main__":
    sys.exit(main())
