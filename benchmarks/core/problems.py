"""The problems ``gdbench check`` judges gradients on: seeded easy ones, hard families, or a user's file.

Each case is a point (w, b) on a data set (x, y), labelled with where it comes from. The hard
families are the inputs a user meets and well-conditioned data never show: polynomial features
of high degree on [-1, 1] (condition numbers up to ~1e18), columns of scales 1e-6 to 1e6, N ≫ d
and N close to d, each at random points, far from the optimum and at the least-squares optimum.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import impls
from benchmarks.core.files import UsageError
from impls.checks import as_xy

FAMILIES = ("seeded", "polynomial", "scales", "tall", "square")
DATA_FORMATS = (
    ".npy: one 2-D array, the feature columns then y as the last column; "
    ".npz: arrays named x ((n,) or (n, d)) and y ((n,)), or a single 2-D array as for .npy; "
    ".csv: comma-separated numbers, the feature columns then y, an optional header line"
)


@dataclass(frozen=True)
class Case:
    """One point (w, b) on one data set (x, y), float64, x of shape (n, d)."""

    family: str
    label: str
    w: np.ndarray
    b: float
    x: np.ndarray
    y: np.ndarray


def optimum(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The least-squares (w, b) for y ≈ x·w + b (minimum norm where it is not unique)."""
    sol = np.linalg.lstsq(np.c_[x, np.ones(len(y))], y, rcond=None)[0]
    return sol[:-1], float(sol[-1])


def seeded(datasets: int, points: int) -> list[Case]:
    """Seeded well-conditioned data (1-500 points, 1-5 features, scales 0.1-10), random points."""
    out = []
    for i in range(datasets):
        rng = np.random.default_rng([i, 7])
        d, n = 1 + i % 5, (1, 7, 100, 500)[i % 4]
        x, y = impls.make_linear(w=list(rng.normal(size=d)), b=float(rng.normal()), size=n, noise=0.1, seed=i)
        x = x.reshape(n, d) * (10.0 ** (i % 3 - 1))
        for k in range(points):
            w, b = rng.normal(scale=2.0, size=d), float(rng.normal(scale=2.0))
            out.append(Case("seeded", f"data set {i} (n={n}, d={d}) point {k}", w, b, x, y))
    return out


def around(family: str, name: str, x: np.ndarray, y: np.ndarray, scale: np.ndarray, seed: int) -> list[Case]:
    """A random point, a point far away, and the optimum; ``scale`` is each column's typical size."""
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    w_opt, b_opt = optimum(x, y)
    far = float(np.max(np.abs(w_opt * scale), initial=1.0)) * 1e6
    return [
        Case(family, f"{name} random point", rng.normal(size=d) / scale, float(rng.normal()), x, y),
        Case(family, f"{name} far point", rng.normal(scale=far, size=d) / scale, far * rng.normal(), x, y),
        Case(family, f"{name} at the optimum", w_opt, b_opt, x, y),
    ]


def polynomial(m: int, n: int, seed: int) -> list[Case]:
    """Features t, t², …, t^(m-1) of a uniform grid t on [-1, 1]: nearly singular for large m."""
    t = np.linspace(-1.0, 1.0, n)
    x = t[:, None] ** np.arange(1, m)
    y = np.sin(3 * t) + 0.1 * np.cos(17 * t) + 0.01 * np.random.default_rng(seed).normal(size=n)
    return around("polynomial", f"degree {m - 1} (n={n})", x, y, np.ones(m - 1), seed)


def scales(n: int, seed: int) -> list[Case]:
    """Columns of scales 1e-6 … 1e6 with a signal in each."""
    rng = np.random.default_rng(seed)
    s = 10.0 ** np.arange(-6, 7, 3)
    x = rng.normal(size=(n, s.size)) * s
    y = x @ (rng.normal(size=s.size) / s) + 0.3 + 0.1 * rng.normal(size=n)
    return around("scales", f"scales 1e-6..1e6 (n={n})", x, y, s, seed)


