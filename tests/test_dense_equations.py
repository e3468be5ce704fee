"""The dense network against independent formulations of the same sums: Nielsen's network.py
(one example at a time, column vectors, the four equations written out), float32 against
float64, and the engine's own expression graph (engine.graph) differentiating the same loss."""

from __future__ import annotations

import numpy as np
import pytest

from engine.models.config import dense_config_from_table
from engine.models.dense import DenseNet

PAIRS = [("sigmoid", "quadratic"), ("sigmoid", "cross_entropy"), ("softmax", "cross_entropy"),
         ("tanh", "quadratic"), ("linear", "mse")]


def net(activation: str, output: str, cost: str, layers: list[int], seed: int = 5,
        dtype: object = np.float64) -> DenseNet:
    table = {"layers": layers, "activation": activation, "output": output, "cost": cost,
             "init": "scaled", "seed": seed}
    return DenseNet(dense_config_from_table(table, "t.toml", regression=cost == "mse"),
                    dtype=dtype)


ACT = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
       "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}
PRIME = {"sigmoid": lambda z: ACT["sigmoid"](z) * (1 - ACT["sigmoid"](z)),
         "tanh": lambda z: 1 - np.tanh(z) ** 2, "relu": lambda z: (z > 0).astype(float),
         "linear": lambda z: np.ones_like(z)}


def nielsen_backprop(m: DenseNet, x: np.ndarray, y: np.ndarray) -> tuple[list, list, list]:
    """One example as column vectors, the four equations as in network.py: return (nabla_b
    (n_l, 1), nabla_w (n_l, n_{l-1}), delta (n_l, 1)) per layer. y: the target column."""
    L, out, cost = m.L, m.config.output, m.config.cost
    W = [None] + [m.params[f"W{l}"] for l in range(1, L + 1)]
    b = [None] + [m.params[f"b{l}"].reshape(-1, 1) for l in range(1, L + 1)]
    a, zs = [x], [None]
    for l in range(1, L + 1):
        zs.append(W[l] @ a[-1] + b[l])
        if l < L:
            a.append(ACT[m.config.activations[l - 1]](zs[-1]))
        elif out == "softmax":
            e = np.exp(zs[-1] - zs[-1].max())
            a.append(e / e.sum())
        else:
            a.append(ACT[out](zs[-1]))
    delta: list = [None] * (L + 1)
    if cost == "cross_entropy":  # sigmoid or softmax output: the sigma' factor cancels
        delta[L] = a[L] - y  # BP1
    elif cost == "mse":  # C = (1/n_L) ||a - y||^2, a = z
        delta[L] = 2 / len(y) * (a[L] - y)  # BP1
    else:  # quadratic: C = 1/2 ||a - y||^2
        delta[L] = (a[L] - y) * PRIME[out](zs[L])  # BP1
    for l in range(L - 1, 0, -1):
        delta[l] = (W[l + 1].T @ delta[l + 1]) * PRIME[m.config.activations[l - 1]](zs[l])  # BP2
    nabla_b = [None] + [delta[l] for l in range(1, L + 1)]  # BP3
    nabla_w = [None] + [delta[l] @ a[l - 1].T for l in range(1, L + 1)]  # BP4
    return nabla_b, nabla_w, delta


@pytest.mark.parametrize("output,cost", PAIRS)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
def test_four_equations_match_a_per_example_loop(activation: str, output: str,
                                                 cost: str) -> None:
    m = net(activation, output, cost, [6, 5, 4, 3])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 6))
    Y = m.targets(rng.integers(0, 3, 9)) if cost != "mse" else rng.standard_normal((9, 3))
    grads = m.backward(X, Y)
    sums_b = [np.zeros((n, 1)) for n in m.sizes]
    sums_w = [np.zeros_like(m.params[f"W{l}"]) if l else None for l in range(m.L + 1)]
    deltas = m.deltas()
    for i in range(len(X)):
        nb, nw, delta = nielsen_backprop(m, X[i].reshape(-1, 1), Y[i].reshape(-1, 1))
        for l in range(1, m.L + 1):
            sums_b[l] += nb[l]
            sums_w[l] += nw[l]
            np.testing.assert_allclose(deltas[l - 1][i], delta[l][:, 0], rtol=1e-10, atol=1e-14)
    for l in range(1, m.L + 1):  # BP3 and BP4 averaged over the batch
        np.testing.assert_allclose(grads[f"b{l}"], sums_b[l][:, 0] / len(X), rtol=1e-10,
                                   atol=1e-15)
        np.testing.assert_allclose(grads[f"W{l}"], sums_w[l] / len(X), rtol=1e-10, atol=1e-15)


def test_float32_training_pass_matches_float64() -> None:
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((16, 20)), rng.integers(0, 10, 16)
    g64 = net("sigmoid", "softmax", "cross_entropy", [20, 12, 10], seed=2).backward(X, y)
    m32 = net("sigmoid", "softmax", "cross_entropy", [20, 12, 10], seed=2, dtype=np.float32)
    g32 = m32.backward(X.astype(np.float32), y)
    assert all(g.dtype == np.float32 for g in g32.values())
    for name in g64:
        np.testing.assert_allclose(g32[name], g64[name], rtol=2e-4, atol=2e-6)


def test_matches_the_engine_graph() -> None:
    """The same loss written in the graph kind's expression language: the same value and the
    same gradients (the graph stores W as (in, out), the network as (out, in))."""
    from engine.graph import Graph

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 4, 8)
    m = net("tanh", "softmax", "cross_entropy", [6, 5, 4], seed=2)
    grads = m.backward(X, y)
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
