"""A 1-D regression: y = EXPR(x) + noise, with x drawn uniformly over a range.

``y = "sin(x)"`` is an expression over ``x`` in the safe language (engine.expr, never eval);
``x_range = [low, high]`` takes numbers or constant expressions ("-pi", "2*pi"); ``noise`` is
the standard deviation of Gaussian noise added to y. One ``numpy.random.default_rng(seed)`` draws
x, then the noise, then the shuffle of the split.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import DataError, ScenarioError
from ..expr import evaluate, parse
from ..validate import Table, is_number, show
from .columns import apply_op, checked_apply, compile_columns
from .dataset import Dataset, Generated, split

KEYS = ("y", "x_range")
MAX_NOISE = 1e6


def _bound(t: Table, value: object) -> float:
    """One end of x_range: a number or a constant expression such as "-pi"."""
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            expr = parse(value, set(), source=t.source, where=f"{t.name} key 'x_range'")
            v = evaluate(expr, {}, apply_op)
        except (ScenarioError, ArithmeticError, ValueError) as exc:
            raise DataError(str(exc) if isinstance(exc, ScenarioError) else
                            f"{t.at('x_range')}: cannot compute {value!r}") \
                from None
        if isinstance(v, float) and math.isfinite(v):
            return v
    raise t.expected("x_range", "[low, high], numbers or constant expressions such as \"-pi\"")


def build(t: Table, base_dir: Path, source: str, name: str) -> Dataset:
    """The [data] table of source "curve" (defaults: y = "sin(x)" on [-pi, pi], 200 points,
    noise 0, half for training)."""
    g = Generated.from_table(t, n=200, max_noise=MAX_NOISE)
    text = t.get("y", "sin(x)")
    cols = compile_columns([text], ["x"], source, "y", what="expression", table=t.name)
    rng_values = t.get("x_range", [-math.pi, math.pi])
    if not isinstance(rng_values, list) or len(rng_values) != 2:
        raise t.expected("x_range", "[low, high]")
    low, high = (_bound(t, v) for v in rng_values)
    if not low < high:
        raise t.fail("x_range", f"expected low < high, got {show(rng_values)}")
    rng = g.rng()
    x = rng.uniform(low, high, (g.n, 1))
    y = checked_apply(cols, x, t.at("y"), what="expression")
    if g.noise:
        y += rng.normal(0.0, g.noise, y.shape)
    x_tr, y_tr, x_te, y_te = split(x, y, rng, g.train_fraction, t.at("train_fraction"))
    description = (f"curve: y = {cols.texts[0]} on [{low:.6g}, {high:.6g}], {g.summary()}; "
                   f"{len(y_tr)} for training, {len(y_te)} for testing.")
    return Dataset("curve", description, x_tr, y_tr, x_te, y_te, ["x"], None, raw_names=["x"],
                   raw_train=x_tr, raw_test=x_te, input_range=[(low, high)])
