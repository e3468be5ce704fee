"""The graph's values and gradients against PyTorch's autograd, in float64 (optional: needs torch).

The same parsed expression tree is evaluated by the engine and, op by op, with torch tensors;
forward values and every parameter's gradient must agree to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.expr import evaluate, parse
from engine.graph import Graph

torch = pytest.importorskip("torch")

TORCH_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda a: -a,
    "matmul": lambda a, b: a @ b,
    "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "abs": torch.abs,
    "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "relu": torch.relu, "sum": torch.sum, "mean": torch.mean,
    "mse": lambda p, y: torch.mean((p - y) ** 2),
    "sse": lambda p, y: torch.sum((p - y) ** 2),
    "mae": lambda p, y: torch.mean(torch.abs(p - y)),
    "bce": lambda p, y: torch.nn.functional.binary_cross_entropy(p, y),
    "bce_logits": lambda z, y: torch.nn.functional.binary_cross_entropy_with_logits(z, y),
    "softmax_ce": lambda c, y: torch.nn.functional.cross_entropy(c, y.long()),
    "l2": lambda *xs: sum(torch.sum(x * x) for x in xs),
}


def t(v: object, grad: bool = False):
    out = torch.tensor(v, dtype=torch.float64)
    return out.requires_grad_(grad)


def check(params: dict, data: dict, text: str, rtol: float = 1e-12) -> None:
    """Compare forward value and gradients of ``J = text`` between gdlab and torch."""
    g = Graph.build(params, data, {"J": text})
    g.forward()
    ours = g.gradients("J")
    env = {k: t(v, True) for k, v in params.items()}
    env.update({k: t(v) for k, v in data.items()})

    def apply(name: str, *args: object):
        args = tuple(a if torch.is_tensor(a) else t(a) for a in args)
        return TORCH_OPS[name](*args)

    tree = parse(text, set(params) | set(data))
    out = evaluate(tree, env, apply)
    out.backward()
    np.testing.assert_allclose(g.value("J"), out.item(), rtol=rtol, atol=1e-300)
    for k in params:
        theirs = env[k].grad
        theirs = np.zeros(np.shape(params[k])) if theirs is None else theirs.numpy()
        np.testing.assert_allclose(ours[k], theirs, rtol=rtol, atol=1e-13, err_msg=f"d/d{k}")


X = [0.5, -1.0, 2.0, 3.0]
Y = [1.0, 0.0, 2.5, 4.0]


@pytest.mark.parametrize("text", [
    "(2*w + 3*b) * (2*b + 1)",
    "mean((w*x + b - y)**2)",
    "mse(w*x**2 + b*x, y)",
    "sse(w*x + b, y) + 0.1*l2(w, b)",
    "mae(w*x + b, y)",
    "mean(exp(-w*x) * sin(b*x)) + sqrt(w**2 + 1)",
    "sum(tanh(w*x) * sigmoid(b - x)) / log(w**2 + 2)",
    "mean(relu(w*x - b)) + abs(w - b)**1.5",
    "w**b + b**w",
    "bce(sigmoid(w*x + b), s)",
    "bce_logits(w*x + b, s)",
    "mean(cos(x * w) ** 2) - b**3",
])
def test_scalar_parameters_on_data(text):
    check({"w": 0.7, "b": 1.3},
          {"x": X, "y": Y, "s": [1.0, 0.0, 1.0, 1.0]}, text)


def test_matrix_network_with_softmax_cross_entropy():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3)}
    data = {"X": rng.normal(size=(6, 4)), "labels": [0.0, 2.0, 1.0, 1.0, 0.0, 2.0]}
    check(params, data, "softmax_ce(tanh(X @ W1 + b1) @ W2 + b2, labels)")


def test_vector_parameter_broadcast_against_a_matrix():
    rng = np.random.default_rng(1)
    check({"v": rng.normal(size=3), "c": 0.4},
          {"M": rng.normal(size=(5, 3))}, "sum(sigmoid(M * v + c) ** 2) + mean(M @ v)")


UNARY = ["exp", "sin", "cos", "tanh", "sigmoid"]
leaf = st.sampled_from(["w", "b", "0.5", "2", "x"])


def _exprs(depth: int = 3) -> st.SearchStrategy[str]:
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
                lambda p: f"({p[0]} {p[1]} {p[2]})"),
            st.tuples(inner, inner).map(lambda p: f"({p[0]} / ({p[1]}**2 + 1))"),
            st.tuples(st.sampled_from(UNARY), inner).map(lambda p: f"{p[0]}({p[1]})"),
            inner.map(lambda e: f"log({e}**2 + 1)"),
        ),
        max_leaves=8,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_exprs(), w=st.floats(-2, 2), b=st.floats(-2, 2))
def test_random_expressions_match_torch(body, w, b):
    assume("w" in body or "b" in body)  # an output that depends on a parameter
    text = f"mean({body})"
    g = Graph.build({"w": w, "b": b}, {"x": X}, {"J": text})
    g.forward()
    assume(np.isfinite(g.value("J")) and abs(g.value("J")) < 1e6)
    check({"w": w, "b": b}, {"x": X}, text, rtol=1e-9)
