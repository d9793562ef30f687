"""torch-autograd: the tutorial's loop, kept faithfully, including its cost.

``w = w - lr * w.grad`` rebinds w to a new non-leaf tensor whose graph reaches back
through every earlier update, so each epoch's ``backward()`` walks a chain one link
longer than the last: time per epoch grows with the epoch index. This is the pattern
the suite exists to measure; ``torch-nograd`` is the idiomatic fix.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._torch import Params, TorchLoopBackend
from .trainer import Step


def graph_depth(t: torch.Tensor) -> int:
    """Length of the longest chain of autograd nodes behind ``t`` (0 for a leaf)."""
    depth = 0
    frontier = [t.grad_fn] if t.grad_fn is not None else []
    while frontier:
        depth += 1
        frontier = list({id(f): f for fn in frontier for f, _ in fn.next_functions if f is not None}.values())
    return depth


class TorchAutograd(TorchLoopBackend):
    """The tutorial's autograd loop with rebinding updates."""

    name = "torch-autograd"

    @staticmethod
    def make_step(x: torch.Tensor, y: torch.Tensor, lr: float) -> Step[Params]:
        """One tutorial epoch: forward, then (if the loop goes on) backward and a rebinding update."""

        def step(p: Params) -> tuple[torch.Tensor, Callable[[], Params]]:
            w, b = p
            loss = ((x @ w + b - y) ** 2).mean()

            def update() -> Params:
                w.retain_grad()  # after the first update w is a non-leaf: keep its .grad
                b.retain_grad()
                loss.backward()
                assert w.grad is not None and b.grad is not None
                return w - lr * w.grad, b - lr * b.grad

            return loss.detach(), update

        return step
