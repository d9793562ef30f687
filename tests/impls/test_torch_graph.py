"""The tutorial's rebinding update grows the autograd graph; the in-place idiom does not."""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch", reason="torch not installed")

import impls  # noqa: E402
from impls.torch_autograd import TorchAutograd, graph_depth  # noqa: E402
from impls.torch_nograd import TorchNograd  # noqa: E402


def params_after(backend: type, epochs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Drive a backend's own epoch function for ``epochs`` updates and return (w, b)."""
    x, y = (torch.from_numpy(a) for a in impls.make_linear(size=50))
    x = x.reshape(-1, 1)
    step = backend.make_step(x, y, 0.1)
    p = (
        torch.tensor([0.1], dtype=torch.float64, requires_grad=True),
        torch.tensor(0.2, dtype=torch.float64, requires_grad=True),
    )
    for _ in range(epochs):
        _, update = step(p)
        p = update()
    return p


def test_autograd_chain_behind_w_lengthens_every_epoch():
    depths = [graph_depth(params_after(TorchAutograd, k)[0]) for k in (0, 1, 5, 10, 20)]
    assert depths[0] == 0  # a leaf
    assert all(a < b for a, b in itertools.pairwise(depths))
    per_epoch = (depths[4] - depths[3]) / 10
    assert per_epoch == (depths[3] - depths[2]) / 5 >= 1  # a constant number of links per epoch
    w, _ = params_after(TorchAutograd, 20)
    assert not w.is_leaf and w.requires_grad


def test_nograd_keeps_leaves():
    w, b = params_after(TorchNograd, 20)
    assert w.is_leaf and b.is_leaf and graph_depth(w) == 0 and w.grad is None
