"""Whole bundled scenarios trained through the network kind against the same training written in
PyTorch (float64): the same initial weights, the same shuffled mini-batches, torch's autograd and
torch.optim; after every epoch the kind's recorded losses and, at the end, every weight agree to
rounding. (Needs torch: pip install torch; skipped otherwise.)"""

from __future__ import annotations

import numpy as np
import pytest

from engine.kinds.network import NetworkScenario, NetworkStream
from engine.records import EpochRecord
from engine.scenario import load_scenario

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")

CASES = [
    # scenario, variant, overrides: a tanh output with the quadratic cost and plain SGD; softmax
    # with L2 (the weights only) and momentum; a regression with Adam
    ("circle", "playground", ["run.epochs=3"]),
    ("three_class", "hidden", ["run.epochs=3", "model.l2=0.5", 'run.optimizer="momentum"',
                               "run.momentum=0.9"]),
    ("sin_fit", "tanh_10", ["run.epochs=3"]),
]


def torch_cost(sc: NetworkScenario, variant: str, net, params: dict, X, y) -> object:
    """The scenario's mean cost + regularisation, written with torch."""
    F = torch.nn.functional
    cfg = sc.model_config(variant)
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "linear": lambda z: z}
    a = torch.tensor(X, dtype=torch.float64)
    for l in range(1, net.L + 1):
        z = a @ params[f"W{l}"].T + params[f"b{l}"]
        a = acts[cfg.activations[l - 1]](z) if l < net.L else z
    if (cfg.output, cfg.cost) == ("softmax", "cross_entropy"):
        cost = F.cross_entropy(z, torch.tensor(y))
    elif (cfg.output, cfg.cost) == ("linear", "mse"):
        cost = F.mse_loss(z, torch.tensor(y, dtype=torch.float64))
    else:
        assert (cfg.output, cfg.cost) == ("tanh", "quadratic")
        t = torch.tensor(net.targets(y), dtype=torch.float64)
        cost = 0.5 * ((torch.tanh(z) - t) ** 2).sum(1).mean()
    n = net.n_train
    for l in range(1, net.L + 1):  # (lambda/2n) sum w^2: weights, never biases
        cost = cost + cfg.l2 / (2 * n) * (params[f"W{l}"] ** 2).sum()
    return cost


@pytest.mark.parametrize("name,variant,overrides", CASES)
def test_training_through_the_kind_matches_pytorch(name: str, variant: str,
                                                   overrides: list[str]) -> None:
    sc = load_scenario(name, overrides)
    assert isinstance(sc, NetworkScenario)
    stream = NetworkStream(sc, variant)
    net, data, cfg = stream.net, stream.data, stream.cfg
    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in net.params.items()}
    epochs = [r for r in stream if isinstance(r, EpochRecord)]

    hyper = {"sgd": {}, "momentum": {"momentum": 0.9}, "adam": {}}[cfg.optimizer]
    opt = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD,
           "adam": torch.optim.Adam}[cfg.optimizer](list(params.values()), lr=cfg.lr, **hyper)
    X, y = data.X_train, data.y_train
    rng = np.random.default_rng(cfg.seed)  # the trainer's shuffle: one permutation per epoch
    bs = cfg.batch_size

    def full_loss() -> float:
        with torch.no_grad():
            return float(torch_cost(sc, variant, net, params, X, y))

    assert epochs[0].train_loss == pytest.approx(full_loss(), rel=1e-12)
    for e in range(1, cfg.epochs + 1):
        perm = rng.permutation(len(y))
        for b0 in range(0, len(y), bs):
            idx = perm[b0 : b0 + bs]
            opt.zero_grad()
            torch_cost(sc, variant, net, params, X[idx], y[idx]).backward()
            opt.step()
        assert epochs[e].train_loss == pytest.approx(full_loss(), rel=1e-9), e
    for k, p in params.items():
        np.testing.assert_allclose(net.params[k], p.detach().numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=k)
