"""Saved runs the tests read: the fixture, and copies of it made slower."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURE = DATA / "bench_v2.json"  # a trimmed quick run of the current protocol (schema 2): N = 10², 10⁴
RESULTS = Path(__file__).resolve().parents[2] / "results"  # the committed results: report, figures, scaling
REFERENCE = (  # the full sweep, stored as pytest-benchmark stores runs
    Path(__file__).resolve().parents[2] / "results" / "reference" / "Linux-CPython-3.11-64bit"
    / "0002_9fbf39e262856418bf893f55be17840df674b165_20261130_233123.json"
)


def scaled(tmp_path: Path, factor: float, only: str | None = None) -> Path:
    """A copy of the fixture with every round (or only case ``only``'s) ``factor`` times slower."""
    data = json.loads(FIXTURE.read_text())
    for b in data["benchmarks"]:
        if only is not None and b["name"] != only:
            continue
        for smp in b["extra_info"].get("samples", []):
            smp["seconds"] = [s * factor for s in smp["seconds"]]
    path = tmp_path / f"x{factor}.json"
    path.write_text(json.dumps(data))
    return path
