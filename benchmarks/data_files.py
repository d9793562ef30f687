"""The user's own data from a file: feature columns and y, with one clear error for a bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import UsageError

FORMATS = (
    ".npy (a 2-D array: feature columns, then y last), .npz (arrays x and y, or one 2-D array as for "
    ".npy), .csv (numbers, comma-separated, y in the last column, an optional header line)"
)


def load_xy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(x of shape (n, d), y of shape (n,)) in float64 from ``path``; UsageError naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no such data file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            x, y = _split(np.load(path, allow_pickle=False), path)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if "x" in z and "y" in z:
                    x, y = np.asarray(z["x"], dtype=np.float64), np.asarray(z["y"], dtype=np.float64)
                elif len(z.files) == 1:
                    x, y = _split(z[z.files[0]], path)
                else:
                    raise UsageError(f"{path}: an .npz needs arrays 'x' and 'y' (found {', '.join(z.files)})")
        elif suffix == ".csv":
            x, y = _split(_csv(path), path)
        else:
            raise UsageError(f"{path}: unknown data format {suffix or '(none)'}; use {FORMATS}")
    except (OSError, ValueError, EOFError) as e:
        raise UsageError(f"{path}: not readable as {suffix} data: {e}") from None
    x = x.reshape(len(x), -1) if x.ndim == 1 else x
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise UsageError(f"{path}: x must be (n, d) and y (n,), got {x.shape} and {y.shape}")
    if len(y) < 2:
        raise UsageError(f"{path}: needs at least 2 rows, got {len(y)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise UsageError(f"{path}: holds NaN or infinite values")
    return x, y


def _split(a: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise UsageError(f"{path}: expected a 2-D array, feature columns and y last; got shape {arr.shape}")
    return arr[:, :-1], arr[:, -1]


def _csv(path: Path) -> np.ndarray:
    lines = path.read_text().strip().splitlines()
    if not lines:
        raise UsageError(f"{path}: empty file")
    try:
        float(lines[0].split(",")[0])
        skip = 0
    except ValueError:
        skip = 1  # a header line
    return np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
