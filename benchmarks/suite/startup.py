"""The one-time cost a new process pays per backend, measured in fresh processes, cold and warm.

A script that fits once pays more than a fit: importing the framework, compiling or loading the
compiled code, and the first fit's own extra work (first touch, caches). Each measurement is a
fresh Python process (``python -m benchmarks.suite.startup``) that imports ``impls``, makes the
data, then times building the backend and its first fit, then the same fit again (warm, best of
three); the one-time cost is the first result's time less that warm fit.

- **cold**: the compile caches empty (numba's and torch inductor's pointed at a new empty folder);
- **warm**: the caches where a user's second process finds them (their usual places, filled by
  the suite's own first fits).

A backend whose cold process left nothing in the new folder has no compile cache: every process
of it starts cold, so its cold processes count as warm ones too. The processes run one at a time,
before the timed passes and while nothing else is timed; the scheduler's budget counts them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.core.sweep import spec

# Where the frameworks keep compiled code between processes; a cold process gets new empty ones.
CACHE_VARS = ("NUMBA_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR")
# A small fit: what is measured is the one-time cost, not the fit.
JOB: dict[str, Any] = {"n": 1000, "dtype": "float64", "epochs": 10}
TIMEOUT_S = 600.0  # one process; torch-compile's cold compile takes ~40 s on a busy 2-core machine


def child(name: str, options: dict[str, Any], n: int, dtype: str, epochs: int) -> dict[str, Any]:
    """In the fresh process: where the time to the first result goes, in seconds."""
    start = time.perf_counter()
    import impls  # numpy and gdbench's own code: paid by every backend alike

    imported = time.perf_counter()
    x, y = impls.make_linear(w=0.3, b=0.5, size=n, noise=0.01, seed=0)
    cfg = impls.TrainConfig(epochs=epochs, tol=0.0, dtype=dtype)
    t0 = time.perf_counter()
    backend = impls.get_backend(name, **options)  # imports the framework
    t1 = time.perf_counter()
    first = backend.fit(x, y, cfg)  # compiles or loads compiled code
    t2 = time.perf_counter()
    warm = []
    for _ in range(3):
        s = time.perf_counter()
        backend.fit(x, y, cfg)
        warm.append(time.perf_counter() - s)
    return {
        "impls": imported - start,
        "build": t1 - t0,
        "first_fit": t2 - t1,
        "warm_fit": min(warm),
        "first_result": t2 - t0,  # after `import impls`: what a script waits for its first result
        "one_time": t2 - t0 - min(warm),
        "info": {k: v for k, v in first.info.items() if isinstance(v, (int, float, str, bool))},
    }


def run_child(name: str, options: dict[str, Any], env: dict[str, str], job: dict[str, Any]) -> dict[str, Any]:
    """One fresh process's measurement; raises RuntimeError with its last words when it fails."""
    cmd = [sys.executable, "-m", "benchmarks.suite.startup", name, json.dumps(options), json.dumps(job)]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"no first result within {TIMEOUT_S:.0f} s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"exit status {done.returncode}: {tail[:300]}")
    out: dict[str, Any] = json.loads(lines[-1])
    return out


def jobs(names: Sequence[str]) -> list[tuple[str, str, dict[str, Any], int]]:
    """``(label, registered name, options, N)`` of each bench backend (a variant at its smallest N)."""
    out = []
    for label in names:
        s = spec(label)
        out.append((label, s.base or label, dict(s.options), min(s.sizes) if s.sizes else int(JOB["n"])))
    return out


def measure(
    backends: Sequence[tuple[str, str, dict[str, Any], int]],
    rounds: int,
    cold: bool,
    budget_s: float,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Per backend ``(label, name, options, n)``: one-time seconds of fresh processes, cold and warm.

    Rounds go over every backend in turn, so a slow period spreads over many; the first round
    always runs whole, later ones only while ``budget_s`` allows.
    """
    out: dict[str, Any] = {}
    start = time.perf_counter()
    for r in range(rounds):
        if r > 0 and time.perf_counter() - start > budget_s * r / (r + 1):
            break  # the next round would likely end past the budget: each costs about the same
        for label, name, options, n in backends:
            entry = out.setdefault(label, _entry(n))
            if entry.get("error"):
                continue
            try:
                _round(entry, name, options, cold)
            except (RuntimeError, ValueError) as e:
                entry["error"] = str(e)
                log(f"  startup of {label}: FAILED, left out: {e}")
    took = time.perf_counter() - start
    log(f"startup: {len(out)} backends, fresh processes cold and warm, in {took:.0f} s")
    return out


def _entry(n: int) -> dict[str, Any]:
    """An empty record of one backend's fresh processes."""
    return {"job": {**JOB, "n": n}, "cold": [], "warm": [], "first_result": [], "phases": [], "cache": None}


def _round(entry: dict[str, Any], name: str, options: dict[str, Any], cold: bool) -> None:
    """One cold process (in empty caches) and, where it filled one, one warm process."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    cached = entry["cache"] is not False
    if cold:
        with tempfile.TemporaryDirectory(prefix="gdbench-cold-") as tmp:
            env = {**base, **{v: str(Path(tmp) / v.lower()) for v in CACHE_VARS}}
            got = run_child(name, options, env, entry["job"])
            entry["cold"].append(got["one_time"])
            cached = any(p.is_file() for p in Path(tmp).rglob("*"))
            entry["cache"] = cached
    if not cached:  # nothing compiled is kept between processes: every process starts cold
        entry["warm"].append(got["one_time"])
    else:
        got = run_child(name, options, base, entry["job"])
        entry["warm"].append(got["one_time"])
    entry["first_result"].append(got["first_result"])
    entry["phases"].append({k: v for k, v in got.items() if k != "info"} | {"info": got["info"]})


def main(argv: list[str]) -> int:
    """The child's entry point: ``name options-json job-json``; one line of JSON on stdout."""
    name, options, job = argv[0], json.loads(argv[1]), json.loads(argv[2])
    print(json.dumps(child(name, options, int(job["n"]), str(job["dtype"]), int(job["epochs"]))), flush=True)
    # No interpreter teardown (torch's takes ~1 s): the measurement is done and printed.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
