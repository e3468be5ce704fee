"""The op table at its edges: constants baked into a node, derivatives at 0 (PyTorch's
conventions), the scalar/array dispatch, domain messages and the batched reductions.

Each test here was written for a mutant that the rest of the suite let live (tools/mutation.py,
docs/testing.md): every expected value is worked out by hand in a comment.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import ops
from engine.graph import Graph
from engine.ops import BATCHED, OPS, const_pow

# --- a constant operand is baked into its node ---------------------------------------------

W = 3.0
CASES = [  # (node, value at w = 3, d/dw) by hand
    ("w * 4", 12.0, 4.0),
    ("4 * w", 12.0, 4.0),
    ("w + 4", 7.0, 1.0),
    ("4 + w", 7.0, 1.0),
    ("w - 4", -1.0, 1.0),
    ("4 - w", 1.0, -1.0),
    ("w / 4", 0.75, 0.25),
    ("4 / w", 4 / 3, -4 / 9),  # d(4/w)/dw = -4/w^2: not baked in (an op of w and a constant)
    ("w ** 2", 9.0, 6.0),
    ("w ** 1", 3.0, 1.0),
    ("w ** 3", 27.0, 27.0),  # 3 w^2
    ("w ** 0.5", math.sqrt(3.0), 0.5 / math.sqrt(3.0)),
]


@pytest.mark.parametrize(("node", "value", "slope"), CASES)
def test_a_node_with_a_constant_has_the_value_and_slope_worked_by_hand(node, value, slope):
    g = Graph.build({"w": W}, {}, {"y": node})
    g.forward()
    assert g.value("y") == pytest.approx(value, rel=1e-15)
    assert g.gradients("y")["w"] == pytest.approx(slope, rel=1e-15)
    # arrays take the same path: each element as the scalar
    ga = Graph.build({"w": np.array([W, 2 * W])}, {}, {"y": f"sum({node})"})
    ga.forward()
    two = Graph.build({"w": 2 * W}, {}, {"y": node})
    two.forward()
    assert ga.value("y") == pytest.approx(value + two.value("y"), rel=1e-14)
    np.testing.assert_allclose(ga.gradients("y")["w"], [slope, two.gradients("y")["w"]], rtol=1e-14)


@pytest.mark.parametrize("node", ["w * 4", "4 * w", "w + 4", "4 + w", "w - 4", "4 - w", "w / 4",
                                  "w ** 2", "w ** 1", "w ** 3"])
def test_a_constant_operand_costs_no_node_of_its_own(node):
    """``2*w`` compiles to one node (the constant baked in): the tutorials' graphs are such terms."""
    g = Graph.build({"w": W}, {}, {"y": node})
    assert [n.kind for n in g.nodes] == ["param", "op"]
    assert len(g.nodes[1].inputs) == 1


def test_a_constant_divided_by_a_node_keeps_the_general_division():
    g = Graph.build({"w": W}, {}, {"y": "4 / w"})
    assert [n.kind for n in g.nodes] == ["param", "const", "op"]


def test_power_one_is_the_identity_itself():
    fwd, bwd = const_pow(1.0)
    x = np.array([1.0, -2.0])
    assert fwd(x) is x  # no copy, no pow
    assert bwd(5.0, x, x) == (5.0,)


@given(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3).filter(lambda c: abs(c) > 1e-3))
def test_baked_constants_agree_with_the_general_ops(w, c):
    for name, text in (("mul", f"w * {c!r}"), ("add", f"w + {c!r}"), ("sub", f"w - {c!r}"),
                       ("div", f"w / {c!r}")):
        g = Graph.build({"w": w, "c": c}, {}, {"y": text.replace(repr(c), "c", 1)})
        baked = Graph.build({"w": w}, {}, {"y": text})
        for graph in (g, baked):
            graph.forward()
        assert baked.value("y") == pytest.approx(g.value("y"), rel=1e-15), name
        assert baked.gradients("y")["w"] == pytest.approx(g.gradients("y")["w"], rel=1e-15), name


# --- derivatives at 0: PyTorch's conventions ------------------------------------------------

