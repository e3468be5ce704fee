"""Derivative formulas: the text a tutorial writes, and always equal to backpropagation."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.expr import evaluate
from engine.graph import Graph
from engine.ops import OPS
from engine.symbolic import to_text, total_derivative


def graph(params: dict, nodes: dict) -> Graph:
    g = Graph.build(params, {}, nodes)
    g.forward()
    return g


def value(e, g: Graph) -> float:
    return float(evaluate(e, g.values(), lambda name, *a: OPS[name].forward(*a)))


def test_target_z_as_the_tutorial_writes_it():
    g = graph({"w": 3.0, "b": 4.0}, {"x": "2*w + 3*b", "y": "2*b + 1", "z": "x * y"})
    db = total_derivative(g, "z", "b")
    assert to_text(db) == "3*y + 2*x"
    assert to_text(db, g.values(), lambda v: f"{v:g}") == "3*9 + 2*18"
    assert value(db, g) == 63.0
    assert to_text(total_derivative(g, "z", "w")) == "2*y"


def test_chain_of_functions_and_negative_numbers_in_parentheses():
    g = graph({"x": 2.0}, {"a": "x**2", "b": "log(a)", "c": "sqrt(b)"})
    dc = total_derivative(g, "c", "x")
    assert to_text(dc) == "(1/(2*sqrt(b)))*(1/a)*2*x"
    assert value(dc, g) == pytest.approx(g.gradients("c")["x"], rel=1e-15)
    r = graph({"x": -1.2, "y": 1.0}, {"f": "(1 - x)**2 + 100*(y - x**2)**2"})
    assert to_text(total_derivative(r, "f", "y")) == "200*(y - x**2)"
    assert "(-1.2)" in to_text(total_derivative(r, "f", "x"), r.values(), lambda v: f"{v:g}")


def test_no_formula_through_reductions_or_unconnected_zero():
    g = Graph.build({"w": 1.0}, {"x": [1.0, 2.0]}, {"loss": "mean((w*x)**2)"})
    g.forward()
    assert total_derivative(g, "loss", "w") is None
    h = graph({"u": 1.0, "v": 2.0}, {"f": "u**3"})
    assert to_text(total_derivative(h, "f", "v")) == "0"


UNARY = ["exp", "sin", "cos", "tanh", "sigmoid"]
leaf = st.sampled_from(["u", "v", "0.5", "3", "k"])


def exprs() -> st.SearchStrategy[str]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
                lambda p: f"({p[0]} {p[1]} {p[2]})"),
            st.tuples(inner, inner).map(lambda p: f"({p[0]} / (({p[1]})**2 + 1))"),
            st.tuples(st.sampled_from(UNARY), inner).map(lambda p: f"{p[0]}({p[1]})"),
            inner.map(lambda e: f"sqrt(({e})**2 + 1)"),
            inner.map(lambda e: f"log(({e})**2 + 2)"),
            inner.map(lambda e: f"-({e})"),
        ),
        max_leaves=7,
    )


@settings(max_examples=150, deadline=None)
@given(inner=exprs(), outer=exprs(), u=st.floats(-2, 2), v=st.floats(-2, 2))
def test_formula_equals_backpropagation(inner, outer, u, v):
    # k is a named node, so the formula chains through it
    g = graph({"u": u, "v": v}, {"k": inner.replace("k", "u"), "f": outer})
    grads = g.gradients("f")
    for p in ("u", "v"):
        e = total_derivative(g, "f", p)
        assert e is not None
        got = value(e, g)
        assume(math.isfinite(got) and abs(got) < 1e8)
        assert got == pytest.approx(grads[p], rel=1e-9, abs=1e-9), (outer, inner, to_text(e))


def test_a_formula_longer_than_the_limit_is_left_to_the_numeric_terms():
    from engine.limits import MAX_FORMULA_NODES
    from engine.symbolic import size

    # x_k = x_(k-1) * w: D(x_k) nests one product deeper per node, so it outgrows the limit
    n = 400
    nodes = {"x0": "w", **{f"x{k}": f"x{k - 1} * w" for k in range(1, n)}}
    g = graph({"w": 1.0}, nodes)
    assert total_derivative(g, f"x{n - 1}", "w") is None
    short = total_derivative(g, "x2", "w")  # dx2/dw = w*(w*1 + x0) + x1, as the chain writes it
    assert short is not None and size(short) <= MAX_FORMULA_NODES
    assert value(short, g) == pytest.approx(g.gradients("x2")["w"])


def test_a_formula_a_thousand_levels_deep_prints_from_a_deep_stack():
    from engine.expr import Expr
    from engine.limits import MAX_FORMULA_NODES

    w = Expr("name", "w", name="w")
    e = w
    for _ in range(MAX_FORMULA_NODES // 2 - 1):  # (((w + w) + w) + ...): as deep as it is long
        e = Expr("op", "", name="add", args=(e, w))

    def text(depth: int) -> str:  # 600 frames of Python's stack already in use
        return text(depth - 1) if depth else to_text(e, {"w": 2.0}, lambda v: f"{v:g}")

    assert text(600) == " + ".join(["2"] * (MAX_FORMULA_NODES // 2))
