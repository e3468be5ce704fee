"""The compiled graph at its edges: numeric messages, set_value's fast path, local gradients
through broadcasting and label inputs, the walkthrough of a node used twice, and the batched
evaluation of the landscape with mixed ranks, integer grids and n-ary ops.

Each test was written for a mutant the rest of the suite let live (tools/mutation.py,
docs/testing.md); expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from engine.errors import ExpressionError, NumericError
from engine.graph import Graph


def built(params, data, nodes) -> Graph:
    g = Graph.build(params, data, nodes, "f.toml")
    g.forward()
    return g


# --- numeric errors name what happened ------------------------------------------------------

@pytest.mark.parametrize(("params", "node", "message"), [
    ({"w": 0.0}, "1 / w", "division by zero at node 'y'"),
    ({"w": 1000.0}, "exp(w)", "overflow (a value became infinite) at node 'y'"),
    ({"w": 0.0}, "log(w)", "log of a non-positive number at node 'y'"),
    ({"w": -8.0}, "w ** 0.5", "math domain error at node 'y'"),  # math.pow's own words
])
def test_numeric_errors_say_what_happened_at_which_node(params, node, message):
    g = Graph.build(params, {}, {"y": node})
    with pytest.raises(NumericError) as info:
        g.forward()
    assert str(info.value) == message


def test_a_wordless_domain_error_is_called_a_math_domain_error():
    from engine.graph_values import numeric_message

    assert numeric_message(ValueError()) == "math domain error"
    assert numeric_message(ValueError("sqrt of a negative number")) == "sqrt of a negative number"


def test_a_shape_error_after_an_infinite_value_warns_nothing():
    # log(x) of a 0 is -inf (arrays: no error); then (2,) + (3,) cannot broadcast: the failing node
    # is found by re-running the program, which must stay as quiet as the forward pass
    g = Graph.build({}, {"x": np.array([0.0, 1.0]), "v": np.ones(3)}, {"y": "log(x) + v"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Exception, match="shapes"):
            g.forward()
    assert g._failing_instruction() == g.index["y"]
    healthy = built({"w": 1.0}, {}, {"y": "w + 1"})
    assert healthy._failing_instruction() == -1  # nothing fails


# --- set_value ------------------------------------------------------------------------------

def test_set_value_refuses_a_computed_node_by_name():
    g = built({"w": 1.0}, {}, {"y": "2 * w"})
    with pytest.raises(KeyError, match="'y' is computed, not set"):
        g.set_value("y", 3.0)


def test_set_value_keeps_float_arrays_and_converts_the_rest():
    g = built({"w": 1.0}, {}, {"y": "2 * w"})
    a = np.array([1.0, 2.0])
    g.set_value("w", a)
    assert g.value("w") is a  # a float array is taken as it is (the landscape sets many)
    g.set_value("w", [1, 2])
    assert g.value("w").dtype == np.float64
    g.set_value("w", np.array([1, 2]))
    assert g.value("w").dtype == np.float64


def test_a_graph_back_on_floats_takes_the_scalar_path_again():
    g = built({"w": 1.0, "b": 2.0}, {}, {"y": "w * b"})
    assert g._scalar
    g.set_value("w", np.array([1.0, 2.0]))
    assert not g._scalar
    g.forward()  # y now holds an array: only the leaves decide
    g.set_value("w", 3.0)
    assert g._scalar  # every leaf a float again
    g.forward()
    assert g.value("y") == 6.0 and type(g.value("y")) is float
    g.set_value("b", np.array([1.0]))
    g.set_value("w", 1.0)
    assert not g._scalar  # b is still an array
    # an array graph computes without numpy's warnings: log(0) is -inf, quietly
    g2 = built({"w": 1.0}, {}, {"y": "log(w)"})
    g2.set_value("w", np.array([0.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g2.forward()
    assert g2.value("y")[0] == -math.inf


# --- local gradients ------------------------------------------------------------------------

def test_local_gradients_through_broadcasting_are_summed_to_the_parameters_shape():
    x = np.array([1.0, 2.0, 4.0])
    g = built({"w": 0.5, "b": -1.0}, {"x": x}, {"y": "w * x + b"})
    # the seed is 1.0: w's term g * x = x, summed over the axis w was broadcast along: 7;
    # b's term is the seed itself (1.0), x's is w (0.5) spread over x's shape
    local = g.local_gradients("y")
    assert local["w"] == 7.0 and type(local["w"]) is float
    assert local["b"] == 1.0
    np.testing.assert_array_equal(np.broadcast_to(local["x"], x.shape), [0.5, 0.5, 0.5])


def test_local_gradients_of_a_broadcast_array_parameter_keep_its_shape():
    W = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    g = built({"W": W, "b": np.array([1.0, -1.0, 0.5])}, {}, {"y": "W * b"})
    # b (3,) was broadcast over W's 2 rows: its term W is summed over the rows, per column
    np.testing.assert_array_equal(g.local_gradients("y")["b"], [11.0, 22.0, 33.0])


def test_local_gradients_skip_a_label_computed_in_the_expression():
    # the label sub-expression (t + 0) gets no gradient, and is not visited
    g = built({"w": 0.0}, {"x": np.array([[1.0, 2.0]]), "t": np.array([1.0])},
              {"J": "softmax_ce(w * x, t + 0)"})
    dw = g.local_gradients("J")["w"]
    # w = 0: softmax = (1/2, 1/2), onehot(1) = (0, 1): d/dw = sum(x * (s - y)) = 0.5 - 1 = -0.5
    assert dw == pytest.approx(-0.5, rel=1e-15)


def test_local_gradients_of_a_division_by_zero_data_are_quiet():
    g = built({"w": 1.0}, {"x": np.array([0.0, 2.0])}, {"y": "w / x"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dw = g.local_gradients("y")["w"]
    assert dw == math.inf  # 1/0 + 1/2


# --- the walkthrough ------------------------------------------------------------------------

def test_walkthrough_waits_for_every_user_of_a_node_before_going_through_it():
    # z = x + y, x = 2u, y = 3u, u = w*w at w = 1: dz/du = 2 + 3 = 5 must be complete before
    # the edge u -> w (du/dw = 2w = 2, term 10)
    g = built({"w": 1.0}, {}, {"u": "w * w", "x": "2 * u", "y": "3 * u", "z": "x + y"})
    edges = [(e.parent, e.child, e.upstream, e.local, e.term, e.total) for e in g.walkthrough("z")]
    assert edges == [
        ("z", "x", 1.0, 1.0, 1.0, 1.0),
        ("z", "y", 1.0, 1.0, 1.0, 1.0),
        ("x", "u", 1.0, 2.0, 2.0, 2.0),
        ("y", "u", 1.0, 3.0, 3.0, 5.0),
        ("u", "w", 5.0, 2.0, 10.0, 10.0),
    ]
    assert g.gradients("z")["w"] == 10.0  # 5 w^2 at w = 1


def test_walkthrough_waits_for_a_user_on_a_longer_path():
    # z = x + y, x = 2u, y = 2v, v = 3u, u = w*w: u's users are x and v; v is reached after x,
    # so u waits for v. dz/du = 2 + 2*3 = 8, dz/dw = 8 * 2w = 16 at w = 1 (z = 8 w^2)
    g = built({"w": 1.0}, {}, {"u": "w * w", "x": "2 * u", "v": "3 * u", "y": "2 * v",
                               "z": "x + y"})
    edges = [(e.parent, e.child, e.upstream, e.local, e.term, e.total) for e in g.walkthrough("z")]
    assert edges == [
        ("z", "x", 1.0, 1.0, 1.0, 1.0),
        ("z", "y", 1.0, 1.0, 1.0, 1.0),
        ("x", "u", 1.0, 2.0, 2.0, 2.0),
        ("y", "v", 1.0, 2.0, 2.0, 2.0),
        ("v", "u", 2.0, 3.0, 6.0, 8.0),
        ("u", "w", 8.0, 2.0, 16.0, 16.0),
    ]
    assert g.gradients("z")["w"] == 16.0


def test_walkthrough_goes_on_past_a_label_that_takes_no_gradient():
    # t depends on w but is bce's label: no edge z -> t, and the edge z -> p still follows
    g = built({"w": 0.0}, {}, {"t": "w * 0 + 1", "p": "sigmoid(w)", "z": "bce(p, t)"})
    edges = [(e.parent, e.child) for e in g.walkthrough("z")]
    assert edges == [("z", "p"), ("p", "w")]
    # bce(p, 1) = -log p: dz/dp = -1/p = -2 at p = sigmoid(0) = 1/2; dp/dw = 1/4
    assert g.walkthrough("z")[-1].total == pytest.approx(-0.5, rel=1e-15)


# --- the landscape's batched evaluation -----------------------------------------------------

def _loop(g: Graph, out: str, pts: dict[str, np.ndarray]) -> np.ndarray:
    saved = {n: g.value(n) for n in pts}
    res = []
    for k in range(len(next(iter(pts.values())))):
        for n, v in pts.items():
            g.set_value(n, float(v[k]))
        g.forward()
        res.append(float(g.value(out)))
    for n, v in saved.items():
        g.set_value(n, v)
    g.forward()
    return np.array(res)


def test_batched_with_data_of_different_ranks_broadcasts_as_forward_does():
    # X is (2, 2), r is (2,): X * r pairs r with X's last axis in forward; the grid must too
    g = built({"w": 0.5, "b": 1.0}, {"X": np.array([[1.0, 2.0], [3.0, 5.0]]), "r": np.array([1.0, -1.0])},
              {"J": "sum(w * X * r) + b"})
    pts = {"w": np.array([-1.0, 0.0, 2.0])}
    np.testing.assert_allclose(g.evaluate_batched("J", pts), _loop(g, "J", pts), rtol=1e-15)


def test_batched_integer_grids_compute_in_floating_point():
    g = built({"w": 1.0}, {}, {"J": "w * w"})
    got = g.evaluate_batched("J", {"w": np.array([2**32, 3])})  # int64 would wrap 2^64 to 0
    np.testing.assert_array_equal(got, [2.0**64, 9.0])


def test_batched_n_ary_l2_takes_every_argument():
    g = built({"a": 1.0, "b": 2.0, "c": 3.0}, {}, {"J": "l2(a, b, c)"})
    pts = {"a": np.array([0.0, 1.0]), "c": np.array([1.0, -2.0])}
    np.testing.assert_array_equal(g.evaluate_batched("J", pts), [0 + 4 + 1, 1 + 4 + 4])


def test_batched_output_that_ignores_the_grid_is_repeated():
    g = built({"w": 1.0}, {}, {"k": "2 + 3", "J": "w * 1"})
    np.testing.assert_array_equal(g.evaluate_batched("k", {"w": np.zeros(3)}), [5.0, 5.0, 5.0])


def test_batched_refuses_softmax_ce_by_name():
    g = built({"w": 1.0}, {"x": np.array([[1.0, 2.0]]), "t": np.array([1.0])},
              {"J": "softmax_ce(w * x, t)"})
    with pytest.raises(ExpressionError,
                       match="^f.toml: the landscape cannot be vectorised through softmax_ce$"):
        g.evaluate_batched("J", {"w": np.zeros(2)})
