"""Faults in the data-parallel backends' worker processes, injected from the tests alone.

A monkeypatch in the test process cannot reach a worker: each is forked from multiprocessing's
forkserver (or spawned) and imports impls afresh. What does reach it is the worker's entry point,
which the pool pickles by reference. ``inject`` swaps the backend module's entry point for a
``Faulty`` instance of this module; the worker unpickles it (importing this module), wraps the
step that the shared ``run_epochs`` loop is given, and runs the real entry point.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

EPOCH = 2  # the epoch at which a fault fires
HOW = ("raise", "exit", "hang")
# backend name -> (its module, the entry point its pool starts each worker with)
ENTRY = {"torch-ddp": ("impls.torch_ddp", "rank_main"), "jax-sharded": ("impls.jax_sharded", "worker_main")}


@dataclass(frozen=True)
class Fault:
    """Make worker ``worker`` raise, exit abruptly (code 3), or hang at epoch EPOCH of every fit."""

    how: str = "raise"
    worker: int = 0

    def __post_init__(self) -> None:
        assert self.how in HOW, f"how must be one of {HOW}, got {self.how!r}"

    def wrap(self, step: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``step``, failing at its EPOCH-th call."""
        calls = iter(range(1 << 62))

        def failing(p: Any) -> Any:
            if next(calls) == EPOCH:
                if self.how == "exit":
                    os._exit(3)  # no cleanup and no message: what a crashed worker looks like
                if self.how == "hang":
                    time.sleep(3600)
                raise RuntimeError(f"injected failure at epoch {EPOCH} (test-only fault)")
            return step(p)

        return failing


@dataclass(frozen=True)
class Faulty:
    """A worker entry point: the real one of ``module``, with ``fault`` in the step of its worker.

    Picklable by reference, so the pool can send it to a worker process; it patches that worker's
    module only, which the worker alone imports.
    """

    module: str
    entry: str
    fault: Fault

    def __call__(self, worker: int, *args: Any) -> None:
        """Run the real entry point, after wrapping the step of the shared loop if this is the worker."""
        mod = importlib.import_module(self.module)
        real = getattr(mod, self.entry)
        assert not isinstance(real, Faulty), "the worker must import the unpatched module"
        if worker == self.fault.worker:
            loop = mod.run_epochs
            mod.run_epochs = lambda step, *a, **k: loop(self.fault.wrap(step), *a, **k)
        real(worker, *args)


def inject(monkeypatch: pytest.MonkeyPatch, backend: str, fault: Fault) -> None:
    """Until the test ends, every worker pool ``backend`` starts for a fit carries ``fault``."""
    module, entry = ENTRY[backend]
    mod = importlib.import_module(module)
    monkeypatch.setattr(mod, entry, Faulty(module, entry, fault))
