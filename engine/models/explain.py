"""BP1-BP4 for one example and one neuron of the last mini-batch, as numbers a view can print.

``bp_terms(net, layer, neuron, example)`` reads what ``DenseNet.backward`` kept (z, a, delta of
every layer) and returns each equation's operands and result for neuron j of layer l:

    BP1 (l = L)  delta_j = dC_x/dz_j                      e.g. (a_j - y_j) * sigmoid'(z_j)
    BP2 (l < L)  delta_j = (sum_k w_kj^{l+1} delta_k^{l+1}) * act'(z_j)
    BP3          dC_x/db_j = delta_j
    BP4          dC_x/dw_jk = a_k^{l-1} delta_j            (for every input k of the neuron)

and the same gradients averaged over the batch (what the optimizer stepped with), with the
regularisation term of the weights apart. Nothing is recomputed but these few products.

During training the optimizer steps right after each backward pass, so the network's weights
are no longer those the pass used: ``weights`` (W_1..W_L from before the step, as
engine.train.Trainer keeps them with ``detail``) puts the right ones in BP2 and in the
regularisation term.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dense import DenseNet


def bp_terms(net: DenseNet, layer: int, neuron: int, example: int = 0,
             weights: list[np.ndarray] | None = None) -> dict[str, Any]:
    """The four equations' numbers for neuron ``neuron`` (0-based) of ``layer`` (1..L) and row
    ``example`` of the last backward pass (``weights``: W_1..W_L as that pass saw them; default
    the network's own). Raises RuntimeError before any backward pass and IndexError for a
    layer, neuron or example out of range. Floats and lists of floats:

    "equation" ("BP1" or "BP2"), "formula", "z", "a", "act_prime" (the derivative of the
    layer's activation at z; None for a softmax output), "delta"; BP1: "y" (the target);
    BP2: "w_next" (w_kj^{l+1} over k), "delta_next" (delta_k^{l+1} over k), "weighted_sum";
    "dC_db" (BP3, this example), "a_prev" (a_k^{l-1} over k), "dC_dw" (BP4, this example, over
    k); "dC_db_batch", "dC_dw_batch" (the batch means, data term only) and "dC_dw_penalty"
    (the regularisation's part of dC/dW_l, over k).
    """
    last = net.last_batch()
    if last is None:
        raise RuntimeError("bp_terms() needs a backward() call first")
    L, n = net.L, last["n"]
    if not 1 <= layer <= L:
        raise IndexError(f"layer {layer} is not in 1..{L}")
    if not 0 <= neuron < net.sizes[layer]:
        raise IndexError(f"neuron {neuron} is not in 0..{net.sizes[layer] - 1}")
    if not 0 <= example < n:
        raise IndexError(f"example {example} is not in 0..{n - 1}")
    j, x = neuron, example
    z, a, d = last["z"], last["a"], last["delta"]
    W = [None, *weights] if weights else net.W

    def f(v: Any) -> Any:
        return np.asarray(v, dtype=np.float64).tolist()

    delta = float(d[layer][x, j])
    out: dict[str, Any] = {"layer": layer, "neuron": neuron, "example": example,
                           "z": f(z[layer][x, j]), "a": f(a[layer][x, j]), "delta": delta}
    if layer == L:
        pair = net.pair
        out["equation"], out["formula"] = "BP1", pair.bp1_formula
        out["y"] = f(last["y"][x, j])
        aj = float(a[layer][x, j])
        out["act_prime"] = {"sigmoid": aj * (1 - aj), "tanh": 1 - aj * aj, "linear": 1.0,
                            "softmax": None}[pair.output]
    else:
        act = net.acts[layer]
        w_next = np.asarray(W[layer + 1][:, j], dtype=np.float64)
        d_next = np.asarray(d[layer + 1][x], dtype=np.float64)
        prime = np.empty(1, dtype=net.dtype)
        act.prime(z[layer][x, j : j + 1], a[layer][x, j : j + 1], prime)
        out["equation"] = "BP2"
        out["formula"] = f"delta_j^l = (sum_k w_kj^(l+1) delta_k^(l+1)) * {act.prime_formula}"
        out["w_next"], out["delta_next"] = w_next.tolist(), d_next.tolist()
        out["weighted_sum"] = float(w_next @ d_next)
        out["act_prime"] = float(prime[0])
    a_prev = np.asarray(a[layer - 1][x], dtype=np.float64)
    out["dC_db"] = delta
    out["a_prev"] = a_prev.tolist()
    out["dC_dw"] = (a_prev * delta).tolist()
    d_batch = np.asarray(d[layer][:, j], dtype=np.float64)
    out["dC_db_batch"] = float(d_batch.mean())
    data_w = d_batch @ np.asarray(a[layer - 1], dtype=np.float64) / n
    out["dC_dw_batch"] = data_w.tolist()
    w = np.asarray(W[layer][j : j + 1], dtype=np.float64)
    penalty = np.zeros_like(w)
    if net.regulariser is not None:
        net.regulariser.add_gradient(w, penalty, np.empty_like(w))
    out["dC_dw_penalty"] = penalty[0].tolist()
    return out
