"""Columns computed from expressions in the safe language: the [data] ``features`` and a curve's y.

``compile_columns(["x1", "x1*x2", "sin(x1)"], ["x1", "x2"], ...)`` parses each text with
engine.expr (never eval) and allows only elementwise functions (exp, log, sqrt, abs, sin, cos,
tanh, sigmoid, relu): a reduction such as sum() would mix the examples. ``Columns.apply(raw)``
then maps raw inputs (N, k) to the computed columns (N, m), float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, ScenarioError
from ..expr import Expr, evaluate, parse
from ..limits import MAX_FEATURES
from ..ops import FUNCTIONS, OPS

ELEMENTWISE = ("exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu")
_FUNCS = {name: FUNCTIONS[name] for name in ELEMENTWISE}


def apply_op(name: str, *args: object) -> object:
    """Compute one op application while evaluating a parsed expression."""
    return OPS[name].forward(*args)


@dataclass(frozen=True)
class Columns:
    """Parsed expressions over the raw inputs ``raw_names``; ``texts`` name the columns."""

    texts: tuple[str, ...]
    raw_names: tuple[str, ...]
    exprs: tuple[Expr, ...]

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """The columns (N, m) for raw inputs (N, k); NaN or inf where an expression has no value
        (log of a negative number on a drawing grid, say)."""
        env = {name: raw[:, i].astype(np.float64) for i, name in enumerate(self.raw_names)}
        out = np.empty((raw.shape[0], len(self.exprs)))
        with np.errstate(all="ignore"):
            for j, e in enumerate(self.exprs):
                try:
                    out[:, j] = evaluate(e, env, apply_op)
                except (ArithmeticError, ValueError):
                    out[:, j] = np.nan
        return out

    def is_identity(self) -> bool:
        """True when the columns are the raw inputs themselves, in order."""
        return self.texts == self.raw_names


def compile_columns(texts: Sequence[object], raw_names: Sequence[str], source: str,
                    key: str, what: str = "feature", table: str = "[data]") -> Columns:
    """Parse every text over ``raw_names``; DataError "FILE: [data] key 'KEY': WHAT 2 'x1*y': ..."
    for anything outside the safe language or for a name that is not a raw input."""
    exprs = []
    for i, text in enumerate(texts, start=1):
        where = f"{table} key '{key}': {what} {i}"
        if not isinstance(text, str):
            raise DataError(f"{source}: {where}: expected an expression string such as "
                            f"\"{raw_names[0]}**2\", got {text!r}")
        try:
            exprs.append(parse(text, set(raw_names), source=source, where=where,
                               functions=_FUNCS))
        except ScenarioError as exc:
            # say why sum() and friends are refused here: each example is on its own
            message = str(exc).replace("(functions: ", "(elementwise functions only: ")
            raise DataError(message) from None
    return Columns(tuple(str(t).strip() for t in texts), tuple(raw_names), tuple(exprs))


def features_from_table(value: object, raw_names: Sequence[str], source: str,
                        table: str = "[data]") -> Columns:
    """The [data] ``features`` list (absent: the raw inputs themselves); ``table`` names the
    table in messages ("[variants.v.data]")."""
    if value is None:  # the raw inputs (CSV column names need not be identifiers)
        names = tuple(raw_names)
        return Columns(names, names, tuple(Expr("name", n, name=n) for n in names))
    if not isinstance(value, list) or not value:
        raise DataError(f"{source}: {table} key 'features': expected a list of expressions over "
                        f"{', '.join(raw_names)}, e.g. [\"x1\", \"x2\", \"x1*x2\"], got {value!r}")
    if len(value) > MAX_FEATURES:
        raise DataError(f"{source}: {table} key 'features': at most {MAX_FEATURES} features, "
                        f"got {len(value)}")
    return compile_columns(value, raw_names, source, "features", table=table)


def checked_apply(cols: Columns, raw: np.ndarray, at: str, what: str = "feature") -> np.ndarray:
    """``cols.apply(raw)``, refusing NaN or infinite values on the data; ``at`` names the key
    ("xor.toml: [data] key 'features'")."""
    out = cols.apply(raw)
    bad = ~np.isfinite(out)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        row = int(np.flatnonzero(bad[:, j])[0])
        point = ", ".join(f"{n} = {raw[row, i]:.6g}" for i, n in enumerate(cols.raw_names))
        raise DataError(f"{at}: {what} {j + 1} '{cols.texts[j]}' has no "
                        f"finite value at {point}")
    return out
