"""Read values out of one TOML table of a scenario file, each refused with a one-line error.

``Table(table, "[model]", "xor.toml")`` checks the keys it is asked for and raises
``ScenarioError`` (or the ``error`` class given) as ``xor.toml: [model] key 'seed': expected an
integer >= 0, got -1``: the file, the table, the key, what was expected and what was found.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from .errors import ScenarioError

_MISSING = object()
MAX_SEED = 2**32 - 1  # seeds are integers in [0, 2^32 - 1]


def shown(value: Any) -> str:
    """A value as the person wrote it in TOML, for "got ..." (strings quoted, lists short)."""
    text = repr(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return text if len(text) <= 60 else text[:57] + "..."


def is_number(value: Any) -> bool:
    """True for a finite int or float (bool, NaN and infinities are not numbers here)."""
    return type(value) in (int, float) and math.isfinite(value)


class Table:
    """One table of a scenario (``name`` like "[model]"), read key by key with clear errors."""

    def __init__(self, table: Any, name: str, source: str,
                 error: type[ScenarioError] = ScenarioError) -> None:
        if not isinstance(table, Mapping):
            raise error(f"{source}: {name} must be a table, got {type(table).__name__}")
        self.table, self.name, self.source, self.error = table, name, source, error

    def __contains__(self, key: str) -> bool:
        return key in self.table

    def fail(self, key: str, message: str) -> ScenarioError:
        """The error for ``key``: "FILE: [table] key 'key': message"."""
        return self.error(f"{self.source}: {self.name} key '{key}': {message}")

    def expected(self, key: str, what: str) -> ScenarioError:
        """The error "expected WHAT, got VALUE" for the value ``key`` holds."""
        return self.fail(key, f"expected {what}, got {shown(self.table.get(key))}")

    def only(self, allowed: Collection[str], context: str = "") -> None:
        """Refuse any key not in ``allowed`` (``context`` says for what, e.g. "for source 'xor'")."""
        for key in self.table:
            if key not in allowed:
                names = ", ".join(repr(k) for k in allowed)
                where = f" {context}" if context else ""
                raise self.fail(key, f"unknown key{where} (allowed: {names})")

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.get(key, default)

    def integer(self, key: str, default: Any = _MISSING, low: int | None = None,
                high: int | None = None) -> int:
        """An integer within [low, high]; ``default`` when absent (required without one)."""
        value = self._value(key, default, "an integer")
        if value is default and default is not _MISSING:
            return value
        ok = type(value) is int and (low is None or value >= low) and (high is None or value <= high)
        if not ok:
            raise self.expected(key, "an integer" + _bounds(low, high, True, True))
        return value

    def number(self, key: str, default: Any = _MISSING, low: float | None = None,
               high: float | None = None, *, low_open: bool = False,
               high_open: bool = False) -> float:
        """A finite number within the bounds (open or closed); returned as a float."""
        value = self._value(key, default, "a number")
        if value is default and default is not _MISSING:
            return value
        ok = is_number(value)
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
        if not ok:
            raise self.expected(key, "a number" + _bounds(low, high, not low_open, not high_open))
        return float(value)

    def choice(self, key: str, choices: Collection[str], default: Any = _MISSING) -> str:
        """One of the strings ``choices``."""
        value = self._value(key, default, "one of " + ", ".join(repr(c) for c in choices))
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or value not in choices:
            raise self.expected(key, "one of " + ", ".join(repr(c) for c in choices))
        return value

    def string(self, key: str, default: Any = _MISSING, what: str = "a string") -> str:
        value = self._value(key, default, what)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.expected(key, what)
        return value

    def _value(self, key: str, default: Any, what: str) -> Any:
        if key in self.table:
            return self.table[key]
        if default is _MISSING:
            raise self.error(f"{self.source}: {self.name} key '{key}' is missing (expected {what})")
        return default


def _bounds(low: float | None, high: float | None, low_closed: bool, high_closed: bool) -> str:
    """" in [0, 1)", " >= 1", "" ... for messages."""
    if low is not None and high is not None:
        return f" in {'[' if low_closed else '('}{_num(low)}, {_num(high)}{']' if high_closed else ')'}"
    if low is not None:
        return f" {'>=' if low_closed else '>'} {_num(low)}"
    if high is not None:
        return f" {'<=' if high_closed else '<'} {_num(high)}"
    return ""


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"
