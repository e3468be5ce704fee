"""The compiled graph's two ways through a program: the all-floats loops (no numpy, no shapes,
issue 13) and the general one (arrays, broadcasting). The same expression must give the same
numbers on both, and both must match the derivative worked out by hand; n-ary ops (``l2`` of
three or more inputs), inputs that need no gradient, and unconnected parameters included."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from engine import graph_compile as graph_module
from engine.errors import ExpressionError, NumericError, ScenarioError
from engine.graph import Graph, as_value

# (nodes, params, data, {param: dJ/dparam worked out by hand at those params})
CASES = [
    # l2(a, b, c) = a^2 + b^2 + c^2: an n-ary op on floats
    ({"J": "l2(a, b, c)"}, {"a": 1.5, "b": -2.0, "c": 0.25}, {},
     {"a": 3.0, "b": -4.0, "c": 0.5}),
    # a used twice by one n-ary op: both contributions add up, d/da (2a^2 + b^2) = 4a
    ({"J": "l2(a, a, b)"}, {"a": 1.5, "b": -2.0}, {}, {"a": 6.0, "b": -4.0}),
    # x is data: no gradient is wanted for it; d/da = 2a, d/db = 2b (then times 3)
    ({"J": "3 * l2(a, x, b)"}, {"a": 0.5, "b": 2.0}, {"x": 7.0}, {"a": 3.0, "b": 12.0}),
    # unary, binary and n-ary in one graph, a sub-node reached along two paths:
    # J = exp(a*b) + l2(a*b, b) = e^(ab) + (ab)^2 + b^2
    # dJ/da = b e^(ab) + 2ab * b, dJ/db = a e^(ab) + 2ab * a + 2b
    ({"u": "a*b", "J": "exp(u) + l2(u, b)"}, {"a": 0.5, "b": -1.0}, {},
     {"a": -np.exp(-0.5) + 2 * -0.5 * -1.0, "b": 0.5 * np.exp(-0.5) + 2 * -0.5 * 0.5 - 2.0}),
]


def as_arrays(values: dict[str, float]) -> dict[str, np.ndarray]:
    return {k: np.array([v]) for k, v in values.items()}


@pytest.mark.parametrize(("nodes", "params", "data", "want"), CASES)
def test_float_and_array_paths_give_the_derivatives_worked_out_by_hand(
        nodes: dict, params: dict, data: dict, want: dict) -> None:
    g = Graph.build(params, data, nodes, "t.toml")
    assert g._scalar  # noqa: SLF001 - the all-floats loops
    g.forward()
    grads = g.gradients("J")
    assert grads.keys() == want.keys()
    for p, v in want.items():
        assert grads[p] == pytest.approx(v, rel=1e-14, abs=1e-15) and type(grads[p]) is float
    # the same numbers as arrays of one element: the general loop, with shapes
    h = Graph.build(as_arrays(params), as_arrays(data), nodes, "t.toml")
    assert not h._scalar  # noqa: SLF001
    h.forward()
    assert np.ndim(h.value("J")) <= 1 and float(np.sum(h.value("J"))) == pytest.approx(
        g.value("J"), rel=1e-14)
    for p, v in h.gradients("J").items():
        assert float(v[0]) == pytest.approx(want[p], rel=1e-14, abs=1e-15)
    # and every node's gradient (None where J does not depend on it) agrees between the two
    for a, b in zip(g.backward("J"), h.backward("J"), strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert float(np.sum(b)) == pytest.approx(a, rel=1e-14, abs=1e-15)


def test_forward_of_an_n_ary_op_on_floats() -> None:
    g = Graph.build({"a": 1.5, "b": -2.0, "c": 0.25}, {}, {"J": "l2(a, b, c)", "K": "l2(a)"})
    g.forward()
    assert g.value("J") == 1.5**2 + 2.0**2 + 0.25**2 and type(g.value("J")) is float
    assert g.value("K") == 2.25


def test_gradients_in_a_mixed_graph_of_floats_and_arrays() -> None:
    # v is an array, so the general loop runs; a is a float J does not depend on: 0.0 (a
    # float, as a is), an unconnected array parameter gets zeros of its shape
    v = np.array([1.0, -2.0, 3.0])
    g = Graph.build({"a": 2.0, "v": v, "m": np.ones((2, 2))}, {}, {"J": "sum(v*v)", "K": "a*a"})
    g.forward()
    grads = g.gradients("J")
    assert grads["a"] == 0.0 and type(grads["a"]) is float
    np.testing.assert_array_equal(grads["v"], 2.0 * v)
    assert grads["m"].shape == (2, 2) and not grads["m"].any()
    assert list(g.gradients("J", wrt=["v"])) == ["v"]
    assert g.gradients("K", wrt=["a"]) == {"a": 4.0}


def test_the_float_loops_only_for_a_graph_of_floats() -> None:
    g = Graph.build({"a": 2.0}, {"x": 3.0}, {"J": "a * x"})
    assert g._scalar  # noqa: SLF001
    g.set_value("x", np.array([1.0, 2.0]))
    assert not g._scalar  # noqa: SLF001 - an array leaf: the general loop
    g.forward()
    np.testing.assert_array_equal(g.value("J"), [2.0, 4.0])
    g.set_value("x", 3.0)
    assert g._scalar  # noqa: SLF001 - floats again
    g.forward()
    assert g.gradients("J") == {"a": 3.0} and g.value("J") == 6.0


def test_a_label_computed_from_a_parameter_gets_no_gradient_and_stops_nothing() -> None:
    # bce's labels get no gradient (NO_GRAD_INPUTS): here the label is the parameter p, so the
    # bce node depends on a parameter only through an input that wants none. The term a*a
    # before it still gets its gradient: dJ/da = 2a = 3
    for p, x in ((0.25, 0.5), (np.array([0.25, 1.0]), np.array([0.5, 0.5]))):
        g = Graph.build({"a": 1.5, "p": p}, {"x": x}, {"J": "a*a + bce(x, p)"})
        g.forward()
        grads = g.gradients("J")
        assert grads["a"] == 3.0
        np.testing.assert_array_equal(grads["p"], np.zeros_like(p))
        assert np.shape(grads["p"]) == np.shape(p)


def test_data_gets_no_gradient() -> None:
    # J = a * x with x data: d J / d x is not asked for (None), on both loops
    for a, x in ((2.0, 3.0), (np.array([2.0]), np.array([3.0]))):
        g = Graph.build({"a": a}, {"x": x}, {"J": "a*x"})
        g.forward()
        named = g.named_gradients("J")
        assert named["x"] is None and float(np.sum(named["a"])) == 3.0
        assert g.backward("J")[g.index["x"]] is None


def test_a_size_1_axis_gets_the_sum_over_the_rows_it_was_broadcast_to() -> None:
    # b has shape (1, 2) and meets X of shape (2, 2): d sum(X*b) / d b sums X over its rows
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = Graph.build({"b": np.array([[1.0, 1.0]])}, {"X": x}, {"J": "sum(X*b)"})
    g.forward()
    grad = g.gradients("J")["b"]
    assert grad.shape == (1, 2)
    np.testing.assert_array_equal(grad, [[4.0, 6.0]])


def test_gradients_that_overflow_on_arrays_print_no_warning() -> None:
    # d sum(sqrt(v)) / dv = 1 / (2 sqrt(v)): at 0 it is inf, at 4 it is 1/4; numpy is told to
    # be quiet (the runner reports a non-finite gradient itself)
    g = Graph.build({"v": np.array([0.0, 4.0])}, {}, {"J": "sum(sqrt(v))"})
    g.forward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grad = g.gradients("J")["v"]
        np.testing.assert_array_equal(grad, [np.inf, 0.25])
        # the landscape: exp(1000) overflows to inf at one point of the grid
        h = Graph.build({"a": 0.0}, {}, {"J": "exp(a)"})
        np.testing.assert_array_equal(h.evaluate_batched("J", {"a": np.array([0.0, 1000.0])}),
                                      [1.0, np.inf])


def test_a_gradient_that_divides_by_zero_on_floats_names_the_output() -> None:
    g = Graph.build({"v": 0.0}, {}, {"J": "sqrt(v)"})
    g.forward()
    with pytest.raises(NumericError) as e:
        g.gradients("J")
    assert (e.value.node, e.value.message) == ("J", "gradient: division by zero")


def test_what_each_node_records_for_the_views() -> None:
    # the graph view prints each named node's expression as written, and describe() names a
    # sub-expression with its owner; constants inside an expression stay unnamed
    g = Graph.build({"w": 1.0}, {}, {"c": "3", "J": "w + 2*3", "K": "c", "L": "w*w + 1"})
    g.forward()
    assert g.names() == ["w", "c", "J", "K", "L"]
    assert g.values() == {"w": 1.0, "c": 3.0, "J": 7.0, "K": 3.0, "L": 2.0}
    table = [(n.label, n.kind, n.named, n.expr) for n in g.nodes]
    assert table == [("w", "param", True, ""), ("c", "const", True, "3"),
                     ("2", "const", False, ""), ("3", "const", False, ""),
                     ("2*3", "op", False, ""), ("J", "op", True, "w + 2*3"),
                     ("K", "op", True, "c"), ("w*w", "op", False, ""),
                     ("L", "op", True, "w*w + 1")]
    assert [g.describe(i) for i in range(len(g.nodes))] == \
        ["w", "c", "2 (in J)", "3 (in J)", "2*3 (in J)", "J", "K", "w*w (in L)", "L"]
    h = Graph.build({"w": 3.0, "b": 4.0}, {}, {"x": "2*w + 3*b"})
    assert h.nodes[h.index["x"]].expr == "2*w + 3*b"


def test_as_value() -> None:
    assert as_value(2) == 2.0 and type(as_value(2)) is float
    assert as_value(np.array(2.5)) == 2.5 and type(as_value(np.array(2.5))) is float
    with pytest.raises(TypeError, match=r"^a boolean is not a number$"):
        as_value(True)


def test_the_node_limit_is_the_last_size_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_module, "MAX_GRAPH_NODES", 4)
    # a, b and two [graph] nodes: 4 entries, then 4 nodes once compiled (J = a*b, K = J)
    Graph.build({"a": 1.0, "b": 2.0}, {}, {"J": "a*b", "K": "J"})
    with pytest.raises(ScenarioError) as e:
        Graph.build({"a": 1.0, "b": 2.0, "c": 3.0}, {}, {"J": "a*b", "K": "J"})
    assert str(e.value) == ("<graph>: 5 parameters, data and [graph] nodes (the limit is 4 "
                            "nodes in a graph)")
    # a*b + a*a: a, b, a*b, a*a and J: 5 nodes with the sub-expressions
    with pytest.raises(ScenarioError) as e:
        Graph.build({"a": 1.0, "b": 2.0}, {}, {"J": "a*b + a*a"}, "g.toml")
    assert str(e.value) == ("g.toml: [graph] node 'J': the graph has grown to 5 nodes with the "
                            "sub-expressions (the limit is 4)")
    monkeypatch.setattr(graph_module, "MAX_GRAPH_NODES", 5)
    assert len(Graph.build({"a": 1.0, "b": 2.0}, {}, {"J": "a*b + a*a"}).nodes) == 5


def test_every_node_is_ordered_after_those_it_uses() -> None:
    # A uses B, so B comes first; C starts after B was already reached from A
    g = Graph.build({"w": 2.0}, {}, {"A": "B + 1", "B": "w*w", "C": "w*3"})
    assert g.order == ["B", "A", "C"]
    g.forward()
    assert g.values(["A", "B", "C"]) == {"A": 5.0, "B": 4.0, "C": 6.0}


def test_a_cycle_away_from_the_first_node_is_refused() -> None:
    with pytest.raises(ExpressionError) as e:
        Graph.build({"w": 2.0}, {}, {"A": "B + w", "B": "C * 2", "C": "B - 1"}, "g.toml")
    assert str(e.value) == ("g.toml: [graph] node 'C': cycle between graph nodes (B -> C -> B) "
                            "in 'B - 1'")
