"""The dense network's gradients: every activation x output/cost x regulariser against central
finite differences (float64) and PyTorch autograd (skipped without torch), BP1-BP4 for one
example against the column-vector equations of Nielsen's network.py, derivatives at 0."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import fd_arrays

from engine.models.activations import ACTIVATIONS
from engine.models.config import DenseConfig
from engine.models.costs import PAIRS
from engine.models.dense import DenseNet
from engine.models.explain import bp_terms

N_TRAIN = 40  # the n of the regularisation terms (lambda/2n, lambda/n)
REGULARISERS = {"none": (0.0, 0.0), "l2": (0.7, 0.0), "l1": (0.0, 0.9), "l1+l2": (0.4, 0.6)}


def make_net(activation: str, pair: tuple[str, str], reg: str, layers: list[int] | None = None,
             seed: int = 3) -> DenseNet:
    layers = layers or [3, 4, 3, 3]
    l2, l1 = REGULARISERS[reg]
    cfg = DenseConfig(layers=layers, activations=[activation] * (len(layers) - 2),
                      output=pair[0], cost=pair[1], init="xavier_normal", bias_init=None,
                      seed=seed, l2=l2, l1=l1)
    net = DenseNet(cfg, n_train=N_TRAIN)
    rng = np.random.default_rng(seed + 100)
    for b in net.b[1:]:  # non-zero biases, so that their gradients are tested too
        b[:] = rng.normal(0.0, 0.5, b.shape)
    return net


def make_batch(net: DenseNet, n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, n_in) and labels (n,), or float targets (n, n_out) for regression."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, (n, net.sizes[0]))
    if net.regression:
        return X, rng.normal(0.0, 1.0, (n, net.sizes[-1]))
    classes = 2 if net.sizes[-1] == 1 else net.sizes[-1]
    return X, np.arange(n) % classes  # every class present


def numeric_gradient(net: DenseNet, X: np.ndarray, y: np.ndarray) -> dict:
    """Central differences of net.loss (mean cost + penalties) for every parameter entry."""
    return fd_arrays(lambda: net.loss(X, y), net.params)


COMBINATIONS = list(itertools.product(ACTIVATIONS, PAIRS, REGULARISERS))


@pytest.mark.parametrize("activation,pair,reg", COMBINATIONS,
                         ids=[f"{a}-{o}+{c}-{r}" for a, (o, c), r in COMBINATIONS])
def test_gradients_match_finite_differences(activation: str, pair: tuple[str, str],
                                            reg: str) -> None:
    net = make_net(activation, pair, reg)
    X, y = make_batch(net)
    grads = {k: v.copy() for k, v in net.backward(X, y).items()}
    numeric = numeric_gradient(net, X, y)
    assert set(grads) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8,
                                   err_msg=f"{activation} {pair} {reg}: {name}")
    # gradients() computes the same without touching grads or the last batch
    again = net.gradients(X, y)
    for name in grads:
        np.testing.assert_allclose(again[name], grads[name], rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("pair", [("sigmoid", "quadratic"), ("sigmoid", "cross_entropy"),
                                  ("tanh", "quadratic"), ("linear", "mse")])
def test_single_output_gradients_match_finite_differences(pair: tuple[str, str]) -> None:
    net = make_net("tanh", pair, "l2", layers=[2, 3, 1])
    X, y = make_batch(net, n=5)
    grads = {k: v.copy() for k, v in net.backward(X, y).items()}
    numeric = numeric_gradient(net, X, y)
    for name in grads:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8)


def test_regularisation_touches_weights_only_with_lambda_over_n() -> None:
    """dC/dW gains (l2/n) W + (l1/n) sign(W); dC/db is unchanged; the penalty is
    (l2/2n) sum w^2 + (l1/n) sum |w| (hand-written here from the definitions)."""
    plain = make_net("sigmoid", ("softmax", "cross_entropy"), "none")
    both = make_net("sigmoid", ("softmax", "cross_entropy"), "l1+l2")
    X, y = make_batch(plain)
    g0 = {k: v.copy() for k, v in plain.backward(X, y).items()}
    g1 = both.backward(X, y)
    l2, l1 = REGULARISERS["l1+l2"]
    for l in (1, 2, 3):
        W = both.params[f"W{l}"]
        np.testing.assert_allclose(g1[f"W{l}"], g0[f"W{l}"] + l2 / N_TRAIN * W
                                   + l1 / N_TRAIN * np.sign(W), rtol=1e-13)
        np.testing.assert_array_equal(g1[f"b{l}"], g0[f"b{l}"])
    Ws = [both.params[f"W{l}"] for l in (1, 2, 3)]
    penalty = l2 / (2 * N_TRAIN) * sum(np.sum(w * w) for w in Ws) \
        + l1 / N_TRAIN * sum(np.sum(np.abs(w)) for w in Ws)
    assert both.penalty() == pytest.approx(penalty, rel=1e-14)
    assert both.loss(X, y) == pytest.approx(plain.loss(X, y) + penalty, rel=1e-14)


def test_l2_sgd_step_is_nielsens_weight_decay() -> None:
    """With plain SGD, one step is w <- (1 - eta lambda/n) w - (eta/m) sum_x grad C_x."""
    from engine.optim import make_optimizer

    net = make_net("tanh", ("sigmoid", "cross_entropy"), "l2")
    plain = make_net("tanh", ("sigmoid", "cross_entropy"), "none")
    X, y = make_batch(net)
    eta, lam = 0.3, REGULARISERS["l2"][0]
    w0 = net.params["W2"].copy()
    data_grad = plain.backward(X, y)["W2"].copy()  # (1/m) sum_x grad C_x
    opt = make_optimizer("sgd", eta)
    g = net.backward(X, y)
    opt.step("W2", net.params["W2"], g["W2"])
    np.testing.assert_allclose(net.params["W2"], (1 - eta * lam / N_TRAIN) * w0 - eta * data_grad,
                               rtol=1e-13)


def test_l1_at_a_zero_weight_adds_nothing() -> None:
    """sign(0) = 0: a weight that is exactly 0 gets no L1 push (PyTorch's |w|' at 0 is 0)."""
    net = make_net("relu", ("softmax", "cross_entropy"), "l1")
    plain = make_net("relu", ("softmax", "cross_entropy"), "none")
    for m in (net, plain):
        m.params["W1"][0, 0] = 0.0
    X, y = make_batch(net)
    g = net.backward(X, y)["W1"][0, 0]
    assert g == plain.backward(X, y)["W1"][0, 0]


def test_derivatives_at_zero_follow_pytorch_conventions() -> None:
    """relu'(0) = 0, linear'(0) = 1, sigmoid'(0) = 1/4, tanh'(0) = 1 (the torch values:
    torch.relu's backward passes the gradient only where z > 0)."""
    z = np.zeros((1, 1))
    expected = {"relu": 0.0, "linear": 1.0, "sigmoid": 0.25, "tanh": 1.0}
    for name, act in ACTIVATIONS.items():
        a = act.f(z, np.empty_like(z))
        assert act.prime(z, a, np.empty_like(z))[0, 0] == expected[name], name


def nielsen_backprop(net: DenseNet, x: np.ndarray, y: np.ndarray
                     ) -> tuple[list, list, list]:
    """One example as column vectors, the four equations as in network.py (written here
    independently of the library): (nabla_b, nabla_w, delta) per layer, index 1..L."""
    funcs = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
             "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}
    primes = {"sigmoid": lambda z: funcs["sigmoid"](z) * (1 - funcs["sigmoid"](z)),
              "tanh": lambda z: 1 - np.tanh(z) ** 2, "relu": lambda z: (z > 0) * 1.0,
              "linear": lambda z: np.ones_like(z)}
    L = net.L
    W = [None] + [net.params[f"W{l}"] for l in range(1, L + 1)]
    b = [None] + [net.params[f"b{l}"].reshape(-1, 1) for l in range(1, L + 1)]
    names = [None] + net.config.activations
    a, zs = [x.reshape(-1, 1)], [None]
    for l in range(1, L + 1):
        zs.append(W[l] @ a[-1] + b[l])
        if l < L:
            a.append(funcs[names[l]](zs[-1]))
        else:
            e = np.exp(zs[-1] - zs[-1].max())
            a.append(e / e.sum())  # softmax
    delta = [None] * (L + 1)
    delta[L] = a[L] - y.reshape(-1, 1)  # BP1 for softmax + cross-entropy
    for l in range(L - 1, 0, -1):
        delta[l] = (W[l + 1].T @ delta[l + 1]) * primes[names[l]](zs[l])  # BP2
    nabla_b = [None] + [delta[l] for l in range(1, L + 1)]  # BP3
    nabla_w = [None] + [delta[l] @ a[l - 1].T for l in range(1, L + 1)]  # BP4
    return nabla_b, nabla_w, delta


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_bp_terms_for_one_example_and_neuron_match_the_column_equations(activation: str) -> None:
    net = make_net(activation, ("softmax", "cross_entropy"), "l2")
    X, y = make_batch(net, n=5)
    net.backward(X, y)
    targets = np.eye(3)[y]
    for example in (0, 3):
        nb, nw, delta = nielsen_backprop(net, X[example], targets[example])
        for layer in (1, 2, 3):
            for neuron in range(net.sizes[layer]):
                t = bp_terms(net, layer, neuron, example)
                assert t["equation"] == ("BP1" if layer == 3 else "BP2")
                assert t["delta"] == pytest.approx(delta[layer][neuron, 0], rel=1e-12, abs=1e-15)
                assert t["dC_db"] == pytest.approx(nb[layer][neuron, 0], rel=1e-12, abs=1e-15)
                np.testing.assert_allclose(t["dC_dw"], nw[layer][neuron], rtol=1e-12, atol=1e-15)
                if layer < 3:  # BP2's operands multiply out to delta
                    s = float(np.dot(t["w_next"], t["delta_next"]))
                    assert t["weighted_sum"] == pytest.approx(s, rel=1e-14)
                    assert t["delta"] == pytest.approx(s * t["act_prime"], rel=1e-12, abs=1e-15)
    # the batch means are what backward() returned, once the penalty is added back
    t = bp_terms(net, 2, 1, 0)
    np.testing.assert_allclose(np.array(t["dC_dw_batch"]) + t["dC_dw_penalty"],
                               net.grads["W2"][1], rtol=1e-12)
    assert t["dC_db_batch"] == pytest.approx(net.grads["b2"][1], rel=1e-12)


def test_bp_terms_refuses_before_backward_and_out_of_range() -> None:
    net = make_net("tanh", ("softmax", "cross_entropy"), "none")
    with pytest.raises(RuntimeError):
        bp_terms(net, 1, 0)
    X, y = make_batch(net)
    net.backward(X, y)
    for args in ((0, 0, 0), (4, 0, 0), (1, 4, 0), (1, 0, 6)):
        with pytest.raises(IndexError):
            bp_terms(net, *args)


# --- PyTorch ---------------------------------------------------------------------------------


def torch_loss_and_grads(net: DenseNet, X: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """The same network and cost written with torch (float64), differentiated by autograd."""
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    F = torch.nn.functional
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in net.params.items()}
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "linear": lambda z: z}
    a = torch.tensor(X, dtype=torch.float64)
    L = net.L
    for l in range(1, L + 1):
        z = a @ params[f"W{l}"].T + params[f"b{l}"]
        if l < L:
            a = acts[net.config.activations[l - 1]](z)
    pair = (net.config.output, net.config.cost)
    if net.regression:
        t = torch.tensor(y, dtype=torch.float64)
    else:
        t = torch.tensor(net.targets(y), dtype=torch.float64)
    if pair == ("softmax", "cross_entropy"):
        cost = F.cross_entropy(z, torch.tensor(y))
    elif pair == ("sigmoid", "cross_entropy"):
        cost = F.binary_cross_entropy_with_logits(z, t, reduction="none").sum(1).mean()
    elif pair == ("linear", "mse"):
        cost = F.mse_loss(z, t)
    else:
        out = torch.sigmoid(z) if pair[0] == "sigmoid" else torch.tanh(z)
        cost = 0.5 * ((out - t) ** 2).sum(1).mean()
    c = net.config
    for l in range(1, L + 1):
        w = params[f"W{l}"]
        cost = cost + c.l2 / (2 * N_TRAIN) * (w**2).sum() + c.l1 / N_TRAIN * w.abs().sum()
    cost.backward()
    return float(cost.detach()), {k: p.grad.numpy() for k, p in params.items()}


