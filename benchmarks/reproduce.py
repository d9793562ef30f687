"""Do two runs of the same code on this machine agree? Run `gdbench bench` twice and find out.

    python -m benchmarks.reproduce                 # two quick runs (~2 min on 2 cores)
    python -m benchmarks.reproduce --full          # two full sweeps (~30 min), the reference check
    python -m benchmarks.reproduce --runs A.json B.json   # judge two runs made earlier

Writes both JSON files and the later run's REPORT.md (with its Reproducibility section) under
--out, prints the section, and exits 0 only when the runs agree: every regime recommends the same
backend(s) or declares the same tie, `gdbench compare` flags no case, and the fastest per-pass tₑ ÷
floor at N = 10⁷ agrees within ±15 % for full runs (benchmarks/report/repro.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from .report.data import load
from .report.repro import agreement


def main(argv: list[str] | None = None) -> int:
    """Two benches back to back (or two given runs), then the verdict; 0 when they agree."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.reproduce", description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="two full sweeps instead of two quick ones")
    p.add_argument("--out", type=Path, default=Path("results") / "reproduce", help="directory for both runs")
    p.add_argument("--runs", nargs=2, type=Path, metavar=("EARLIER", "LATER"), help="judge these two runs")
    args, extra = p.parse_known_args(argv)
    if args.runs:
        first, second = args.runs
    else:
        stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
        kind = "full" if args.full else "quick"
        paths = [args.out / f"bench-{stamp}-{kind}-{i}.json" for i in (1, 2)]
        for i, path in enumerate(paths, 1):
            print(f"reproduce: run {i} of 2 -> {path}", flush=True)
            cmd = [sys.executable, "-m", "benchmarks", "bench", "--out", str(args.out), "--name", path.name]
            rc = subprocess.call([*cmd, *([] if args.full else ["--quick"]), *extra])
            if rc != 0:
                print(f"reproduce: run {i} failed with status {rc}", file=sys.stderr)
                return rc
        first, second = paths
    rc = subprocess.call(
        [sys.executable, "-m", "benchmarks", "report", str(second), "--against", str(first), "--force"]
    )
    if rc != 0:
        return rc
    lines, ok = agreement(load([second]), load([first]))
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
