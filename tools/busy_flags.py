"""How many cases `gdbench compare` flags between runs of identical code when a run is busy, by rule.

    .venv/bin/python tools/busy_flags.py [RUN.json ...]    # default: the committed reference pair

Synthetic rounds, no timing: for each case, both runs' rounds are drawn (with replacement) from the
rounds the given runs measured for it, so the code is identical by construction. The later run is
then disturbed as a busy machine disturbs it: a share of its rounds (all of them: busy throughout;
a third: a busy spell) stretched by a factor. Each rule counts the cases it would call slower, and
how many real ×1.5 slowdowns it still catches on the same busy run. Seeded: the same table each time.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from benchmarks.core import regression
from benchmarks.core.results import Fit, load

REF = Path("results/reference/Linux-CPython-3.11-64bit")
RULES = {
    "×1.25, p < 0.01 (the rule)": (1.25, 0.01),
    "×1.5, p < 0.001": (1.5, 0.001),
    "×2, p < 0.001": (2.0, 0.001),
}
LOADS = [(0.0, 1.0), (1 / 3, 1.5), (1.0, 1.1), (1.0, 1.3), (1.0, 1.5), (1.0, 2.0)]  # (share, stretch)


def draw(f: Fit, rng: np.random.Generator, share: float, stretch: float, real: float = 1.0) -> Fit:
    """A run of the case: rounds drawn from its own, a share of them stretched, all times ``real``."""
    out = {}
    for e, rounds in f.samples.items():
        x = rng.choice(rounds, size=len(rounds)) * real
        hit = rng.random(len(x)) < share
        out[e] = list(np.where(hit, x * stretch, x))
    return dataclasses.replace(f, samples=out)


def main(paths: list[Path]) -> None:
    """Print flags per rule and load, false (identical code) and true (a ×1.5 slowdown)."""
    fits = [f for f in load(paths).fits if f.samples]
    rng = np.random.default_rng(1)
    print(f"{len(fits)} cases from {', '.join(p.name for p in paths)}")
    print("busy share, stretch | " + " | ".join(f"{r}: false / caught ×1.5" for r in RULES))
    for share, stretch in LOADS:
        cells = []
        for threshold, alpha in RULES.values():
            false = caught = 0
            for f in fits:
                old = draw(f, rng, 0.0, 1.0)
                false += regression.judge(old, draw(f, rng, share, stretch), threshold, alpha).slower
                caught += regression.judge(old, draw(f, rng, share, stretch, 1.5), threshold, alpha).slower
            cells.append(f"{false} / {caught}")
        print(f"{share:.2f}, ×{stretch:g} | " + " | ".join(cells))


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or sorted(REF.glob("*.json")))
