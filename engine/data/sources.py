"""The [data] table of a scenario: inline arrays, a CSV file, or seeded generated data.

Every source yields a dict name -> float64 array that expressions use by name. Generation is
reproducible bit for bit: one ``numpy.random.default_rng(seed)`` draws the columns in file order.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import confine, validate
from ..errors import DataError, ScenarioError
from ..expr import evaluate, parse
from ..files import open_text_limited
from ..limits import MAX_CSV_BYTES, MAX_DATA_ROWS, MAX_DATA_VALUES
from ..ops import FUNCTIONS, OPS

MAX_ROWS = MAX_DATA_ROWS  # the name older code knows


class _Generator:
    """A random or spaced sequence of n values, callable in a data expression."""

    def __init__(self, name: str, arity: int) -> None:
        self.name, self.arity = name, arity


GENERATORS = {
    "uniform": _Generator("uniform", 2),  # uniform(low, high)
    "normal": _Generator("normal", 2),  # normal(mean, std)
    "linspace": _Generator("linspace", 2),  # linspace(start, stop), n points, both ends included
}


def load_data(table: Mapping[str, Any], base_dir: Path, source: str) -> dict[str, Any]:
    """Resolve a scenario's [data] table to named arrays; DataError names file and key."""
    out: dict[str, Any] = {}
    for key, v in table.items():
        if key == "csv":
            out.update(_load_csv(v, base_dir, source))
        elif key == "generate":
            out.update(generate(v, source))
        elif key in ("source", "path", "train_limit", "test_limit", "validation"):
            raise DataError(
                f"{source}: [data] key '{key}' belongs to a network scenario (one with [model])"
            )
        else:
            out[key] = _inline(key, v, source)
    return out


def _inline(key: str, v: Any, source: str) -> Any:
    """An inline number or rectangular array, every value a finite number (engine.validate)."""
    try:
        return validate.number_array(v, f"{source}: [data] key '{key}'")
    except DataError:
        raise
    except ScenarioError as exc:
        raise DataError(str(exc)) from None


def _load_csv(spec: Any, base_dir: Path, source: str) -> dict[str, np.ndarray]:
    where = f"{source}: [data.csv]"
    if not isinstance(spec, dict):
        raise DataError(f"{where}: expected a table with 'file' and 'columns'")
    for key in spec:
        if key not in ("file", "columns", "delimiter"):
            raise DataError(f"{where} unknown key '{key}' (expected: file, columns, delimiter)")
    if not isinstance(spec.get("file"), str):
        raise DataError(f"{where} key 'file': expected a path (relative to the scenario file)")
    cols = spec.get("columns")
    if isinstance(cols, list) and all(isinstance(c, str) for c in cols) and cols:
        mapping = {c: c for c in cols}
    elif isinstance(cols, dict) and cols and all(isinstance(c, str) for c in cols.values()):
        mapping = dict(cols)
    else:
        raise DataError(f"{where} key 'columns': expected a list of column names, or a table "
                        "name = \"column\"")
    path = csv_path(spec["file"], base_dir, f"{where} key 'file'")
    delim = spec.get("delimiter", ",")
    if not isinstance(delim, str) or len(delim) != 1 or delim in "\r\n\"":
        raise DataError(f"{where} key 'delimiter': expected one character such as \";\", "
                        f"got {delim!r}")
    header, numbered = read_csv(path, delim, f"{where} key 'file'", MAX_ROWS)
    index: dict[str, int] = {}
    for name, col in mapping.items():
        if col not in header:
            raise DataError(f"{path}: no column '{col}' (columns: {', '.join(header)}), "
                            f"asked for by {where} key 'columns'")
        index[name] = header.index(col)
    return {name: numeric_column(path, header, numbered, j) for name, j in index.items()}


def numeric_column(path: Path, header: list[str], numbered: list[tuple[int, list[str]]],
                   j: int) -> np.ndarray:
    """Column ``j`` of ``read_csv``'s rows as float64; DataError names the line and column."""
    out = np.empty(len(numbered))
    for k, (lineno, row) in enumerate(numbered):
        cell = row[j].strip()
        try:
            out[k] = float(cell)
        except ValueError:
            raise DataError(f"{path}: line {lineno}, column '{header[j]}': {cell!r} is not "
                            "a number") from None
        if not np.isfinite(out[k]):
            raise DataError(f"{path}: line {lineno}, column '{header[j]}': {cell!r} is not "
                            "a finite number")
    return out


def csv_path(file: str, base_dir: Path, where: str = "[data] key 'file'") -> Path:
    """A CSV file named in a scenario: relative paths are relative to the scenario's folder.
    In served mode it must lie inside that folder (engine/confine.py), checked before it is
    opened so that no message can quote a file outside it."""
    try:
        path = Path(file) if Path(file).is_absolute() else (base_dir / file).resolve()
    except (OSError, ValueError) as exc:  # a NUL in the name, a loop of links
        raise DataError(f"{where}: not a file name ({exc})") from None
    confine.check_data_path(path, base_dir, where)
    return path


