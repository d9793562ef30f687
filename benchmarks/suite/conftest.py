"""pytest plumbing of the suite: threads, options, the grid of cases, and what goes into the JSON."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from dataclasses import asdict, replace
from functools import cache
from typing import Any

from benchmarks.core.sweep import default_threads, thread_env, usable_cpus

ZERO = time.perf_counter()  # the session's clock: the scheduler's budget counts from here

# Thread pools are sized when numpy, torch and jax load, so this must run before they are imported.
# `gdbench bench` already sets these in pytest's environment; this covers a direct pytest run.
THREADS = int(os.environ.get("GDBENCH_THREADS") or default_threads())
for _var, _value in thread_env(THREADS, {}).items():
    os.environ.setdefault(_var, _value)
if hasattr(os, "sched_setaffinity") and len(usable_cpus()) > THREADS:
    os.sched_setaffinity(0, usable_cpus()[:THREADS])  # caps XLA too, which has no N-thread flag

import pytest  # noqa: E402

import impls  # noqa: E402
from benchmarks.core import sweep  # noqa: E402
from benchmarks.core.machines import this_machine  # noqa: E402
from benchmarks.suite import events, floor, protocol, startup  # noqa: E402
from benchmarks.suite.harness import FitCase, built, data  # noqa: E402
from benchmarks.suite.machine import versions  # noqa: E402
from benchmarks.suite.runners import CaseRunner  # noqa: E402
from impls import plugins  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Load the plugins `gdbench bench` loaded (impls.plugins.ENV) before the grid is built."""
    try:
        plugins.load_env()
    except plugins.PluginError as e:
        raise pytest.UsageError(f"gdbench: {e}") from None


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's selection options, set by `gdbench bench`."""
    g = parser.getgroup("gdbench")
    g.addoption("--gd-quick", action="store_true", help="a small subset, under a minute")
    g.addoption("--gd-backends", default="", help="comma-separated backends (default: every registered one)")
    g.addoption("--gd-sizes", default="", help="comma-separated sizes N")
    g.addoption("--gd-features", default="", help="comma-separated feature counts d")
    g.addoption("--gd-dtypes", default="", help="comma-separated dtypes")
    g.addoption("--gd-modes", default="", help="comma-separated modes: nohist, history")
    g.addoption(
        "--gd-devices", default="", help="comma-separated devices (default: cpu, and cuda when present)"
    )
    g.addoption("--gd-budget", default="", help="seconds the measurement aims to end within")
    g.addoption(
        "--gd-startup",
        default="",
        help="fresh processes per backend for the one-time cost (default: the policy's; 0: none)",
    )


def _csv(config: pytest.Config, name: str) -> list[str]:
    return [v.strip() for v in str(config.getoption(name)).split(",") if v.strip()]


@cache
def grid(config: pytest.Config) -> dict[str, Any]:
    """The selected backends, (N, d) shapes, dtypes, devices and modes, in the order they run."""
    quick = bool(config.getoption("gd_quick"))
    backends = sweep.expand(_csv(config, "gd_backends") or impls.backend_names())
    asked = [sweep.parse_size(s) for s in _csv(config, "gd_sizes")]
    shapes = sweep.grid_shapes(asked, [int(d) for d in _csv(config, "gd_features")], quick)
    picked = _csv(config, "gd_dtypes") or list(sweep.QUICK_DTYPES if quick else sweep.DTYPES)
    chosen = _csv(config, "gd_modes") or list(sweep.MODES)
    devices = _csv(config, "gd_devices")
    if not devices:
        seen = {d for name in backends if built(name)[0] is not None for d in built(name)[0].devices()}
        devices = ["cpu"] + (["cuda"] if "cuda" in seen else [])
    return {
        "quick": quick,
        "budget": float(config.getoption("gd_budget") or sweep.policy(quick).budget_s),
        "backends": backends,
        "sizes": sorted({n for n, _ in shapes}),
        "features": sorted({d for _, d in shapes}),
        "shapes": [list(s) for s in shapes],
        "dtypes": picked,
        "wide_dtypes": _csv(config, "gd_dtypes") or [t for t in picked if t in sweep.WIDE_DTYPES],
        "devices": devices,
        "modes": chosen,
        "wide_modes": _csv(config, "gd_modes") or list(sweep.WIDE_MODES),
        "startup_rounds": int(config.getoption("gd_startup") or sweep.policy(quick).startup_rounds),
    }


def modes(g: dict[str, Any], d: int) -> list[str]:
    """The modes that run at d features: the selected ones at d = 1 or when asked for, else WIDE_MODES."""
    return g["modes"] if d == 1 else g["wide_modes"]


def dtypes(g: dict[str, Any], d: int) -> list[str]:
    """The dtypes that run at d features: the selected ones at d = 1 or when asked for, else WIDE_DTYPES."""
    return g["dtypes"] if d == 1 else g["wide_dtypes"]


