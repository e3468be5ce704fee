"""A CSV file as a network's data: feature columns and a label column.

``file`` is relative to the scenario's folder. ``label`` names the target column: for
``task = "classification"`` (the default) its cells are classes, either integers 0, 1, 2, ...
or names (sorted, then numbered from 0); for ``task = "regression"`` numbers. ``columns`` lists
the feature columns (default: every other column). The rows are shuffled with ``seed`` and the
first ``train_fraction`` of them train.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..limits import MAX_CLASSES
from ..validate import Table
from .dataset import MAX_POINTS, Dataset, split
from .sources import csv_path, numeric_column, read_csv

KEYS = ("file", "label", "columns", "delimiter", "task", "seed", "train_fraction")


def build(t: Table, base_dir: Path, source: str, name: str) -> Dataset:
    """The [data] table of source "csv"."""
    file = t.string("file", what="a path to a CSV file (relative to the scenario's folder)")
    label = t.string("label", what="the name of the label column")
    delimiter = t.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise t.expected("delimiter", "one character, e.g. \";\"")
    task = t.choice("task", ("classification", "regression"), "classification")
    seed = t.seed("seed", 1)
    fraction = t.number("train_fraction", 0.8, 0.0, 1.0, low_open=True, high_open=True)
    path = csv_path(file, base_dir, t.at("file"))
    header, rows = read_csv(path, delimiter, t.at("file"), MAX_POINTS)
    if label not in header:
        raise t.fail("label", f"no column '{label}' in {file} (columns: {', '.join(header)})")
    columns = t.get("columns", [h for h in header if h != label])
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        raise t.expected("columns", "a list of column names")
    for c in columns:
        if c not in header:
            raise t.fail("columns", f"no column '{c}' in {file} (columns: {', '.join(header)})")
        if c == label:
            raise t.fail("columns", f"'{c}' is the label column")
    X = np.column_stack([numeric_column(path, header, rows, header.index(c)) for c in columns])
    j = header.index(label)
    class_names, where = None, {}
    if task == "regression":
        y = numeric_column(path, header, rows, j)[:, None]
        n_classes = None
    else:
        y, class_names, where = _classes(t, path, file, header, rows, j)
        n_classes = int(y.max()) + 1
    X_tr, y_tr, X_te, y_te = split(X, y, np.random.default_rng(seed), fraction,
                                   t.at("train_fraction"))
    span = [(float(X[:, i].min()), float(X[:, i].max())) for i in range(X.shape[1])]
    pad = [max(0.05 * (hi - lo), 0.5 if hi == lo else 0.0) for lo, hi in span]
    kind = "regression" if n_classes is None else f"{n_classes} classes"
    description = (f"csv: {file}, {len(rows)} rows, features {', '.join(columns)}, label "
                   f"'{label}' ({kind}); {len(y_tr)} for training, {len(y_te)} for testing "
                   f"(shuffled with seed {seed}).")
    return Dataset("csv", description, X_tr, y_tr, X_te, y_te, list(columns), n_classes,
                   raw_names=list(columns), raw_train=X_tr, raw_test=X_te,
                   class_names=class_names,
                   input_range=[(lo - p, hi + p) for (lo, hi), p in zip(span, pad, strict=True)],
                   label_where=where)


def _classes(t: Table, path: Path, file: str, header: list[str],
             rows: list[tuple[int, list[str]]], j: int
             ) -> tuple[np.ndarray, list[str] | None, dict[int, str]]:
    """Labels (N,) ints from the label column: integers >= 0 as they are, else names sorted."""
    cells = [row[j].strip() for _, row in rows]
    numbers: list[float] = []
    for cell in cells:
        try:
            numbers.append(float(cell))
        except ValueError:
            break
    if len(numbers) == len(cells):
        for k, v in enumerate(numbers):
            if not (v >= 0 and v == int(v)):
                raise t.fail("label", f"line {rows[k][0]} of {file}, column '{header[j]}': "
                             f"{cells[k]!r} is not a class (classes are integers 0, 1, 2, ... "
                             "or names)")
            if v >= MAX_CLASSES:
                raise t.fail("label", f"line {rows[k][0]} of {file}: class {cells[k]}; at most "
                             f"{MAX_CLASSES} classes (0 to {MAX_CLASSES - 1})")
        y = np.array(numbers, dtype=np.intp)
        names = None
    else:
        names = sorted(set(cells))
        if len(names) > MAX_CLASSES:
            raise t.fail("label", f"at most {MAX_CLASSES} classes, got {len(names)} names")
        index = {n: i for i, n in enumerate(names)}
        y = np.array([index[c] for c in cells], dtype=np.intp)
    where: dict[int, str] = {}
    for (lineno, _), c in zip(rows, y.tolist(), strict=True):
        if c not in where:
            shown = f"{names[c]!r}, " if names else ""
            where[c] = f"{shown}line {lineno} of {file}"
    return y, names, where
