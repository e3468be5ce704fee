"""The compiled graph: forward values, gradients against finite differences, paths adding up,
the chain-rule walkthrough, numeric errors naming the node, and batched evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import check_gradients, fd_gradient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.errors import ExpressionError, NumericError, ScenarioError
from engine.graph import Graph

RNG = np.random.default_rng(7)

TZ_NODES = {"x": "2*w + 3*b", "y": "2*b + 1", "z": "x * y"}


def target_z() -> Graph:
    g = Graph.build({"w": 3.0, "b": 4.0}, {}, TZ_NODES, "target_z.toml")
    g.forward()
    return g


# --- the tutorial's worked example -------------------------------------------------------

def test_target_z_forward_values():
    g = target_z()
    assert g.values() == {"w": 3.0, "b": 4.0, "x": 18.0, "y": 9.0, "z": 162.0}
    assert g.names() == ["w", "b", "x", "y", "z"]


def test_target_z_gradients_add_up_along_both_paths():
    g = target_z()
    grads = g.gradients("z")
    assert grads == {"w": 18.0, "b": 63.0}
    assert type(grads["b"]) is float
    assert g.gradients("z", ["b"]) == {"b": 63.0}
    named = g.named_gradients("z")
    assert named == {"w": 18.0, "b": 63.0, "x": 9.0, "y": 18.0, "z": 1.0}
    # y does not depend on w: no path
    assert g.named_gradients("y") == {"w": None, "b": 2.0, "x": None, "y": 1.0, "z": None}
    assert g.gradients("y") == {"w": 0.0, "b": 2.0}


def test_target_z_local_gradients():
    g = target_z()
    assert g.local_gradients("x") == {"w": 2.0, "b": 3.0}
    assert g.local_gradients("y") == {"b": 2.0}
    assert g.local_gradients("z") == {"x": 9.0, "y": 18.0}
    assert g.local_gradients("w") == {}


def test_target_z_walkthrough_terms():
    g = target_z()
    edges = g.walkthrough("z")
    got = [(e.parent, e.child, e.upstream, e.local, e.term, e.total) for e in edges]
    # a node is visited once all its users have been, and in reading order among those ready
    assert got == [
        ("z", "x", 1.0, 9.0, 9.0, 9.0),
        ("z", "y", 1.0, 18.0, 18.0, 18.0),
        ("x", "w", 9.0, 2.0, 18.0, 18.0),
        ("x", "b", 9.0, 3.0, 27.0, 27.0),  # dz/dx * dx/db = 9 * 3
        ("y", "b", 18.0, 2.0, 36.0, 63.0),  # dz/dy * dy/db = 18 * 2, total 27 + 36 = 63
    ]
    b_terms = [e.term for e in edges if e.child == "b"]
    assert b_terms == [27.0, 36.0] and sum(b_terms) == g.gradients("z")["b"]


def test_gradients_follow_new_parameter_values():
    g = target_z()
    g.set_value("b", 3.0)
    g.forward()
    # x = 15, y = 7, z = 105; dz/db = 3y + 2x = 21 + 30, dz/dw = 2y = 14
    assert g.value("z") == 105.0
    assert g.gradients("z") == {"w": 14.0, "b": 51.0}


def test_same_node_used_twice_and_repeated_name():
    g = Graph.build({"w": 3.0}, {}, {"a": "w*w + w", "J": "a*a"})
    g.forward()
    assert g.value("J") == 144.0
    # dJ/dw = 2a * (2w + 1) = 24 * 7
    assert g.gradients("J") == {"w": 168.0}
    assert g.local_gradients("a") == {"w": 7.0}


def test_constant_and_alias_nodes():
    g = Graph.build({"w": 2.0}, {}, {"k": "3", "a": "w", "J": "k*a + pi"})
    g.forward()
    assert g.value("k") == 3.0 and g.value("a") == 2.0
    assert g.value("J") == 6.0 + math.pi
    assert g.gradients("J") == {"w": 3.0}
    assert [e.child for e in g.walkthrough("J")] == ["a", "w"]


def test_unconnected_parameter_gradient_is_zero_of_its_shape():
    g = Graph.build({"w": 1.0, "v": np.ones(3)}, {}, {"J": "w*w"})
    g.forward()
    grads = g.gradients("J")
    assert grads["w"] == 2.0
    np.testing.assert_array_equal(grads["v"], np.zeros(3))


def test_data_gets_no_gradient_and_set_value_rules():
    g = Graph.build({"w": 2.0}, {"x": np.array([1.0, 2.0, 3.0])}, {"J": "sum(w*x)"})
    g.forward()
    assert g.value("J") == 12.0
    assert set(g.gradients("J")) == {"w"}
    assert g.gradients("J")["w"] == 6.0
    g.set_value("x", np.array([1.0, 1.0]))
    g.forward()
    assert g.value("J") == 4.0
    with pytest.raises(KeyError):
        g.set_value("J", 1.0)


def test_gradients_of_broadcast_results_are_writable_copies():
    g = Graph.build({"s": 1.0, "a": np.zeros(3)}, {}, {"J": "sum(a + s)"})
    g.forward()
    grads = g.gradients("J")
    grads["a"] += 1.0  # must not raise on a read-only broadcast view
    np.testing.assert_array_equal(grads["a"], [2.0, 2.0, 2.0])


# --- every op through the graph against finite differences --------------------------------

@pytest.mark.parametrize("expr", [
    "w + b", "w - b", "w * b", "w / b", "-w", "w ** 3", "w ** b", "b ** w", "w ** -2",
    "exp(w)", "log(b)", "sqrt(b)", "abs(w)", "abs(-w)", "sin(w)", "cos(w)", "tanh(w)",
    "sigmoid(w)", "relu(w)", "relu(-w)", "sum(w)", "mean(b)", "l2(w, b)", "mse(w, b)",
    "sse(w, b)", "mae(w, b)", "bce(sigmoid(w), 1)", "bce_logits(w, 0)",
    "sigmoid(40 * w)", "sigmoid(-40 * w)", "w ** 0.5 + b ** 1",
])
def test_scalar_expression_gradients(expr):
    check_gradients({"w": 0.7, "b": 1.9}, {"J": expr}, "J")


def test_sigmoid_far_in_the_tails_has_tiny_exact_gradient():
    g = Graph.build({"w": 50.0}, {}, {"J": "sigmoid(w) + sigmoid(-w)"})
    g.forward()
    assert g.value("J") == pytest.approx(1.0, abs=1e-15)
    assert abs(g.gradients("J")["w"]) < 1e-20


def test_array_plus_scalar_parameter_broadcast():
    g = check_gradients({"a": RNG.normal(size=3), "s": 0.4}, {"J": "sum(sin(a + s) * (a + s))"}, "J")
    assert type(g.gradients("J")["s"]) is float
    # d sum(a + s) / ds = 3: the broadcast gradient is summed
    g2 = Graph.build({"a": np.zeros(3), "s": 0.0}, {}, {"J": "sum(a + s)"})
    g2.forward()
    assert g2.gradients("J")["s"] == 3.0


def test_scalar_param_times_data_array():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([2.0, 4.5, 5.5])
    g = check_gradients({"w": 1.5, "b": 0.5}, {"p": "w*x + b", "J": "mean((p - y)**2)"}, "J",
                        data={"x": x, "y": y})
    # residuals r = p - y = [2, 3.5, 5] - y = [0, -1, -0.5]; dJ/dw = 2 mean(r x), dJ/db = 2 mean(r)
    r = np.array([0.0, -1.0, -0.5])
    assert g.gradients("J")["w"] == pytest.approx(2 * np.mean(r * x))
    assert g.gradients("J")["b"] == pytest.approx(2 * np.mean(r))


def test_matrix_times_vector_broadcast():
    check_gradients({"M": RNG.normal(size=(2, 3)), "v": RNG.normal(size=3)},
                    {"J": "sum(tanh(M * v))"}, "J")


def test_column_broadcast_against_keepdims_shape():
    check_gradients({"M": RNG.normal(size=(2, 3)), "c": RNG.normal(size=(2, 1))},
                    {"J": "sum(sin(M + c) * c)"}, "J")


@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 4)), ((3,), (3,))])
def test_matmul_gradients(sa, sb):
    check_gradients({"A": RNG.normal(size=sa), "B": RNG.normal(size=sb)},
                    {"C": "A @ B", "J": "sum(tanh(C)) + l2(C)"}, "J")


def test_dot_product_of_vectors_is_a_scalar_output():
    g = check_gradients({"a": np.array([1.0, 2.0]), "b": np.array([3.0, -1.0])}, {"J": "a @ b"}, "J")
    assert g.value("J") == 1.0
    np.testing.assert_array_equal(g.gradients("J")["a"], [3.0, -1.0])


def test_matmul_with_data_matrix_linear_regression():
    X = RNG.normal(size=(5, 3))
    y = RNG.normal(size=5)
    check_gradients({"w": RNG.normal(size=3), "b": 0.1}, {"J": "mse(X @ w + b, y)"}, "J",
                    data={"X": X, "y": y})


@pytest.mark.parametrize("labels", ["int", "onehot"])
def test_softmax_ce_in_a_graph(labels):
    X = RNG.normal(size=(4, 3))
    cls = np.array([0, 2, 1, 2])
    y = cls.astype(float) if labels == "int" else np.eye(3)[cls]
    g = check_gradients({"W": RNG.normal(size=(3, 3)), "c": RNG.normal(size=3)},
                        {"J": "softmax_ce(X @ W + c, y)"}, "J", data={"X": X, "y": y})
    assert g.gradients("J")["c"].shape == (3,)


def test_softmax_ce_single_vector_of_logits_with_one_hot():
    g = check_gradients({"c": np.array([0.5, -0.2, 1.0])}, {"J": "softmax_ce(c, y)"}, "J",
                        data={"y": np.array([0.0, 1.0, 0.0])})
    e = np.exp([0.5, -0.2, 1.0])
    np.testing.assert_allclose(g.gradients("J")["c"], e / e.sum() - [0.0, 1.0, 0.0])


@pytest.mark.parametrize("loss", ["mse(p, y)", "sse(p, y)", "mae(p, y)", "bce(sigmoid(p), y)",
                                  "bce_logits(p, y)", "l2(p) + l2(w, b)", "sum(p) + mean(p * p)"])
def test_losses_of_arrays(loss):
    x = np.array([-1.0, 0.5, 2.0, 3.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    check_gradients({"w": 0.3, "b": -0.2}, {"p": "w * x + b", "J": loss}, "J",
                    data={"x": x, "y": y})


@pytest.mark.parametrize("expr", ["sum(a ** 3)", "sum(a ** s)", "sum(s ** a)", "sum(a ** 2)",
                                  "sum(sqrt(a) + log(a) + exp(a) + abs(a) + relu(a))"])
def test_pow_and_unary_on_arrays(expr):
    check_gradients({"a": np.array([0.5, 1.3, 2.1]), "s": 1.7}, {"J": expr}, "J")


def test_fd_helper_agrees_with_hand_gradient():
    g = Graph.build({"w": 3.0}, {}, {"J": "w*w*w"})
    g.forward()
    assert fd_gradient(g, "J", "w") == pytest.approx(27.0, rel=1e-8)
    assert g.value("w") == 3.0


# --- numeric errors name the node ---------------------------------------------------------

@pytest.mark.parametrize("nodes,node,what", [
    ({"J": "log(w)"}, "J", "log of a non-positive number"),
    ({"a": "w + 1", "J": "log(a)"}, "J", "log"),
    ({"J": "1 / (w + 2)"}, "J", "division by zero"),
    ({"J": "sqrt(w)"}, "J", "sqrt of a negative number"),
    ({"J": "exp(1000 * w*w)"}, "J", "overflow"),
    ({"a": "exp(-1000 * w)", "J": "a + 1"}, "a", "overflow"),
    ({"J": "w ** 0.5"}, "J", "math domain error"),
])
def test_scalar_numeric_errors_name_the_node(nodes, node, what):
    g = Graph.build({"w": -2.0}, {}, nodes)
    with pytest.raises(NumericError) as ei:
        g.forward()
    assert ei.value.node == node
    assert what in str(ei.value)
    assert f"at node '{node}'" in str(ei.value)


def test_numeric_error_in_a_sub_expression_names_the_owner():
    g = Graph.build({"w": -1.0}, {}, {"J": "3 + log(w) * 2"})
    with pytest.raises(NumericError) as ei:
        g.forward()
    assert ei.value.node == "log(w) (in J)"


def test_numeric_error_is_an_arithmetic_error_not_a_gdlab_error():
    from engine.errors import GdlabError

    assert issubclass(NumericError, ArithmeticError)
    assert not issubclass(NumericError, GdlabError)


def test_gradient_division_by_zero_names_the_node():
    g = Graph.build({"w": 0.0}, {}, {"J": "sqrt(w)"})
    g.forward()
    assert g.value("J") == 0.0
    with pytest.raises(NumericError) as ei:
        g.gradients("J")
    assert ei.value.node == "J" and "gradient" in str(ei.value)


def test_array_nonfinite_values_found_by_first_nonfinite():
    g = Graph.build({"w": 1.0}, {"x": np.array([1.0, 0.0, -1.0])},
                    {"a": "w * x", "b": "log(a)", "J": "sum(b)"})
    g.forward()  # arrays do not raise: they hold nan/inf
    assert np.isnan(g.value("J"))
    assert g.first_nonfinite() == "b"
    g.set_value("x", np.array([1.0, 2.0, 3.0]))
    g.forward()
    assert g.first_nonfinite() is None
    assert g.value("J") == pytest.approx(math.log(6.0))


def test_array_division_by_zero_in_sub_expression():
    g = Graph.build({"w": 0.0}, {"x": np.array([1.0, 2.0])}, {"J": "sum(x / w) + 1"})
    g.forward()
    assert g.first_nonfinite() == "x / w (in J)"


def test_scalar_overflow_by_multiplication_is_found_by_first_nonfinite():
    g = Graph.build({"w": 1e200}, {}, {"J": "w * w"})
    g.forward()
    assert g.value("J") == math.inf
    assert g.first_nonfinite() == "J"


def test_shape_mismatch_is_a_scenario_error_naming_the_node():
    g = Graph.build({"a": np.ones(3), "b": np.ones(2)}, {}, {"J": "sum(a + b)"}, "f.toml")
    with pytest.raises(ScenarioError) as ei:
        g.forward()
    msg = str(ei.value)
    assert msg.startswith("f.toml: [graph] node 'a + b (in J)'")
    assert "(3,), (2,)" in msg


# --- building ----------------------------------------------------------------------------

def test_build_refuses_duplicate_and_clashing_names():
    with pytest.raises(ScenarioError, match="f.toml: name 'w' is defined twice"):
        Graph.build({"w": 1.0}, {"w": 2.0}, {"J": "w"}, "f.toml")
    with pytest.raises(ScenarioError, match="node 'w' has the name of a param"):
        Graph.build({"w": 1.0}, {}, {"w": "2"}, "f.toml")
    with pytest.raises(ScenarioError, match="'exp' is a function name"):
        Graph.build({"w": 1.0}, {}, {"exp": "w"}, "f.toml")
    with pytest.raises(TypeError):
        Graph.build({"w": True}, {}, {"J": "w"})


def test_build_refuses_undefined_names_with_file_and_node():
    with pytest.raises(ExpressionError) as ei:
        Graph.build({"w": 1.0}, {}, {"J": "w + q"}, "f.toml")
    msg = str(ei.value)
    assert msg.startswith("f.toml: [graph] node 'J': unknown name 'q'")
    assert "'w + q'" in msg


def test_cycles_are_refused_with_the_path():
    with pytest.raises(ExpressionError) as ei:
        Graph.build({"w": 1.0}, {}, {"a": "b + 1", "b": "a * 2"}, "f.toml")
    msg = str(ei.value)
    assert "f.toml: [graph] node" in msg
    assert "cycle between graph nodes (a -> b -> a)" in msg or \
        "cycle between graph nodes (b -> a -> b)" in msg
    with pytest.raises(ExpressionError, match=r"\(a -> a\)"):
        Graph.build({"w": 1.0}, {}, {"a": "a + w"}, "f.toml")
    with pytest.raises(ExpressionError, match=r"a -> b -> c -> a"):
        Graph.build({"w": 1.0}, {}, {"a": "b + w", "b": "c", "c": "2 * a"}, "f.toml")


def test_nodes_in_any_order_are_sorted_topologically():
    g = Graph.build({"w": 3.0, "b": 4.0}, {}, {"z": "x * y", "y": "2*b + 1", "x": "2*w + 3*b"})
    g.forward()
    assert g.order.index("z") > g.order.index("x") and g.order.index("z") > g.order.index("y")
    assert g.value("z") == 162.0
    assert g.gradients("z") == {"w": 18.0, "b": 63.0}


# --- batched evaluation (the loss landscape) ---------------------------------------------

X3 = np.array([1.0, 2.0, 3.0])
Y3 = np.array([2.0, 3.0, 7.0])


def _loop(g: Graph, output: str, pts: dict[str, np.ndarray]) -> np.ndarray:
    start = {p: g.value(p) for p in pts}
    out = []
    for i in range(len(next(iter(pts.values())))):
        for p, v in pts.items():
            g.set_value(p, float(v[i]))
        g.forward()
        out.append(g.value(output))
    for p, v in start.items():
        g.set_value(p, v)
    g.forward()
    return np.array(out)


@pytest.mark.parametrize("nodes,data", [
    (TZ_NODES, {}),
    ({"J": "mean((w * x + b - y) ** 2)"}, {"x": X3, "y": Y3}),
    ({"J": "mse(w * x + b, y) + l2(w) * 0.1"}, {"x": X3, "y": Y3}),
    ({"J": "sse(w * x, y) + mae(b * x, y)"}, {"x": np.array([1.0, -2.0]), "y": np.array([0.5, 1.0])}),
    ({"J": "sum(x) * w + mean(x * b)"}, {"x": np.array([[1.0, 2.0], [3.0, 5.0]])}),
    ({"p": "sigmoid(w * x + b)", "J": "bce(p, y) + bce_logits(w * x, y)"},
     {"x": np.array([1.0, -2.0, 0.5]), "y": np.array([1.0, 0.0, 1.0])}),
    ({"J": "exp(w) * sin(b) + sqrt(w * w + 1) / (b * b + 1)"}, {}),
])
def test_evaluate_batched_equals_a_loop_of_forward(nodes, data):
    g = Graph.build({"w": 0.5, "b": -0.3}, data, nodes)
    g.forward()
    out = "z" if "z" in nodes else "J"
    before = g.value(out)
    pts = {"w": np.linspace(-1.5, 2.0, 7), "b": np.linspace(-2.0, 1.0, 7)}
    got = g.evaluate_batched(out, pts)
    assert got.shape == (7,)
    np.testing.assert_allclose(got, _loop(g, out, pts), rtol=1e-12, atol=1e-12)
    # only one parameter varied: the other stays at its current value
    got_w = g.evaluate_batched(out, {"w": pts["w"]})
    np.testing.assert_allclose(got_w, _loop(g, out, {"w": pts["w"]}), rtol=1e-12, atol=1e-12)
    # the graph's own state is untouched
    assert g.value(out) == before


def test_evaluate_batched_refuses_matmul_and_array_params():
    g = Graph.build({"w": np.ones(2)}, {"X": np.ones((3, 2))}, {"J": "sum(X @ w)"}, "f.toml")
    g.forward()
    with pytest.raises(ExpressionError, match="f.toml"):
        g.evaluate_batched("J", {"w": np.zeros(4)})
    g = Graph.build({"w": 1.0, "v": np.ones(2)}, {}, {"J": "w * sum(v)"}, "f.toml")
    g.forward()
    with pytest.raises(ExpressionError, match="'v' is an array"):
        g.evaluate_batched("J", {"w": np.zeros(4)})


# --- property-based: random expressions ---------------------------------------------------

PARAMS = ("u", "v", "t")


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@st.composite
def exprs(draw, depth: int = 3):
    """(text, python function of an env dict) for a random expression on safe domains."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            name = draw(st.sampled_from(PARAMS))
            return name, (lambda env, n=name: env[n])
        c = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0, 1.5, 0.25]))
        return repr(c), (lambda env, c=c: c)
    kind = draw(st.sampled_from(["add", "sub", "mul", "div", "neg", "sq", "cube", "log", "sqrt",
                                 "exp", "sin", "cos", "tanh", "sigmoid", "powv"]))
    a, fa = draw(exprs(depth - 1))
    if kind in ("add", "sub", "mul", "div", "powv"):
        b, fb = draw(exprs(depth - 1))
        if kind == "add":
            return f"({a} + {b})", lambda e: fa(e) + fb(e)
        if kind == "sub":
            return f"({a} - {b})", lambda e: fa(e) - fb(e)
        if kind == "mul":
            return f"({a} * {b})", lambda e: fa(e) * fb(e)
        if kind == "div":
            return f"({a} / (({b})**2 + 1))", lambda e: fa(e) / (fb(e) * fb(e) + 1.0)
        return f"((({a})**2 + 1) ** sin({b}))", lambda e: math.pow(fa(e) * fa(e) + 1.0, math.sin(fb(e)))
    return {
        "neg": (f"(-{a})", lambda e: -fa(e)),
        "sq": (f"(({a})**2)", lambda e: fa(e) * fa(e)),
        "cube": (f"(tanh({a})**3)", lambda e: math.pow(math.tanh(fa(e)), 3.0)),
        "log": (f"log(({a})**2 + 1)", lambda e: math.log(fa(e) * fa(e) + 1.0)),
        "sqrt": (f"sqrt(({a})**2 + 1)", lambda e: math.sqrt(fa(e) * fa(e) + 1.0)),
        "exp": (f"exp(sin({a}))", lambda e: math.exp(math.sin(fa(e)))),
        "sin": (f"sin({a})", lambda e: math.sin(fa(e))),
        "cos": (f"cos({a})", lambda e: math.cos(fa(e))),
        "tanh": (f"tanh({a})", lambda e: math.tanh(fa(e))),
        "sigmoid": (f"sigmoid({a})", lambda e: _sig(fa(e))),
    }[kind]