def _shape_id(n: int, d: int) -> str:
    return f"N{sweep.size_label(n)}" + (f"-d{d}" if d > 1 else "")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise the three kinds of case over the grid; ids read like the groups."""
    g = grid(metafunc.config)
    label = sweep.size_label
    kind = metafunc.function.__name__
    if kind == "test_floor":  # at d = 1 only: one read of x and y is the bar for the d = 1 epochs
        rows = [(v, t, n) for v in g["devices"] for n, d in g["shapes"] if d == 1 for t in g["dtypes"]]
        ids = [f"{v}-{t}-N{label(n)}" for v, t, n in rows]
        metafunc.parametrize(("device", "dtype", "n"), rows, ids=ids)
    elif kind == "test_fit":
        rows2 = [
            (v, t, n, d, m, b)
            for v in g["devices"]
            for n, d in g["shapes"]
            for t in dtypes(g, d)
            for m in modes(g, d)
            for b in g["backends"]
            if sweep.spec(b).runs_at(n, d)
        ]
        ids = [f"{v}-{t}-{_shape_id(n, d)}-{m}-{b}" for v, t, n, d, m, b in rows2]
        metafunc.parametrize(("device", "dtype", "n", "d", "mode", "backend_name"), rows2, ids=ids)
    elif kind == "test_trace":
        rows3 = [(d, b) for d in g["devices"] for b in g["backends"] if sweep.spec(b).trace]
        metafunc.parametrize(("device", "backend_name"), rows3, ids=[f"{d}-{b}" for d, b in rows3])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run each (device, N, dtype)'s floor right before its fits, so both see the same machine state."""

    def key(pair: tuple[int, pytest.Item]) -> tuple[Any, ...]:
        index, item = pair
        params = getattr(item, "callspec", None)
        p = params.params if params is not None else {}
        if not isinstance(p.get("n"), int):  # the traces (and an empty parametrisation), after the rest
            return (1, "", 0, 0, "", 0, index)
        floor_first = 0 if item.name.startswith("test_floor") else 1
        return (0, p["device"], p["n"], p.get("d", 1), p["dtype"], floor_first, index)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


