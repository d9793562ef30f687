"""Each backend's own gradient against the hand-derived formula and central differences."""

from __future__ import annotations

import numpy as np
import pytest

import impls
from tests.support.backends import build

DATASETS = [
    impls.make_linear(size=100, seed=0),
    impls.make_linear(w=[0.3, -1.2, 2.0], b=-0.4, size=57, noise=0.2, seed=1),
    impls.make_linear(w=5.0, b=3.0, size=1000, noise=1.0, seed=2),
]


def formula(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, float]:
    """The hand-derived float64 loss and gradient of the mean squared error."""
    xs = x.reshape(len(y), -1)
    r = xs @ w + b - y
    return float(np.mean(r**2)), 2 * (r @ xs) / len(y), float(2 * r.mean())


def points(d: int, count: int = 4) -> list[tuple[np.ndarray, float]]:
    """Random (w, b) at several scales, seeded."""
    rng = np.random.default_rng(d)
    return [(rng.normal(scale=s, size=d), float(rng.normal(scale=s))) for s in (0.1, 1, 3, 10)[:count]]


@pytest.mark.parametrize("data", DATASETS, ids=["tutorial", "d3", "noisy"])
def test_loss_and_grad_matches_formula(kept, backend_name, data):
    backend = kept.get(backend_name) or kept.setdefault(backend_name, build(backend_name))
    x, y = data
    for w, b in points(x.reshape(len(y), -1).shape[1]):
        loss, gw, gb = backend.loss_and_grad(w, b, x, y)
        ref_loss, ref_gw, ref_gb = formula(w, b, x, y)
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        np.testing.assert_allclose(gw, ref_gw, rtol=1e-11, atol=1e-12)
        assert gb == pytest.approx(ref_gb, rel=1e-11, abs=1e-12)


@pytest.mark.parametrize("data", DATASETS, ids=["tutorial", "d3", "noisy"])
def test_loss_and_grad_matches_central_differences(kept, backend_name, data):
    backend = kept.get(backend_name) or kept.setdefault(backend_name, build(backend_name))
    x, y = data
    d = x.reshape(len(y), -1).shape[1]
    for w, b in points(d, count=2):
        _, gw, gb = backend.loss_and_grad(w, b, x, y)
        h = 1e-5
        # The loss is quadratic, so central differences are exact up to rounding.
        for i in range(d):
            e = np.eye(d)[i] * h
            num = (backend.loss_and_grad(w + e, b, x, y)[0] - backend.loss_and_grad(w - e, b, x, y)[0]) / (
                2 * h
            )
            assert gw[i] == pytest.approx(num, rel=1e-6, abs=1e-8)
        num_b = (backend.loss_and_grad(w, b + h, x, y)[0] - backend.loss_and_grad(w, b - h, x, y)[0]) / (
            2 * h
        )
        assert gb == pytest.approx(num_b, rel=1e-6, abs=1e-8)


def test_a_wrong_gradient_is_caught():
    """The checks above can fail: a gradient off by 1e-6 relative does not pass."""
    x, y = DATASETS[1]
    w, b = points(3)[1]
    _, gw, _ = formula(w, b, x, y)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(gw * (1 + 1e-6), formula(w, b, x, y)[1], rtol=1e-11, atol=1e-12)


def test_torch_gradcheck():
    torch = pytest.importorskip("torch", reason="torch not installed")
    from impls._torch import mse

    x, y = (torch.from_numpy(a) for a in DATASETS[1])
    w = torch.randn(3, dtype=torch.float64, requires_grad=True, generator=torch.Generator().manual_seed(0))
    b = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w, b: mse(w, b, x, y), (w, b))
    assert torch.autograd.gradgradcheck(lambda w, b: mse(w, b, x, y), (w, b))


def test_jax_check_grads():
    pytest.importorskip("jax", reason="jax not installed")
    import jax.numpy as jnp
    from jax.test_util import check_grads

    from impls import _jax

    x, y = DATASETS[1]
    with _jax.precision("float64"):
        xs, ys = jnp.asarray(x), jnp.asarray(y)
        w, b = jnp.asarray([0.2, -0.5, 1.0]), jnp.asarray(0.3)
        check_grads(lambda w, b: _jax.mse(w, b, xs, ys), (w, b), order=2, modes=["fwd", "rev"])
