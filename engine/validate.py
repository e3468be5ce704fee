"""Strict checks for every number, integer, boolean and array a scenario file (or ``--set``, or
a session script) hands to gdlab, and the limits on a file's shape.

Each check takes ``at``, the place the value came from as messages name it
(``"m.toml: [run] key 'lr'"``), and raises ScenarioError with one line:
``m.toml: [run] key 'lr': expected a finite number > 0, got 'fast'``. What they refuse:

- a boolean where a number or an integer is meant (TOML's ``true`` is not 1);
- a float that is NaN or infinite, and an integer too large for a float (no OverflowError ever
  escapes), in a single value and anywhere inside an array;
- an integer outside its documented range (seeds: [0, 2**32 - 1], what numpy's generators take);
- anything but a TOML boolean where true or false is meant (the string "false" is an error);
- arrays nested deeper than MAX_DEPTH or holding more than MAX_ARRAY_ITEMS numbers, and tables
  nested deeper than MAX_DEPTH (docs/scenarios.md, "Limits"). The limits are constants of
  engine/limits.py, the one place that holds every limit.

``Table`` reads a whole table key by key with these checks (``t.integer("n", 500, low=2)``),
for the tables whose keys are read one at a time (a network's [model] and [data]).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ScenarioError
from .limits import INT_MAX, MAX_ARRAY_ITEMS, MAX_DEPTH, SEED_MAX


def key_at(source: str, table: str, key: str) -> str:
    """How a message names a key: ``m.toml: [run] key 'lr'``."""
    return f"{source}: [{table}] key '{key}'"


def typed(v: Any) -> str:
    """A value with its type, for a value of the wrong type: ``a string 'ten'``, ``a boolean
    (true)``; huge integers by their size, never all their digits."""
    if isinstance(v, bool):
        return f"a boolean ({'true' if v else 'false'})"
    if isinstance(v, int):
        return f"an integer ({show(v)})" if abs(v) < 10**15 else show(v)
    if isinstance(v, float):
        return f"a number ({v!r})"
    if isinstance(v, str):
        return "a string " + show(v)
    if isinstance(v, list | tuple):
        return "a list"
    if isinstance(v, dict):
        return "a table"
    if v is None:
        return "nothing"
    return type(v).__name__


def show(v: Any) -> str:
    """A value as a message shows it: a number as written, anything else with its type."""
    if isinstance(v, int) and not isinstance(v, bool):
        return repr(v) if abs(v) < 10**15 else f"an integer of {len(str(abs(v)))} digits"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return repr(v if len(v) <= 60 else v[:57] + "...")
    if isinstance(v, list) and v and all(isinstance(x, int | float | str) for x in v):
        items = [("true" if x else "false") if isinstance(x, bool) else show(x) for x in v[:8]]
        return "[" + ", ".join(items) + (", ...]" if len(v) > 8 else "]")
    return typed(v)


def is_number(v: Any) -> bool:
    """True for an int or float that is finite as a float (not a boolean, NaN or infinity)."""
    if type(v) not in (int, float):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an integer too large for a float
        return False


def fail(at: str, expected: str, v: Any, wrong_type: bool = False) -> ScenarioError:
    """The one-line error ``AT: expected EXPECTED, got V`` (V with its type if that is wrong)."""
    return ScenarioError(f"{at}: expected {expected}, got {typed(v) if wrong_type else show(v)}")


def _bound_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None and high is not None:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        return f" in {lo}{low:g}, {high:g}{hi}"
    if low is not None:
        parts.append(f" {'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f" {'<' if high_open else '<='} {high:g}")
    return "".join(parts)


def finite(v: Any, at: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False) -> float:
    """``v`` as a finite float in the given bounds (an integer is taken as a float)."""
    expected = "a finite number" + _bound_text(low, high, low_open, high_open)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise fail(at, expected, v, wrong_type=True)
    try:
        x = float(v)
    except OverflowError:
        raise fail(at, expected, v) from None
    if not math.isfinite(x):
        raise fail(at, expected, v)
    if low is not None and (x <= low if low_open else x < low):
        raise fail(at, expected, v)
    if high is not None and (x >= high if high_open else x > high):
        raise fail(at, expected, v)
    return x


def integer(v: Any, at: str, *, low: int | None = None, high: int = INT_MAX) -> int:
    """``v`` as an integer in [low, high] (a float such as 3.0 is refused: write 3). Without an
    upper bound of its own, an integer stays below 2**53, exact as a float as well."""
    shown_high = high if high < INT_MAX else None
    if low is not None and shown_high is not None:
        expected = f"an integer in [{low}, {high:,}]"
    elif low is not None:
        expected = f"an integer >= {low}"
    else:
        expected = "an integer"
    if isinstance(v, bool) or not isinstance(v, int):
        raise fail(at, expected, v, wrong_type=True)
    if v > high:
        raise fail(at, f"{expected} and at most {high:,}" if shown_high is None else expected, v)
    if low is not None and v < low:
        raise fail(at, expected, v)
    return v


def seed(v: Any, at: str) -> int:
    """A seed for numpy's generators: an integer in [0, 2**32 - 1]."""
    return integer(v, at, low=0, high=SEED_MAX)


