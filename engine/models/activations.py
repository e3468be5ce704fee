"""Hidden-layer activations and their derivatives, written into preallocated arrays.

Each activation is ``f(z, out) -> out`` beside its derivative ``prime(z, a, out) -> out``, where
``a = f(z)`` is already known: sigmoid' = a(1 - a) and tanh' = 1 - a^2 are cheaper from ``a``
than from ``z``. At z = 0 the derivatives are PyTorch's: relu'(0) = 0 (autograd passes the
gradient of ``relu`` only where z > 0), linear'(z) = 1, and sigmoid, tanh are smooth there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """sigmoid(z) = 1 / (1 + exp(-z)) into ``out`` (an overflowing exp gives the correct 0)."""
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def sigmoid_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.subtract(1.0, a, out=out)  # sigmoid'(z) = a (1 - a)
    return np.multiply(out, a, out=out)


def tanh(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.tanh(z, out=out)


def tanh_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.multiply(a, a, out=out)  # tanh'(z) = 1 - a^2
    return np.subtract(1.0, out, out=out)


def relu(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0, out=out)


def relu_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.greater(z, 0.0, out=out)  # relu'(z) = 1 where z > 0, else 0 (also at z = 0)


def linear(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.copyto(out, z)
    return out


def linear_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    out.fill(1.0)  # linear'(z) = 1
    return out


@dataclass(frozen=True)
class Activation:
    """An activation: its name, f(z, out), f'(z, a, out), and both written out for a reader."""

    name: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    formula: str
    prime_formula: str


#: name -> Activation: the hidden-layer activations a [model] table may name
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("sigmoid", sigmoid, sigmoid_prime, "sigmoid(z) = 1 / (1 + exp(-z))",
                   "sigmoid'(z) = a (1 - a)"),
        Activation("tanh", tanh, tanh_prime, "tanh(z)", "tanh'(z) = 1 - a^2"),
        Activation("relu", relu, relu_prime, "relu(z) = max(z, 0)",
                   "relu'(z) = 1 if z > 0 else 0"),
        Activation("linear", linear, linear_prime, "linear(z) = z", "linear'(z) = 1"),
    ]
}
