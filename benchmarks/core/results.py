"""Saved runs of `gdbench bench` as plain records, for `gdbench report` and `compare`; no timing here.

The JSON is pytest-benchmark's: ``benchmarks[*]`` with ``stats`` (seconds per call) and the suite's
``extra_info`` (kind "fit", "floor" or "trace"), ``machine_info`` (with a "gdbench" part: threads,
versions, GPU) and a top-level "gdbench" section (sweep, backend availability, failed cases, wall time).

Schema 2 (the measurement protocol of benchmarks/suite/protocol.py) keeps every round of every
epoch count under ``extra_info["samples"]``; t0, te and their intervals are recomputed from them
here (benchmarks/core/stats.py), so a report never depends on numbers it cannot check. Schema 1
files (one epoch count, no t0 or te) are refused here, the one place that reads runs, with a
one-line error: nothing downstream knows they existed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.core import stats
from benchmarks.core.files import UsageError
from benchmarks.core.machines import Machine, from_info


@dataclass(frozen=True)
class Fit:
    """One backend at one (device, dtype, N, d, mode): its cost model and what surrounds it."""

    backend: str
    kind: str  # "per-pass" or "algorithmic"
    device: str
    dtype: str
    n: int
    mode: str
    epochs: int  # the largest epoch count timed
    rounds: int  # rounds at that count
    per_epoch: float  # what ranks: tₑ's estimate (cost.te.value)
    q1: float  # quartiles of a whole fit at the largest count ÷ its epochs, across rounds
    q3: float
    fit_median: float  # pytest-benchmark's median of the whole call at the largest count
    prepare_s: float
    first_call_s: float
    mem_bytes: int | None
    mem_method: str | None
    check_err: float
    cost: stats.Cost  # t0, te with their intervals, from the rounds
    info: dict[str, Any] = field(default_factory=dict)
    allreduce: float | None = None  # median all-reduce seconds per epoch (data-parallel backends)
    samples: dict[int, list[float]] = field(default_factory=dict)  # epoch count -> seconds per round
    d: int = 1  # features; runs saved before d was swept have d = 1 only

    @property
    def key(self) -> tuple[str, str, str, int, int, str]:
        """What identifies the case: two fits with the same key measured the same thing."""
        return (self.backend, self.device, self.dtype, self.n, self.d, self.mode)

    @property
    def startup(self) -> float:
        """Seconds from nothing to the first result: prepare plus the first (compiling) call."""
        return self.prepare_s + self.first_call_s

    @property
    def one_time(self) -> float:
        """Seconds of the first result beyond a warm fit of the same epochs: compilation, first touch.

        Never negative: a first result timed quicker than the warm line predicts paid nothing extra.
        """
        return max(0.0, self.startup - self.predict(self.epochs).value)

    @property
    def te(self) -> stats.Interval:
        """Marginal cost per epoch with its interval."""
        return self.cost.te

    @property
    def t0(self) -> stats.Interval:
        """Fixed cost per fit with its interval."""
        return self.cost.t0

    @property
    def resolved(self) -> bool:
        """Whether the rounds told tₑ from zero (``stats.Interval.resolved``)."""
        return self.te.resolved

    def predict(self, epochs: float) -> stats.Interval:
        """Time of one compiled, warm fit of ``epochs`` epochs: t0 + epochs·te."""
        return self.cost.predict(epochs)

    def boot_te(self) -> np.ndarray:
        """Bootstrap replicates of te."""
        return self.cost.boot_te


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
    method: str  # the kernel that read fastest
    boot: np.ndarray  # bootstrap replicates of the minimum
    kernels: dict[str, float] = field(default_factory=dict)  # each kernel's fastest read, seconds

    @property
    def bandwidth(self) -> float:
        """Bytes per second of the fastest read."""
        return self.data_bytes / self.seconds


@dataclass(frozen=True)
class Trace:
    """Seconds of each epoch of one fit with history, for one backend."""

    backend: str
    device: str
    n: int
    epoch_s: list[float]


@dataclass(frozen=True)
class Startup:
    """The one-time cost a new process pays for one backend, cold and warm (benchmarks/suite/startup.py).

    Seconds from ``import impls`` done to the first fit's result, less the same fit run again warm:
    importing the framework, compiling or loading compiled code, the first fit's extra work. Cold:
    the compile caches empty; warm: filled by an earlier process. Each is the minimum over fresh
    processes with its bootstrap interval (``stats.minimum``; one process gives a point, no spread);
    None where it was not measured.
    """

    backend: str
    cold: stats.Interval | None
    warm: stats.Interval | None
    first: stats.Interval | None = None  # warm: seconds from `import impls` done to the first result
    cold_s: tuple[float, ...] = ()  # one value per fresh process
    warm_s: tuple[float, ...] = ()
    job: dict[str, Any] = field(default_factory=dict)  # n, dtype, epochs of the first fit
    phases: dict[str, float] = field(default_factory=dict)  # warm, median seconds: build, first_fit...
    cache: bool | None = None  # whether the backend keeps compiled code between processes
    error: str | None = None  # why a process failed (its numbers are then partial or absent)


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
    startup: dict[str, Startup] = field(default_factory=dict)  # backend -> its fresh-process cost

    def floor(self, device: str, dtype: str, n: int) -> Floor | None:
        """The memory floor measured for (device, dtype, N), if any."""
        return next((f for f in self.floors if (f.device, f.dtype, f.n) == (device, dtype, n)), None)

    def select(self, d: int | None = 1, **where: Any) -> list[Fit]:
        """Fits whose fields equal ``where``, at ``d`` features (None: any d).

        d = 1 unless asked: the per-regime tables and figures compare backends at one feature,
        and a case at d = 100 is another regime, never a point of the same curve.
        """
        fits = self.fits if d is None else [f for f in self.fits if f.d == d]
        return [f for f in fits if all(getattr(f, k) == v for k, v in where.items())]

    def values(self, name: str, d: int | None = 1) -> list[Any]:
        """Distinct values of a Fit field among the fits at ``d`` features (None: any d), sorted."""
        return sorted({getattr(f, name) for f in self.select(d)})

    def backends(self) -> list[str]:
        """Backends with results, in the order the suite ran them."""
        return list(dict.fromkeys(f.backend for f in self.fits))

    @property
    def machine(self) -> Machine:
        """The machine of the first run merged (benchmarks/core/machines.py)."""
        return from_info(self.machines[0] if self.machines else {})

    @property
    def commit(self) -> dict[str, Any]:
        """pytest-benchmark's commit_info of the first run merged: id, dirty, time, branch."""
        return dict(self.metas[0].get("commit") or {}) if self.metas else {}

    def plugins(self) -> dict[str, str]:
        """Plugin backends of these runs (the user's own, not gdbench's) -> where each came from."""
        return {
            name: str(b["plugin"])
            for meta in self.metas
            for name, b in meta.get("backend_info", {}).items()
            if isinstance(b, dict) and b.get("plugin")
        }


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
    fits: dict[tuple[str, str, str, int, int, str], Fit] = {}
    floors: dict[tuple[str, str, int], Floor] = {}
    traces: dict[tuple[str, str], Trace] = {}
    for path in paths:
        data = read_json(path)
        meta = data.get("gdbench")
        if not isinstance(meta, dict):
            raise UsageError(f"{path} was not written by `gdbench bench` (no 'gdbench' section)")
        schema = meta.get("schema", 1)  # the first files had no number
        if schema == 1:
            raise UsageError(
                f"{path}: a schema-1 run (gdbench before the measurement protocol: one epoch count, "
                "no t₀ or tₑ); make a new one with gdbench bench"
            )
        run.sources.append(Path(path))
        run.machines.append(data.get("machine_info", {}))
        commit = data.get("commit_info", {})
        run.metas.append({**meta, "datetime": data.get("datetime", ""), "commit": commit})
        for name, b in meta.get("backend_info", {}).items():
            if not b.get("available", True):
                run.unavailable[name] = str(b.get("reason") or "unavailable")
        run.failed.extend(meta.get("failed", []))
        try:
            run.startup.update(startups(meta.get("startup", {})))  # absent in runs before it existed
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise UsageError(f"{path}: malformed 'startup' section: {e}") from None
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
        samples = {int(smp["epochs"]): [float(v) for v in smp["seconds"]] for smp in e["samples"]}
        cost = stats.fit_cost(samples)
        f = Fit(
            backend=e["backend"],
            kind=e.get("backend_kind", "per-pass"),
            device=e["device"],
            dtype=e["dtype"],
            n=int(e["n"]),
            mode=e["mode"],
            epochs=int(e["epochs"]),
            rounds=int(e["rounds"]),
            per_epoch=cost.te.value,
            q1=float(e["per_epoch_q1_s"]),
            q3=float(e["per_epoch_q3_s"]),
            fit_median=float(s["median"]),
            prepare_s=float(e.get("prepare_s", 0.0)),
            first_call_s=float(e["first_call_s"]),
            mem_bytes=e.get("mem_peak_bytes"),
            mem_method=e.get("mem_method"),
            check_err=float(e.get("check_err", math.nan)),
            cost=cost,
            info=dict(e.get("fit_info", {})),
            allreduce=e.get("allreduce_per_epoch_median_s"),
            samples=samples,
            d=int(e.get("d", 1)),
        )
        fits[f.key] = f
    elif kind == "floor":
        rounds = [float(v) for smp in e["samples"] for v in smp["seconds"]]
        best, boot = stats.minimum(rounds)  # the fastest kernel's fastest read
        by: dict[str, list[float]] = {}
        for smp in e["samples"]:  # runs before several kernels had one, unnamed: the method
            by.setdefault(str(smp.get("kernel", e.get("method", ""))), []).extend(map(float, smp["seconds"]))
        kernels = {k: min(v) for k, v in by.items() if v}
        q1, _, q3 = stats.median_quartiles(min(by.values(), key=lambda v: min(v, default=math.inf)))
        fl = Floor(
            e["device"],
            e["dtype"],
            int(e["n"]),
            best.value,
            q1,
            q3,
            int(e["data_bytes"]),
            str(e.get("method", "")),
            boot,
            kernels,
        )
        floors[(fl.device, fl.dtype, fl.n)] = fl
    elif kind == "trace":
        t = Trace(e["backend"], e["device"], int(e["n"]), [float(v) for v in e["epoch_s"]])
        traces[(t.backend, t.device)] = t



def startups(section: dict[str, Any]) -> dict[str, Startup]:
    """The "startup" section of a run's "gdbench" part as Startup records."""
    out = {}
    for name, e in section.items():
        cold, warm, first = (tuple(float(v) for v in e.get(k, [])) for k in ("cold", "warm", "first_result"))
        phases = [p for p in e.get("phases", []) if isinstance(p, dict)]
        keys = {k for p in phases for k, v in p.items() if isinstance(v, (int, float))}
        out[name] = Startup(
            name,
            stats.minimum(cold)[0] if cold else None,
            stats.minimum(warm)[0] if warm else None,
            stats.minimum(first)[0] if first else None,
            cold,
            warm,
            dict(e.get("job", {})),
            {k: float(np.median([p[k] for p in phases if k in p])) for k in sorted(keys)},
            e.get("cache"),
            e.get("error"),
        )
    return out
