"""A progress bar for one fit: epochs done, loss, elapsed and what remains; silent off a terminal.

The fit only stores (epoch, loss) through ``impls.trainer.watch``, a few hundred nanoseconds an
epoch; a background thread draws the bar a few times a second, so it also ticks through loops that
report nothing (a jitted while loop, worker processes) and shows their elapsed time.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from impls.trainer import watch

REFRESH_S = 0.25


class _Latest:
    """The last (epoch, loss) the loop reported."""

    epoch = 0
    loss = float("nan")

    def __call__(self, epoch: int, loss: float) -> None:
        self.epoch, self.loss = epoch, loss


def enabled(stream: TextIO) -> bool:
    """Bars only on a terminal: logs and pipes get the plain lines alone."""
    return hasattr(stream, "isatty") and stream.isatty()


@contextmanager
def bar(label: str, epochs: int, stream: TextIO = sys.stderr) -> Iterator[bool]:
    """Draw a bar for the fit run inside the block; yields whether one is drawn."""
    if not enabled(stream):
        yield False
        return
    from tqdm import tqdm  # only when drawn: the commands that never draw do not import it

    latest = _Latest()
    done = threading.Event()
    shown = tqdm(
        total=epochs,
        desc=label,
        unit="epoch",
        file=stream,
        leave=False,  # the plain line that follows says how it ended
        dynamic_ncols=True,
        bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} epochs{postfix} "
        "[{elapsed} elapsed, at most {remaining} left]",
    )

    def draw() -> None:
        while not done.wait(REFRESH_S):
            shown.n = latest.epoch
            if latest.epoch:
                shown.set_postfix_str(f"loss {latest.loss:.4g}", refresh=False)
            shown.refresh()

    painter = threading.Thread(target=draw, name="gdbench progress", daemon=True)
    painter.start()
    try:
        with watch(latest):
            yield True
    finally:
        done.set()
        painter.join()
        shown.close()