@pytest.mark.parametrize("activation,pair,reg", COMBINATIONS,
                         ids=[f"{a}-{o}+{c}-{r}" for a, (o, c), r in COMBINATIONS])
def test_gradients_and_loss_match_pytorch(activation: str, pair: tuple[str, str],
                                          reg: str) -> None:
    net = make_net(activation, pair, reg)
    X, y = make_batch(net, n=8)
    cost, expected = torch_loss_and_grads(net, X, y)
    grads = net.backward(X, y)
    assert net.loss(X, y) == pytest.approx(cost, rel=1e-13)
    assert net.batch_loss() == pytest.approx(cost, rel=1e-13)
    for name, g in expected.items():
        np.testing.assert_allclose(grads[name], g, rtol=1e-11, atol=1e-14, err_msg=name)


def test_derivatives_at_zero_match_pytorch_autograd() -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    fns = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "linear": lambda z: z * 1.0}
    for name, act in ACTIVATIONS.items():
        for value in (0.0, -1.5, 2.0):
            zt = torch.tensor(value, dtype=torch.float64, requires_grad=True)
            fns[name](zt).backward()
            z = np.full((1, 1), value)
            a = act.f(z, np.empty_like(z))
            assert act.prime(z, a, np.empty_like(z))[0, 0] == pytest.approx(
                float(zt.grad), rel=1e-15), (name, value)


