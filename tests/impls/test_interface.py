"""Configuration, data generation, the registry, and bad input: clear errors before any framework."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import impls
from impls.trainer import BackendBase, Problem, Trace
from tests.support.backends import build


def test_make_linear_is_seeded_float64_and_shaped():
    x, y = impls.make_linear()
    assert x.shape == (100,) and y.shape == (100,) and x.dtype == y.dtype == np.float64
    assert np.all((x >= 0) & (x < 1))
    assert np.all(np.abs(y - (0.3 * x + 0.5)) <= 0.01)
    x2, y2 = impls.make_linear()
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(impls.make_linear(seed=1)[0], x)
    xd, yd = impls.make_linear(w=[1.0, 2.0, 3.0], b=0.0, size=10, noise=0.0)
    assert xd.shape == (10, 3)
    np.testing.assert_allclose(yd, xd @ [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0}, "size"),
        ({"size": -5}, "size"),
        ({"noise": -1.0}, "noise"),
        ({"w": []}, "w must"),
        ({"w": float("nan")}, "w must"),
    ],
)
def test_make_linear_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        impls.make_linear(**kwargs)


def test_config_defaults_are_the_tutorials():
    cfg = impls.TrainConfig()
    assert (cfg.lr, cfg.epochs, cfg.tol, cfg.init, cfg.seed) == (0.1, 500, 5e-5, None, 0)
    assert (cfg.dtype, cfg.device, cfg.record_history) == ("float64", "cpu", True)
    with pytest.raises(AttributeError):
        cfg.lr = 0.2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": float("inf")}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"tol": -1e-3}, "tol"),
        ({"tol": "0.1"}, "tol"),
        ({"lr": "0.1"}, "lr"),
        ({"lr": True}, "lr"),
        ({"dtype": "float16"}, "float32, float64"),
        ({"device": "tpu"}, "cpu, cuda, auto"),
        ({"init": (1.0,)}, "init"),
        ({"init": ([1.0, float("nan")], 0.0)}, "init"),
        ({"init": ("abc", 0.0)}, "init must be None or"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        impls.TrainConfig(**kwargs)


def test_init_is_shared_and_seeded():
    a = impls.TrainConfig(seed=3).initial_params(2)
    b = impls.TrainConfig(seed=3).initial_params(2)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1] and np.all((a[0] >= 0) & (a[0] < 1))
    w0, b0 = impls.TrainConfig(init=(0.5, 0.25)).initial_params(1)
    np.testing.assert_array_equal(w0, [0.5])
    assert b0 == 0.25
    given = impls.TrainConfig(init=(np.array([1, 2]), 3))
    assert given.init == ((1.0, 2.0), 3.0) and hash(given)  # normalised: plain floats, hashable


def test_unknown_backend_lists_valid_names():
    with pytest.raises(ValueError, match="unknown backend 'nope'") as err:
        impls.get_backend("nope")
    for name in impls.backend_names():
        assert name in str(err.value)


def test_registry_holds_the_contract_names():
    assert {"torch-autograd", "torch-nograd", "jax-grad", "numpy-closed"} <= set(impls.backend_names())
    assert "numpy-closed" in impls.available_backends()


X, Y = impls.make_linear(size=20, seed=0)
BAD_INPUTS = [
    ("lengths", X, Y[:-1], None, "different lengths: 20 and 19"),
    ("empty", np.array([]), np.array([]), None, "empty"),
    ("nan in x", np.where(np.arange(20) == 4, np.nan, X), Y, None, r"x has 1 non-finite .* at \(4,\)$"),
    ("inf in y", X, np.where(np.arange(20) == 2, np.inf, Y), None, r"y has 1 non-finite .* at \(2,\)$"),
    ("y empty", X, np.array([]), None, "data is empty"),
    ("no features", np.zeros((20, 0)), Y, None, "data is empty"),
    ("y 2-D", X, Y.reshape(20, 1), None, "y must be 1-D"),
    ("x 3-D", X.reshape(20, 1, 1), Y, None, "x must be 1-D .* or 2-D"),
    ("init size", X.reshape(20, 1), Y, ([0.1, 0.2], 0.0), "init has 2 weight"),
    ("not numeric", ["a"] * 20, Y, None, "x must be numeric"),
    ("y not numeric", X, ["a"] * 20, None, "y must be numeric"),
]


@pytest.mark.parametrize(("case", "x", "y", "init", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_clear_value_error(backend_name, case, x, y, init, message):
    backend = build(backend_name)
    with pytest.raises(ValueError, match=message):
        backend.fit(x, y, impls.TrainConfig(init=init, epochs=5))
    if init is None:
        with pytest.raises(ValueError, match=message):
            backend.loss_and_grad(np.zeros(1), 0.0, x, y)


def test_loss_and_grad_rejects_wrong_w_size(backend_name):
    with pytest.raises(ValueError, match="w has 2 value"):
        build(backend_name).loss_and_grad([0.1, 0.2], 0.0, X, Y)


class _Overflowing(BackendBase):
    """A loop whose final update overflows, after the last loss it checked was finite."""

    name = "test-overflowing"
    framework = "numpy"

    def read(self, params):
        return params

    def _prepare(self, prob: Problem, cfg, device):
        return lambda: Trace((np.array([np.inf]), 0.0), 1.0, cfg.epochs, "max_epochs", None, None, None, 0.1)

    def _loss_and_grad(self, w, b, x, y):
        raise NotImplementedError


@pytest.mark.parametrize(
    ("w", "b", "message"),
    [
        ("abc", 0.0, "^w must be numeric"),
        ([0.1], "abc", "^b must be numeric"),
        ([0.1], [0.2, 0.3], "^b must be a scalar"),
        ([np.nan], 0.0, "^w and b must be finite$"),
        ([0.1], np.inf, "^w and b must be finite$"),
    ],
)
def test_loss_and_grad_rejects_bad_parameters(backend_name, w, b, message):
    with pytest.raises(ValueError, match=message):
        build(backend_name).loss_and_grad(w, b, X, Y)


def test_loss_and_grad_takes_w_as_a_number_or_a_sequence(backend_name):
    backend = build(backend_name)
    for w, b in ((0.1, 0.2), ([0.1], [0.2]), (np.array([[0.1]]), np.float32(0.2))):
        loss, gw, gb = backend.loss_and_grad(w, b, X, Y)
        r = 0.1 * X + float(np.float32(0.2) if isinstance(b, np.float32) else 0.2) - Y
        assert loss == pytest.approx(np.mean(r**2), rel=1e-12) and gw.shape == (1,)
        assert gb == pytest.approx(2 * r.mean(), rel=1e-12)


def test_one_sample_is_enough_data(backend_name):
    if backend_name in ("torch-ddp", "jax-sharded"):
        pytest.skip(f"{backend_name} splits the samples over 2 workers by default: it needs 2")
    got = build(backend_name).fit([0.5], [2.0], impls.TrainConfig(epochs=3, tol=0))
    assert got.epochs == 3 and got.losses.shape == (3,)


class _Recorder(BackendBase):
    """A backend that claims a GPU: records the device its loop was prepared for."""

    name = "test-recorder"
    framework = "numpy"

    def __init__(self) -> None:
        self.prepared_for: list[str] = []

    def devices(self):
        return ["cpu", "cuda"]

    def read(self, params):
        return params

    def _prepare(self, prob: Problem, cfg, device):
        self.prepared_for.append(device)
        return lambda: Trace((prob.w0, prob.b0), 1.0, 0, "max_epochs", None, None, None, 0.1)

    def _loss_and_grad(self, w, b, x, y):
        raise NotImplementedError


@pytest.mark.parametrize(("asked", "used"), [("auto", "cuda"), ("cuda", "cuda"), ("cpu", "cpu")])
def test_the_resolved_device_reaches_the_loop_and_the_result(asked, used):
    backend = _Recorder()
    got = backend.fit(X, Y, impls.TrainConfig(device=asked))
    assert backend.prepared_for == [used] and got.device == used
    assert backend.resolve_device(asked) == used


def test_a_device_the_backend_cannot_use_is_refused_with_the_usable_ones():
    with pytest.raises(ValueError, match=r"^numpy-closed: device 'cuda' requested but not available here "
                                         r"\(usable: cpu\)$"):
        impls.get_backend("numpy-closed").resolve_device("cuda")
    assert impls.get_backend("numpy-closed").resolve_device("auto") == "cpu"
    with pytest.raises(ValueError, match=r"\(usable: cpu, cuda\)$"):
        _Recorder().resolve_device("mps")


def test_fit_without_a_config_uses_the_tutorials():
    backend = impls.get_backend("numpy-closed")
    x, y = impls.make_linear()
    got, ref = backend.fit(x, y), backend.fit(x, y, impls.TrainConfig())
    np.testing.assert_array_equal(got.losses, ref.losses)
    assert (got.epochs, got.stop_reason, got.dtype, got.device) == (ref.epochs, "tol", "float64", "cpu")


def test_the_readmes_tutorial_row_is_what_numpy_closed_prints():
    # README, "Reproduce the tutorial": numpy-closed's row of `make run` with the defaults.
    got = impls.get_backend("numpy-closed").fit(*impls.make_linear())
    assert (f"{got.w[0]:.6g}", f"{got.b:.6g}", f"{got.loss:.3e}", got.epochs, got.stop_reason) == (
        "0.317921", "0.490258", "4.972e-05", 246, "tol")


def test_non_finite_parameters_after_the_last_epoch_count_as_diverged():
    with pytest.warns(RuntimeWarning, match="test-overflowing: gradient descent diverged"):
        got = _Overflowing().fit(X, Y, impls.TrainConfig(epochs=3))
    assert got.stop_reason == "diverged"


def test_a_watcher_is_told_every_epoch_and_its_loss_in_the_block_only():
    from impls.trainer import watch

    x, y = impls.make_linear(size=50, seed=3)
    cfg = impls.TrainConfig(epochs=6, tol=0.0)
    told: list[tuple[int, float]] = []
    with watch(lambda epoch, loss: told.append((epoch, loss))):
        res = impls.get_backend("numpy-closed").fit(x, y, cfg)
    assert res.losses is not None
    assert told == [(i + 1, float(loss)) for i, loss in enumerate(res.losses)]  # epochs 1..6, in order
    impls.get_backend("numpy-closed").fit(x, y, cfg)
    assert len(told) == 6  # outside the block nobody is told


def test_a_fit_result_reads_in_one_line_with_its_history_as_a_length():
    res = impls.FitResult(
        w=np.arange(10.0), b=0.5, loss=0.25, epochs=3, stop_reason="tol", losses=np.ones(3), ws=None,
        bs=None, seconds=0.123456, backend="numpy-closed", device="cpu", dtype="float32", info={"k": 1},
    )  # fmt: skip
    assert repr(res) == (
        "FitResult(backend='numpy-closed', w=[0. 1. 2. ... 7. 8. 9.], b=0.5, loss=0.25, epochs=3, "
        "stop_reason='tol', seconds=0.1235, device='cpu', dtype='float32', history=3 epochs, info={'k': 1})"
    )
    res.losses = None
    assert "history=none, " in repr(res)
    res.w = np.arange(7.0)  # more than 6 weights are shortened
    assert ", w=[0. 1. 2. ... 4. 5. 6.], " in repr(res)


def test_the_divergence_warning_names_the_users_line():
    x, y = impls.make_linear(size=20)
    cfg = impls.TrainConfig(lr=1e4, epochs=60)
    backend = impls.get_backend("numpy-closed")
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        backend.fit(x, y, cfg)
        run = backend.prepare(x, y, cfg)
        run()
    assert [(w.filename, w.lineno) for w in got] == [(__file__, line), (__file__, line + 2)]
    assert "numpy-closed: gradient descent diverged" in str(got[0].message)


def test_the_version_of_a_numpy_backend_is_numpys():
    assert impls.get_backend("numpy-closed").version() == np.__version__


def test_import_impls_needs_neither_torch_nor_jax():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # makes `import torch` raise ImportError
        sys.modules["jax"] = None
        import impls
        x, y = impls.make_linear()
        res = impls.get_backend("numpy-closed").fit(x, y)
        assert res.stop_reason == "tol", res
        for name in ("torch-nograd", "jax-grad"):
            try:
                impls.get_backend(name)
            except impls.BackendUnavailable as e:
                assert "torch" in str(e) or "jax" in str(e), e
            else:
                raise SystemExit(f"{name} built without its framework")
            assert impls.unavailable_reason(name)
        print("ok", sorted(impls.available_backends()))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "numpy-closed" in out.stdout and "torch-nograd" not in out.stdout