point = st.fixed_dictionaries({p: st.floats(-2.0, 2.0, allow_nan=False) for p in PARAMS})


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(e=exprs(), env=point)
def test_random_expressions_forward_and_gradients(e, env):
    text, f = e
    want = f(env)
    assume(abs(want) < 1e4)
    g = Graph.build(dict(env), {}, {"J": text})
    g.forward()
    assert g.value("J") == pytest.approx(want, rel=1e-12, abs=1e-12), text
    grads = g.gradients("J")
    h = 1e-6
    for p in PARAMS:
        hi, lo = dict(env), dict(env)
        hi[p] += h
        lo[p] -= h
        fd = (f(hi) - f(lo)) / (2 * h)
        assume(abs(fd) < 1e4)
        tol = 1e-5 * (1.0 + abs(fd)) + 1e-9 * (1.0 + abs(want)) / h
        assert abs(grads[p] - fd) <= tol, (text, p, grads[p], fd)


@settings(max_examples=60, deadline=None)
@given(e=exprs(depth=2), env=point)
def test_random_expressions_split_into_named_nodes_give_the_same_gradient(e, env):
    text, f = e
    assume(abs(f(env)) < 1e4)
    one = Graph.build(dict(env), {}, {"J": text})
    one.forward()
    # the same expression behind an alias and a chain of named nodes
    two = Graph.build(dict(env), {}, {"a": text, "c": "a * 1", "J": "c + 0"})
    two.forward()
    assert two.value("J") == one.value("J")
    g1, g2 = one.gradients("J"), two.gradients("J")
    for p in PARAMS:
        assert g2[p] == pytest.approx(g1[p], rel=1e-12, abs=1e-12)
    # the walkthrough's totals reach the same parameter gradients
    totals = {}
    for edge in two.walkthrough("J"):
        totals[edge.child] = edge.total
    for p in PARAMS:
        if p in totals:
            assert totals[p] == pytest.approx(g1[p], rel=1e-9, abs=1e-12)