def test_saturated_outputs_keep_costs_and_gradients_finite() -> None:
    """z = +-1000: exp overflows, yet the costs and gradients are their exact limits. The
    cross-entropy costs come from z (softplus, log-sum-exp), never from a rounded 0 or 1."""
    X, y = np.array([[1.0], [-1.0]]), np.array([0, 1])
    cases = {
        # (output, cost): (mean cost, dC/dW, dC/db), worked out by hand at z = 1000, -1000
        ("sigmoid", "cross_entropy"): (1000.0, 1.0, 0.0),  # softplus(1000) = 1000; a - y = +-1
        ("sigmoid", "quadratic"): (0.5, 0.0, 0.0),  # a = 1, 0: both wrong, sigmoid' = 0
        ("tanh", "quadratic"): (2.0, 0.0, 0.0),  # a = +1, -1 against targets -1, +1
    }
    for (output, cost), (c, gw, gb) in cases.items():
        net = DenseNet(DenseConfig(layers=[1, 1], activations=[], output=output, cost=cost,
                                   init="given", weights=[[[1000.0]]], biases=[[0.0]]))
        with np.errstate(over="ignore", invalid="raise"):
            g = net.backward(X, y)
        assert net.batch_loss() == c and net.loss(X, y) == c
        assert (g["W1"][0, 0], g["b1"][0]) == (gw, gb), (output, cost)
    net = DenseNet(DenseConfig(layers=[1, 2], activations=[], output="softmax",
                               cost="cross_entropy", init="given",
                               weights=[[[1000.0], [-1000.0]]], biases=[[0.0, 0.0]]))
    with np.errstate(over="ignore", invalid="raise"):
        g = net.backward(np.array([[1.0]]), np.array([1]))
    assert net.batch_loss() == 2000.0  # logsumexp(1000, -1000) - (-1000)
    assert g["W1"][:, 0].tolist() == [1.0, -1.0]  # softmax - onehot = (1, 0) - (0, 1)
