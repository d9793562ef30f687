"""Merge the JSON of several suite processes into one run, as pyperf merges its worker processes.

Within one process every round shares one memory layout, one set of compiled code, one placement
of threads; a second process draws them anew. So `gdbench bench --processes K` runs the sweep in
K processes one after another and pools each case's rounds here: the minimum then comes from the
best of K layouts, and the intervals include the difference between processes. Derived numbers
(t₀, tₑ, quartiles, pytest-benchmark's stats) are recomputed from the pooled rounds; a case that
failed in any process is left out, as it would be from one.
"""

from __future__ import annotations

import copy
from typing import Any

from pytest_benchmark.stats import Stats

from benchmarks.core import stats


def merge(runs: list[dict[str, Any]], offsets: list[float]) -> dict[str, Any]:
    """One pytest-benchmark JSON from several; ``offsets``: each process's start, seconds after the first."""
    out = copy.deepcopy(runs[0])
    failed = [f for r in runs for f in r.get("gdbench", {}).get("failed", [])]
    bad = {f["case"] for f in failed}  # pytest-benchmark's "name" of the case: test_fit[...]
    index = {b["fullname"]: b for b in out["benchmarks"]}
    passes = int(out.get("gdbench", {}).get("protocol", {}).get("passes", 0))
    _tag(out["benchmarks"], 0, 0.0, 0)
    for k, run in enumerate(runs[1:], 1):
        for b in copy.deepcopy(run["benchmarks"]):
            _tag([b], k, offsets[k], passes)
            mine = index.get(b["fullname"])
            if mine is None:
                out["benchmarks"].append(b)
                index[b["fullname"]] = b
            elif b["extra_info"].get("kind") in ("fit", "floor"):
                _pool(mine["extra_info"], b["extra_info"])
        passes += int(run.get("gdbench", {}).get("protocol", {}).get("passes", 0))
    out["benchmarks"] = [b for b in out["benchmarks"] if b["name"] not in bad]
    for b in out["benchmarks"]:
        if b["extra_info"].get("kind") in ("fit", "floor"):
            _derive(b)
    meta = out.setdefault("gdbench", {})
    meta["failed"] = failed
    protos = [r.get("gdbench", {}).get("protocol", {}) for r in runs]
    meta["protocol"] = {
        **protos[0],
        "processes": len(runs),
        "passes": sum(int(p.get("passes", 0)) for p in protos),
        "seconds": sum(float(p.get("seconds", 0.0)) for p in protos),
        "stopped": ", ".join(dict.fromkeys(str(p.get("stopped")) for p in protos)),
        "per_process": protos,
    }
    return out


def _tag(benchmarks: list[dict[str, Any]], k: int, offset: float, passes: int) -> None:
    """Mark every round with its process, and shift its time and pass onto the whole run's."""
    for b in benchmarks:
        for smp in b["extra_info"].get("samples", []):
            smp["process"] = [k] * len(smp["seconds"])
            smp["at"] = [t + offset for t in smp["at"]]
            smp["pass"] = [p + passes for p in smp["pass"]]


def _pool(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Append the other process's rounds to ours, count by count."""
    by_count = {s["epochs"]: s for s in mine.get("samples", [])}
    for smp in theirs.get("samples", []):
        dest = by_count.get(smp["epochs"])
        if dest is None:
            mine["samples"].append(smp)
            continue
        for key in ("seconds", "loop_seconds", "at", "pass", "process"):
            dest[key] = list(dest.get(key, [])) + list(smp.get(key, []))
    if mine.get("kind") == "fit":
        mine["check_err"] = max(mine.get("check_err", 0.0), theirs.get("check_err", 0.0))
        peaks = [p for p in (mine.get("mem_peak_bytes"), theirs.get("mem_peak_bytes")) if p is not None]
        mine["mem_peak_bytes"] = max(peaks) if peaks else None


def _derive(b: dict[str, Any]) -> None:
    """Recompute what the suite derived from the rounds, now from all of them."""
    e = b["extra_info"]
    samples = e.get("samples", [])
    if not samples:
        return
    top = max(samples, key=lambda s: s["epochs"])
    if e["kind"] == "fit":
        cost = stats.fit_cost({s["epochs"]: s["seconds"] for s in samples})
        q1, med, q3 = stats.median_quartiles([t / top["epochs"] for t in top["seconds"]])
        e.update(
            t0_s=cost.t0.as_list(),
            te_s=cost.te.as_list(),
            fit_residual=cost.residual,
            per_epoch_median_s=med,
            per_epoch_q1_s=q1,
            per_epoch_q3_s=q3,
            rounds=len(top["seconds"]),
        )
    else:
        e["floor_s"] = stats.minimum(top["seconds"])[0].as_list()
    s = Stats()
    for t in top["seconds"]:
        s.update(t)
    b["stats"] = {**b.get("stats", {}), **s.as_dict(), "data": list(top["seconds"])}
