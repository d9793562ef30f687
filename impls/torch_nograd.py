"""torch-nograd: the idiomatic autograd loop, updating leaf tensors in place under no_grad."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._torch import Params, TorchLoopBackend, mse
from .trainer import Step


class TorchNograd(TorchLoopBackend):
    """Leaf parameters, loss.backward(), in-place updates under torch.no_grad()."""

    name = "torch-nograd"

    @staticmethod
    def make_step(x: torch.Tensor, y: torch.Tensor, lr: float) -> Step[Params]:
        """One epoch: forward, then (if the loop goes on) backward and an in-place update."""

        def step(p: Params) -> tuple[torch.Tensor, Callable[[], Params]]:
            w, b = p
            loss = mse(w, b, x, y)

            def update() -> Params:
                loss.backward()
                assert w.grad is not None and b.grad is not None
                with torch.no_grad():  # the update itself must not join any graph
                    w.sub_(lr * w.grad)
                    b.sub_(lr * b.grad)
                w.grad = None  # backward() accumulates; clear before the next epoch
                b.grad = None
                return w, b

            return loss.detach(), update

        return step
