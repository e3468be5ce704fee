"""Every backward of the op table with large inputs: finite where the derivative is, and equal
to the derivative worked out by hand (written in the test, never taken from a run)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.graph import Graph
from engine.ops import OPS, const_operand, const_pow

E = math.exp


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """softmax of each row, written out with its largest logit subtracted:
    softmax(z)_i = exp(z_i - m) / sum_j exp(z_j - m), m = max_j z_j (the same value for any m)."""
    z = np.atleast_2d(np.asarray(z, dtype=float))
    out = np.empty_like(z)
    for r, row in enumerate(z):
        m = max(row)
        ex = [math.exp(v - m) for v in row]
        out[r] = [v / math.fsum(ex) for v in ex]
    return out


# --- softmax cross-entropy: dCE/dz = (softmax(z) - onehot(y)) / rows --------------------------

def test_softmax_ce_backward_with_logits_near_1000_by_hand() -> None:
    z = np.array([[1000.0, 0.0, -1000.0],
                  [1000.0, 1001.0, 999.0]])
    y = np.array([1, 2])
    (grad, _) = OPS["softmax_ce"].backward(1.0, None, z, y)
    # row 0: softmax = [1, e^-1000, e^-2000] = [1, 0, 0] in floating point
    # row 1: shifted by 1001: softmax = [e^-1, 1, e^-2] / (1 + e^-1 + e^-2)
    s = 1.0 + E(-1) + E(-2)
    want = np.array([[1.0 - 0.0, 0.0 - 1.0, 0.0 - 0.0],
                     [E(-1) / s - 0.0, 1.0 / s - 0.0, E(-2) / s - 1.0]]) / 2  # two rows
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, want, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-16)  # softmax sums to 1
    # the loss: -log softmax(z)_y = logsumexp(z) - z_y, per row, averaged
    ce = ((1000.0 - 0.0) + (1001.0 + math.log(s) - 999.0)) / 2
    assert OPS["softmax_ce"].forward(z, y) == pytest.approx(ce, rel=1e-15)


@pytest.mark.parametrize("scale", [1.0, 300.0, 710.0, 1000.0, 1e6])
def test_softmax_ce_backward_is_finite_and_exact_at_any_scale(scale: float) -> None:
    rng = np.random.default_rng(7)
    z = rng.normal(size=(4, 5)) * scale  # exp(710) overflows a double: the shift must be there
    y = rng.integers(0, 5, size=4)
    (grad, _) = OPS["softmax_ce"].backward(1.0, None, z, y)
    onehot = np.eye(5)[y]
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, (softmax_rows(z) - onehot) / 4, rtol=1e-12, atol=1e-300)


def test_softmax_ce_backward_of_a_single_row_of_large_logits() -> None:
    z = np.array([710.0, 712.0])  # 1-d logits and a one-hot vector
    (grad, _) = OPS["softmax_ce"].backward(1.0, None, z, np.array([1.0, 0.0]))
    p0 = 1.0 / (1.0 + E(2))  # softmax: [1, e^2] / (1 + e^2)
    np.testing.assert_allclose(grad, [p0 - 1.0, (1.0 - p0) - 0.0], rtol=1e-15)
    assert grad.shape == (2,)


def test_graph_backward_of_softmax_ce_with_large_logits() -> None:
    """Through the compiled graph: logits x @ W of about a thousand; dL/dW = x^T dL/dz."""
    x = np.array([[2.0, 1.0], [1.0, 1.0]])  # two samples
    W = np.array([[400.0, 401.0, 0.0], [200.0, 199.0, 0.0]])  # logits [1000, 1001, 0], [600, 600, 0]
    g = Graph.build({"W": W}, {"x": x, "y": np.array([1.0, 0.0])},
                    {"z": "x @ W", "L": "softmax_ce(z, y)"})
    g.forward()
    s0, s1 = 1.0 + E(-1), 2.0 + E(-600)  # row sums after the shift (e^-1001 is 0 in doubles)
    softmax = np.array([[E(-1) / s0, 1.0 / s0, 0.0], [1.0 / s1, 1.0 / s1, E(-600) / s1]])
    onehot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    want = x.T @ (softmax - onehot) / 2
    got = g.gradients("L")["W"]
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-300)


# --- every other op -----------------------------------------------------------------------------
#
# (op, inputs, d output / d each input) at inputs where a careless formula overflows, underflows
# or cancels: exp of the input, a product of two large numbers, 1 - a number close to 1. Each
# expected value is the derivative written out by hand and evaluated on moderate numbers. They
# must agree to 1e-13 relative, except the derivatives of tanh and sigmoid on their saturated
# side: computed from the output (1 - o^2, o (1 - o)) they are exact to 1e-16 absolute (their
# scale is 1), not relative (tanh(20) rounds to 1.0: 1 - o^2 = 0 for 1.7e-17).

L = math.log
HUGE = 1e200

CASES: list[tuple[str, tuple, tuple]] = [
    ("add", (HUGE, -HUGE), (1.0, 1.0)),
    ("sub", (HUGE, HUGE), (1.0, -1.0)),
    ("mul", (HUGE, 1e-200), (1e-200, HUGE)),
    ("div", (HUGE, HUGE), (1.0 / HUGE, -1.0 / HUGE)),  # d(a/b)/db = -(a/b)/b, not -a/b**2
    ("div", (1e-200, 1e200), (1e-200, -1e-200 * 1e-200 / 1e200)),
    ("pow", (1e100, 3.0), (3.0 * 1e200, 1e300 * 100.0 * L(10.0))),  # b a^(b-1), a^b log a
    ("neg", (HUGE,), (-1.0,)),
    ("exp", (700.0,), (E(350.0) * E(350.0),)),  # e^700 is finite (< 1.8e308)
    ("exp", (-700.0,), (E(-350.0) * E(-350.0),)),
    ("log", (1e300,), (1e-300,)),
    ("log", (1e-300,), (1e300,)),
    ("sqrt", (1e300,), (0.5e-150,)),
    ("sqrt", (1e-300,), (0.5e150,)),
    ("abs", (-HUGE,), (-1.0,)),
    ("sin", (1e10,), (math.cos(1e10),)),
    ("cos", (1e10,), (-math.sin(1e10),)),
    ("tanh", (1000.0,), (0.0,)),  # 1 - tanh^2 = 1/cosh^2 = 4 e^-2000 / (1 + e^-2000)^2 = 0
    ("tanh", (20.0,), (4 * E(-40.0) / (1 + E(-40.0)) ** 2,)),  # 1.7e-17: absolute
    ("tanh", (-3.0,), (4 * E(-6.0) / (1 + E(-6.0)) ** 2,)),
    ("sigmoid", (1000.0,), (0.0,)),  # s(1 - s) = e^-x / (1 + e^-x)^2 = 0 in doubles
    ("sigmoid", (-1000.0,), (0.0,)),
    ("sigmoid", (-30.0,), (E(-30.0) / (1 + E(-30.0)) ** 2,)),
    ("sigmoid", (30.0,), (E(-30.0) / (1 + E(-30.0)) ** 2,)),  # 9.4e-14: absolute
    ("relu", (HUGE,), (1.0,)),
    ("relu", (-HUGE,), (0.0,)),
    ("sum", (np.array([HUGE, HUGE]),), (np.array([1.0, 1.0]),)),
    ("mean", (np.array([HUGE, -HUGE, HUGE, 0.0]),), (np.full(4, 0.25),)),
    # losses: the gradient is finite where the loss itself overflows ((1e200)^2 = inf)
    ("mse", (np.array([HUGE, 0.0]), np.array([0.0, 0.0])), (np.array([HUGE, 0.0]),
                                                           np.array([-HUGE, 0.0]))),
    ("sse", (np.array([HUGE]), np.array([-HUGE])), (np.array([4 * HUGE]), np.array([-4 * HUGE]))),
    ("mae", (np.array([HUGE, -HUGE]), np.array([0.0, 0.0])), (np.array([0.5, -0.5]),
                                                              np.array([-0.5, 0.5]))),
    # bce: (p - y) / (p (1 - p)) / n; at p = 1e-300, y = 1: -(1 - p) / (p (1 - p)) = -1/p
    ("bce", (np.array([1e-300, 0.5]), np.array([1.0, 0.0])), (np.array([-1e300 / 2, 2.0 / 2]),
                                                             None)),
    # bce with logits: (sigmoid(z) - y) / n, with sigmoid(1000) = 1, sigmoid(-1000) = 0
    ("bce_logits", (np.array([1000.0, -1000.0, 1000.0]), np.array([0.0, 1.0, 1.0])),
     (np.array([1.0, -1.0, 0.0]) / 3, None)),
    ("l2", (np.array([HUGE]), 1e150), (np.array([2 * HUGE]), 2e150)),
    ("softmax_ce", (np.array([[1000.0, 0.0]]), np.array([0])), (np.array([[0.0, 0.0]]), None)),
    ("matmul", (np.array([[HUGE, 1.0]]), np.array([[1e-200], [1.0]])),
     (np.array([[1e-200, 1.0]]), np.array([[HUGE], [1.0]]))),
]


@pytest.mark.parametrize(("name", "inputs", "want"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_backward_with_large_inputs_is_finite_and_by_hand(name: str, inputs: tuple,
                                                          want: tuple) -> None:
    op = OPS[name]
    atol = 1e-16 if name in ("tanh", "sigmoid") else 0.0
    with np.errstate(over="ignore"):  # a loss may overflow; its gradient must not
        out = op.forward(*inputs)
    grads = op.backward(np.ones_like(out) if name == "matmul" else 1.0, out, *inputs)
    assert len(grads) == len(want)
    for got, expected in zip(grads, want, strict=True):
        if expected is None:  # labels: no gradient flows into them
            assert got is None
            continue
        assert np.all(np.isfinite(got)), (name, got)
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=atol)
    if all(type(x) is float for x in inputs):  # the same on the array path, elementwise
        arrays = [np.array([x, x]) for x in inputs]
        with np.errstate(over="ignore"):
            out = op.forward(*arrays)
        for got, expected in zip(op.backward(np.ones(2), out, *arrays), want, strict=True):
            assert np.all(np.isfinite(got))
            np.testing.assert_allclose(got, [expected, expected], rtol=1e-13, atol=atol)


def test_every_op_has_a_large_input_case() -> None:
    assert {c[0] for c in CASES} == set(OPS)


@pytest.mark.parametrize(("c", "a", "want"), [
    (2.0, HUGE / 1e60, 2 * HUGE / 1e60),
    (3.0, 1e100, 3e200),
    (0.5, 1e300, 0.5e-150),
    (-1.0, 1e150, -1e-300),
])
def test_constant_powers_with_large_inputs(c: float, a: float, want: float) -> None:
    fwd, bwd = const_pow(c)
    (got,) = bwd(1.0, fwd(a), a)
    assert math.isfinite(got) and got == pytest.approx(want, rel=1e-13)


def test_constant_operands_with_large_inputs() -> None:
    for name, c, left, want in [("mul", 1e-200, False, 1e-200), ("div", HUGE, False, 1e-200),
                                ("add", HUGE, False, 1.0), ("sub", HUGE, True, -1.0)]:
        pair = const_operand(name, c, left)
        assert pair is not None
        fwd, bwd = pair
        (got,) = bwd(1.0, fwd(HUGE), HUGE)
        assert got == pytest.approx(want, rel=1e-15), name
