"""Property tests of the dense network over random shapes, activations and output/cost pairs:
backpropagation equals central finite differences, and the mini-batch is only a stack of
independent examples (a batch gives each row what the row alone gives)."""

from __future__ import annotations

import numpy as np
from helpers import fd_arrays
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.models.activations import ACTIVATIONS
from engine.models.config import DenseConfig
from engine.models.costs import PAIRS
from engine.models.dense import DenseNet


@st.composite
def networks(draw: st.DrawFn) -> tuple[DenseNet, np.ndarray, np.ndarray]:
    pair = draw(st.sampled_from(sorted(PAIRS)))
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    n_out = draw(st.integers(2 if pair[0] == "softmax" else 1, 3))
    layers = [draw(st.integers(1, 3)), *hidden, n_out]
    acts = [draw(st.sampled_from(sorted(ACTIVATIONS))) for _ in hidden]
    l2, l1 = draw(st.sampled_from([(0.0, 0.0), (0.5, 0.0), (0.0, 0.5)]))
    seed = draw(st.integers(0, 2**32 - 1))
    cfg = DenseConfig(layers=layers, activations=acts, output=pair[0], cost=pair[1],
                      init="xavier_normal", bias_init=0.1, seed=seed, l2=l2, l1=l1)
    net = DenseNet(cfg, n_train=20)
    rng = np.random.default_rng(seed)
    m = draw(st.integers(1, 5))
    X = rng.normal(size=(m, layers[0]))
    if net.regression:
        y = rng.normal(size=(m, n_out))
    else:
        y = rng.integers(0, 2 if n_out == 1 else n_out, m)
    return net, X, y


@settings(max_examples=60, deadline=None)
@given(networks())
def test_backpropagation_equals_finite_differences(case) -> None:
    net, X, y = case
    grads = {k: v.copy() for k, v in net.backward(X, y).items()}
    numeric = fd_arrays(lambda: net.loss(X, y), net.params)
    for name, g in grads.items():
        np.testing.assert_allclose(g, numeric[name], rtol=1e-5, atol=1e-7, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(networks())
def test_a_batch_is_a_stack_of_independent_examples(case) -> None:
    net, X, y = case
    whole = net.forward(X)
    for r in range(X.shape[0]):
        alone = net.forward(X[r : r + 1])
        for a_batch, a_row in zip(whole, alone, strict=True):
            np.testing.assert_allclose(a_batch[r], a_row[0], rtol=1e-13, atol=1e-15)
    # the batch gradient is the mean of the examples' gradients (plus the penalty's, once)
    mean = {k: np.zeros_like(v) for k, v in net.params.items()}
    for r in range(X.shape[0]):
        for k, g in net.gradients(X[r : r + 1], y[r : r + 1]).items():
            mean[k] += g / X.shape[0]
    for k, g in net.gradients(X, y).items():
        np.testing.assert_allclose(g, mean[k], rtol=1e-10, atol=1e-13)
