"""The values a graph holds (floats, or float64 arrays) and the rules every pass over them
shares: undoing broadcasting, naming a numeric failure, finiteness."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Value = Any  # float | np.ndarray


def unbroadcast(g: Value, like: Value) -> Value:
    """Sum ``g`` over the axes along which ``like`` was broadcast, giving ``like``'s shape."""
    if type(like) is float or np.ndim(like) == 0:
        return float(np.sum(g))
    shape = np.shape(like)
    g = np.asarray(g)
    if g.shape == shape:
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for ax, n in enumerate(shape):
        if n == 1 and g.shape[ax] != 1:
            g = g.sum(axis=ax, keepdims=True)
    return np.broadcast_to(g, shape)


def numeric_message(exc: BaseException) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, OverflowError):
        return "overflow (a value became infinite)"
    return str(exc) or "math domain error"


def is_finite(v: Value) -> bool:
    if type(v) is float:
        return math.isfinite(v)
    return bool(np.all(np.isfinite(v)))


def as_value(v: Any) -> Value:
    """A parameter or data value as the graph holds it: a float or a float64 array."""
    if isinstance(v, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(v, int | float | np.floating | np.integer):
        return float(v)
    arr = np.array(v, dtype=float)
    return float(arr) if arr.ndim == 0 else arr
