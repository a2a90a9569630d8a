"""Data sets bundled with tapegrad, and loading a user's features-and-labels file."""

import csv
import os

import numpy as np

_HERE = os.path.dirname(__file__)


class DataError(ValueError):
    """A data file that cannot be used; the message names the file and the problem."""


def load_digits():
    """The UCI optical handwritten digits (1,797 8×8 images, classes 0–9; CC BY 4.0,
    see tapegrad/data/README.md) as ``(features, labels)``: float64 (1797, 64)
    pixel counts 0–16 and int64 (1797,) classes.

    >>> x, y = tg.datasets.load_digits(); x.shape, int(y.max())
    ((1797, 64), 9)
    """
    with np.load(os.path.join(_HERE, "data", "digits.npz")) as f:
        images, labels = f["images"], f["labels"]
    return images.reshape(len(images), -1).astype(np.float64), labels.astype(np.int64)


def load_table(path, label_column=-1):
    """Features and labels from a CSV file (numeric columns, an optional header row,
    the label in ``label_column``) or a .npz archive (arrays named x/X/features and
    y/labels/target). Labels of any kind are mapped to classes 0..K-1 in sorted
    order. Returns ``(features float64 (N, D), labels int64 (N,), class_names)``."""
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if path.endswith(".npz"):
        x, y = _read_npz(path)
    else:
        x, y = _read_csv(path, label_column)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f"{path}: expected a non-empty table of features, got shape {x.shape}")
    if len(y) != len(x):
        raise DataError(f"{path}: {len(x)} rows of features but {len(y)} labels")
    if not np.isfinite(x).all():
        raise DataError(f"{path}: the features contain NaN or infinite values")
    names, classes = np.unique(y, return_inverse=True)
    if len(names) < 2:
        raise DataError(f"{path}: the labels have {len(names)} distinct value(s); at least 2 "
                        "classes are needed")
    return x.astype(np.float64), classes.astype(np.int64), [str(n) for n in names]


def _read_npz(path):
    try:
        f = np.load(path, allow_pickle=False)
    except Exception as e:  # zipfile/pickle/format errors all mean "not a usable archive"
        raise DataError(f"{path}: not a readable .npz archive ({e})") from None
    with f:
        keys = set(f.files)
        xk = next((k for k in ("x", "X", "features", "data", "images") if k in keys), None)
        yk = next((k for k in ("y", "labels", "target", "label") if k in keys), None)
        if xk is None or yk is None:
            raise DataError(f"{path}: expected arrays named x and y (found {sorted(keys)})")
        x, y = f[xk], f[yk]
    if x.dtype.kind not in "fiub":
        raise DataError(f"{path}: the features must be numeric, got dtype {x.dtype}")
    return x.reshape(len(x), -1).astype(np.float64), np.asarray(y).reshape(-1)


def _read_csv(path, label_column):
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text CSV file") from None
    if not rows:
        raise DataError(f"{path}: the file is empty")
    width = len(rows[0])
    if width < 2:
        raise DataError(f"{path}: expected at least two columns (features and a label)")
    if not -width <= label_column < width:
        raise DataError(f"{path}: label column {label_column} is out of range for {width} "
                        "columns")
    if not all(_is_number(c) for i, c in enumerate(rows[0]) if i != label_column % width):
        rows = rows[1:]  # a header row
    if not rows:
        raise DataError(f"{path}: no data rows after the header")
    features, labels = [], []
    for line, row in enumerate(rows, 1):
        if len(row) != width:
            raise DataError(f"{path}: row {line} has {len(row)} columns, expected {width}")
        label = row[label_column % width].strip()
        values = [c for i, c in enumerate(row) if i != label_column % width]
        try:
            features.append([float(c) for c in values])
        except ValueError:
            bad = next(c for c in values if not _is_number(c))
            raise DataError(f"{path}: row {line} has a non-numeric feature {bad!r}") from None
        labels.append(label)
    y = np.array(labels)
    if all(_is_number(v) for v in labels):
        y = np.array([float(v) for v in labels])
    return np.array(features, dtype=np.float64), y


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False