def boolean(v: Any, at: str) -> bool:
    """A TOML boolean: ``true`` or ``false``, never a string or a number."""
    if not isinstance(v, bool):
        raise fail(at, "true or false", v, wrong_type=True)
    return v


def choice(v: Any, at: str, choices: Sequence[str]) -> str:
    """One of ``choices`` (strings)."""
    if not isinstance(v, str) or v not in choices:
        names = [repr(c) for c in choices]
        expected = (names[0] if len(names) == 1 else " or ".join(names) if len(names) == 2
                    else "one of " + ", ".join(names))
        raise fail(at, expected, v, wrong_type=not isinstance(v, str))
    return v


def number_array(v: Any, at: str, *, max_items: int | None = None) -> float | np.ndarray:
    """A number, or a rectangular (nested) list of numbers, as a float or a float64 array.

    Every leaf is checked as ``finite`` checks a number; nesting and size are limited.
    """
    if not isinstance(v, list):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise fail(at, "a number or an array of numbers", v, wrong_type=True)
        return finite(v, at)
    shape = _shape(v, at, MAX_ARRAY_ITEMS if max_items is None else max_items)
    flat = _leaves(v)
    values = []
    for x in flat:
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise fail(at, "numbers only in the array", x, wrong_type=True)
        try:
            f = float(x)
        except OverflowError:
            raise fail(at, "finite numbers in the array", x) from None
        if not math.isfinite(f):
            raise fail(at, "finite numbers in the array", x)
        values.append(f)
    if not values:
        raise ScenarioError(f"{at}: the array is empty")
    return np.array(values, dtype=float).reshape(shape)


def _shape(v: list, at: str, max_items: int) -> tuple[int, ...]:
    """The shape of a nested list, checked level by level without recursion."""
    shape: list[int] = []
    level: list[Any] = [v]
    items = 1
    while level and isinstance(level[0], list):
        if len(shape) >= MAX_DEPTH:
            raise ScenarioError(f"{at}: arrays nested more than {MAX_DEPTH} deep")
        n = len(level[0])
        if any(not isinstance(x, list) or len(x) != n for x in level):
            raise ScenarioError(f"{at}: expected a rectangular array of numbers "
                                "(rows of equal length, numbers only)")
        items *= n
        if items > max_items:
            raise ScenarioError(f"{at}: more than {max_items:,} numbers in one array")
        shape.append(n)
        level = [x for row in level for x in row]
    if any(isinstance(x, list) for x in level):
        raise ScenarioError(f"{at}: expected a rectangular array of numbers "
                            "(rows of equal length, numbers only)")
    return tuple(shape)


def _leaves(v: list) -> list[Any]:
    """The numbers of a rectangular nested list, in row-major order (no recursion)."""
    level: list[Any] = v
    while level and isinstance(level[0], list):
        level = [x for row in level for x in row]
    return level


