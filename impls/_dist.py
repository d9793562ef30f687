"""Worker processes for the data-parallel backends: start, talk to, and reap them, with bounded waits.

Framework-free on purpose: torch-ddp runs one process per rank and jax-sharded one process that
holds several host devices, and both use the same pool. Workers are forked from multiprocessing's
forkserver, which preloads the frameworks once: a child does not inherit the parent's threads (the
reason not to fork the parent), yet a rank starts in a fraction of a second instead of importing
torch again (measured here: ~0.15 s per 2-rank start against ~18 s with spawn on a loaded 2-core box).
Where there is no forkserver (Windows) the pool uses spawn.

Both start methods import the caller's script again in every worker, so a script that starts
workers from its top-level code, outside ``if __name__ == "__main__":``, would start them again in
each worker: ``check_main_guard`` refuses that with one error before any process starts. A worker
also watches its parent and exits when it is gone, so no worker outlives an interrupted parent.
"""

from __future__ import annotations

import ast
import math
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for
from pathlib import Path
from typing import Any

from .base import FitResult, TrainConfig
from .trainer import BackendBase

# What the forkserver imports once; a module that fails to import is skipped by multiprocessing.
PRELOAD = ["__main__", "impls.torch_ddp", "impls.jax_sharded"]
IMPORT_S = 60.0  # start-up may also wait for the forkserver to import torch and JAX, once
GRACE_S = 2.0  # after one worker fails, how long to wait for the others' own reports
_REAP_S = 5.0


class CollectiveError(RuntimeError):
    """A collective (all-reduce) failed, usually because another worker went away first."""


class MainGuardError(RuntimeError):
    """The calling script starts workers from top-level code that every worker would run again."""


class WorkerError(RuntimeError):
    """A worker failed; the message names it, ``details`` holds every worker's report."""

    def __init__(self, message: str, worker: int, details: str) -> None:
        super().__init__(message)
        self.worker = worker
        self.details = details


@dataclass(frozen=True)
class Failure:
    """One worker's failure as the parent saw it."""

    worker: int
    kind: str  # a key of _RANK
    message: str
    trace: str = ""


# Most telling first: a worker's own error, then a death, then silence; a collective that failed
# is usually only the echo of a peer that went away.
_RANK = {"raised": 0, "died": 1, "silent": 2, "collective": 3}


def shard_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous [lo, hi) rows of each of ``parts`` shards; the first n % parts get one more."""
    size, extra = divmod(n, parts)
    bounds, lo = [], 0
    for i in range(parts):
        hi = lo + size + (1 if i < extra else 0)
        bounds.append((lo, hi))
        lo = hi
    return bounds


def context() -> Any:
    """The multiprocessing context workers start from: forkserver where there is one, else spawn."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)  # no effect once the server runs: children import late
        return ctx
    return mp.get_context("spawn")


def check_main_guard(label: str) -> None:
    """MainGuardError if this call runs from ``__main__``'s top-level code outside its main guard.

    The workers import ``__main__`` again (as ``__mp_main__``); unguarded code there would start
    workers of its own and every worker would die in a page of multiprocessing tracebacks.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py"):
        return  # an interactive session, python -c, a notebook: nothing is imported again
    line = None
    frame = sys._getframe(1)
    while frame is not None:  # the outermost frame of the script's own top-level code
        if frame.f_code.co_name == "<module>" and frame.f_globals is vars(main):
            line = frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    if line is None:
        return
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return
    if any(_guards(node, line) for node in tree.body):
        return
    raise MainGuardError(
        f"{label} starts worker processes, and each imports your script {path} again; line {line} "
        f"runs at import time, so every worker would start workers of its own. Put the script's "
        f'top-level code under `if __name__ == "__main__":` (see the README\'s example)'
    )


def _guards(node: ast.stmt, line: int) -> bool:
    """Whether ``node`` is ``if __name__ == "__main__":`` and ``line`` lies in its body."""
    if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and node.body):
        return False
    sides = [node.test.left, *node.test.comparators]
    names = any(isinstance(n, ast.Name) and n.id == "__name__" for n in sides)
    main = any(isinstance(n, ast.Constant) and n.value == "__main__" for n in sides)
    eq = len(node.test.ops) == 1 and isinstance(node.test.ops[0], ast.Eq)
    end = node.body[-1].end_lineno or node.body[-1].lineno
    return names and main and eq and node.body[0].lineno <= line <= end


@contextmanager
def deaf_to_ctrl_c() -> Iterator[None]:
    """Processes started in the block never see SIGINT; the parent still gets it, after the block.

    A terminal sends Ctrl-C to the whole process group. Workers and the forkserver (importing torch
    and JAX for seconds) would each die of it with a traceback of their own; the parent, which
    stops and reaps them, is the one that should hear it. SIGINT stays blocked in them: the mask
    is inherited through fork and exec, and a blocked signal is never delivered.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: spawn, and no process groups to share
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)  # a Ctrl-C that came meanwhile arrives now


