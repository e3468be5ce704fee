"""Initial weights and biases: Nielsen's two rules, Glorot's, He's, Playground's, or given.

Weights W_l are (n_l, n_{l-1}) with fan_in = n_{l-1}, fan_out = n_l:

    normal         W ~ N(0, 1)                                    b ~ N(0, 1)  (Nielsen ch. 1)
    scaled         W ~ N(0, 1/fan_in)                             b ~ N(0, 1)  (Nielsen ch. 3)
    xavier         W ~ U(-r, r), r = sqrt(6 / (fan_in + fan_out)) b = 0  (torch xavier_uniform_)
    xavier_normal  W ~ N(0, 2 / (fan_in + fan_out))               b = 0  (torch xavier_normal_)
    he             W ~ N(0, 2/fan_in)                             b = 0  (torch kaiming_normal_,
                                                                          fan_in, relu gain)
    uniform        W ~ U(-0.5, 0.5)                               b = 0.1  (TensorFlow Playground)
    given          the matrices and vectors written in the scenario file

The torch rules are with gain 1 (xavier) and sqrt(2) (he). One ``numpy.random.default_rng(seed)``
draws, layer by layer, the weight matrix and then n_l standard normals for the biases, whatever
the rule, so a ``bias_init`` of its own never changes the weights and ``normal``/``scaled``/``he``
draw exactly the numbers of the former engine/mlp.py for the same seed. Draws are float64; a
float32 network rounds them.
"""

from __future__ import annotations

import math

import numpy as np

INITS = ("normal", "scaled", "xavier", "xavier_normal", "he", "uniform", "given")

#: the bias each rule gives when ``bias_init`` is not set: "normal" (N(0, 1)) or a number
BIAS_RULES: dict[str, str | float] = {
    "normal": "normal", "scaled": "normal", "xavier": 0.0, "xavier_normal": 0.0, "he": 0.0,
    "uniform": 0.1,
}


def initial_parameters(
    sizes: list[int], init: str, seed: int, bias_init: float | None = None,
    weights: list[list[list[float]]] | None = None, biases: list[list[float]] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return [(W_1, b_1), ..., (W_L, b_L)] in float64 for the layer ``sizes``.

    ``bias_init``: a number for every bias, or None for the rule's own (see BIAS_RULES).
    ``weights``/``biases``: the given values (init "given"; shapes already checked).
    """
    rng = np.random.default_rng(seed)
    out = []
    for l in range(1, len(sizes)):
        fan_in, fan_out = sizes[l - 1], sizes[l]
        if init == "given":
            w = np.array(weights[l - 1], dtype=np.float64)  # type: ignore[index]
            b = np.array(biases[l - 1], dtype=np.float64) if biases is not None \
                else np.zeros(fan_out)
        else:
            w = _weights(rng, init, fan_in, fan_out)
            b = rng.standard_normal(fan_out)  # drawn for every rule: the stream stays aligned
            rule = BIAS_RULES[init]
            if rule != "normal":
                b[:] = rule
        if bias_init is not None:
            b[:] = bias_init
        out.append((w, b))
    return out


def _weights(rng: np.random.Generator, init: str, fan_in: int, fan_out: int) -> np.ndarray:
    shape = (fan_out, fan_in)
    if init == "normal":
        return rng.standard_normal(shape)
    if init == "scaled":
        w = rng.standard_normal(shape)
        w /= math.sqrt(fan_in)
        return w
    if init == "he":
        w = rng.standard_normal(shape)
        w *= math.sqrt(2.0 / fan_in)
        return w
    if init == "xavier":
        r = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-r, r, shape)
    if init == "xavier_normal":
        w = rng.standard_normal(shape)
        w *= math.sqrt(2.0 / (fan_in + fan_out))
        return w
    if init == "uniform":
        return rng.uniform(-0.5, 0.5, shape)
    raise ValueError(f"unknown init {init!r}")