def shaped(family: str, n: int, d: int, seed: int) -> list[Case]:
    """A plain linear problem of n samples and d features (N ≫ d, or N close to d)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = x @ rng.normal(size=d) - 0.5 + 0.1 * rng.normal(size=n)
    return around(family, f"n={n}, d={d}", x, y, np.ones(d), seed)


def hard(names: tuple[str, ...] = FAMILIES[1:]) -> list[Case]:
    """The hard families named in ``names``."""
    makers = {
        "polynomial": lambda: polynomial(8, 50, 1) + polynomial(32, 200, 2) + polynomial(128, 1000, 3),
        "scales": lambda: scales(300, 4),
        "tall": lambda: shaped("tall", 20000, 3, 5),
        "square": lambda: shaped("square", 13, 12, 6) + shaped("square", 12, 12, 7),
    }
    return [c for name in names for c in makers[name]()]


def from_file(path: str) -> list[Case]:
    """Cases on the user's data: zero, a random point, a far point, and the least-squares optimum."""
    x, y = load(path)
    try:
        x, y = as_xy(x, y)
    except ValueError as e:
        raise UsageError(f"--data {path}: {e}") from None
    name = Path(path).name
    scale = np.maximum(np.sqrt(np.mean(x * x, axis=0)), 1e-300)
    zero = Case("data", f"{name} at w = 0, b = 0", np.zeros(x.shape[1]), 0.0, x, y)
    return [zero, *around("data", name, x, y, scale, 0)]


def shape(path: str) -> tuple[int, int, bool] | None:
    """(N, d, is CSV) of a data file read from its headers alone, so its size is known before loading.

    A CSV's rows are estimated from its size and its first line. None when the file cannot tell
    (unknown format, unreadable): then ``load`` says what is wrong.
    """
    p = Path(path)
    try:
        if p.suffix.lower() == ".npy":
            return (*_rows_cols(np.load(p, mmap_mode="r").shape), False)
        if p.suffix.lower() == ".npz":
            with zipfile.ZipFile(p) as z:
                shapes = {Path(name).stem: _npy_header(z, name) for name in z.namelist()}
            if "x" in shapes and "y" in shapes:
                x = shapes["x"]
                return int(x[0]) if x else 1, int(np.prod(x[1:])) if len(x) > 1 else 1, False
            return (*_rows_cols(next(iter(shapes.values()))), False) if len(shapes) == 1 else None
        if p.suffix.lower() == ".csv":
            with p.open() as f:
                first = next((line for line in f if line.strip()), "")
            columns = len(first.split(","))
            return max(1, p.stat().st_size // max(1, len(first))), max(1, columns - 1), True
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, StopIteration, KeyError):
        return None  # load says what is wrong with it
    return None


def _npy_header(z: zipfile.ZipFile, name: str) -> tuple[int, ...]:
    """The shape in an .npz member's header."""
    with z.open(name) as f:
        fmt = np.lib.format
        read = fmt.read_array_header_1_0 if fmt.read_magic(f) == (1, 0) else fmt.read_array_header_2_0
        return tuple(read(f)[0])


def _rows_cols(shape: tuple[int, ...]) -> tuple[int, int]:
    """(N, d) of one array holding x's columns and y as its last."""
    if len(shape) != 2 or shape[1] < 2:
        raise ValueError("not x and y in columns")
    return int(shape[0]), int(shape[1]) - 1


def load(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) from a .npy, .npz or .csv file (DATA_FORMATS); UsageError in one line if unusable."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".npz", ".csv"):
        raise UsageError(f"--data {path}: unknown format {suffix or '(no suffix)'!r}; use .npy, .npz or .csv")
    if not p.is_file():
        raise UsageError(f"--data {path}: no such file")
    try:
        if suffix == ".csv":
            return _split(_csv(p), path)
        got = np.load(p, allow_pickle=False)
        if isinstance(got, np.ndarray):
            return _split(got, path)
        with got:
            if "x" in got.files and "y" in got.files:
                return got["x"], got["y"]
            if len(got.files) == 1:
                return _split(got[got.files[0]], path)
        found = ", ".join(got.files) or "no arrays"
        raise UsageError(f"--data {path}: an .npz needs arrays named x and y, found {found}")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        why = str(e).splitlines()[0] if str(e) else repr(e)
        raise UsageError(f"--data {path}: cannot read it: {why}") from None


def _csv(p: Path) -> np.ndarray:
    """The numbers of a CSV file, skipping one header line that is not numeric."""
    with p.open(newline="") as f:
        rows = [row for row in csv.reader(f) if row and any(c.strip() for c in row)]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]
    if len({len(r) for r in rows}) > 1:
        raise ValueError("rows have different numbers of columns")
    try:
        return np.array([[float(c) for c in r] for r in rows], dtype=np.float64)
    except ValueError as e:
        raise ValueError(f"not a number: {e}") from None


def _numeric(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def _split(table: np.ndarray, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Feature columns and y (the last column) of a 2-D table."""
    if table.ndim != 2 or table.shape[1] < 2 or table.shape[0] < 1:
        raise UsageError(
            f"--data {path}: expected a table of n rows and at least 2 columns (features, then y), "
            f"got shape {table.shape}"
        )
    return table[:, :-1], table[:, -1]
