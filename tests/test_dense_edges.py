"""The dense network's edges that mutation testing showed untested: no numpy warning from a
saturated or diverged network, the per-example costs, a softmax whose rows differ in scale,
empty inputs, the threshold of a single output, the buffers kept between steps, and the
layer statistics the network screen prints."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from engine.models.config import dense_config_from_table
from engine.models.costs import PAIRS
from engine.models.dense import DenseNet


def net_from(table: dict, **kw) -> DenseNet:
    return DenseNet(dense_config_from_table(table, "t.toml"), **kw)


def given(weights, biases, **model) -> DenseNet:
    layers = [len(weights[0][0])] + [len(w) for w in weights]
    table = {"layers": layers, "init": "given", "weights": weights, "biases": biases}
    if len(layers) > 2:
        table["activation"] = model.pop("activation", "sigmoid")
    return net_from(table | model)


# --- no warnings: a saturated sigmoid's exp overflows, a diverged network's costs are inf/NaN -

SATURATED = dict(weights=[[[1e6]], [[1e6]]], biases=[[0.0], [0.0]], output="sigmoid",
                 cost="cross_entropy")


def test_a_saturated_network_computes_without_a_warning():
    """z_1 = 1e6 * -1e3 = -1e9: exp(-z) overflows, and sigmoid(z) is the correct 0 (the
    docstring of activations.sigmoid). Every entry point is quiet, whatever numpy's default."""
    net = given(**SATURATED)
    X, y = np.array([[-1e3], [1e3]]), np.array([0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = net.forward(X)
        np.testing.assert_array_equal(a[1][:, 0], [0.0, 1.0])
        np.testing.assert_array_equal(net.output_grid(X)[:, 0], [0.5, 1.0])  # z_2 = 0, 1e6
        np.testing.assert_array_equal(net.hidden_activations(X, 1)[:, 0], [0.0, 1.0])
        g = net.gradients(X, y)
        # row 0: a_2 = sigmoid(0) = 0.5, delta_2 = a - y = 0.5; row 1: a_2 = 1, delta = 0
        assert g["b2"][0] == pytest.approx(0.25, rel=1e-15)
        with np.errstate(over="ignore"):  # backward's documented contract
            net.backward(X, y)
        # costs: row 0 softplus(0) - 0 = ln 2; row 1 softplus(1e6) - 1e6 = 0
        assert net.batch_loss() == pytest.approx(math.log(2) / 2, rel=1e-15)
        loss, acc = net.evaluate(X, y)
        # row 0: output 0.5 is not above the threshold: class 0, right; row 1: class 1, right
        assert loss == pytest.approx(math.log(2) / 2, rel=1e-15) and acc == 1.0


@pytest.mark.parametrize(("output", "cost"), list(PAIRS))
def test_a_diverged_network_reports_nonfinite_costs_without_a_warning(output, cost):
    """Weights at +-inf (a run that diverged): the costs are inf or NaN (finite for a bounded
    output with the quadratic cost), never a warning on the terminal."""
    n_out = 2 if output == "softmax" else 1
    net = net_from({"layers": [1, n_out], "output": output, "cost": cost, "init": "normal"})
    X = np.array([[1.0], [-1.0]])
    y = np.array([[0.5] * n_out, [0.5] * n_out]) if cost == "mse" else np.array([0, 1])
    net.W[1][...] = np.inf
    net.W[1][0, 0] = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore", invalid="ignore"):
            net.backward(X, y)
        bounded = cost == "quadratic"  # sigmoid or tanh saturate: (a - y)^2 stays finite
        assert math.isfinite(net.batch_loss()) == bounded
        assert math.isfinite(net.evaluate(X, y)[0]) == bounded


# --- the per-example costs -------------------------------------------------------------------

def test_costs_are_one_per_example():
    """Each pair's ``costs`` gives one cost per row (engine.models.costs' table)."""
    z = np.array([[0.0], [2.0]])
    a = 1 / (1 + np.exp(-z))
    y = np.array([[1.0], [0.0]])
    # sigmoid + cross_entropy: row 0 -ln sigmoid(0) = ln 2; row 1 -ln(1 - sigmoid(2)) =
    # softplus(2) = 2 + ln(1 + e^-2)
    bce = PAIRS["sigmoid", "cross_entropy"].costs(z, a, y)
    np.testing.assert_allclose(bce, [math.log(2), 2 + math.log1p(math.exp(-2))], rtol=1e-15)
    # linear + mse with two outputs: (1/2)((1-0)^2 + (3-1)^2) = 2.5 and (1/2)(0 + 0) = 0
    z2 = np.array([[1.0, 3.0], [0.5, -0.5]])
    mse = PAIRS["linear", "mse"].costs(z2, z2, np.array([[0.0, 1.0], [0.5, -0.5]]))
    np.testing.assert_array_equal(mse, [2.5, 0.0])


def test_softmax_cross_entropy_with_rows_of_very_different_scales():
    """Each row is shifted by its own max: a row of logits near 1000 beside a row near 0 both
    cost ln 2 (two equal logits); shifting both by the global max would give exp(-1000) = 0 in
    the second row and an infinite cost."""
    pair = PAIRS["softmax", "cross_entropy"]
    z = np.array([[1000.0, 1000.0], [0.0, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    # (1000 + ln 2) - 1000 keeps ln 2 to the spacing of floats near 1000 (1.1e-13)
    np.testing.assert_allclose(pair.costs(z, None, y), [math.log(2), math.log(2)], atol=2.3e-13)


# --- empty inputs, the threshold, predictions -----------------------------------------------

def test_no_rows():
    clf = net_from({"layers": [2, 3, 2], "output": "softmax", "cost": "cross_entropy"})
    loss, acc = clf.evaluate(np.zeros((0, 2)), np.zeros(0, np.intp))
    assert math.isnan(loss) and math.isnan(acc)
    p = clf.predict(np.zeros((0, 2)))
    assert p.shape == (0,) and p.dtype == np.intp
    reg = net_from({"layers": [2, 3, 2], "output": "linear", "cost": "mse"})
    loss, acc = reg.evaluate(np.zeros((0, 2)), np.zeros((0, 2)))
    assert math.isnan(loss) and acc is None
    p = reg.predict(np.zeros((0, 2)))
    assert p.shape == (0, 2) and p.dtype == np.float64


def test_one_output_exactly_at_the_threshold_is_class_0():
    """A single output predicts class 1 only *above* the threshold (OutputCost.threshold):
    sigmoid(0) = 0.5 is class 0, as is tanh(0) = 0."""
    for output, cost in (("sigmoid", "cross_entropy"), ("tanh", "quadratic")):
        net = given([[[1.0]]], [[0.0]], output=output, cost=cost)
        p = net.predict(np.array([[0.0], [1e-9], [-1e-9]]))
        np.testing.assert_array_equal(p, [0, 1, 0])
        assert p.dtype == np.intp


def test_integer_inputs_without_a_scale_are_refused_in_words():
    net = net_from({"layers": [2, 1], "output": "sigmoid", "cost": "cross_entropy"})
    with pytest.raises(ValueError) as info:
        net.forward(np.array([[1, 2]], dtype=np.uint8))
    assert str(info.value) == "integer inputs need the data source's input_scale"


def test_messages_before_a_backward_pass_and_for_a_layer_out_of_range():
    net = net_from({"layers": [2, 3, 1], "output": "sigmoid", "cost": "cross_entropy"})
    with pytest.raises(RuntimeError) as info:
        net.batch_loss()
    assert str(info.value) == "batch_loss() needs a backward() call first"
    for layer in (0, 3):
        with pytest.raises(IndexError) as info:
            net.hidden_activations(np.zeros((1, 2)), layer)
        assert str(info.value) == f"layer {layer} is not in 1..2"


# --- buffers are kept between steps of the same batch size ---------------------------------

def test_training_buffers_are_allocated_once_per_batch_size():
    """The hot loop allocates almost nothing (dense.py's docstring): a second backward pass at
    the same batch size writes into the first one's arrays."""
    net = net_from({"layers": [2, 3, 1], "output": "sigmoid", "cost": "cross_entropy"})
    X, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([0, 1])
    net.backward(X, y)
    first = net.last_batch()
    net.backward(X[::-1].copy(), y[::-1].copy())
    second = net.last_batch()
    assert second["a"][1] is first["a"][1] and second["delta"][2] is first["delta"][2]
    assert net._bufs[2] is net._last


# --- what the network screen prints ---------------------------------------------------------

def test_layer_stats_by_hand():
    """One example, one layer: W = [[3, 4]], b = [12], x = (1, 0), linear output, mse:
    z = 3 + 12 = 15, delta = (2/1)(15 - 5) = 20, dC/db = 20, dC/dW = 20 x = (20, 0)."""
    net = given([[[3.0, 4.0]]], [[12.0]], output="linear", cost="mse")
    net.backward(np.array([[1.0, 0.0]]), np.array([[5.0]]))
    (s,) = net.layer_stats()
    assert s == {"layer": 1, "W_shape": (1, 2), "W_norm": 5.0, "b_norm": 12.0,
                 "delta_norm": 20.0, "grad_W_norm": 20.0, "grad_b_norm": 20.0}


# --- float32 networks convert what they are given --------------------------------------------

def test_a_float32_network_converts_float64_inputs_and_targets():
    net = net_from({"layers": [2, 3, 2], "output": "linear", "cost": "mse", "dtype": "float32"})
    X = np.array([[0.1, -0.7], [2.5, 1 / 3]])
    Y = np.array([[1 / 3, 0.2], [-1.1, 0.9]])
    a0 = net.inputs(X)
    assert a0.dtype == np.float32
    np.testing.assert_array_equal(a0, X.astype(np.float32))
    t = net.targets(Y)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t, Y.astype(np.float32))
    # the network's pass over float64 inputs is its pass over their float32 rounding
    for a, b in zip(net.forward(X), net.forward(X.astype(np.float32)), strict=True):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(net.output_grid(X), net.output_grid(X.astype(np.float32)))


def test_a_float64_network_takes_float32_inputs():
    net = net_from({"layers": [2, 1], "output": "linear", "cost": "mse"})
    X32 = np.array([[0.1, -0.7]], dtype=np.float32)
    a0 = net.inputs(X32)
    assert a0.dtype == np.float64
    np.testing.assert_array_equal(a0, X32.astype(np.float64))


def test_messages_of_the_constructor_and_of_an_unknown_init():
    from engine.models.init import initial_parameters

    cfg = dense_config_from_table({"layers": [2, 1], "output": "sigmoid",
                                   "cost": "cross_entropy", "l2": 0.5}, "t.toml")
    with pytest.raises(ValueError) as info:
        DenseNet(cfg)
    assert str(info.value) == "l2/l1 regularisation needs n_train, the training-set size"
    with pytest.raises(ValueError) as info:
        initial_parameters([2, 1], "bogus", 0)
    assert str(info.value) == "unknown init 'bogus'"


def test_loss_and_accuracy_are_evaluate_s_two_halves():
    """Two examples of a given one-layer sigmoid network (W = [[2]], b = [-1]): x = 1 gives
    sigmoid(1) (class 1, right for label 1), x = 0 gives sigmoid(-1) (class 0, wrong for
    label 1): accuracy 1/2; the cross-entropy costs are softplus(-z) for label 1."""
    net = given([[[2.0]]], [[-1.0]], output="sigmoid", cost="cross_entropy")
    X, y = np.array([[1.0], [0.0]]), np.array([1, 1])
    cost = (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(1.0))) / 2
    assert net.accuracy(X, y) == 0.5
    assert net.loss(X, y) == pytest.approx(cost, rel=1e-15)
    reg = given([[[2.0]]], [[-1.0]], output="linear", cost="mse")
    assert reg.accuracy(X, np.array([[1.0], [0.0]])) is None


def test_a_regression_whose_error_overflows_costs_inf_without_a_warning():
    """a = 1e6 * 1.5e302 = 1.5e308 against a target of -1.5e308: a - y overflows to inf."""
    net = given([[[1e6]]], [[0.0]], output="linear", cost="mse")
    X, Y = np.array([[1.5e302]]), np.array([[-1.5e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):  # backward's documented contract
            net.backward(X, Y)
        assert net.batch_loss() == math.inf
        assert net.evaluate(X, Y)[0] == math.inf
