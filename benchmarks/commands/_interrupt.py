"""Ctrl-C, delivered: exit status 130 and the one line ``gdbench: interrupted``, whenever it comes.

Python turns SIGINT into KeyboardInterrupt at the next bytecode, wherever that is. Inside a
callback that Python calls for itself (a garbage-collector callback such as JAX's
``_xla_gc_callback``, a ``__del__``, a weakref finaliser, an atexit function) the exception cannot
propagate: Python prints "Exception ignored in …" and carries on, and the interrupt is lost; with
JAX importing, that was most Ctrl-Cs in a run's first seconds. So a KeyboardInterrupt reported as
unraisable is not printed but delivered again a moment later, as a real signal to the main
thread, until it lands in the program's own code; so is one that comes during an import (see
``_importing``). A watchdog ends the process with 130 if it is
still running ``DEADLINE_S`` after the first Ctrl-C (a library that caught it, a long call in C),
running the registered clean-ups first. Once the command has returned, a Ctrl-C ends the process
at once: only Python's own shutdown is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

DEADLINE_S = 1.8  # the promise is 2 s; the graceful path normally takes a fraction of it
REDELIVER_S = 0.02  # long enough to leave the callback that swallowed it
LINE = "gdbench: interrupted"


class _State:
    """What this process knows about Ctrl-C."""

    def __init__(self) -> None:
        self.first: float | None = None  # monotonic time of the first Ctrl-C
        self.unwinding = False  # a KeyboardInterrupt is on its way up: let its clean-ups run
        self.said = False  # LINE was written
        self.exiting = False  # the command returned: only shutdown is left
        self.cleanups: list[Callable[[], None]] = []
        self.done = threading.Event()  # the command ended and a caller goes on: no forced exit


_state = _State()


def asked() -> bool:
    """Whether Ctrl-C was pressed during this command."""
    return _state.first is not None


def say() -> None:
    """Write the line, once; from then on a Ctrl-C raises nothing more (it has been answered)."""
    _state.unwinding = True
    if not _state.said:
        _state.said = True
        with contextlib.suppress(OSError, ValueError):
            print(LINE, file=sys.stderr, flush=True)


@contextlib.contextmanager
def cleanup(fn: Callable[[], None]) -> Iterator[None]:
    """Run ``fn`` before a forced exit while the block runs (the graceful path runs its own)."""
    _state.cleanups.append(fn)
    try:
        yield
    finally:
        _state.cleanups.remove(fn)


def _force_exit() -> None:
    """The last resort: clean up, say the line, and end the process now with 130."""
    for fn in list(_state.cleanups):
        with contextlib.suppress(Exception):
            fn()
    say()
    os._exit(130)


def _watch(wakeup: int) -> None:
    """Wait for the first Ctrl-C at the C level; force the exit if the process outlives the deadline.

    The signal's C handler writes its number to the wakeup pipe at once, even while the main
    thread is in a long call in C (a LAPACK solve, loading a framework's library) and Python's
    handler has not run yet: the deadline counts from the key press.
    """
    state = _state
    while (got := os.read(wakeup, 64)) and signal.SIGINT not in got:
        pass
    if got and not state.done.wait(DEADLINE_S):
        _force_exit()
    os.close(wakeup)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """Record the Ctrl-C and raise KeyboardInterrupt, unless one is already on its way up."""
    if _state.exiting:
        _force_exit()
    if _state.first is None:
        _state.first = time.monotonic()
    if _importing(frame):  # a framework's import runs Python from C++, which aborts on an exception
        threading.Thread(target=_redeliver, name="gdbench interrupt", daemon=True).start()
        return
    if _state.unwinding:  # already raised: a second one would cut its clean-ups short
        return
    _state.unwinding = True
    raise KeyboardInterrupt


def _importing(frame: FrameType | None) -> bool:
    """Whether the interrupted code runs inside an import.

    Importing torch, C++ module initialisation calls back into Python; a KeyboardInterrupt raised
    there met a ``noexcept`` and ended the process with "terminate called after throwing
    pybind11::error_already_set" (SIGABRT). So the interrupt waits for the import to finish (or
    for the deadline).
    """
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


def _redeliver() -> None:
    """Send SIGINT to the main thread again, after a moment (a signal also ends a blocking wait)."""
    time.sleep(REDELIVER_S)
    with contextlib.suppress(Exception):
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)


def _unraisable(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable hook that delivers a swallowed KeyboardInterrupt again instead of printing it."""

    def hook(unraisable: Any) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            _state.unwinding = _state.said
            threading.Thread(target=_redeliver, name="gdbench interrupt", daemon=True).start()
            return
        previous(unraisable)

    return hook


@contextlib.contextmanager
def handled(until_exit: bool = False) -> Iterator[None]:
    """Deliver Ctrl-C as above while the block runs; ``until_exit``: also through shutdown after it.

    The console script passes ``until_exit``; a caller that goes on afterwards (a test) gets the
    previous handlers back.
    """
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    global _state
    _state = _State()
    wakeup, notify = os.pipe()
    os.set_blocking(notify, False)  # as set_wakeup_fd requires: a full pipe must not block the handler
    previous_fd = signal.set_wakeup_fd(notify, warn_on_full_buffer=False)
    previous = signal.signal(signal.SIGINT, _on_sigint)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(previous_hook)
    threading.Thread(target=_watch, args=(wakeup,), name="gdbench Ctrl-C deadline", daemon=True).start()
    try:
        yield
    finally:
        if until_exit:
            _state.exiting = True
        else:
            _state.done.set()
            signal.signal(signal.SIGINT, previous)
            sys.unraisablehook = previous_hook
            signal.set_wakeup_fd(previous_fd)
            os.close(notify)  # the watcher reads the end of the pipe and leaves
