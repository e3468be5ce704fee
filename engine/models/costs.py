"""Output layers and costs, in the pairs that make sense: a_L = output(z_L), C_x and BP1.

Each pair says how the last layer turns z_L into a_L, what one example costs, and the output
error delta_L = dC_x/dz_L (BP1), all for a mini-batch stacked in rows (N, n_L):

    sigmoid + quadratic      C_x = 1/2 ||a - y||^2                  delta_L = (a - y) * a (1 - a)
    sigmoid + cross_entropy  C_x = -sum_j y ln a + (1-y) ln(1-a)    delta_L = a - y
    softmax + cross_entropy  C_x = -ln a_y                          delta_L = a - onehot(y)
    linear  + mse            C_x = (1/n_L) ||a - y||^2              delta_L = (2/n_L) (a - y)
    tanh    + quadratic      C_x = 1/2 ||a - y||^2, y in {-1, +1}   delta_L = (a - y) * (1 - a^2)

``mse`` is PyTorch's ``MSELoss`` (the mean over outputs of the squared error, no 1/2);
``quadratic`` is Nielsen's (and TensorFlow Playground's) 1/2 ||a - y||^2. The cross-entropy
costs are computed from z_L (softplus and log-sum-exp), so they stay finite where a_L rounds to
0 or 1, as PyTorch's ``binary_cross_entropy_with_logits`` and ``cross_entropy`` do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .activations import sigmoid, sigmoid_prime, tanh, tanh_prime

F64 = np.float64


def _softmax(z: np.ndarray, out: np.ndarray, scratch: Any) -> None:
    """a_L = softmax(z_L), each row shifted by its max for stability (scratch: rowmax, rowsum)."""
    np.maximum.reduce(z, axis=1, out=scratch.rowmax, keepdims=True)
    np.subtract(z, scratch.rowmax, out=out)
    np.exp(out, out=out)
    np.add.reduce(out, axis=1, out=scratch.rowsum, keepdims=True)
    np.divide(out, scratch.rowsum, out=out)


def _quadratic_rows(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    d = a.astype(F64) - y
    return 0.5 * np.einsum("ij,ij->i", d, d)


def _mse_rows(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    d = a.astype(F64) - y
    return np.einsum("ij,ij->i", d, d) / a.shape[1]


def _bce_rows(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    # -[y ln sigmoid(z) + (1-y) ln(1 - sigmoid(z))] = softplus(z) - y z
    #                                               = max(z, 0) - y z + ln(1 + exp(-|z|))
    z = z.astype(F64)
    return np.sum(np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))), axis=1)


def _softmax_ce_rows(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    # -sum_j y_j ln softmax(z)_j = logsumexp(z) - sum_j y_j z_j   (y one-hot: sum_j y_j = 1)
    z = z.astype(F64)
    m = np.max(z, axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.sum(np.exp(z - m), axis=1))
    return lse - np.einsum("ij,ij->i", y, z)


def _delta_quadratic_sigmoid(z: np.ndarray, a: np.ndarray, y: np.ndarray, out: np.ndarray,
                             tmp: np.ndarray) -> None:
    np.subtract(a, y, out=out)  # BP1: delta_L = (a_L - y) * sigmoid'(z_L)
    np.multiply(out, sigmoid_prime(z, a, tmp), out=out)


def _delta_quadratic_tanh(z: np.ndarray, a: np.ndarray, y: np.ndarray, out: np.ndarray,
                          tmp: np.ndarray) -> None:
    np.subtract(a, y, out=out)  # BP1: delta_L = (a_L - y) * tanh'(z_L)
    np.multiply(out, tanh_prime(z, a, tmp), out=out)


def _delta_a_minus_y(z: np.ndarray, a: np.ndarray, y: np.ndarray, out: np.ndarray,
                     tmp: np.ndarray) -> None:
    np.subtract(a, y, out=out)  # BP1: delta_L = a_L - y (the output's derivative cancels)


def _delta_mse(z: np.ndarray, a: np.ndarray, y: np.ndarray, out: np.ndarray,
               tmp: np.ndarray) -> None:
    np.subtract(a, y, out=out)  # BP1: delta_L = (2 / n_L) (a_L - y)
    out *= 2.0 / out.shape[1]


def _sigmoid_out(z: np.ndarray, out: np.ndarray, scratch: Any) -> None:
    sigmoid(z, out)


def _tanh_out(z: np.ndarray, out: np.ndarray, scratch: Any) -> None:
    tanh(z, out)


def _linear_out(z: np.ndarray, out: np.ndarray, scratch: Any) -> None:
    np.copyto(out, z)


@dataclass(frozen=True)
class OutputCost:
    """One output/cost pair: a_L = forward(z_L), BP1 ``delta``, per-example ``costs`` (float64).

    ``low``/``high``: the output value of a negative and a positive label (targets for a
    single output; for several outputs, the target row is ``high`` at the class, ``low``
    elsewhere). ``threshold``: a single output above it predicts class 1.
    """

    output: str
    cost: str
    regression: bool
    forward: Callable[[np.ndarray, np.ndarray, Any], None]
    delta: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]
    costs: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    output_formula: str
    cost_formula: str
    bp1_formula: str
    low: float = 0.0
    high: float = 1.0
    threshold: float = 0.5

    def target_table(self, n_out: int) -> np.ndarray:
        """Row c is the target vector of class c: (2, 1) for one output, (n_out, n_out) else."""
        if n_out == 1:
            return np.array([[self.low], [self.high]])
        return np.where(np.eye(n_out, dtype=bool), self.high, self.low)


#: (output, cost) -> OutputCost: every pair a [model] table may name
PAIRS: dict[tuple[str, str], OutputCost] = {
    (p.output, p.cost): p
    for p in [
        OutputCost("sigmoid", "quadratic", False, _sigmoid_out, _delta_quadratic_sigmoid,
                   _quadratic_rows, "a_L = sigmoid(z_L)", "C_x = 1/2 ||a_L - y||^2",
                   "delta_L = (a_L - y) * sigmoid'(z_L)"),
        OutputCost("sigmoid", "cross_entropy", False, _sigmoid_out, _delta_a_minus_y, _bce_rows,
                   "a_L = sigmoid(z_L)",
                   "C_x = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)]", "delta_L = a_L - y"),
        OutputCost("softmax", "cross_entropy", False, _softmax, _delta_a_minus_y,
                   _softmax_ce_rows, "a_L = softmax(z_L)", "C_x = -ln a_y",
                   "delta_L = a_L - onehot(y)"),
        OutputCost("linear", "mse", True, _linear_out, _delta_mse, _mse_rows, "a_L = z_L",
                   "C_x = (1/n_L) ||a_L - y||^2", "delta_L = (2/n_L) (a_L - y)"),
        OutputCost("tanh", "quadratic", False, _tanh_out, _delta_quadratic_tanh, _quadratic_rows,
                   "a_L = tanh(z_L)", "C_x = 1/2 ||a_L - y||^2, y = -1 or +1",
                   "delta_L = (a_L - y) * (1 - a_L^2)", low=-1.0, high=1.0, threshold=0.0),
    ]
}

OUTPUTS = ("sigmoid", "softmax", "linear", "tanh")
COSTS = ("quadratic", "cross_entropy", "mse")
