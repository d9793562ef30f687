"""Helpers shared by the torch backends: device choice, dtypes, synchronisation."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable

import numpy as np
import torch

from .base import TrainConfig
from .trainer import BackendBase, Problem, Step, Trace, run_epochs


def devices() -> list[str]:
    """Devices torch can use in this process."""
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def dtype(name: str) -> torch.dtype:
    """The torch dtype named "float32" or "float64"."""
    return {"float32": torch.float32, "float64": torch.float64}[name]


def sync(device: str) -> None:
    """Wait for queued device work, so wall time covers it."""
    if device == "cuda":
        torch.cuda.synchronize()


def read(params: tuple[torch.Tensor, torch.Tensor]) -> tuple[np.ndarray, float]:
    """Copy (w, b) tensors to (float64 array, float) on the host."""
    w, b = params
    return w.detach().to("cpu", torch.float64).numpy().copy(), float(b.detach())


def mse(w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of x·w + b against y."""
    return ((x @ w + b - y) ** 2).mean()


def autograd_loss_and_grad(
    w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray, float]:
    """(loss, dL/dw, dL/db) by loss.backward() in float64 on the CPU."""
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    loss = mse(wt, bt, torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    assert wt.grad is not None and bt.grad is not None
    return float(loss.detach()), wt.grad.numpy(), float(bt.grad)


Params = tuple[torch.Tensor, torch.Tensor]


class TorchBackend(BackendBase):
    """What a torch backend with its own ``_prepare`` shares: devices, version, reading, gradients."""

    framework = "torch"

    def devices(self) -> list[str]:
        """CPU, plus CUDA when torch sees a GPU."""
        return devices()

    def version(self) -> str:
        """torch's version."""
        return str(torch.__version__)

    def read(self, params: Params) -> tuple[np.ndarray, float]:
        """Copy (w, b) to the host."""
        return read(params)

    def _loss_and_grad(
        self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray, float]:
        return autograd_loss_and_grad(w, b, x, y)


class TorchLoopBackend(TorchBackend):
    """A torch backend stepped from Python; subclasses differ only in ``make_step``."""

    @staticmethod
    @abstractmethod
    def make_step(x: torch.Tensor, y: torch.Tensor, lr: float) -> Step[Params]:
        """The epoch function over data already on the device."""

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        dt = dtype(cfg.dtype)
        x = torch.as_tensor(prob.x, dtype=dt, device=device)
        y = torch.as_tensor(prob.y, dtype=dt, device=device)
        step = self.make_step(x, y, cfg.lr)

        def train() -> Trace[Params]:
            w = torch.tensor(prob.w0, dtype=dt, device=device, requires_grad=True)
            b = torch.tensor(prob.b0, dtype=dt, device=device, requires_grad=True)
            return run_epochs(step, (w, b), cfg, self.read, lambda p: sync(device))

        return train