def check_limits(doc: dict[str, Any], source: str) -> None:
    """Refuse a parsed file whose tables or arrays nest deeper than MAX_DEPTH (no recursion)."""
    stack: list[tuple[Any, int, str]] = [(doc, 0, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(f"{source}: '{path}' nests tables or arrays more than "
                                f"{MAX_DEPTH} deep (the limit)")
        if isinstance(node, dict):
            stack.extend((x, depth + 1, f"{path}.{k}" if path else k) for k, x in node.items()
                         if isinstance(x, dict | list))
        elif isinstance(node, list):
            stack.extend((x, depth + 1, path) for x in node if isinstance(x, dict | list))


_MISSING = object()


class Table:
    """One table of a scenario (``name`` as messages say it: "[model]", "[variants.big.data]"),
    read key by key with the checks above; every error is one line naming the file and the key:
    ``xor.toml: [data] key 'n': expected an integer in [2, 100,000], got 1``.

    ``error``: the ScenarioError subclass raised (DataError for [data]). A key that is absent
    takes the ``default`` given; without one it is required.
    """

    def __init__(self, table: Any, name: str, source: str,
                 error: type[ScenarioError] = ScenarioError) -> None:
        if not isinstance(table, Mapping):
            raise error(f"{source}: {name} must be a table, got {typed(table)}")
        self.table, self.name, self.source, self.error = table, name, source, error

    def __contains__(self, key: str) -> bool:
        return key in self.table

    def at(self, key: str) -> str:
        """How messages name ``key``: ``xor.toml: [data] key 'n'``."""
        return f"{self.source}: {self.name} key '{key}'"

    def fail(self, key: str, message: str) -> ScenarioError:
        """The error for ``key``: "FILE: [table] key 'key': message"."""
        return self.error(f"{self.at(key)}: {message}")

    def expected(self, key: str, what: str) -> ScenarioError:
        """The error "expected WHAT, got VALUE" for the value ``key`` holds."""
        return self.fail(key, f"expected {what}, got {show(self.table.get(key))}")

    def only(self, allowed: Collection[str], context: str = "") -> None:
        """Refuse any key not in ``allowed`` (``context`` says for what: "for source 'xor'")."""
        for key in self.table:
            if key not in allowed:
                names = ", ".join(repr(k) for k in allowed)
                where = f" {context}" if context else ""
                raise self.fail(key, f"unknown key{where} (allowed: {names})")

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.get(key, default)

    def _checked(self, key: str, default: Any, what: str, check: Any) -> Any:
        if key not in self.table:
            if default is _MISSING:
                raise self.error(f"{self.at(key)} is missing (expected {what})")
            return default
        try:
            return check(self.table[key], self.at(key))
        except ScenarioError as exc:
            raise self.error(str(exc)) from None

    def integer(self, key: str, default: Any = _MISSING, low: int | None = None,
                high: int = INT_MAX) -> int:
        """An integer in [low, high] (see ``integer``)."""
        return self._checked(key, default, "an integer",
                             lambda v, at: integer(v, at, low=low, high=high))

    def seed(self, key: str, default: Any = _MISSING) -> int:
        """A seed: an integer in [0, 2**32 - 1]."""
        return self._checked(key, default, "an integer seed", seed)

    def number(self, key: str, default: Any = _MISSING, low: float | None = None,
               high: float | None = None, *, low_open: bool = False,
               high_open: bool = False) -> float:
        """A finite number within the bounds (see ``finite``)."""
        return self._checked(key, default, "a number", lambda v, at: finite(
            v, at, low=low, high=high, low_open=low_open, high_open=high_open))

    def choice(self, key: str, choices: Sequence[str], default: Any = _MISSING) -> str:
        """One of the strings ``choices``."""
        names = ", ".join(repr(c) for c in choices)
        return self._checked(key, default, f"one of {names}",
                             lambda v, at: choice(v, at, choices))

    def string(self, key: str, default: Any = _MISSING, what: str = "a string") -> str:
        """A string that is not blank."""
        def check(v: Any, at: str) -> str:
            if not isinstance(v, str) or not v.strip():
                raise fail(at, what, v, wrong_type=not isinstance(v, str))
            return v

        return self._checked(key, default, what, check)