def test_abs_and_relu_derivatives_at_zero_are_zero_as_in_pytorch():
    # torch: d|x|/dx at 0 = sign(0) = 0; d relu(x)/dx at 0 = 0
    for x in (0.0, np.array([0.0, -0.0, 2.0, -2.0])):
        (ga,) = OPS["abs"].backward(1.0, OPS["abs"].forward(x), x)
        (gr,) = OPS["relu"].backward(1.0, OPS["relu"].forward(x), x)
        np.testing.assert_array_equal(ga, np.sign(x))
        np.testing.assert_array_equal(gr, np.asarray(x) > 0)
    assert ops._sign(0.0) == 0.0 and ops._sign(2.5) == 1.0 and ops._sign(-2.5) == -1.0
    assert type(ops._sign(0.5)) is float


def test_relu_derivative_keeps_the_array_dtype():
    x = np.array([-1.0, 0.0, 3.0], dtype=np.float32)
    (g,) = OPS["relu"].backward(np.float32(1.0), OPS["relu"].forward(x), x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_sigmoid_is_symmetric_about_zero_on_both_branches():
    # s(x) + s(-x) = 1; x >= 0 and x < 0 take different (stable) formulas
    for x in (0.0, 0.25, 0.999, 1.0, 30.0, 700.0):
        assert ops._sigmoid_f(x) + ops._sigmoid_f(-x) == pytest.approx(1.0, abs=1e-16)
    assert ops._sigmoid_f(0.0) == 0.5


# --- the scalar/array dispatch --------------------------------------------------------------

def test_unary_dispatch_takes_math_for_floats_and_numpy_for_arrays():
    f = ops._unary(lambda x: ("math", x), lambda x: ("numpy", x))
    x = np.array([1.0])
    assert f(2.0) == ("math", 2.0)
    kind, got = f(x)
    assert kind == "numpy" and got is x


def test_reductions_spread_their_gradient_over_the_input_shape():
    x = np.arange(6.0).reshape(2, 3)
    (gs,) = OPS["sum"].backward(2.0, None, x)
    assert gs.shape == (2, 3) and gs.dtype == np.float64
    (gm,) = OPS["mean"].backward(3.0, None, x)
    np.testing.assert_array_equal(gm, np.full((2, 3), 0.5))  # 3 / 6
    # a scalar input keeps its gradient a Python float
    (gf,) = OPS["sum"].backward(2.0, 2.0, 1.5)
    assert gf == 2.0 and type(gf) is float
    assert ops._size(1.5) == 1 and ops._size(x) == 6


@pytest.mark.parametrize("name", ["mse", "mae"])
def test_mean_losses_divide_by_the_number_of_elements(name):
    p, y = np.array([1.0, 2.0, 4.0, 8.0]), np.zeros(4)
    gp, gy = OPS[name].backward(1.0, None, p, y)
    # mse: 2 (p - y) / 4 = p / 2; mae: sign(p - y) / 4 = 1/4
    want = p / 2 if name == "mse" else np.full(4, 0.25)
    np.testing.assert_array_equal(gp, want)
    np.testing.assert_array_equal(gy, -want)


# --- domains -------------------------------------------------------------------------------

def test_domain_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="^log of a non-positive number$"):
        OPS["log"].forward(0.0)
    with pytest.raises(ValueError, match="^sqrt of a negative number$"):
        OPS["sqrt"].forward(-1e-300)
    assert OPS["sqrt"].forward(0.0) == 0.0


def test_pow_gradient_wrt_exponent_at_a_zero_base_is_nan_not_an_error():
    # d(a^b)/db = a^b log a: log 0 is undefined, so NaN (the graph names it), never a raise
    da, db = OPS["pow"].backward(1.0, 0.0, 0.0, 2.0)
    assert da == 0.0 and math.isnan(db)
    assert type(ops._log_or_nan(2.0)) is float


# --- the batched reductions of the loss landscape ------------------------------------------

def test_batched_reductions_leave_a_grid_of_scalars_alone():
    grid = np.array([1.0, 2.0, 3.0])  # one scalar per grid point: nothing to reduce
    for name in ("sum", "mean"):
        assert BATCHED[name](grid) is grid
        assert BATCHED[name](2.5) == 2.5
    cube = np.arange(12.0).reshape(3, 2, 2)  # 3 grid points of 2x2 data
    np.testing.assert_array_equal(BATCHED["sum"](cube).ravel(), [6.0, 22.0, 38.0])
    np.testing.assert_array_equal(BATCHED["mean"](cube).ravel(), [1.5, 5.5, 9.5])
