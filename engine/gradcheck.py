"""Central finite differences: the direct derivative a learner compares backpropagation with."""

from __future__ import annotations

import math

from .errors import GdlabError
from .graph import Graph


def central_difference(g: Graph, output: str, param: str, h: float | None = None) -> float:
    """(f(p + h) - f(p - h)) / 2h for a scalar parameter, h = 1e-6 * max(1, |p|) by default.

    The parameter is left at its value and the graph re-evaluated there. NaN when the output
    cannot be evaluated at p +- h.
    """
    v = float(g.value(param))
    h = 1e-6 * max(1.0, abs(v)) if h is None else h
    try:
        g.set_value(param, v + h)
        g.forward()
        hi = float(g.value(output))
        g.set_value(param, v - h)
        g.forward()
        lo = float(g.value(output))
    except (GdlabError, ArithmeticError, ValueError):
        return math.nan
    finally:
        g.set_value(param, v)
        try:
            g.forward()
        except ArithmeticError:
            pass
    return (hi - lo) / (2 * h)
