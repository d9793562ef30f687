"""Saved runs of `gdbench bench` as plain records, for `gdbench report`; no timing happens here.

The JSON is pytest-benchmark's: ``benchmarks[*]`` with ``stats`` (seconds per call) and the suite's
``extra_info`` (kind "fit", "floor" or "trace"), ``machine_info`` (with a "gdbench" part: threads,
versions, GPU) and a top-level "gdbench" section (sweep, backend availability, failed cases, wall time).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import UsageError


@dataclass(frozen=True)
class Fit:
    """One backend at one (device, dtype, N, mode): seconds per epoch and what surrounds them."""

    backend: str
    kind: str  # "per-pass" or "algorithmic"
    device: str
    dtype: str
    n: int
    mode: str
    epochs: int
    rounds: int
    per_epoch: float  # median over rounds of the fit's own clock / epochs
    q1: float
    q3: float
    fit_median: float  # pytest-benchmark's median of the whole call
    prepare_s: float
    first_call_s: float
    mem_bytes: int | None
    mem_method: str | None
    check_err: float
    info: dict[str, Any] = field(default_factory=dict)
    allreduce: float | None = None  # median all-reduce seconds per epoch (data-parallel backends)

    @property
    def startup(self) -> float:
        """Seconds from nothing to the first result: prepare plus the first (compiling) call."""
        return self.prepare_s + self.first_call_s


@dataclass(frozen=True)
class Floor:
    """One read of x and y at (device, dtype, N): seconds per read."""

    device: str
    dtype: str
    n: int
    seconds: float  # the fastest round: a bar for what the machine can do, which noise only raises
    q1: float
    q3: float
    data_bytes: int
    method: str


@dataclass(frozen=True)
class Trace:
    """Seconds of each epoch of one fit with history, for one backend."""

    backend: str
    device: str
    n: int
    epoch_s: list[float]


@dataclass
class Run:
    """One or more saved runs merged; a later file's case replaces an earlier one's."""

    sources: list[Path]
    machines: list[dict[str, Any]]
    metas: list[dict[str, Any]]
    fits: list[Fit]
    floors: list[Floor]
    traces: list[Trace]
    unavailable: dict[str, str]
    failed: list[dict[str, str]]

    def floor(self, device: str, dtype: str, n: int) -> Floor | None:
        """The memory floor measured for (device, dtype, N), if any."""
        return next((f for f in self.floors if (f.device, f.dtype, f.n) == (device, dtype, n)), None)

    def select(self, **where: Any) -> list[Fit]:
        """Fits whose fields equal ``where``."""
        return [f for f in self.fits if all(getattr(f, k) == v for k, v in where.items())]

    def values(self, name: str) -> list[Any]:
        """Distinct values of a Fit field, in sorted order."""
        return sorted({getattr(f, name) for f in self.fits})

    def backends(self) -> list[str]:
        """Backends with results, in the order the suite ran them."""
        return list(dict.fromkeys(f.backend for f in self.fits))


def read_json(path: Path) -> dict[str, Any]:
    """A pytest-benchmark JSON file as a dict; UsageError when missing or not one."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path} is not readable JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise UsageError(f"{path} is not a pytest-benchmark JSON file (no 'benchmarks' list)")
    return data


def load(paths: list[Path]) -> Run:
    """Merge saved runs into one Run; UsageError when a file is not a gdbench run."""
    run = Run([], [], [], [], [], [], {}, [])
    fits: dict[tuple[str, str, str, int, str], Fit] = {}
    floors: dict[tuple[str, str, int], Floor] = {}
    traces: dict[tuple[str, str], Trace] = {}
    for path in paths:
        data = read_json(path)
        meta = data.get("gdbench")
        if not isinstance(meta, dict):
            raise UsageError(f"{path} was not written by `gdbench bench` (no 'gdbench' section)")
        run.sources.append(Path(path))
        run.machines.append(data.get("machine_info", {}))
        run.metas.append({**meta, "datetime": data.get("datetime", "")})
        for name, b in meta.get("backend_info", {}).items():
            if not b.get("available", True):
                run.unavailable[name] = str(b.get("reason") or "unavailable")
        run.failed.extend(meta.get("failed", []))
        for bench in data["benchmarks"]:
            try:
                _add(bench, fits, floors, traces)
            except (KeyError, TypeError, ValueError) as e:
                raise UsageError(f"{path}: malformed case {bench.get('name', '?')!r}: {e}") from None
    run.fits, run.floors, run.traces = list(fits.values()), list(floors.values()), list(traces.values())
    if not run.fits:
        raise UsageError(f"no timed fits in {', '.join(map(str, paths))}")
    return run


def _add(
    bench: dict[str, Any], fits: dict[Any, Fit], floors: dict[Any, Floor], traces: dict[Any, Trace]
) -> None:
    e, s = bench["extra_info"], bench["stats"]
    kind = e.get("kind")
    if kind == "fit":
        f = Fit(
            backend=e["backend"],
            kind=e.get("backend_kind", "per-pass"),
            device=e["device"],
            dtype=e["dtype"],
            n=int(e["n"]),
            mode=e["mode"],
            epochs=int(e["epochs"]),
            rounds=int(e["rounds"]),
            per_epoch=float(e["per_epoch_median_s"]),
            q1=float(e["per_epoch_q1_s"]),
            q3=float(e["per_epoch_q3_s"]),
            fit_median=float(s["median"]),
            prepare_s=float(e.get("prepare_s", 0.0)),
            first_call_s=float(e["first_call_s"]),
            mem_bytes=e.get("mem_peak_bytes"),
            mem_method=e.get("mem_method"),
            check_err=float(e.get("check_err", math.nan)),
            info=dict(e.get("fit_info", {})),
            allreduce=e.get("allreduce_per_epoch_median_s"),
        )
        fits[(f.backend, f.device, f.dtype, f.n, f.mode)] = f
    elif kind == "floor":
        fl = Floor(
            e["device"],
            e["dtype"],
            int(e["n"]),
            float(s["min"]),
            float(s["q1"]),
            float(s["q3"]),
            int(e["data_bytes"]),
            str(e.get("method", "")),
        )
        floors[(fl.device, fl.dtype, fl.n)] = fl
    elif kind == "trace":
        t = Trace(e["backend"], e["device"], int(e["n"]), [float(v) for v in e["epoch_s"]])
        traces[(t.backend, t.device)] = t
