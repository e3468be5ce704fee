"""L2 and L1 regularisation of the weights (never the biases), Nielsen's definitions (ch. 3).

With n the training-set size, the cost gains (l2/2n) sum w^2 + (l1/n) sum |w| and each weight
matrix's gradient gains (l2/n) W + (l1/n) sign(W), sign(0) = 0 (PyTorch's derivative of |w| at
0). As a gradient term it works with any optimizer: plain SGD then steps
w <- (1 - eta l2/n) w - (eta/m) sum_x grad C_x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Regulariser:
    """lambda of each term and n, the training-set size they are divided by."""

    l2: float
    l1: float
    n: int

    def penalty(self, weights: list[np.ndarray]) -> float:
        """(l2/2n) sum w^2 + (l1/n) sum |w| over every weight matrix, in float64."""
        total = 0.0
        for w in weights:
            w64 = w.astype(np.float64, copy=False)
            if self.l2:
                total += self.l2 / (2 * self.n) * float(np.sum(w64 * w64))
            if self.l1:
                total += self.l1 / self.n * float(np.sum(np.abs(w64)))
        return total

    def add_gradient(self, W: np.ndarray, gW: np.ndarray, tmp: np.ndarray) -> None:
        """gW += (l2/n) W + (l1/n) sign(W), through the scratch array ``tmp`` (W's shape)."""
        if self.l2:
            gW += np.multiply(W, self.l2 / self.n, out=tmp)  # d/dW (l2/2n) sum w^2
        if self.l1:
            np.sign(W, out=tmp)  # d/dW (l1/n) sum |w|
            tmp *= self.l1 / self.n
            gW += tmp