@pytest.fixture(scope="session")
def session_grid(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The grid this session runs (quick or full, sizes, dtypes...)."""
    return grid(request.config)


def _selected(g: dict[str, Any]) -> list[str]:
    """Backends with at least one case in the grid (a data-parallel variant needs one of its sizes)."""
    return [b for b in g["backends"] if any(sweep.spec(b).runs_at(n, d) for n, d in g["shapes"])]


@pytest.fixture(scope="session", autouse=True)
def frameworks_ready(request: pytest.FixtureRequest) -> None:
    """Import and exercise every selected framework once, so no case pays process start-up."""
    g = grid(request.config)
    events.emit("stage", name="loading and warming up the frameworks")
    torch = sys.modules.get("torch")
    if torch is not None:  # it reads OMP_NUM_THREADS too; saying it outright leaves no doubt
        torch.set_num_threads(THREADS)
    # A size no case uses: the process starts up here, yet every case's first call still pays
    # for compiling its own shape, as it would in a fresh program. Backends without a case in the
    # grid (data-parallel variants outside their sizes) are not started at all.
    x, y = data(16)
    for name in _selected(g):
        backend = built(name)[0]
        for device in g["devices"]:
            if backend is None or device not in backend.devices():
                continue
            for dtype in g["dtypes"]:
                cfg = impls.TrainConfig(epochs=2, tol=0.0, dtype=dtype, device=device)
                with contextlib.suppress(Exception):  # the case itself fails and says why
                    backend.fit(x, y, cfg)
    # Each round starts after a full collection (untimed). With the frameworks' ~500k objects
    # frozen out of the collector's view, that costs milliseconds instead of a second.
    gc.collect()
    gc.freeze()


_OUTCOME: dict[str, Any] = {}


def _log(config: pytest.Config) -> Any:
    """Print a progress line past pytest's output capture."""
    capman = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")

    def log(line: str) -> None:
        if capman is None or reporter is None:
            print(line, file=sys.__stderr__, flush=True)
            return
        with capman.global_and_fixture_disabled():
            reporter.write_line(line)

    return log


def _policy(g: dict[str, Any]) -> sweep.Policy:
    """The quick or full policy, with the selected budget."""
    return replace(sweep.policy(g["quick"]), budget_s=g["budget"])


def _groups(g: dict[str, Any]) -> list[protocol.Group]:
    """One group per (device, N, d, dtype): its floor (d = 1) and every available backend's cases."""
    out = []
    visit_s = _policy(g).visit_s
    for device in g["devices"]:
        for n, d in g["shapes"]:
            for dtype in dtypes(g, d):
                counts = sweep.epoch_counts(n, d)
                runners: list[Any] = []
                for mode in modes(g, d):
                    for name in _selected(g):
                        backend = built(name)[0]
                        if not sweep.spec(name).runs_at(n, d) or backend is None:
                            continue
                        if device not in backend.devices():
                            continue
                        case = FitCase(name, n, dtype, device, mode, counts, d)
                        runners.append(CaseRunner(backend, case, *data(n, d), ZERO, visit_s))
                if d > 1 and not runners:
                    continue
                fl = None
                if d == 1:
                    fl = floor.FloorRunner(n, dtype, device, sweep.floor_iterations(n), ZERO, visit_s)
                # Each prepared fit may hold a copy of x and y (and a cast): keep them only if that fits.
                each = FitCase("", n, dtype, device, "", counts, d).data_bytes
                held = 2 * each * len(counts) * len(runners)
                big = held > _policy(g).keep_bytes
                out.append(protocol.Group(device, n, dtype, fl, runners, counts, big=big, d=d))
    return out


@pytest.fixture(scope="session")
def measured(request: pytest.FixtureRequest, frameworks_ready: None) -> dict[tuple[Any, ...], Any]:
    """Every case and floor of the grid, measured by the protocol before any test reports."""
    g = grid(request.config)
    policy = _policy(g)
    groups = _groups(g)
    log = _log(request.config)
    _STARTUP.update(_startup(g, policy, log))  # fresh processes, before anything else is timed
    n_cases = sum(len(gr.cases) for gr in groups)
    events.emit("plan", cases=n_cases, groups=len(groups), budget=policy.budget_s,
                min_passes=policy.min_passes, max_passes=policy.max_passes,
                elapsed=time.perf_counter() - ZERO)
    log(
        f"gdbench: {n_cases} cases in {len(groups)} groups, epoch counts "
        + "; ".join(f"{_shape_id(n, d)}: {sweep.epoch_counts(n, d)}" for n, d in g["shapes"])
        + f"; at least {policy.min_passes} passes, budget {policy.budget_s:.0f} s"
    )
    outcome = protocol.measure(
        groups, policy, elapsed=lambda: time.perf_counter() - ZERO, log=log, tick=_tick
    )
    events.emit("stage", name="checking and saving")
    _OUTCOME.update(asdict(outcome), policy=asdict(policy))
    found: dict[tuple[Any, ...], Any] = {}
    for gr in groups:
        if gr.floor is not None:
            found[("floor", gr.device, gr.n, gr.dtype)] = gr.floor
        for r in gr.cases:
            c = r.case  # type: ignore[attr-defined]
            found[("fit", c.device, c.n, c.d, c.dtype, c.mode, c.backend)] = r
    return found


def _tick(t: protocol.Tick) -> None:
    """Tell `gdbench bench` where the passes are."""
    events.emit("tick", **asdict(t), elapsed=time.perf_counter() - ZERO)


_STARTUP: dict[str, Any] = {}


def _startup(g: dict[str, Any], policy: sweep.Policy, log: Any) -> dict[str, Any]:
    """The one-time cost of a fresh process per selected backend (benchmarks/suite/startup.py)."""
    if g["startup_rounds"] < 1 or "cpu" not in g["devices"]:
        return {}
    events.emit("stage", name="timing each backend's start in fresh processes")
    picked = startup.jobs([name for name in _selected(g) if built(name)[0] is not None])
    return startup.measure(picked, g["startup_rounds"], policy.startup_cold, policy.startup_s, log)


_FAILED: list[dict[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember failed cases (wrong results, errors) so the report can list them."""
    if report.failed:
        lines = report.longreprtext.strip().splitlines()
        _FAILED.append(
            {
                "case": report.nodeid.split("::")[-1],
                "when": report.when,
                "message": (lines[-1] if lines else "")[:300],
            }
        )


def _threads_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "threads": THREADS,
        "usable_cpus": len(usable_cpus()),
        "cpu_count": os.cpu_count(),
        "env": {v: os.environ.get(v) for v in (*sweep.THREAD_VARS, "XLA_FLAGS")},
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """Add threads, framework versions and the GPU to pytest-benchmark's machine_info."""
    machine_info["gdbench"] = {**_threads_info(), "versions": versions(), "machine": this_machine().to_json()}


def pytest_benchmark_update_json(
    config: pytest.Config, benchmarks: list[Any], output_json: dict[str, Any]
) -> None:
    """Add the sweep, every backend's availability and the failed cases to the saved JSON."""
    g = grid(config)
    backends = {}
    for name in g["backends"]:
        backend, reason = built(name)
        s = sweep.spec(name)
        backends[name] = {
            "available": backend is not None,
            "reason": reason,
            "kind": s.kind,
            "options": dict(s.options),
            "trace": s.trace,
            "devices": backend.devices() if backend is not None else [],
            "framework": getattr(backend, "framework", None),
            "plugin": impls.plugin_source(s.base or name),
        }
    output_json["gdbench"] = {
        **g,
        "schema": 2,
        "epoch_counts": {str(n): list(sweep.epoch_counts(n)) for n, d in g["shapes"] if d == 1},
        "epoch_counts_d": {f"{n}x{d}": list(sweep.epoch_counts(n, d)) for n, d in g["shapes"] if d > 1},
        "lr_rule": "lr / d at d features",
        "protocol": dict(_OUTCOME),
        "trace_work": asdict(sweep.trace_work(g["quick"])),
        "check_tol": sweep.CHECK_TOL,
        "lr": sweep.LR,
        "backend_info": backends,
        "failed": list(_FAILED),
        "startup": dict(_STARTUP),
    }
