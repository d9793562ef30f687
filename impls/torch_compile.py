"""torch-compile: each epoch is one call of a ``torch.compile``d step.

The step is ``torch.func.grad_and_value`` of the same ``mse`` the other torch backends use,
followed by the update; inductor fuses forward, backward and update into one C++ loop that reads
x and y once (for d = 1 it keeps no N-sized temporary; for d > 1, one N-vector of residuals).
The loop over epochs stays in Python (``run_epochs``): the stop rule reads each epoch's loss on
the host, a sync per epoch that is negligible at large N and dominant at small N.

Nothing recompiles between epochs or fits. The step is compiled at module level, so every
``prepare()`` shares it; lr is a tensor, so a new lr is data, not a new graph; and shapes are
dynamic (``dynamic=True``), so one compiled step serves every N: a step is compiled per dtype,
device, and d = 1 or d > 1 (dynamo specialises sizes of 1); float32 gets a second one past
N = 4096, where inductor switches to a more accurate (and slower) cascade summation.
``dynamic=False`` would compile again for every N and, past dynamo's recompile limit (8),
silently fall back to eager.

Left alone, inductor picks a serial or an OpenMP kernel from the N it first compiles at, so the
order of fits decided the speed: a float64 step compiled at N = 100 ran serially at N = 10⁷, at
twice the floor here. So there are two compiled steps, chosen by N as ATen chooses by its grain
size: a serial one below ``PARALLEL_FROM`` rows, and an OpenMP one from there on (forced on
small N, an OpenMP region cost thousands of times the floor at N = 100 on 2 busy cores, where
its threads spin against the Python loop).

b and lr are 1-element vectors, not 0-d tensors: under ``dynamic=True`` dynamo turns a 0-d
input into a symbolic float read by ``.item()``, traces the step twice, and guards on
``not isnan(b)``, so a diverging fit would recompile mid-loop.

The first fit of a ``prepare()`` compiles (or finds the compiled step) before its clock starts, so
the cost is in that call's wall time, never in ``seconds``, and reported in ``FitResult.info``:
``compile_seconds`` (0 when a compiled step was reused), ``compiles`` (graphs compiled by this
module in this process) and ``recompiles_during_fit`` (0: the tests hold it there).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from . import _torch
from ._torch import Params, TorchBackend, mse
from .base import TrainConfig
from .trainer import Problem, Trace, run_epochs

compile_count = 0  # graphs handed to inductor by this module, in this process


PARALLEL_FROM = 32768  # rows; ATen's grain size, below which its own kernels stay serial too


def inductor(config: Mapping[str, object]) -> Callable[..., Callable[..., Any]]:
    """Inductor under ``config``, counting the graphs it is given: recompiles are counted, not guessed."""
    compile_fx: Callable[..., Callable[..., Any]] = torch._dynamo.lookup_backend("inductor")

    def backend(gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Callable[..., Any]:
        global compile_count
        compile_count += 1
        with torch._inductor.config.patch(dict(config)):
            return compile_fx(gm, example_inputs)

    return backend


def step(
    w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """(loss, dL/dw, dL/db) at (w, b), and the parameters after one update."""
    (gw, gb), loss = torch.func.grad_and_value(mse, argnums=(0, 1))(w, b, x, y)
    return loss, gw, gb, w - lr * gw, b - lr * gb


def serial_step(
    w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """``step``, under its own name: dynamo keeps one cache per function, so each variant has its own."""
    return step(w, b, x, y, lr)


def parallel_step(
    w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """``step`` again, for the OpenMP variant."""
    return step(w, b, x, y, lr)


compiled_serial = torch.compile(serial_step, backend=inductor({"cpp.threads": 1}), dynamic=True)
# Inductor's own choice, made at the N of the first call, which is >= PARALLEL_FROM: OpenMP.
compiled_parallel = torch.compile(parallel_step, backend=inductor({}), dynamic=True)


def compiled_step(n: int) -> Callable[..., tuple[torch.Tensor, ...]]:
    """The compiled step for data of n rows."""
    return compiled_parallel if n >= PARALLEL_FROM else compiled_serial


class TorchCompile(TorchBackend):
    """Gradient descent whose epoch is one compiled, fused call."""

    name = "torch-compile"

    def __init__(self) -> None:
        self._info: dict[str, object] = {}

    def fit_info(self) -> dict[str, object]:
        """Compile seconds the last fit paid before its loop (0 if reused), compiles so far, recompiles."""
        return dict(self._info)

    def _prepare(self, prob: Problem, cfg: TrainConfig, device: str) -> Callable[[], Trace[Params]]:
        dt = _torch.dtype(cfg.dtype)
        x = torch.as_tensor(prob.x, dtype=dt, device=device)
        y = torch.as_tensor(prob.y, dtype=dt, device=device)
        lr = torch.tensor([cfg.lr], dtype=dt, device=device)
        w0 = torch.tensor(prob.w0, dtype=dt, device=device)
        b0 = torch.tensor([prob.b0], dtype=dt, device=device)
        stepper = compiled_step(x.shape[0])
        compiled = False

        def compile_step() -> float:
            """Compile by a first call; seconds spent, 0 if dynamo already had a matching graph."""
            compiles, start = compile_count, time.perf_counter()
            stepper(w0, b0, x, y, lr)
            _torch.sync(device)
            return time.perf_counter() - start if compile_count > compiles else 0.0

        def one(p: Params) -> tuple[torch.Tensor, Callable[[], Params]]:
            loss, _, _, w, b = stepper(p[0], p[1], x, y, lr)
            return loss, lambda: (w, b)

        def train() -> Trace[Params]:
            nonlocal compiled
            # The first call compiles before its clock starts: the cost shows in its wall time and
            # in info, never in Trace.seconds.
            compile_seconds = 0.0 if compiled else compile_step()
            compiled = True
            before = compile_count
            trace = run_epochs(one, (w0, b0), cfg, self.read, lambda p: _torch.sync(device))
            self._info = {
                "compile_seconds": compile_seconds,
                "compiles": compile_count,
                "recompiles_during_fit": compile_count - before,
            }
            return trace

        return train

    def _loss_and_grad(
        self, w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray, float]:
        wt, bt, xt, yt, no_lr = (torch.as_tensor(a, dtype=torch.float64) for a in (w, [b], x, y, [0.0]))
        loss, gw, gb, _, _ = compiled_step(len(y))(wt, bt, xt, yt, no_lr)
        return float(loss), gw.numpy(), float(gb)
