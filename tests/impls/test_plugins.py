"""impls.plugins: a function or a backend class from a file, module or entry point, under the contract."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import impls
from impls import plugins
from tests.support.plugins import EXAMPLES, GOOD, isolated, write

X, Y = impls.make_linear(w=0.3, b=0.5, size=100, noise=0.01, seed=0)


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    """Every test starts and ends with the built-in registry only."""
    with isolated():
        yield


def fits_like_numpy_closed(name: str, dtype: str = "float64") -> None:
    cfg = impls.TrainConfig(dtype=dtype)
    got, ref = impls.get_backend(name).fit(X, Y, cfg), impls.get_backend("numpy-closed").fit(X, Y, cfg)
    assert (got.epochs, got.stop_reason, got.dtype) == (ref.epochs, ref.stop_reason, dtype)
    assert got.losses is not None and ref.losses is not None and len(got.losses) == len(ref.losses)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(np.r_[got.w, got.b, got.losses], np.r_[ref.w, ref.b, ref.losses], rtol=rtol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_function_in_a_file_is_a_backend_named_after_the_file(dtype):
    assert plugins.load(str(EXAMPLES / "mygd.py")) == ["mygd"]
    assert "mygd" in impls.backend_names() and impls.shown("mygd") == "mygd (plugin)"
    assert impls.plugin_source("mygd") == str(EXAMPLES / "mygd.py")
    fits_like_numpy_closed("mygd", dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_backend_class_in_a_file_is_registered_under_its_name(dtype):
    assert plugins.load(str(EXAMPLES / "mygd_backend.py")) == ["mygd-inplace"]
    assert isinstance(impls.get_backend("mygd-inplace"), impls.Backend)
    fits_like_numpy_closed("mygd-inplace", dtype)


def test_a_class_whose_framework_is_missing_is_unavailable_not_an_error(tmp_path):
    source = "class Cu:\n    name = 'cu'\n    def __init__(self):\n        import no_such_cupy_gdbench\n"
    source += "    fit = prepare = loss_and_grad = lambda self, *a: None\n"
    assert plugins.load(write(tmp_path, "cu.py", source)) == ["cu"]
    assert "no_such_cupy_gdbench" in str(impls.unavailable_reason("cu"))


def test_the_stop_rule_and_divergence_come_from_the_shared_trainer():
    plugins.load(str(EXAMPLES / "mygd.py"))
    be = impls.get_backend("mygd")
    short = be.fit(X, Y, impls.TrainConfig(epochs=3, tol=0.0, record_history=False))
    assert (short.epochs, short.stop_reason, short.losses) == (3, "max_epochs", None)
    with pytest.warns(RuntimeWarning, match="mygd: gradient descent diverged"):
        assert be.fit(X, Y * 1e3, impls.TrainConfig(lr=5.0, epochs=400)).stop_reason == "diverged"


def test_a_module_and_a_named_function_in_it(tmp_path, monkeypatch):
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    write(tmp_path / "mypkg", "gd.py", GOOD.replace("def loss_and_grad", "def fast_gd"))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert plugins.load("mypkg.gd:fast_gd") == ["fast_gd"]
    fits_like_numpy_closed("fast_gd")


def test_an_installed_distribution_is_found_by_its_entry_point(tmp_path, monkeypatch):
    write(tmp_path, "gdplug_demo.py", GOOD)
    info = tmp_path / "gdplug_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gdplug-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[gdbench.backends]\ndemo-gd = gdplug_demo:loss_and_grad\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert plugins.load_entry_points() == ["demo-gd"]
    assert impls.plugin_source("demo-gd") == "entry point 'demo-gd' (gdplug_demo:loss_and_grad)"
    fits_like_numpy_closed("demo-gd")
    monkeypatch.setenv(plugins.NO_AUTOLOAD, "1")
    assert plugins.load_all([]) == []


def test_loading_twice_is_loading_once_and_two_plugins_cannot_share_a_name(tmp_path):
    spec = write(tmp_path, "mygd.py", GOOD)
    assert plugins.load(spec) == plugins.load(spec) == ["mygd"]
    (tmp_path / "other").mkdir()
    with pytest.raises(plugins.PluginError, match="'mygd' is already registered by"):
        plugins.load(write(tmp_path / "other", "mygd.py", GOOD))


def test_a_child_process_is_handed_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "mygd.py", GOOD)
    plugins.load("mygd.py")
    assert plugins.specs_for_child() == str(tmp_path.resolve() / "mygd.py")


BAD = {
    "missing": (None, "no such file"),
    "syntax": ("def loss_and_grad(w, b, x, y)\n    return 0\n", "syntax error in .*syntax.py, line 1"),
    "imports": ("import no_such_gdbench\n", "ModuleNotFoundError: No module named 'no_such_gdbench'"),
    "signature": ("def loss_and_grad(w, b, x):\n    return 0\n", r"loss_and_grad\(w, b, x\) has the wrong"),
    "empty": ("VALUE = 1\n", "defines neither a function loss_and_grad"),
    "numpy-closed": (GOOD, "'numpy-closed' clashes with the built-in backend"),
    "my gd,2": (GOOD, "backend name 'my gd,2' must be letters, digits"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_plugin_is_one_line_naming_what_is_wrong(case, tmp_path):
    source, message = BAD[case]
    spec = str(tmp_path / f"{case}.py") if source is None else write(tmp_path, f"{case}.py", source)
    with pytest.raises(plugins.PluginError, match=message) as e:
        plugins.load(spec)
    assert "\n" not in str(e.value)
    assert sorted(impls.backend_names()) == sorted(impls.registry.BUILTIN)


def test_a_name_not_found_says_what_the_file_defines(tmp_path):
    with pytest.raises(plugins.PluginError, match=r"no 'nope' in good\.py; it defines loss_and_grad"):
        plugins.load(write(tmp_path, "good.py", GOOD) + ":nope")
    with pytest.raises(plugins.PluginError, match="no module named 'no_such_pkg'"):
        plugins.load("no_such_pkg.gd")


RETURNS = {
    "nan": ("return np.nan * r.sum(), 2 * (r @ x) / n, 2 * r.mean()", "NaN in loss"),
    "shape": ("return r @ r / n, np.zeros(3), 2 * r.mean()", r"dL/dw of shape \(3,\); it must be \(d,\)"),
    "dtype": ("return r @ r / n, (2 * (r @ x) / n).astype(np.float16), 2 * r.mean()", "dL/dw as float16"),
    "arity": ("return r @ r / n, 2 * (r @ x) / n", r"must return \(loss, dL/dw, dL/db\), got a tuple of 2"),
    "vector": ("return r @ r / n, 2 * (r @ x) / n, 2 * r[:1].mean(keepdims=True)", r"dL/db of shape \(1,\)"),
    "int": ("return 1, 2 * (r @ x) / n, 2 * r.mean()", "loss as int64"),
    "float64": ("return r @ r / n, 2 * (r @ x) / n, np.float64(2 * r.mean())", "dL/db as float64"),
}


@pytest.mark.parametrize("case", RETURNS)
def test_a_wrong_result_is_refused_naming_the_plugin(case, tmp_path):
    body, message = RETURNS[case]
    head = "import numpy as np\ndef loss_and_grad(w, b, x, y):\n    n = len(y)\n    r = x @ w + b - y\n"
    source = f"{head}    {body}\n"
    plugins.load(write(tmp_path, "wrong.py", source))
    be = impls.get_backend("wrong")
    with pytest.raises(plugins.PluginError, match=f"plugin 'wrong' .*: loss_and_grad (returned )?{message}"):
        be.fit(X, Y, impls.TrainConfig(dtype="float32" if case == "float64" else "float64"))
    if case != "float64":  # loss_and_grad works in float64, where np.float64 is right
        with pytest.raises(plugins.PluginError, match=message):
            be.loss_and_grad([0.1], 0.2, X, Y)


def test_a_plugin_is_never_imported_twice_under_two_names(tmp_path):
    spec = write(tmp_path, "mygd.py", GOOD)
    plugins.load(spec)
    assert sum(m.startswith(plugins._PREFIX + "mygd") for m in sys.modules) == 1
    assert Path(spec).is_file()
