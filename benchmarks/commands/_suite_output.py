"""What `gdbench bench` shows while its suite process runs: a bar over the passes, or pytest's own output.

The suite sends its progress as events on a pipe of its own (benchmarks/suite/events.py). By
default they drive one line: the stage, then the passes (cases precise, time left), redrawn in place
on a terminal and written once per pass elsewhere; pytest's and pytest-benchmark's output is kept
back and shown only if the suite fails. ``--verbose`` relays that output as it comes instead.
"""

from __future__ import annotations

import codecs
import json
import os
import selectors
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from benchmarks.commands import _interrupt
from benchmarks.suite import events

STOP_S = 1.0  # after Ctrl-C, how long the suite may take to end its round before it is killed
KEEP_LINES = 40  # of the suite's own output, shown when it fails


class Bar:
    """One status line from the suite's events: redrawn on a terminal, a line per pass elsewhere."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = hasattr(stream, "isatty") and stream.isatty()
        self.plan: dict[str, Any] = {}
        self.shown = ""

    def event(self, e: dict[str, Any]) -> None:
        """Show what one event says."""
        if e["kind"] == "stage":
            self._show(f"gdbench bench: {e['name']} ...", final=not self.live)
        elif e["kind"] == "plan":
            self.plan = e
        elif e["kind"] == "tick" and self.plan:
            self._show(self._passes(e), final=not self.live and e["groups_visited"] == 0)

    def _passes(self, e: dict[str, Any]) -> str:
        """The passes so far, the cases precise, and roughly how long is left."""
        p = self.plan
        frac = e["passes"] + e["groups_visited"] / max(e["groups"], 1)
        width = 20
        done = min(width, round(width * e["precise"] / max(e["cases"], 1)))
        per_pass = (e["elapsed"] - p["elapsed"]) / frac if frac else 0.0  # set-up not counted
        more = max(p["min_passes"] - frac, 0.0) * per_pass  # the passes every case gets
        most = (p["max_passes"] - frac) * per_pass  # no pass starts past the budget, none past the last
        left = min(max(more, p["budget"] - e["elapsed"]), most) if e["precise"] < e["cases"] else 0.0
        return (
            f"gdbench bench: pass {e['passes'] + (1 if e['groups_visited'] else 0)} "
            f"[{'#' * done}{'.' * (width - done)}] {e['precise']}/{e['cases']} cases precise, "
            f"{e['elapsed']:.0f} s, ~{left:.0f} s left at most"
        )

    def _show(self, line: str, final: bool) -> None:
        """Write ``line``: in place on a terminal, else only the lines that end a step."""
        if self.live:
            pad = max(len(self.shown) - len(line), 0)
            self.stream.write("\r" + line + " " * pad)
            self.shown = line
        elif final:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the line drawn in place."""
        if self.live and self.shown:
            self.stream.write("\r" + " " * len(self.shown) + "\r")
            self.stream.flush()
            self.shown = ""


def run_suite(cmd: list[str], env: dict[str, str], cwd: Path, verbose: bool, old: str, new: str) -> int:
    """Run one suite process; its exit status. Ctrl-C stops it within STOP_S and re-raises.

    ``verbose``: relay its output, writing ``new`` wherever it says ``old`` (pytest-benchmark names
    the temporary file it wrote; the user should see the final one). Else draw the Bar.
    """
    read_events, write_events = os.pipe()
    env = {**env, events.ENV: str(write_events)}
    pipe = subprocess.PIPE
    child = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=pipe, stderr=pipe, pass_fds=(write_events,))
    os.close(write_events)
    assert child.stdout is not None and child.stderr is not None
    bar = Bar(sys.stderr)
    kept: deque[str] = deque(maxlen=KEEP_LINES)
    sinks: dict[int, Callable[[str, bool], None]] = {}
    if verbose:
        sinks[child.stdout.fileno()] = Relay(sys.stdout, old, new)
        sinks[child.stderr.fileno()] = Relay(sys.stderr, old, new)
        sinks[read_events] = _Lines(lambda line: None)
    else:
        sinks[child.stdout.fileno()] = sinks[child.stderr.fileno()] = _Lines(kept.append)
        sinks[read_events] = _Lines(lambda line: bar.event(json.loads(line)))
    try:
        with _interrupt.cleanup(lambda: _stop(child, 0.0)):
            pump(sinks)
            rc = child.wait()
    except BaseException:  # Ctrl-C: stop the suite; the caller removes what it had written
        _stop(child, STOP_S)
        raise
    finally:
        bar.close()
        os.close(read_events)
    if rc not in (0, 1) and kept:
        print("\n".join(kept), file=sys.stderr)
    return rc


def _stop(child: subprocess.Popen[bytes], wait_s: float) -> None:
    """Ask the suite to stop (it also had the terminal's Ctrl-C), then kill it if it takes too long."""
    for stream in (child.stdout, child.stderr):
        if stream is not None:
            stream.close()  # unread, its last words must not block it on a full pipe
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class _Lines:
    """Text chunks in, whole lines out to ``sink``."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self.sink = sink
        self.held = ""

    def __call__(self, text: str, last: bool) -> None:
        *done, self.held = (self.held + text).split("\n")
        for line in [*done, *([self.held] if last and self.held else [])]:
            self.sink(line.rstrip("\r"))


class Relay:
    """Text chunks in, written to ``stream`` with ``new`` for ``old``, a possible start of it held back."""

    def __init__(self, stream: TextIO, old: str, new: str) -> None:
        self.stream, self.old, self.new = stream, old, new
        self.held = ""

    def __call__(self, text: str, last: bool) -> None:
        text = (self.held + text).replace(self.old, self.new)
        keep = 0 if last else next(
            (k for k in range(min(len(self.old) - 1, len(text)), 0, -1) if self.old.startswith(text[-k:])), 0
        )
        self.held = text[len(text) - keep :]
        self.stream.write(text[: len(text) - keep])
        self.stream.flush()


def pump(sinks: dict[int, Callable[[str, bool], None]]) -> None:
    """Hand each file descriptor's text to its sink as it comes, until every one is at its end."""
    sel = selectors.DefaultSelector()
    for fd, sink in sinks.items():
        sel.register(fd, selectors.EVENT_READ, (sink, codecs.getincrementaldecoder("utf-8")("replace")))
    while sel.get_map():
        for key, _ in sel.select():
            sink, decoder = key.data
            chunk = os.read(key.fd, 1 << 16)
            sink(decoder.decode(chunk, final=not chunk), not chunk)
            if not chunk:
                sel.unregister(key.fd)


def summary(path: Path, failed: list[dict[str, str]]) -> list[str]:
    """The recommendation per regime, as the report ranks them, and what failed; lines to print."""
    from benchmarks.core.ranking import recommendations
    from benchmarks.core.results import load

    picks = recommendations(load([path]))
    width = max((len(k) for k in picks), default=0)
    out = ["fastest per regime (two names: a tie within noise):"] if picks else []
    out += [f"  {k:<{width}}  {' ~ '.join(v)}" for k, v in picks.items()]
    out += [f"failed, left out: {f['case']}: {f['message']}" for f in failed]
    return out