def leave_with_parent() -> None:
    """Exit this worker as soon as the process that started it is gone (killed, interrupted).

    Multiprocessing gives every child a sentinel on its parent; a daemon thread waits on it.
    Without this, a worker whose parent died between two messages would wait for ever.
    """
    parent = mp.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        wait_for([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="leave with parent", daemon=True).start()


def serve(
    worker: int, cmds: Any, results: Any, open_worker: Callable[[], AbstractContextManager[Any]]
) -> None:
    """Worker main loop: set up, report ready, run each job until None, report any error."""
    leave_with_parent()
    try:
        with open_worker() as run:
            results.put(("ready", worker, None))
            while (job := cmds.get()) is not None:
                results.put(("done", worker, run(job)))
    except BaseException as e:  # anything, even KeyboardInterrupt, must reach the parent
        kind = "collective" if isinstance(e, CollectiveError) else "raised"
        msg = "".join(traceback.format_exception_only(type(e), e)).strip()
        results.put(("error", worker, (kind, msg, traceback.format_exc())))


def exit_message(code: int) -> str:
    """Describe a process exit code, naming the signal for a negative one."""
    if code < 0:
        try:
            return f"died from signal {signal.Signals(-code).name}"
        except ValueError:
            return f"died from signal {-code}"
    return f"exited with code {code}"


class _Live:
    """The processes and queues of a pool: what the finalizer needs, without the pool itself."""

    def __init__(self) -> None:
        self.procs: list[Any] = []
        self.cmds: list[Any] = []
        self.results: Any = None
        self.keep: object = None
        self.polite = True

    def shutdown(self) -> None:
        """Ask the workers to leave (if polite), then terminate and kill whatever is still there."""
        if self.polite:
            for q in self.cmds:
                with suppress(OSError, ValueError):  # a queue already closed needs no goodbye
                    q.put(None)
            deadline = time.monotonic() + _REAP_S
            for p in self.procs:
                p.join(max(0.0, deadline - time.monotonic()))
        for p in self.procs:
            if p.is_alive():
                p.terminate()
                p.join(_REAP_S)
            if p.is_alive():
                p.kill()
                p.join(_REAP_S)
        for q in [*self.cmds, self.results]:
            if q is not None:
                q.close()
        if self.results is not None:
            self.results.cancel_join_thread()  # nothing of ours is in it that must be delivered
        self.procs, self.cmds, self.results, self.keep = [], [], None, None


class Pool:
    """Worker processes kept alive between calls of one prepared fit; closed on error, close() or GC."""

    def __init__(
        self,
        label: str,
        target: Callable[..., None],
        args: list[tuple[Any, ...]],
        timeout: float,
        keep: object = None,
        noun: str = "worker",
    ) -> None:
        """Start one worker per entry of ``args``; wait until all are ready, at most timeout + IMPORT_S.

        ``target(worker, cmds, results, *args[worker])`` must call ``serve``; ``keep`` is held as
        long as the workers run (torch-ddp's rendezvous store).
        """
        check_main_guard(label)
        self.label = label
        self.noun = noun
        self._live = live = _Live()
        self._finalizer = weakref.finalize(self, live.shutdown)
        ctx = context()
        live.keep = keep
        live.results = ctx.Queue()
        live.cmds = [ctx.SimpleQueue() for _ in args]
        for i, a in enumerate(args):
            live.procs.append(
                ctx.Process(
                    target=target, args=(i, live.cmds[i], live.results, *a), name=f"{label} {noun} {i}"
                )
            )
        try:
            with deaf_to_ctrl_c():
                for p in live.procs:
                    p.daemon = True  # never outlive the parent, even if nobody closes the pool
                    p.start()
            self._collect("start-up", timeout + IMPORT_S)
        except BaseException:
            self.close(polite=False)
            raise

    @property
    def pids(self) -> list[int]:
        """Process ids of the running workers (empty once closed)."""
        return [p.pid for p in self._live.procs]

    def call(self, job: object) -> list[Any]:
        """Send ``job`` to every worker and return their replies in worker order."""
        if not self._live.procs:
            raise RuntimeError(f"{self.label}: its {self.noun}s were shut down; call prepare() again")
        try:
            for q in self._live.cmds:
                q.put(job)
            return self._collect("the fit", None)
        except BaseException:
            self.close(polite=False)  # an interrupted call would leave stale replies behind
            raise

    def close(self, polite: bool = True) -> None:
        """Stop the workers and reap them; safe to call twice."""
        self._live.polite = polite
        self._finalizer()

    def _collect(self, stage: str, timeout: float | None) -> list[Any]:
        """Wait for one reply per worker; on any failure, close the pool and raise WorkerError.

        A dead worker is noticed by its exit code, a hung one by ``timeout``; after the first
        failure the others get GRACE_S to report (a peer's own error beats "connection closed").
        """
        live = self._live
        pending = set(range(len(live.procs)))
        replies: dict[int, Any] = {}
        failures: list[Failure] = []
        start = time.monotonic()
        end = math.inf if timeout is None else start + timeout
        while pending and time.monotonic() < end:
            # exit codes before the drain: whatever a worker sent before exiting is queued by then
            exited = {w: live.procs[w].exitcode for w in pending if live.procs[w].exitcode is not None}
            for tag, w, payload in self._drain(0.1):
                pending.discard(w)
                if tag == "error":
                    failures.append(Failure(w, *payload))
                else:
                    replies[w] = payload
            for w, code in exited.items():
                if w in pending:
                    pending.discard(w)
                    failures.append(Failure(w, "died", exit_message(code)))
            if failures:
                end = min(end, time.monotonic() + GRACE_S)
        if pending:
            why = "no reply after another failed; stopped" if failures else f"no reply within {timeout} s"
            failures += [Failure(w, "silent", why) for w in sorted(pending)]
        if failures:
            self.close(polite=False)
            raise _error(self.label, self.noun, stage, failures)
        return [replies[w] for w in range(len(live.procs))]

    def _drain(self, wait: float) -> Iterator[tuple[str, int, Any]]:
        """Messages already queued, waiting up to ``wait`` s for the first."""
        while True:
            try:
                yield self._live.results.get(timeout=wait)
            except queue.Empty:
                return
            wait = 0.0


def _error(label: str, noun: str, stage: str, failures: list[Failure]) -> WorkerError:
    """One error naming the most telling failure, with every report in ``details``."""
    first = min(failures, key=lambda f: _RANK[f.kind])
    msg = f"{label}: {noun} {first.worker} failed during {stage}: {first.message}"
    others = [f"{noun} {f.worker}: {f.message.splitlines()[0]}" for f in failures if f is not first]
    if others:
        msg += " (then " + "; ".join(others) + ")"
    details = "\n\n".join(f"{noun} {f.worker} [{f.kind}]: {f.message}\n{f.trace}".rstrip() for f in failures)
    return WorkerError(msg, first.worker, details)


class PoolOwner(BackendBase):
    """A backend whose prepared fits may own a Pool: ``fit`` reaps it at once, ``close`` on demand."""

    _pool_ref: weakref.ref[Pool] | None = None

    def fit(self, x: Any, y: Any, cfg: TrainConfig | None = None) -> FitResult:
        """Start the workers, train once, and reap them."""
        self._pool_ref = None  # so a prepare that fails closes nothing of an earlier one
        run = self.prepare(x, y, cfg)
        try:
            return run()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers of the latest prepared fit now, not when it is garbage-collected."""
        pool = self._pool_ref() if self._pool_ref is not None else None
        if pool is not None:
            pool.close()

    def own(self, pool: Pool) -> Pool:
        """Remember ``pool`` as the latest prepared fit's, without keeping it alive."""
        self._pool_ref = weakref.ref(pool)
        return pool


class Resident:
    """A pool started on first use and kept for later calls: the workers behind ``loss_and_grad``."""

    def __init__(self, start: Callable[[], Pool]) -> None:
        self._start = start
        self._pool: Pool | None = None

    def call(self, job: object) -> list[Any]:
        """``job`` on every worker, starting them first when none run (never yet, or after a failure)."""
        if self._pool is None or not self._pool.pids:
            self._pool = self._start()
        return self._pool.call(job)

    @property
    def pids(self) -> list[int]:
        """Process ids of the running workers (empty when none run)."""
        return self._pool.pids if self._pool is not None else []

    def close(self) -> None:
        """Stop the workers, if any; the next call starts new ones."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
