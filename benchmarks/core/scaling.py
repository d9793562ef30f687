"""Beyond one machine, the model: t(N, P) fitted to what benchmarks/suite/scaling.py measured.

Measured here with torch-ddp (gloo over 127.0.0.1):
  a₂   median time of one all_reduce of the packed sums (d + 2 = 3 float64) between 2 ranks;
  o, c compute per epoch of a 1-rank fit (loop time minus time inside all_reduce) = o + c·N;
  and whole epochs at P = 1, 2 ranks for several N, split into compute and all-reduce.
Every rank runs one thread: this box is shared, and a rank whose OpenMP threads wait for a busy
core measures the neighbours, not the method. A "node" below is one such core.
Modelled, for P nodes:
  t(N, P) = o + c·N/P + a(P),   a(P) = (P − 1)·a₂.
gloo's CPU all-reduce is a ring: a reduce-scatter and an all-gather of P − 1 steps each, so
2(P − 1) latencies, and a₂ is two of them. The message is 24 bytes, so the bandwidth term is
left out (the sweep over message sizes shows how small it is). A tree all-reduce would cost
log₂(P)·a₂ instead; it is given beside the ring. Below n* = a(P)/c samples per node an epoch
spends longer in the all-reduce than in arithmetic over its shard.

"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = 1
ELEMENTS = (3, 1024, 65536)  # the packed sums for d = 1, then larger messages for the bandwidth term
MODEL_N = (10**4, 10**5, 10**6, 10**7, 10**8, 10**9)
MODEL_P = tuple(2**k for k in range(11))


@dataclass(frozen=True)
class Model:
    """t(N, P) = o + c·N/P + a(P) from measured a₂ (2-rank all-reduce), o and c (1-rank compute)."""

    a2: float  # seconds per all-reduce of the packed sums, 2 ranks
    o: float  # seconds per epoch that do not scale with N (Python loop, dispatch)
    c: float  # seconds per sample per epoch, one node

    def allreduce(self, p: float, algo: str = "ring") -> float:
        """Modelled seconds of one all-reduce across p nodes: ring (p−1)·a₂ or tree log₂(p)·a₂."""
        return (p - 1) * self.a2 if algo == "ring" else math.log2(p) * self.a2

    def epoch(self, n: float, p: float, algo: str = "ring") -> float:
        """Modelled seconds per epoch with n samples spread over p nodes."""
        return self.o + self.c * n / p + self.allreduce(p, algo)

    def crossover(self, p: float, algo: str = "ring") -> float:
        """Samples per node below which the all-reduce takes longer than the arithmetic."""
        return self.allreduce(p, algo) / self.c


def model(data: dict[str, Any]) -> Model:
    """Fit the model to measured data: a₂ of the packed sums, o at the smallest N, c at the largest."""
    a2 = min(r["median_s"] for r in data["allreduce"] if r["world"] == 2 and r["elements"] == ELEMENTS[0])
    one = sorted((e for e in data["epochs"] if e["world"] == 1), key=lambda e: e["n"])
    o = one[0]["compute_s"]  # c·N is ~1 µs there: what is left is the per-epoch overhead
    c = (one[-1]["compute_s"] - o) / (one[-1]["n"] - one[0]["n"])
    return Model(a2=a2, o=o, c=c)



def read(path: Path) -> dict[str, Any]:
    """Saved measurements; ValueError if the file is not this module's JSON."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a scaling.json of schema {SCHEMA}")
    return data
