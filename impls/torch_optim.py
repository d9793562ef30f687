"""torch-optim: what a PyTorch user writes by habit.

An ``nn.Linear(d, 1)`` model, ``nn.MSELoss``, and ``torch.optim.SGD`` over the model's
parameters, stepped with ``zero_grad()`` / ``backward()`` / ``step()``. The arithmetic is
``torch-nograd``'s; what this backend measures is the price of the habit: module calls, the loss
module, and the optimizer's bookkeeping every epoch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from . import _torch
from ._torch import Params, TorchBackend
from .base import TrainConfig
from .trainer import Problem, Trace, run_epochs


def linear(w: np.ndarray, b: float, dtype: torch.dtype, device: str) -> torch.nn.Linear:
    """An ``nn.Linear(d, 1)`` holding (w, b); skip_init leaves torch's global RNG untouched."""
    model = torch.nn.utils.skip_init(torch.nn.Linear, w.size, 1, dtype=dtype, device=device)
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(w).reshape(1, -1))
        model.bias.fill_(b)
    return model


def as_params(model: torch.nn.Linear) -> Params:
    """(w, b) as views of the model's parameters, so they follow its in-place updates."""
    return model.weight.view(-1), model.bias.view(())


class TorchOptim(TorchBackend):
    """nn.Linear, nn.MSELoss and torch.optim.SGD: the habitual PyTorch training loop."""

    name = "torch-optim"

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        dt = _torch.dtype(cfg.dtype)
        x = torch.as_tensor(prob.x, dtype=dt, device=device)
        y = torch.as_tensor(prob.y, dtype=dt, device=device)
        loss_fn = torch.nn.MSELoss()

        def train() -> Trace[Params]:
            model = linear(prob.w0, prob.b0, dt, device)
            opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)

            def step(p: Params) -> tuple[torch.Tensor, Callable[[], Params]]:
                opt.zero_grad()
                loss = loss_fn(model(x).squeeze(-1), y)

                def update() -> Params:
                    loss.backward()
                    opt.step()
                    return p

                return loss.detach(), update

            return run_epochs(step, as_params(model), cfg, self.read, lambda p: _torch.sync(device))

        return train

    def _loss_and_grad(
        self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray, float]:
        model = linear(w, b, torch.float64, "cpu")
        loss = torch.nn.MSELoss()(model(torch.from_numpy(x)).squeeze(-1), torch.from_numpy(y))
        loss.backward()
        assert model.weight.grad is not None and model.bias.grad is not None
        return float(loss.detach()), model.weight.grad.numpy().reshape(-1), float(model.bias.grad)