def read_csv(path: Path, delimiter: str, where: str, max_rows: int
             ) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Return (header, [(line number, cells)] of the data rows), blank lines skipped, every
    row as long as the header. DataError names ``where`` (the key) or the file and line.

    Only a regular file of at most MAX_CSV_BYTES is read, and the rows are counted as they
    are read: a FIFO, a device or an endless file is refused, not waited for or kept.
    """
    try:
        with open_text_limited(path, MAX_CSV_BYTES, "a CSV file", DataError,
                               f"{where}: cannot read {path}") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            # keep each row's line in the file, so that messages survive skipped blank lines
            rows = ((reader.line_num, r) for r in reader if r and any(c.strip() for c in r))
            numbered = list(itertools.islice(_counted(rows, path), max_rows + 2))
            if len(numbered) > max_rows + 1:
                raise DataError(f"{path}: more than {max_rows:,} rows (the limit for a CSV file)")
    except OSError as exc:
        raise DataError(f"{where}: cannot read {path} ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, csv.Error, TypeError) as exc:
        raise DataError(f"{where}: {path}: not a readable CSV file ({exc})") from None
    if not numbered:
        raise DataError(f"{path}: the CSV file is empty (expected a header row)")
    header = [h.strip() for h in numbered[0][1]]
    if len(numbered) < 2:
        raise DataError(f"{path}: the CSV file has a header but no data rows")
    for lineno, row in numbered[1:]:
        if len(row) != len(header):
            raise DataError(f"{path}: line {lineno} has {len(row)} cells, the header has "
                            f"{len(header)}")
    return header, numbered[1:]


def _counted(rows: Iterator[tuple[int, list[str]]], path: Path
             ) -> Iterator[tuple[int, list[str]]]:
    """The rows, their cells counted against MAX_DATA_VALUES as they are read."""
    cells = 0
    for row in rows:
        cells += len(row[1])
        if cells > MAX_DATA_VALUES:
            raise DataError(f"{path}: more than {MAX_DATA_VALUES:,} cells by line {row[0]} "
                            "(the limit for a scenario's data)")
        yield row


def generate(spec: Any, source: str) -> dict[str, np.ndarray]:
    """[data.generate]: n, seed, optional noise, and one expression per column, in order.

    ``x = "uniform(-1, 1)"`` draws n values; ``y = "3*x + 2"`` computes over earlier columns;
    ``noise = 0.1`` adds N(0, 0.1^2) noise to the last column (or write ``normal(0, 0.1)``).
    """
    where = f"{source}: [data.generate]"
    if not isinstance(spec, dict):
        raise DataError(f"{where}: expected a table with n, seed and column expressions")
    try:
        n = validate.integer(spec.get("n"), f"{where} key 'n'", low=1)
        seed = validate.seed(spec.get("seed", 0), f"{where} key 'seed'")
        noise = validate.finite(spec.get("noise", 0.0), f"{where} key 'noise'", low=0.0)
    except ScenarioError as exc:
        raise DataError(str(exc)) from None
    if n > MAX_ROWS:
        raise DataError(f"{where} key 'n': at most {MAX_ROWS:,} points")
    columns = sum(1 for k in spec if k not in ("n", "seed", "noise"))
    if n * columns > MAX_DATA_VALUES:
        raise DataError(f"{where}: {columns} columns of {n:,} points are {n * columns:,} "
                        f"numbers, more than the limit of {MAX_DATA_VALUES:,} for a scenario's "
                        "data")
    rng = np.random.default_rng(seed)
    funcs = {**FUNCTIONS, **GENERATORS}
    cols: dict[str, np.ndarray] = {}

    def apply(name: str, *args: Any) -> Any:
        if name in GENERATORS:
            a, b = (float(np.mean(x)) if not isinstance(x, float) else x for x in args)
            if name == "uniform":
                return rng.uniform(a, b, n)
            if name == "normal":
                if b < 0:
                    raise DataError(f"{where}: normal(mean, std) needs std >= 0, got {b}")
                return rng.normal(a, b, n)
            return np.linspace(a, b, n)
        with np.errstate(all="ignore"):
            return OPS[name].forward(*args)

    for key, text in spec.items():
        if key in ("n", "seed", "noise"):
            continue
        if not key.isidentifier():
            raise DataError(f"{where} key '{key}': a column name must be an identifier")
        if not isinstance(text, str):
            raise DataError(f"{where} key '{key}': expected an expression string such as "
                            "\"uniform(-1, 1)\"")
        try:
            expr = parse(text, set(cols), source=source, where=f"[data.generate] key '{key}'",
                         functions=funcs)
        except ScenarioError as exc:
            raise DataError(str(exc)) from None
        try:
            val = evaluate(expr, cols, apply)
        except (ArithmeticError, ValueError) as exc:
            raise DataError(f"{where} key '{key}': cannot compute {text!r} ({exc})") from None
        arr = np.broadcast_to(np.asarray(val, dtype=float), (n,)).copy()
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{where} key '{key}': {text!r} gives NaN or infinite values")
        cols[key] = arr
    if not cols:
        raise DataError(f"{where}: define at least one column, e.g. x = \"uniform(-1, 1)\"")
    if noise:
        last = list(cols)[-1]
        cols[last] = cols[last] + rng.normal(0.0, float(noise), n)
    return cols
