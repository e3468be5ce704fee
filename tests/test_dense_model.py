"""The dense network as a whole: a given network computed by hand, the initialisation rules,
evaluation and prediction, what the views read (grids, hidden maps, layer speeds). (That the
MNIST networks keep the numbers of the earlier engine/mlp.py is checked through the network
kind against tests/golden/mnist_short.json, recorded by main's trainer before the kinds:
tests/test_network_cli.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.models.config import dense_config_from_table
from engine.models.dense import SPEED_EXAMPLES, DenseNet


def net_from(table: dict, **kw) -> DenseNet:
    return DenseNet(dense_config_from_table(table, "t.toml"), **kw)


# --- a given network, by hand ----------------------------------------------------------------

# Matt Mazur's "A Step by Step Backpropagation Example" (2015): two inputs, two sigmoid hidden
# neurons, two sigmoid outputs, the quadratic cost 1/2 sum (target - out)^2.
MAZUR = {
    "layers": [2, 2, 2], "activation": "sigmoid", "output": "sigmoid", "cost": "quadratic",
    "init": "given",
    "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
    "biases": [[0.35, 0.35], [0.60, 0.60]],
}


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_given_weights_reproduce_a_hand_computed_forward_and_backward_pass() -> None:
    net = net_from(MAZUR)
    X = np.array([[0.05, 0.10]])
    T = np.array([[0.01, 0.99]])
    # forward, by hand: h_j = sig(w_j1 i1 + w_j2 i2 + b1), o_j = sig(w_j1 h1 + w_j2 h2 + b2)
    h1 = sig(0.15 * 0.05 + 0.20 * 0.10 + 0.35)
    h2 = sig(0.25 * 0.05 + 0.30 * 0.10 + 0.35)
    o1 = sig(0.40 * h1 + 0.45 * h2 + 0.60)
    o2 = sig(0.50 * h1 + 0.55 * h2 + 0.60)
    a = net.forward(X)
    np.testing.assert_allclose(a[1][0], [h1, h2], rtol=1e-15)
    np.testing.assert_allclose(a[2][0], [o1, o2], rtol=1e-15)
    # the article's printed values (rounded to 9 digits there)
    np.testing.assert_allclose(a[2][0], [0.75136507, 0.772928465], atol=5e-9)
    cost = 0.5 * ((0.01 - o1) ** 2 + (0.99 - o2) ** 2)
    g = net.backward(X, T)
    assert net.batch_loss() == pytest.approx(cost, rel=1e-15)
    assert cost == pytest.approx(0.298371109, abs=5e-10)
    # BP1 and BP4 by hand for w5 (o1 <- h1): (o1 - t1) o1 (1 - o1) h1
    d1 = (o1 - 0.01) * o1 * (1 - o1)
    d2 = (o2 - 0.99) * o2 * (1 - o2)
    assert g["W2"][0, 0] == pytest.approx(d1 * h1, rel=1e-14)
    assert g["W2"][0, 0] == pytest.approx(0.082167041, abs=5e-10)
    # BP2 and BP4 for w1 (h1 <- i1): (w5 d1 + w7 d2) h1 (1 - h1) i1
    dh1 = (0.40 * d1 + 0.50 * d2) * h1 * (1 - h1)
    assert g["W1"][0, 0] == pytest.approx(dh1 * 0.05, rel=1e-13)
    assert g["b1"][0] == pytest.approx(dh1, rel=1e-13)
    assert 0.15 - 0.5 * g["W1"][0, 0] == pytest.approx(0.149780716, abs=5e-10)


def test_given_bias_init_number_and_checks_of_shape() -> None:
    net = net_from({**{k: v for k, v in MAZUR.items() if k != "biases"}, "bias_init": 0.5})
    assert net.params["b1"].tolist() == [0.5, 0.5] and net.params["b2"].tolist() == [0.5, 0.5]
    assert net.params["W2"].tolist() == [[0.40, 0.45], [0.50, 0.55]]


# --- initialisation --------------------------------------------------------------------------


def test_normal_scaled_he_draw_the_earlier_mlp_numbers() -> None:
    """Layer by layer, W from standard normals (n_l, n_{l-1}), then n_l for b, one generator:
    normal keeps them, scaled divides W by sqrt(fan_in), he multiplies W by sqrt(2/fan_in)
    and zeroes b."""
    for init in ("normal", "scaled", "he"):
        net = net_from({"layers": [6, 5, 3], "init": init, "seed": 7})
        rng = np.random.default_rng(7)
        for l, (fan_out, fan_in) in enumerate([(5, 6), (3, 5)], start=1):
            w, b = rng.standard_normal((fan_out, fan_in)), rng.standard_normal(fan_out)
            if init == "scaled":
                w /= np.sqrt(fan_in)
            if init == "he":
                w *= np.sqrt(2.0 / fan_in)
                b[:] = 0.0
            np.testing.assert_array_equal(net.params[f"W{l}"], w)
            np.testing.assert_array_equal(net.params[f"b{l}"], b)


@pytest.mark.parametrize("init,bound,std,bias", [
    ("xavier", math.sqrt(6 / (400 + 300)), math.sqrt(6 / 700) / math.sqrt(3), 0.0),
    ("xavier_normal", None, math.sqrt(2 / (400 + 300)), 0.0),
    ("he", None, math.sqrt(2 / 400), 0.0),
    ("scaled", None, math.sqrt(1 / 400), None),
    ("normal", None, 1.0, None),
    ("uniform", 0.5, 1 / math.sqrt(12), 0.1),
])
def test_init_rules_have_their_distributions(init: str, bound: float | None, std: float,
                                             bias: float | None) -> None:
    """W_1 of [400, 300, 2]: 120,000 draws, so the sample std is within 1% of the rule's
    (xavier: U(-r, r) has std r/sqrt(3), r = sqrt(6/(fan_in + fan_out)), torch's
    xavier_uniform_; he: torch's kaiming_normal_ with the relu gain; uniform: Playground's
    U(-0.5, 0.5) and bias 0.1)."""
    net = net_from({"layers": [400, 300, 2], "init": init, "seed": 11})
    w = net.params["W1"]
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 0.02 * std
    if bound is not None:
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    b = net.params["b1"]
    if bias is None:  # N(0, 1) biases
        assert b.std() == pytest.approx(1.0, rel=0.15)
    else:
        assert np.all(b == bias)


def test_bias_init_does_not_change_the_weights_and_seeds_reproduce() -> None:
    a = net_from({"layers": [3, 4, 2], "init": "xavier", "seed": 5})
    b = net_from({"layers": [3, 4, 2], "init": "xavier", "seed": 5, "bias_init": 0.25})
    c = net_from({"layers": [3, 4, 2], "init": "xavier", "seed": 6})
    for name in ("W1", "W2"):
        np.testing.assert_array_equal(a.params[name], b.params[name])
        assert not np.array_equal(a.params[name], c.params[name])
    assert np.all(b.params["b1"] == 0.25) and np.all(a.params["b1"] == 0.0)


def test_reset_restores_in_place_and_a_new_seed_draws_anew() -> None:
    net = net_from({"layers": [2, 3, 1], "init": "uniform", "seed": 2})
    w1 = net.params["W1"]
    first = {k: v.copy() for k, v in net.params.items()}
    w1 += 1.0
    net.reset()
    assert net.params["W1"] is w1
    for k, v in first.items():
        np.testing.assert_array_equal(net.params[k], v)
    net.reset(seed=3)
    assert not np.array_equal(net.params["W1"], first["W1"])
    np.testing.assert_array_equal(
        net.params["W1"], net_from({"layers": [2, 3, 1], "init": "uniform", "seed": 3}).params["W1"])


def test_dtype_from_the_table_or_the_caller() -> None:
    assert net_from({"layers": [2, 1]}).params["W1"].dtype == np.float64
    assert net_from({"layers": [2, 1], "dtype": "float32"}).params["W1"].dtype == np.float32
    assert net_from({"layers": [2, 1]}, dtype=np.float32).params["b1"].dtype == np.float32


# --- evaluation ------------------------------------------------------------------------------


def one_neuron(output: str, cost: str) -> DenseNet:
    return net_from({"layers": [1, 1], "output": output, "cost": cost, "init": "given",
                     "weights": [[[1.0]]], "biases": [[0.0]]})


def test_one_sigmoid_output_thresholds_at_one_half_and_costs_cross_entropy() -> None:
    net = one_neuron("sigmoid", "cross_entropy")
    X, y = np.array([[-2.0], [0.5], [3.0]]), np.array([0, 1, 0])
    loss, acc = net.evaluate(X, y)
    assert acc == pytest.approx(2 / 3)  # predictions 0, 1, 1
    # -[y ln s(z) + (1 - y) ln(1 - s(z))] for z = -2, 0.5, 3
    expected = -(math.log(1 - sig(-2.0)) + math.log(sig(0.5)) + math.log(1 - sig(3.0))) / 3
    assert loss == pytest.approx(expected, rel=1e-14)
    assert net.predict(X).tolist() == [0, 1, 1]


def test_tanh_output_uses_labels_plus_minus_one_and_thresholds_at_zero() -> None:
    net = one_neuron("tanh", "quadratic")
    X, y = np.array([[-0.1], [0.2]]), np.array([1, 1])
    loss, acc = net.evaluate(X, y)
    assert acc == 0.5
    assert loss == pytest.approx(0.5 * ((math.tanh(-0.1) - 1) ** 2 + (math.tanh(0.2) - 1) ** 2)
                                 / 2, rel=1e-14)
    assert net.targets(np.array([0, 1])).tolist() == [[-1.0], [1.0]]


def test_regression_evaluates_mse_without_accuracy() -> None:
    net = one_neuron("linear", "mse")
    X, T = np.array([[1.0], [2.0]]), np.array([[0.0], [4.0]])
    assert net.evaluate(X, T) == (pytest.approx((1.0 + 4.0) / 2), None)
    np.testing.assert_array_equal(net.predict(X), X)


def test_evaluation_in_chunks_equals_one_pass_and_integers_take_the_input_scale() -> None:
    net = net_from({"layers": [4, 5, 3], "activation": "relu", "seed": 4}, input_scale=1 / 255)
    rng = np.random.default_rng(1)
    Xi = rng.integers(0, 256, (25_000, 4), dtype=np.uint8)
    y = rng.integers(0, 3, 25_000)
    Xf = Xi / 255.0
    out = net.forward(Xf)[-1]
    cost = -np.log(out[np.arange(len(y)), y]).mean()
    loss, acc = net.evaluate(Xi, y)
    assert loss == pytest.approx(cost, rel=1e-12)
    assert acc == np.mean(np.argmax(out, axis=1) == y)
    np.testing.assert_array_equal(net.predict(Xi), np.argmax(out, axis=1))
    with pytest.raises(ValueError, match="input_scale"):
        net_from({"layers": [4, 3]}).forward(Xi)


def test_evaluation_chunks_hold_at_most_max_activations(monkeypatch) -> None:
    from engine.models import dense

    # a limit of 1,000 activations: [4, 5, 3] has 12 units, so 83 rows a pass (not 10,000)
    monkeypatch.setattr(dense, "MAX_ACTIVATIONS", 1_000)
    net = net_from({"layers": [4, 5, 3], "activation": "tanh", "seed": 2})
    assert net.eval_rows == 1_000 // 12 == 83
    passes: list[int] = []
    forward = net._forward
    monkeypatch.setattr(net, "_forward", lambda a0, buf: (passes.append(a0.shape[0]),
                                                          forward(a0, buf)))
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(500, 4)), rng.integers(0, 3, 500)
    out = net.forward(X)[-1]  # one pass of all 500 rows, for reference
    passes.clear()
    loss, acc = net.evaluate(X, y)
    assert passes == [83] * 6 + [2]
    assert loss == pytest.approx(-np.log(out[np.arange(500), y]).mean(), rel=1e-12)
    assert acc == np.mean(np.argmax(out, axis=1) == y)
    passes.clear()
    np.testing.assert_array_equal(net.predict(X), np.argmax(out, axis=1))
    assert max(passes) == 83


# --- what the views read ---------------------------------------------------------------------


def test_output_grid_and_hidden_maps_leave_the_last_batch_alone() -> None:
    net = net_from({"layers": [2, 4, 3, 1], "activation": "tanh", "output": "tanh",
                    "init": "uniform", "seed": 9})
    X, y = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10) % 2
    net.backward(X, y)
    before = net.batch_loss()
    deltas = net.deltas()
    grid = np.random.default_rng(1).uniform(-6, 6, (200 * 100, 2))
    acts = net.forward(grid)
    np.testing.assert_array_equal(net.output_grid(grid), acts[3])
    for layer in (1, 2, 3):
        np.testing.assert_array_equal(net.hidden_activations(grid, layer), acts[layer])
    assert net.batch_loss() == before
    for d, d2 in zip(deltas, net.deltas(), strict=True):
        np.testing.assert_array_equal(d, d2)
    with pytest.raises(IndexError):
        net.hidden_activations(grid, 4)


def test_layer_grad_norm_is_the_bias_gradient_norm_over_the_first_thousand() -> None:
    net = net_from({"layers": [5, 6, 6, 3], "seed": 3})
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(1500, 5)), rng.integers(0, 3, 1500)
    net.backward(X[:10], y[:10])
    grads_before = {k: v.copy() for k, v in net.grads.items()}
    speeds = net.layer_grad_norm(X, y)
    g = net.gradients(X[:SPEED_EXAMPLES], y[:SPEED_EXAMPLES])
    assert speeds == [pytest.approx(float(np.linalg.norm(g[f"b{l}"])), rel=1e-14)
                      for l in (1, 2, 3)]
    assert net.layer_grad_norm(X, y) != net.layer_grad_norm(X[500:], y[500:])
    for k, v in grads_before.items():
        np.testing.assert_array_equal(net.grads[k], v)


def test_layer_stats_and_weight_norms() -> None:
    net = net_from({"layers": [3, 4, 2], "seed": 1})
    assert net.layer_stats() == [] and net.deltas() == []
    X, y = np.random.default_rng(0).normal(size=(6, 3)), np.arange(6) % 2
    net.backward(X, y)
    stats = net.layer_stats()
    assert [s["layer"] for s in stats] == [1, 2] and stats[0]["W_shape"] == (4, 3)
    assert net.weight_norms() == [s["W_norm"] for s in stats]
    d1 = net.deltas()[0]
    assert stats[0]["delta_norm"] == pytest.approx(np.linalg.norm(d1, axis=1).mean())
    assert stats[1]["grad_b_norm"] == pytest.approx(np.linalg.norm(net.grads["b2"]))
    # BP3: dC/db is delta averaged over the batch, whose norm the dashboard shows beside the
    # average of each example's norm: by the triangle inequality, never larger
    for s, d in zip(stats, net.deltas(), strict=True):
        assert s["grad_b_norm"] == pytest.approx(np.linalg.norm(d.mean(axis=0)))
        assert s["grad_b_norm"] <= s["delta_norm"] * (1 + 1e-9)
    assert net.parameter_count == 4 * 3 + 4 + 2 * 4 + 2


def test_regularisation_needs_the_training_set_size() -> None:
    with pytest.raises(ValueError, match="n_train"):
        net_from({"layers": [2, 1], "l2": 1.0})
