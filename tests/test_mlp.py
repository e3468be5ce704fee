"""The MNIST MLP: gradients, the four equations, determinism, config validation."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ScenarioError
from engine.mlp import ACTIVATIONS, COSTS, MLP, MLPConfig, mlp_config_from_table, mnist_config_check


def tiny(activation: str, cost: str, layers: list[int] | None = None, wd: float = 0.0,
         dtype: type = np.float64, seed: int = 3) -> MLP:
    return MLP(MLPConfig(layers or [5, 4, 3], activation, cost, "scaled", wd, seed), dtype=dtype)


def batch(n: int = 7, d: int = 5, c: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


def numeric_gradient(m: MLP, X: np.ndarray, y: np.ndarray, eps: float = 1e-6) -> dict:
    """Central finite differences of m.loss (mean cost + weight decay) for every parameter."""
    out = {}
    for name, p in m.params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = m.loss(X, y)
            p[i] = old - eps
            down = m.loss(X, y)
            p[i] = old
            g[i] = (up - down) / (2 * eps)
        out[name] = g
    return out


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("layers", [[5, 4, 3], [5, 4, 6, 3]])
def test_gradients_match_finite_differences(activation: str, cost: str, layers: list[int]) -> None:
    m = tiny(activation, cost, layers, wd=0.3)
    X, y = batch()
    grads = {k: v.copy() for k, v in m.backward(X, y).items()}
    numeric = numeric_gradient(m, X, y)
    assert set(grads) == {f"{k}{l}" for l in range(1, len(layers)) for k in "Wb"}
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-5, atol=1e-8,
                                   err_msg=f"{activation}/{cost}: {name}")


def test_weight_decay_adds_lambda_w_to_weights_only() -> None:
    X, y = batch()
    plain = {k: v.copy() for k, v in tiny("tanh", "cross_entropy").backward(X, y).items()}
    m = tiny("tanh", "cross_entropy", wd=0.5)
    decayed = m.backward(X, y)
    for l in (1, 2):
        np.testing.assert_allclose(decayed[f"W{l}"], plain[f"W{l}"] + 0.5 * m.params[f"W{l}"])
        np.testing.assert_array_equal(decayed[f"b{l}"], plain[f"b{l}"])
    sq = sum(float(np.sum(m.params[f"W{l}"] ** 2)) for l in (1, 2))
    assert m.loss(X, y) == pytest.approx(tiny("tanh", "cross_entropy").loss(X, y) + 0.25 * sq)


def nielsen_backprop(m: MLP, x: np.ndarray, y: np.ndarray) -> tuple[list, list, list]:
    """One example as column vectors, the four equations as in network.py: return
    (nabla_b per layer (n_l, 1), nabla_w per layer (n_l, n_{l-1}), delta per layer (n_l, 1))."""
    act = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
           "relu": lambda z: np.maximum(z, 0)}[m.activation]
    prime = {"sigmoid": lambda z: act(z) * (1 - act(z)), "tanh": lambda z: 1 - np.tanh(z) ** 2,
             "relu": lambda z: (z > 0).astype(float)}[m.activation]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    L = m.L
    W = [None] + [m.params[f"W{l}"] for l in range(1, L + 1)]
    b = [None] + [m.params[f"b{l}"].reshape(-1, 1) for l in range(1, L + 1)]
    a, zs = [x], [None]
    for l in range(1, L + 1):
        zs.append(W[l] @ a[-1] + b[l])
        if l < L:
            a.append(act(zs[-1]))
        elif m.softmax:
            e = np.exp(zs[-1] - zs[-1].max())
            a.append(e / e.sum())
        else:
            a.append(sig(zs[-1]))
    delta = [None] * (L + 1)
    if m.softmax:
        delta[L] = a[L] - y  # BP1 (softmax + cross-entropy)
    else:
        delta[L] = (a[L] - y) * sig(zs[L]) * (1 - sig(zs[L]))  # BP1 (quadratic)
    for l in range(L - 1, 0, -1):
        delta[l] = (W[l + 1].T @ delta[l + 1]) * prime(zs[l])  # BP2
    nabla_b = [None] + [delta[l] for l in range(1, L + 1)]  # BP3
    nabla_w = [None] + [delta[l] @ a[l - 1].T for l in range(1, L + 1)]  # BP4
    return nabla_b, nabla_w, delta


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_four_equations_match_a_per_example_loop(activation: str, cost: str) -> None:
    m = tiny(activation, cost, [6, 5, 4, 3], wd=0.0, seed=5)
    X, labels = batch(n=9, d=6)
    grads = m.backward(X, labels)
    eye = np.eye(3)
    sums_b = [np.zeros((n, 1)) for n in m.sizes]
    sums_w = [np.zeros_like(m.params[f"W{l}"]) if l else None for l in range(m.L + 1)]
    for i in range(len(X)):
        nb, nw, delta = nielsen_backprop(m, X[i].reshape(-1, 1), eye[labels[i]].reshape(-1, 1))
        for l in range(1, m.L + 1):
            sums_b[l] += nb[l]
            sums_w[l] += nw[l]
            np.testing.assert_allclose(m._last.delta[l][i], delta[l][:, 0], rtol=1e-10,
                                       atol=1e-14)
    for l in range(1, m.L + 1):
        np.testing.assert_allclose(grads[f"b{l}"], sums_b[l][:, 0] / len(X), rtol=1e-10)
        np.testing.assert_allclose(grads[f"W{l}"], sums_w[l] / len(X), rtol=1e-10)


def test_float32_training_pass_matches_float64() -> None:
    X, y = batch(n=16, d=20, c=10)
    cfg = MLPConfig([20, 12, 10], "sigmoid", "cross_entropy", "normal", 0.01, 2)
    g64 = MLP(cfg, dtype=np.float64).backward(X, y)
    m32 = MLP(cfg)
    g32 = m32.backward(X.astype(np.float32), y)
    assert all(g.dtype == np.float32 for g in g32.values())
    for name in g64:
        np.testing.assert_allclose(g32[name], g64[name], rtol=2e-4, atol=2e-6)


def test_uint8_images_are_scaled_by_255() -> None:
    rng = np.random.default_rng(1)
    X8 = rng.integers(0, 256, (6, 784), dtype=np.uint8)
    y = rng.integers(0, 10, 6)
    m = MLP(MLPConfig([784, 8, 10], "relu", "cross_entropy", "he", 0.0, 1))
    g8 = {k: v.copy() for k, v in m.backward(X8, y).items()}
    gf = m.backward(X8.astype(np.float32) / np.float32(255), y)
    for name in g8:
        np.testing.assert_allclose(g8[name], gf[name], rtol=1e-6, atol=1e-7)
    acts = m.forward(X8)
    assert [a.shape for a in acts] == [(6, 784), (6, 8), (6, 10)]
    np.testing.assert_allclose(acts[-1].sum(axis=1), 1.0, rtol=1e-6)
    assert acts[0].max() <= 1.0 and acts[0].dtype == np.float32
    np.testing.assert_array_equal(m.predict(X8), np.argmax(acts[-1], axis=1))
    assert m.accuracy(X8, y) == np.mean(m.predict(X8) == y)


def test_one_hot_targets_equal_labels() -> None:
    X, y = batch(c=3)
    m = tiny("sigmoid", "quadratic")
    g_labels = {k: v.copy() for k, v in m.backward(X, y).items()}
    g_onehot = m.backward(X, np.eye(3)[y])
    for name in g_labels:
        np.testing.assert_array_equal(g_labels[name], g_onehot[name])


def test_batch_loss_is_the_loss_before_the_step() -> None:
    X, y = batch()
    for cost in COSTS:
        m = tiny("tanh", cost, wd=0.2)
        m.backward(X, y)
        assert m.batch_loss() == pytest.approx(m.loss(X, y), rel=1e-12)


def test_same_seed_same_network_and_init_scales() -> None:
    cfg = MLPConfig([784, 30, 10], "sigmoid", "quadratic", "normal", 0.0, 7)
    a, b = MLP(cfg), MLP(cfg)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    other = MLP(MLPConfig([784, 30, 10], seed=8))
    assert not np.array_equal(a.params["W1"], other.params["W1"])
    X, y = batch(n=10, d=784, c=10)
    ga = {k: v.copy() for k, v in a.backward(X, y).items()}
    gb = b.backward(X, y)
    for name in ga:
        np.testing.assert_array_equal(ga[name], gb[name])
    big = [784, 400, 10]
    stds = {init: float(MLP(MLPConfig(big, init=init)).params["W1"].std()) for init in
            ("normal", "scaled", "he")}
    assert stds["normal"] == pytest.approx(1.0, rel=0.02)
    assert stds["scaled"] == pytest.approx(1 / np.sqrt(784), rel=0.02)
    assert stds["he"] == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert not MLP(MLPConfig(big, init="he")).params["b1"].any()


def test_layer_stats_report_the_last_backward() -> None:
    m = tiny("sigmoid", "cross_entropy", [5, 4, 3], wd=0.1)
    assert m.layer_stats() == []
    X, y = batch()
    grads = m.backward(X, y)
    stats = m.layer_stats()
    assert [s["layer"] for s in stats] == [1, 2]
    assert [s["W_shape"] for s in stats] == [(4, 5), (3, 4)]
    delta_L = m.forward(X)[-1] - np.eye(3)[y]
    assert stats[1]["delta_norm"] == pytest.approx(np.mean(np.linalg.norm(delta_L, axis=1)))
    assert stats[0]["grad_W_norm"] == pytest.approx(np.linalg.norm(grads["W1"]))
    assert stats[1]["grad_b_norm"] == pytest.approx(np.linalg.norm(grads["b2"]))


def test_layer_grad_norm_is_the_bias_gradient_and_leaves_the_last_batch() -> None:
    m = tiny("tanh", "quadratic", [5, 4, 6, 3], wd=0.2)
    X, y = batch(n=9)
    numeric = numeric_gradient(m, X, y)  # weight decay touches weights only: not dC/db
    X2, y2 = batch(n=4, seed=1)
    grads = {k: v.copy() for k, v in m.backward(X2, y2).items()}
    stats, loss = m.layer_stats(), m.batch_loss()
    norms = m.layer_grad_norm(X, y)
    assert norms == pytest.approx([np.linalg.norm(numeric[f"b{l}"]) for l in (1, 2, 3)],
                                  rel=1e-6)
    for k, g in m.grads.items():  # the last batch's gradients and numbers are untouched
        np.testing.assert_array_equal(g, grads[k])
    assert m.layer_stats() == stats and m.batch_loss() == loss


def test_matches_pytorch_autograd() -> None:
    torch = pytest.importorskip("torch")
    X, y = batch(n=8, d=6, c=4)
    for activation, cost in [("sigmoid", "quadratic"), ("relu", "cross_entropy")]:
        m = MLP(MLPConfig([6, 5, 4], activation, cost, "scaled", 0.05, 1), dtype=np.float64)
        grads = m.backward(X, y)
        P = {k: torch.tensor(v, requires_grad=True) for k, v in m.params.items()}
        act = torch.sigmoid if activation == "sigmoid" else torch.relu
        h = act(torch.tensor(X) @ P["W1"].T + P["b1"])
        out = h @ P["W2"].T + P["b2"]
        if cost == "quadratic":
            target = torch.nn.functional.one_hot(torch.tensor(y), 4).double()
            loss = 0.5 * ((torch.sigmoid(out) - target) ** 2).sum(1).mean()
        else:
            loss = torch.nn.functional.cross_entropy(out, torch.tensor(y))
        loss = loss + 0.025 * (P["W1"].pow(2).sum() + P["W2"].pow(2).sum())
        loss.backward()
        assert float(loss.detach()) == pytest.approx(m.loss(X, y), rel=1e-12)
        for name, p in P.items():
            np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_matches_the_engine_graph() -> None:
    try:
        from engine.graph import Graph
    except ImportError:
        pytest.skip("engine.graph is not there yet")
    X, y = batch(n=8, d=6, c=4)
    m = MLP(MLPConfig([6, 5, 4], "tanh", "cross_entropy", "scaled", 0.0, 2), dtype=np.float64)
    grads = m.backward(X, y)
    # row-major graph: X (N, in) @ W (in, out); the MLP stores W as (out, in)
    params = {k: (v.T.copy() if k.startswith("W") else v.copy()) for k, v in m.params.items()}
    g = Graph.build(params, {"X": X, "y": y.astype(float)}, {
        "h": "tanh(X @ W1 + b1)",
        "c": "h @ W2 + b2",
        "loss": "softmax_ce(c, y)",
    }, "test")
    g.forward()
    assert float(g.value("loss")) == pytest.approx(m.loss(X, y), rel=1e-12)
    ggrads = g.gradients("loss")
    for name, v in grads.items():
        expected = ggrads[name].T if name.startswith("W") else ggrads[name]
        np.testing.assert_allclose(v, expected, rtol=1e-10, atol=1e-13, err_msg=name)


# --- the [model] table -------------------------------------------------------------------

GOOD = {"layers": [784, 30, 10], "activation": "sigmoid", "cost": "quadratic",
        "init": "normal", "weight_decay": 0.0, "seed": 1}


def test_config_from_table_reads_every_key() -> None:
    cfg = mlp_config_from_table({**GOOD, "activation": "relu", "cost": "cross_entropy",
                                 "init": "he", "weight_decay": 1, "seed": 3}, "x.toml")
    assert cfg == MLPConfig([784, 30, 10], "relu", "cross_entropy", "he", 1.0, 3)
    assert mlp_config_from_table({"layers": [2, 2]}, "x.toml") == MLPConfig([2, 2])


@pytest.mark.parametrize(("change", "message"), [
    ({"activation": "softplus"}, "mnist_mlp.toml: [model] key 'activation': expected one of "
     "'sigmoid', 'tanh', 'relu', got 'softplus'"),
    ({"cost": "hinge"}, "mnist_mlp.toml: [model] key 'cost': expected 'quadratic' or "
     "'cross_entropy', got 'hinge'"),
    ({"init": 3}, "mnist_mlp.toml: [model] key 'init': expected one of 'normal', 'scaled', "
     "'he', got an integer (3)"),
    ({"layers": [784]}, "mnist_mlp.toml: [model] key 'layers': expected a list of at least 2 "
     "layer sizes, got [784]"),
    ({"layers": "784,10"}, "mnist_mlp.toml: [model] key 'layers': expected a list of at least 2 "
     "layer sizes, got a string '784,10'"),
    ({"layers": [784, 0, 10]}, "mnist_mlp.toml: [model] key 'layers': expected layer sizes in "
     "[1, 100,000], got 0 in [784, 0, 10]"),
    ({"layers": [784, 30.0, 10]}, "mnist_mlp.toml: [model] key 'layers': expected layer sizes "
     "in [1, 100,000], got a number (30.0) in [784, 30.0, 10]"),
    ({"layers": [784, True, 10]}, "mnist_mlp.toml: [model] key 'layers': expected layer sizes "
     "in [1, 100,000], got a boolean (true) in [784, a boolean (true), 10]"),
    ({"layers": [784, 10**400]}, "mnist_mlp.toml: [model] key 'layers': expected layer sizes "
     "in [1, 100,000], got an integer of 401 digits in [784, an integer of 401 digits]"),
    ({"layers": [784, 20000, 1000]}, "mnist_mlp.toml: [model] key 'layers': 35,680,000 "
     "weights, more than the limit of 10,000,000"),
    ({"weight_decay": -1.0}, "mnist_mlp.toml: [model] key 'weight_decay': expected a finite "
     "number >= 0, got -1.0"),
    ({"weight_decay": "0.1"}, "mnist_mlp.toml: [model] key 'weight_decay': expected a finite "
     "number >= 0, got a string '0.1'"),
    ({"weight_decay": 10**400}, "mnist_mlp.toml: [model] key 'weight_decay': expected a finite "
     "number >= 0, got an integer of 401 digits"),
    ({"weight_decay": float("nan")}, "mnist_mlp.toml: [model] key 'weight_decay': expected a "
     "finite number >= 0, got nan"),
    ({"seed": 1.5}, "mnist_mlp.toml: [model] key 'seed': expected an integer in "
     "[0, 4,294,967,295], got a number (1.5)"),
    ({"seed": -1}, "mnist_mlp.toml: [model] key 'seed': expected an integer in "
     "[0, 4,294,967,295], got -1"),
    ({"hidden": 30}, "mnist_mlp.toml: [model] key 'hidden': unknown key (allowed: 'layers', "
     "'activation', 'cost', 'init', 'weight_decay', 'seed')"),
])
def test_config_from_table_errors(change: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        mlp_config_from_table({**GOOD, **change}, "mnist_mlp.toml")
    assert str(info.value) == message


def test_config_errors_missing_layers_and_mnist_shape() -> None:
    with pytest.raises(ScenarioError, match=r"x.toml: \[model\] key 'layers' is missing"):
        mlp_config_from_table({"activation": "tanh"}, "x.toml")
    with pytest.raises(ScenarioError, match="MNIST needs 784 inputs and 10 outputs, got"):
        mnist_config_check(MLPConfig([784, 30, 9]), "x.toml")
    mnist_config_check(MLPConfig([784, 30, 10]), "x.toml")
