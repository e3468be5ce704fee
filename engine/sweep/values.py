"""Value lists of a sweep axis: ``0.1,0.5,1``, ``0.01:1.1:0.01``, ``lin(0,1,5)``, ``log(1e-3,1,4)``.

One syntax for ``--grid KEY=LIST`` and for the strings of a scenario's ``[sweep.grid]`` table
(which may also give a TOML array). Items are separated by commas and may be mixed
(``0:0.9:0.1,0.95,0.99``):

- a TOML value (a number, ``true``/``false``, a quoted string) or a bare word (a string);
- ``A:B:STEP``: A, A+STEP, ... up to B inclusive, in decimal arithmetic (so ``0.01:1.1:0.01``
  gives exactly 0.01, 0.02, ..., 1.1); integers when A, B and STEP are all integers;
- ``lin(A,B,N)``: N evenly spaced values from A to B inclusive;
- ``log(A,B,N)``: N geometrically spaced values from A to B inclusive (A, B > 0).

``lin`` and ``log`` values are rounded to 12 significant digits, so that ``lin(0,1,11)`` gives
0.3 and not 0.30000000000000004. Nothing is ever evaluated: the functions are matched by name.
"""

from __future__ import annotations

import math
import re
import tomllib
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import GdlabError

MAX_VALUES = 10_000  # values of one axis (before the grid's own limit)
_FUNC = re.compile(r"^(lin|log)\((.*)\)$", re.S)


class ValueListError(GdlabError):
    """A value list that cannot be read; the message says what was expected."""


def parse_values(text: str) -> list[Any]:
    """The values a list such as ``"0.01:1.1:0.01"`` or ``"sgd,adam"`` describes."""
    if not text.strip():
        raise ValueListError("an empty list (expected values such as 0.1,0.5 or 0.01:1:0.01)")
    out: list[Any] = []
    for item in _split(text):
        out += _item(item.strip())
        if len(out) > MAX_VALUES:
            raise ValueListError(f"more than {MAX_VALUES:,} values")
    return out


def values_from_toml(v: Any) -> list[Any]:
    """A ``[sweep.grid]`` entry: a TOML array of values, or a string in the list syntax."""
    if isinstance(v, str):
        return parse_values(v)
    if isinstance(v, list):
        if not v:
            raise ValueListError("an empty list")
        for x in v:
            if isinstance(x, dict | list):
                raise ValueListError(f"expected numbers, strings or booleans, got {_short(x)}")
        return list(v)
    if isinstance(v, bool | int | float):
        return [v]
    raise ValueListError(f"expected a list of values or a string such as \"0.1:1:0.1\", got {_short(v)}")


def is_geometric(values: list[Any]) -> bool:
    """True for three or more positive numbers with a constant ratio (drawn on a log axis)."""
    if len(values) < 3 or not all(_number(v) and v > 0 for v in values):
        return False
    ratios = [b / a for a, b in zip(values, values[1:], strict=False)]
    return ratios[0] != 1 and all(math.isclose(r, ratios[0], rel_tol=1e-6) for r in ratios)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _split(text: str) -> list[str]:
    """Split on the commas outside parentheses and quotes."""
    parts, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    if depth != 0 or quote:
        raise ValueListError(f"unbalanced parentheses or quotes in {_short(text)}")
    parts.append(cur)
    if any(not p.strip() for p in parts):
        raise ValueListError(f"an empty item in {_short(text)}")
    return parts


def _short(x: Any, keep: int = 40) -> str:
    """``x`` as a message quotes it (``repr``), a long string cut to ``keep`` characters."""
    if isinstance(x, str) and len(x) > keep:
        return repr(x[:keep]) + f"... ({len(x):,} characters)"
    r = repr(x)
    return r if len(r) <= keep + 20 else r[:keep] + "..."


def _scalar(text: str) -> Any:
    """One value as TOML reads it (a bare word is a string). An array or a table is refused
    before TOML reads it: nested a thousand deep, it would exhaust Python's recursion."""
    if text.startswith(("[", "{")):
        raise ValueListError(f"{_short(text)}: expected a single value (a number, a boolean, "
                             "a word or a quoted string), not an array or a table")
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", text):
            return text
        raise ValueListError(f"{_short(text)} is not a number, a boolean or a word "
                             "(quote other strings)") from None


def _item(text: str) -> list[Any]:
    m = _FUNC.match(text)
    if m:
        return _spaced(m.group(1), m.group(2), text)
    if ":" in text and not text.startswith(("'", '"')):
        return _range(text)
    v = _scalar(text)
    if isinstance(v, dict | list):
        raise ValueListError(f"{_short(text)}: expected a single value")
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueListError(f"{_short(text)}: expected a finite number")
    return [v]


def _decimal(text: str, whole: str) -> Decimal:
    try:
        d = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise ValueListError(f"{_short(whole)}: {_short(text.strip())} is not a number") from None
    if not d.is_finite():
        raise ValueListError(f"{_short(whole)}: expected finite numbers")
    return d


def _range(text: str) -> list[Any]:
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueListError(f"{_short(text)}: a range is START:STOP:STEP, e.g. 0.01:1.1:0.01")
    a, b, step = (_decimal(p, text) for p in parts)
    if step <= 0:
        raise ValueListError(f"{_short(text)}: the step must be > 0")
    if b < a:
        raise ValueListError(f"{_short(text)}: STOP must be >= START")
    n = int((b - a) / step) + 1
    if n > MAX_VALUES:
        raise ValueListError(f"{_short(text)}: {n:,} values (at most {MAX_VALUES:,} per axis)")
    ints = all(p.strip().lstrip("+-").replace("_", "").isdigit() for p in parts)
    vals = [a + i * step for i in range(n)]
    return [int(v) for v in vals] if ints else [float(v) for v in vals]


def _spaced(kind: str, args: str, whole: str) -> list[float]:
    parts = args.split(",")
    if len(parts) != 3:
        raise ValueListError(f"{_short(whole)}: expected {kind}(START,STOP,COUNT)")
    a, b = (float(_decimal(p, whole)) for p in parts[:2])
    try:
        n = int(parts[2].strip())
    except ValueError:
        raise ValueListError(f"{_short(whole)}: COUNT must be a whole number") from None
    if not 1 <= n <= MAX_VALUES:
        raise ValueListError(f"{_short(whole)}: COUNT must be between 1 and {MAX_VALUES:,}")
    if n == 1:
        return [a]
    if kind == "log":
        if a <= 0 or b <= 0:
            raise ValueListError(f"{_short(whole)}: log() needs START and STOP > 0")
        vals = [a * (b / a) ** (i / (n - 1)) for i in range(n)]
    else:
        vals = [a + (b - a) * i / (n - 1) for i in range(n)]
    vals[0], vals[-1] = a, b
    return [float(f"{v:.12g}") for v in vals]