# --- size: long chains and the node limit (engine/limits.py) -----------------------------

def test_a_chain_of_thousands_of_named_nodes_defined_backwards():
    # x_k = x_(k-1) + w with x_0 = w, so x_k = (k+1) w and dx_k/dw = k+1. Written from the
    # output down, so that ordering them follows the whole chain (no recursion may do that).
    n = 3000
    nodes = {f"x{k}": f"x{k - 1} + w" for k in range(n - 1, 0, -1)}
    nodes["x0"] = "w"
    g = Graph.build({"w": 0.5}, {}, nodes, "chain.toml")
    assert g.order[0] == "x0" and g.order[-1] == f"x{n - 1}"
    g.forward()
    assert g.value(f"x{n - 1}") == n * 0.5
    assert g.gradients(f"x{n - 1}") == {"w": float(n)}
    edges = g.walkthrough(f"x{n - 1}")
    assert edges[-1].child == "w" and edges[-1].total == float(n)


def test_a_graph_beyond_the_node_limit_is_refused_naming_the_limit():
    from engine.limits import MAX_EXPRESSION_OPERATIONS, MAX_GRAPH_NODES

    # each node: 1,001 parameter references and 1,000 additions, 1,000 new nodes
    big = "+".join(["w"] * (MAX_EXPRESSION_OPERATIONS + 1))
    count = MAX_GRAPH_NODES // MAX_EXPRESSION_OPERATIONS + 1
    nodes = {f"n{k}": big for k in range(count)}
    with pytest.raises(ScenarioError) as ei:
        Graph.build({"w": 1.0}, {}, nodes, "big.toml")
    msg = str(ei.value)
    # the parameter, then 1,000 nodes per expression: the first node past the limit is named
    over = next(k for k in range(count) if 1 + (k + 1) * MAX_EXPRESSION_OPERATIONS > MAX_GRAPH_NODES)
    assert msg.startswith(f"big.toml: [graph] node 'n{over}': the graph has grown to ")
    assert f"(the limit is {MAX_GRAPH_NODES})" in msg
    # and a table with more entries than the limit is refused before any is parsed
    many = {f"n{k}": "w" for k in range(MAX_GRAPH_NODES)}
    with pytest.raises(ScenarioError, match=f"the limit is {MAX_GRAPH_NODES} nodes in a graph"):
        Graph.build({"w": 1.0}, {}, many, "many.toml")
