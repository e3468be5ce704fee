"""The op table: every op's forward value and its backward (VJP) against central differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.ops import BATCHED, CONSTANTS, FUNCTIONS, NO_GRAD_INPUTS, OPS, const_pow

RNG = np.random.default_rng(1234)


def _f(op, args):
    out = op.forward(*args)
    return out


def _vjp_fd(op, args, k, upstream, h=1e-6):
    """d/d args[k] of sum(upstream * op(args)) by central differences."""
    x = args[k]
    if type(x) is float:
        vals = []
        for s in (1.0, -1.0):
            a = list(args)
            a[k] = x + s * h
            vals.append(float(np.sum(upstream * np.asarray(_f(op, a)))))
        return (vals[0] - vals[1]) / (2 * h)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        vals = []
        for s in (1.0, -1.0):
            xx = x.copy()
            xx[idx] += s * h
            a = list(args)
            a[k] = xx
            vals.append(float(np.sum(upstream * np.asarray(_f(op, a)))))
        grad[idx] = (vals[0] - vals[1]) / (2 * h)
    return grad


def check_op(name, *args, skip=(), rtol=1e-5, atol=1e-8):
    op = OPS[name]
    out = op.forward(*args)
    upstream = 1.0 if np.ndim(out) == 0 else RNG.normal(size=np.shape(out))
    if np.ndim(out) == 0:
        out = float(out)
    local = op.backward(upstream, out, *args)
    assert len(local) == len(args)
    for k in range(len(args)):
        if k in skip:
            continue
        fd = _vjp_fd(op, list(args), k, upstream)
        got = local[k]
        # ops return the VJP in the broadcast shape; the graph un-broadcasts
        if np.shape(got) != np.shape(args[k]):
            got = np.sum(got) if np.ndim(args[k]) == 0 else got
        np.testing.assert_allclose(got, fd, rtol=rtol, atol=atol, err_msg=f"{name} input {k}")
    return out, local


# --- scalars -----------------------------------------------------------------------------

SCALAR_UNARY = {
    "neg": [-1.7, 0.3, 2.0],
    "exp": [-2.0, 0.0, 1.5],
    "log": [0.1, 1.0, 7.5],
    "sqrt": [0.04, 1.0, 9.0],
    "abs": [-2.5, 0.7],  # away from 0
    "sin": [-1.0, 0.3, 2.5],
    "cos": [-1.0, 0.3, 2.5],
    "tanh": [-3.0, 0.0, 0.8],
    "sigmoid": [-4.0, 0.0, 2.5],
    "relu": [-1.5, 0.8],  # away from 0
    "sum": [3.0],
    "mean": [-2.0],
}


@pytest.mark.parametrize("name,x", [(n, x) for n, xs in SCALAR_UNARY.items() for x in xs])
def test_scalar_unary_backward_matches_finite_differences(name, x):
    out, _ = check_op(name, x)
    assert type(out) is float


@pytest.mark.parametrize("name,a,b", [
    ("add", 1.5, -2.25), ("sub", 1.5, -2.25), ("mul", 1.5, -2.25), ("div", 1.5, -2.25),
    ("pow", 1.7, 2.3), ("pow", 0.5, -1.5), ("pow", 3.0, 0.5),
])
def test_scalar_binary_backward_matches_finite_differences(name, a, b):
    check_op(name, a, b)


def test_scalar_forward_values_are_exact_python_floats():
    assert OPS["add"].forward(2.0, 3.0) == 5.0
    assert OPS["sub"].forward(2.0, 3.0) == -1.0
    assert OPS["mul"].forward(2.0, 3.0) == 6.0
    assert OPS["div"].forward(3.0, 2.0) == 1.5
    assert OPS["pow"].forward(2.0, 10.0) == 1024.0
    assert OPS["neg"].forward(2.0) == -2.0
    assert OPS["exp"].forward(1.0) == math.e
    assert OPS["log"].forward(math.e) == 1.0
    assert OPS["sqrt"].forward(16.0) == 4.0
    assert OPS["abs"].forward(-3.0) == 3.0
    assert OPS["relu"].forward(-3.0) == 0.0 and OPS["relu"].forward(3.0) == 3.0
    assert OPS["sigmoid"].forward(0.0) == 0.5
    assert OPS["tanh"].forward(0.0) == 0.0
    for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs"):
        assert type(OPS[name].forward(0.5)) is float, name


def test_local_derivative_rules_by_hand():
    # d(a*b)/da = b, d(a*b)/db = a, scaled by the upstream gradient
    assert OPS["mul"].backward(2.0, 6.0, 3.0, 5.0) == (10.0, 6.0)
    # d(a/b)/db = -a/b^2 = -3/4 for a = 3, b = 2
    assert OPS["div"].backward(1.0, 1.5, 3.0, 2.0) == (0.5, -0.75)
    # d(a^b)/da = b a^(b-1) = 3 * 4 = 12; d(a^b)/db = a^b log a = 8 log 2
    da, db = OPS["pow"].backward(1.0, 8.0, 2.0, 3.0)
    assert da == 12.0 and db == pytest.approx(8 * math.log(2), rel=1e-15)
    assert OPS["sub"].backward(2.0, 0.0, 1.0, 1.0) == (2.0, -2.0)
    assert OPS["relu"].backward(5.0, 0.0, 0.0) == (0.0,)  # relu'(0) = 0 as in PyTorch


def test_pow_gradient_wrt_exponent_is_nan_for_nonpositive_base_not_an_error():
    da, db = OPS["pow"].backward(1.0, 4.0, -2.0, 2.0)
    assert da == -4.0
    assert math.isnan(db)


@pytest.mark.parametrize("x", [-800.0, -40.0, 40.0, 800.0])
def test_sigmoid_is_stable_on_large_inputs(x):
    s = OPS["sigmoid"].forward(x)
    assert 0.0 <= s <= 1.0 and math.isfinite(s)
    (d,) = OPS["sigmoid"].backward(1.0, s, x)
    assert math.isfinite(d) and 0.0 <= d < 1e-15
    arr = OPS["sigmoid"].forward(np.array([x, -x, 0.0]))
    assert np.all(np.isfinite(arr))
    assert arr[2] == 0.5
    assert arr[0] + arr[1] == pytest.approx(1.0)


def test_sigmoid_large_inputs_saturate_exactly():
    assert OPS["sigmoid"].forward(1000.0) == 1.0
    assert OPS["sigmoid"].forward(-1000.0) == 0.0
    np.testing.assert_array_equal(OPS["sigmoid"].forward(np.array([1000.0, -1000.0])), [1.0, 0.0])


# --- arrays ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["neg", "exp", "sin", "cos", "tanh", "sigmoid", "sum", "mean"])
def test_array_unary_backward_matches_finite_differences(name):
    check_op(name, RNG.normal(size=(2, 3)))


@pytest.mark.parametrize("name", ["log", "sqrt"])
def test_array_unary_positive_domain(name):
    check_op(name, RNG.uniform(0.5, 3.0, size=(4,)))


@pytest.mark.parametrize("name", ["abs", "relu"])
def test_array_kinks_away_from_zero(name):
    x = np.array([-2.0, -0.5, 0.3, 1.7])
    _, (g,) = check_op(name, x)
    assert g.shape == (4,)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_array_binary_same_shape(name):
    check_op(name, RNG.normal(size=(3,)), RNG.uniform(0.5, 2.0, size=(3,)))


def test_array_pow_with_array_exponent():
    check_op("pow", RNG.uniform(0.5, 2.0, size=(3,)), RNG.normal(size=(3,)))


@pytest.mark.parametrize("shape_a,shape_b", [((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 4)),
                                             ((3,), (3,))])
def test_matmul_backward_all_ranks(shape_a, shape_b):
    a = RNG.normal(size=shape_a)
    b = RNG.normal(size=shape_b)
    out, (da, db) = check_op("matmul", a, b)
    np.testing.assert_allclose(out, a @ b)
    assert np.shape(da) == shape_a and np.shape(db) == shape_b


def test_matmul_dot_product_is_a_float():
    out = OPS["matmul"].forward(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert type(out) is float and out == 11.0


# --- reductions and fused losses ---------------------------------------------------------

def test_sum_and_mean_values_and_gradients_by_hand():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert OPS["sum"].forward(x) == 21.0 and type(OPS["sum"].forward(x)) is float
    assert OPS["mean"].forward(x) == 3.5
    (gs,) = OPS["sum"].backward(2.0, 21.0, x)
    np.testing.assert_array_equal(gs, np.full((2, 3), 2.0))
    (gm,) = OPS["mean"].backward(3.0, 3.5, x)
    np.testing.assert_array_equal(gm, np.full((2, 3), 0.5))


@pytest.mark.parametrize("name", ["mse", "sse", "mae"])
def test_regression_losses_backward_both_inputs(name):
    p = np.array([0.3, -1.2, 2.0, 0.7])
    y = np.array([0.1, -0.2, 1.0, 1.7])
    check_op(name, p, y)


def test_regression_loss_values_by_hand():
    p = np.array([1.0, 2.0, 4.0])
    y = np.array([0.0, 4.0, 4.0])
    assert OPS["mse"].forward(p, y) == pytest.approx(5.0 / 3.0, rel=1e-15)  # (1 + 4 + 0) / 3
    assert OPS["sse"].forward(p, y) == 5.0
    assert OPS["mae"].forward(p, y) == 1.0  # (1 + 2 + 0) / 3
    assert OPS["mse"].forward(3.0, 1.0) == 4.0


def test_bce_value_and_backward():
    p = np.array([0.2, 0.9, 0.6])
    y = np.array([0.0, 1.0, 1.0])
    want = -(math.log(0.8) + math.log(0.9) + math.log(0.6)) / 3
    assert OPS["bce"].forward(p, y) == pytest.approx(want, rel=1e-14)
    check_op("bce", p, y, skip=(1,))
    check_op("bce", 0.3, 1.0, skip=(1,))


def test_bce_logits_value_and_backward_and_large_logits():
    z = np.array([-1.0, 0.5, 3.0])
    y = np.array([0.0, 1.0, 0.0])
    s = 1 / (1 + np.exp(-z))
    want = float(np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s))))
    assert OPS["bce_logits"].forward(z, y) == pytest.approx(want, rel=1e-12)
    check_op("bce_logits", z, y, skip=(1,))
    check_op("bce_logits", -0.4, 1.0, skip=(1,))
    # no overflow at huge logits: loss of a confident right answer ~ 0, of a wrong one ~ |z|
    big = OPS["bce_logits"].forward(np.array([800.0, -800.0]), np.array([1.0, 1.0]))
    assert big == pytest.approx(400.0)


def test_l2_of_several_inputs():
    a = np.array([1.0, -2.0])
    assert OPS["l2"].forward(a, 3.0) == 14.0
    check_op("l2", RNG.normal(size=(3,)), 0.7, RNG.normal(size=(2, 2)))


def test_softmax_ce_integer_labels_value_and_backward():
    c = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    y = np.array([2.0, 0.0])
    lp = c - np.log(np.sum(np.exp(c), axis=1, keepdims=True))
    want = -(lp[0, 2] + lp[1, 0]) / 2
    assert OPS["softmax_ce"].forward(c, y) == pytest.approx(want, rel=1e-14)
    out, (dc, dy) = check_op("softmax_ce", c, y, skip=(1,))
    assert dy is None
    # delta = softmax - onehot, averaged over the rows: each row sums to 0
    np.testing.assert_allclose(dc.sum(axis=1), 0.0, atol=1e-15)


def test_softmax_ce_one_hot_labels_equal_integer_labels():
    c = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    onehot = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    ints = np.array([2.0, 0.0])
    assert OPS["softmax_ce"].forward(c, onehot) == OPS["softmax_ce"].forward(c, ints)
    check_op("softmax_ce", c, onehot, skip=(1,))
    np.testing.assert_array_equal(OPS["softmax_ce"].backward(1.0, 0.0, c, onehot)[0],
                                  OPS["softmax_ce"].backward(1.0, 0.0, c, ints)[0])


def test_softmax_ce_single_row_with_one_hot_vector():
    c = np.array([1.0, 2.0, 3.0])
    want = -(3.0 - math.log(math.exp(1) + math.exp(2) + math.exp(3)))
    assert OPS["softmax_ce"].forward(c, np.array([0.0, 0.0, 1.0])) == pytest.approx(want)
    assert OPS["softmax_ce"].forward(c, 2.0) == pytest.approx(want)
    check_op("softmax_ce", c, np.array([0.0, 0.0, 1.0]), skip=(1,))


def test_softmax_ce_is_stable_for_large_logits():
    c = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    assert OPS["softmax_ce"].forward(c, np.array([0.0, 1.0])) == 0.0
    assert OPS["softmax_ce"].forward(c, np.array([1.0, 0.0])) == pytest.approx(1000.0)


# --- constant powers and the table's metadata ---------------------------------------------

@pytest.mark.parametrize("c", [2.0, 1.0, 3.0, 0.5, -1.0, -2.5])
def test_const_pow_forward_and_backward(c):
    fwd, bwd = const_pow(c)
    a = 1.7
    assert fwd(a) == pytest.approx(a**c, rel=1e-15)
    (d,) = bwd(1.0, fwd(a), a)
    assert d == pytest.approx(c * a ** (c - 1), rel=1e-13)
    h = 1e-6
    assert d == pytest.approx((fwd(a + h) - fwd(a - h)) / (2 * h), rel=1e-6)
    arr = np.array([0.5, 2.0])
    np.testing.assert_allclose(fwd(arr), arr**c)


def test_const_pow_square_is_exact_product():
    fwd, bwd = const_pow(2.0)
    x = 0.1
    assert fwd(x) == x * x
    assert bwd(1.0, x * x, 3.0) == (6.0,)


def test_op_table_metadata_is_consistent():
    for name, op in OPS.items():
        assert op.name == name
        assert op.derivative, name
    for name, op in FUNCTIONS.items():
        assert OPS[name] is op
    assert set(NO_GRAD_INPUTS) <= set(OPS)
    assert {"add", "sub", "mul", "div", "pow", "neg", "matmul"}.isdisjoint(FUNCTIONS)
    for name in BATCHED:
        assert OPS[name].reduces, name
    assert CONSTANTS == {"pi": math.pi, "e": math.e}
    assert OPS["l2"].arity == -1 and OPS["softmax_ce"].arity == 2 and OPS["exp"].arity == 1


def test_scalar_domain_errors_raise():
    with pytest.raises(ValueError):
        OPS["log"].forward(-1.0)
    with pytest.raises(ValueError):
        OPS["log"].forward(0.0)
    with pytest.raises(ValueError):
        OPS["sqrt"].forward(-1.0)
    with pytest.raises(ZeroDivisionError):
        OPS["div"].forward(1.0, 0.0)
    with pytest.raises(OverflowError):
        OPS["exp"].forward(1000.0)
    with pytest.raises(ValueError):
        OPS["pow"].forward(-8.0, 1.0 / 3.0)
    with np.errstate(all="ignore"):
        assert np.isnan(OPS["log"].forward(np.array([-1.0])))[0]
