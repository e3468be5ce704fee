"""The op table: each operation's forward function and gradient rule, defined once.

The expression parser reads it to know which names exist, the graph to evaluate and
differentiate, and the explain panel to print a step. A value is a Python float or a numpy
array; scalar paths use ``math`` (no numpy per-call overhead), arrays use numpy. A gradient rule
``backward(g, out, *args)`` returns the vector-Jacobian product for every input: ``g`` is
d(output)/d(this node), the result is d(output)/d(input) along this edge. Broadcasting is undone
by the graph, not here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Value = Any  # float | np.ndarray


@dataclass(frozen=True)
class Op:
    """One operation: how to compute it, how to differentiate it, how to print it."""

    name: str
    arity: int  # number of inputs; -1 for any number >= 1
    forward: Callable[..., Value]
    backward: Callable[..., tuple[Value, ...]]
    symbol: str = ""  # infix/prefix symbol, empty for functions
    derivative: str = ""  # the local derivative in words, for the explain panel
    reduces: bool = False  # sum/mean-like: reduces over data axes


def _scalar(x: Value) -> Value:
    """A 0-d result as a Python float, so that scalar graphs stay on the fast path."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return float(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


def _unary(fmath: Callable[[float], float], fnp: Callable[[Any], Any]) -> Callable[[Value], Value]:
    def f(x: Value) -> Value:
        return fmath(x) if type(x) is float else fnp(x)

    return f


# --- arithmetic -------------------------------------------------------------------------

def _add(a: Value, b: Value) -> Value:
    return a + b


def _sub(a: Value, b: Value) -> Value:
    return a - b


def _mul(a: Value, b: Value) -> Value:
    return a * b


def _div(a: Value, b: Value) -> Value:
    return a / b


def _neg(a: Value) -> Value:
    return -a


def _pow(a: Value, b: Value) -> Value:
    if type(a) is float and type(b) is float:
        return math.pow(a, b)  # raises on a negative base with a fractional exponent
    return np.power(a, b)


def _log(x: Value) -> Value:
    if type(x) is float:
        if x <= 0.0:
            raise ValueError("log of a non-positive number")
        return math.log(x)
    return np.log(x)


def _log_or_nan(x: Value) -> Value:
    """log for the gradient of a ** b with respect to b: NaN, not an error, where a <= 0."""
    if type(x) is float:
        return math.log(x) if x > 0.0 else math.nan
    return np.log(x)


def _sqrt(x: Value) -> Value:
    if type(x) is float:
        if x < 0.0:
            raise ValueError("sqrt of a negative number")
        return math.sqrt(x)
    return np.sqrt(x)


def _sigmoid_f(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid_np(x: np.ndarray) -> np.ndarray:
    # stable on both tails: exp of a non-positive number only
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sign(x: Value) -> Value:
    if type(x) is float:
        return (x > 0.0) - (x < 0.0) + 0.0
    return np.sign(x)


def _relu(x: Value) -> Value:
    if type(x) is float:
        return x if x > 0.0 else 0.0
    return np.maximum(x, 0.0)


def _step(x: Value) -> Value:
    """relu'(x), 0 at 0 as in PyTorch."""
    if type(x) is float:
        return 1.0 if x > 0.0 else 0.0
    return (x > 0).astype(x.dtype if isinstance(x, np.ndarray) else float)


def _sum(x: Value) -> Value:
    return x if type(x) is float else _scalar(np.sum(x))


def _mean(x: Value) -> Value:
    return x if type(x) is float else _scalar(np.mean(x))


def _like(g: Value, x: Value) -> Value:
    """Spread a reduced gradient ``g`` back over the shape of ``x``."""
    if type(x) is float:
        return g
    return np.broadcast_to(np.asarray(g, dtype=np.result_type(x, float)), np.shape(x))


def _size(x: Value) -> int:
    return 1 if type(x) is float else int(np.size(x))


def _matmul_backward(g: Value, out: Value, a: np.ndarray, b: np.ndarray) -> tuple[Value, Value]:
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim == 1 and b.ndim == 1:  # dot product
        return g * b, g * a
    if a.ndim == 1:  # (k,) @ (k, n) -> (n,)
        return b @ g, np.outer(a, g)
    if b.ndim == 1:  # (m, k) @ (k,) -> (m,)
        return np.outer(g, b), a.T @ g
    return g @ np.swapaxes(b, -1, -2), np.swapaxes(a, -1, -2) @ g


# --- fused losses ---------------------------------------------------------------------

def _onehot(labels: Value, shape: tuple[int, ...]) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape == shape:  # already one-hot (or probabilities)
        return labels.astype(float)
    if len(shape) == 2 and shape[0] == 1 and shape[1] > 1 and labels.shape == shape[1:]:
        return labels.astype(float).reshape(shape)  # 1-d logits with a one-hot vector
    idx = labels.astype(np.int64).reshape(-1)
    out = np.zeros((idx.size, shape[-1]))
    out[np.arange(idx.size), idx] = 1.0
    return out.reshape(shape)


def _softmax(c: np.ndarray) -> np.ndarray:
    e = np.exp(c - np.max(c, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_ce(logits: Value, labels: Value) -> Value:
    c = np.atleast_2d(np.asarray(logits, dtype=float))
    y = _onehot(labels, c.shape)
    shifted = c - np.max(c, axis=-1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return float(-np.sum(y * logp) / c.shape[0])


def _softmax_ce_backward(g: Value, out: Value, logits: Value, labels: Value) -> tuple[Value, None]:
    c = np.asarray(logits, dtype=float)
    c2 = np.atleast_2d(c)
    y = _onehot(labels, c2.shape)
    # delta_L = softmax(c) - onehot(y), averaged over the rows
    return (g * (_softmax(c2) - y) / c2.shape[0]).reshape(c.shape), None


def _bce(p: Value, y: Value) -> Value:
    return _mean(-(y * _log(p) + (1.0 - y) * _log(1.0 - p)))


def _bce_backward(g: Value, out: Value, p: Value, y: Value) -> tuple[Value, None]:
    return g * (p - y) / (p * (1.0 - p)) / _size(p), None


def _softplus(x: Value) -> Value:
    # log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))
    if type(x) is float:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _bce_logits(z: Value, y: Value) -> Value:
    return _mean(_softplus(z) - z * y)


def _bce_logits_backward(g: Value, out: Value, z: Value, y: Value) -> tuple[Value, None]:
    s = _sigmoid_f(z) if type(z) is float else _sigmoid_np(z)
    return g * (s - y) / _size(z), None


def _l2(*xs: Value) -> Value:
    return sum(_sum(x * x) for x in xs)


def _l2_backward(g: Value, out: Value, *xs: Value) -> tuple[Value, ...]:
    return tuple(2.0 * g * x for x in xs)


_exp = _unary(math.exp, np.exp)
_sin = _unary(math.sin, np.sin)
_cos = _unary(math.cos, np.cos)
_tanh = _unary(math.tanh, np.tanh)
_abs = _unary(abs, np.abs)
_sigmoid = _unary(_sigmoid_f, _sigmoid_np)


OPS: dict[str, Op] = {
    op.name: op
    for op in [
        Op("add", 2, _add, lambda g, o, a, b: (g, g), "+", "d(a+b)/da = 1, d(a+b)/db = 1"),
        Op("sub", 2, _sub, lambda g, o, a, b: (g, -g), "-", "d(a-b)/da = 1, d(a-b)/db = -1"),
        Op("mul", 2, _mul, lambda g, o, a, b: (g * b, g * a), "*", "d(a*b)/da = b, d(a*b)/db = a"),
        Op("div", 2, _div, lambda g, o, a, b: (g / b, -g * o / b), "/",
           "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2"),
        Op("pow", 2, _pow, lambda g, o, a, b: (g * b * _pow(a, b - 1.0), g * o * _log_or_nan(a)),
           "**",
           "d(a^b)/da = b*a^(b-1), d(a^b)/db = a^b*log(a)"),
        Op("neg", 1, _neg, lambda g, o, a: (-g,), "-", "d(-a)/da = -1"),
        Op("matmul", 2, lambda a, b: _scalar(np.matmul(a, b)), _matmul_backward, "@",
           "d(A@B)/dA = G@B^T, d(A@B)/dB = A^T@G"),
        Op("exp", 1, _exp, lambda g, o, a: (g * o,), "", "d exp(a)/da = exp(a)"),
        Op("log", 1, _log, lambda g, o, a: (g / a,), "", "d log(a)/da = 1/a"),
        Op("sqrt", 1, _sqrt, lambda g, o, a: (g * 0.5 / o,), "", "d sqrt(a)/da = 1/(2 sqrt(a))"),
        Op("abs", 1, _abs, lambda g, o, a: (g * _sign(a),), "", "d|a|/da = sign(a)"),
        Op("sin", 1, _sin, lambda g, o, a: (g * _cos(a),), "", "d sin(a)/da = cos(a)"),
        Op("cos", 1, _cos, lambda g, o, a: (-g * _sin(a),), "", "d cos(a)/da = -sin(a)"),
        Op("tanh", 1, _tanh, lambda g, o, a: (g * (1.0 - o * o),), "", "d tanh(a)/da = 1 - tanh(a)^2"),
        Op("sigmoid", 1, _sigmoid, lambda g, o, a: (g * o * (1.0 - o),), "",
           "d s(a)/da = s(a)(1 - s(a))"),
        Op("relu", 1, _relu, lambda g, o, a: (g * _step(a),), "", "d relu(a)/da = 1 if a > 0 else 0"),
        Op("sum", 1, _sum, lambda g, o, a: (_like(g, a),), "", "d sum(a)/da_i = 1", reduces=True),
        Op("mean", 1, _mean, lambda g, o, a: (_like(g, a) / _size(a),), "",
           "d mean(a)/da_i = 1/n", reduces=True),
        Op("softmax_ce", 2, _softmax_ce, _softmax_ce_backward, "",
           "d CE/dc = softmax(c) - onehot(y), averaged over rows", reduces=True),
        Op("mse", 2, lambda p, y: _mean((p - y) * (p - y)),
           lambda g, o, p, y: (2.0 * g * (p - y) / _size(p - y), -2.0 * g * (p - y) / _size(p - y)),
           "", "d mse/dp = 2 (p - y) / n", reduces=True),
        Op("sse", 2, lambda p, y: _sum((p - y) * (p - y)),
           lambda g, o, p, y: (2.0 * g * (p - y), -2.0 * g * (p - y)),
           "", "d sse/dp = 2 (p - y)", reduces=True),
        Op("mae", 2, lambda p, y: _mean(_abs(p - y)),
           lambda g, o, p, y: (g * _sign(p - y) / _size(p - y), -g * _sign(p - y) / _size(p - y)),
           "", "d mae/dp = sign(p - y) / n", reduces=True),
        Op("bce", 2, _bce, _bce_backward, "", "d bce/dp = (p - y) / (p (1 - p)) / n", reduces=True),
        Op("bce_logits", 2, _bce_logits, _bce_logits_backward, "",
           "d bce/dz = (sigmoid(z) - y) / n", reduces=True),
        Op("l2", -1, _l2, _l2_backward, "", "d l2/dp = 2 p", reduces=True),
    ]
}

# Batched reductions for the loss landscape: every value carries a leading grid axis, and a
# reduction sums over the data axes only (keepdims, so that ranks stay aligned).


_DATA_AXES = {n: tuple(range(1, n)) for n in range(2, 33)}


def _bsum(x: Value) -> Value:
    if type(x) is float or x.ndim <= 1:
        return x
    return np.add.reduce(x, axis=_DATA_AXES[x.ndim], keepdims=True)


def _bmean(x: Value) -> Value:
    if type(x) is float or x.ndim <= 1:
        return x
    return np.add.reduce(x, axis=_DATA_AXES[x.ndim], keepdims=True) / (x.size // x.shape[0])


BATCHED: dict[str, Callable[..., Value]] = {
    "sum": _bsum,
    "mean": _bmean,
    "mse": lambda p, y: _bmean((p - y) * (p - y)),
    "sse": lambda p, y: _bsum((p - y) * (p - y)),
    "mae": lambda p, y: _bmean(np.abs(p - y)),
    "bce": lambda p, y: _bmean(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))),
    "bce_logits": lambda z, y: _bmean(_softplus(z) - z * y),
    "l2": lambda *xs: sum(_bsum(x * x) for x in xs),
}

#: the functions an expression may call: name -> op (binary/unary operators are not callable)
FUNCTIONS: dict[str, Op] = {
    name: OPS[name]
    for name in (
        "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "sum", "mean",
        "softmax_ce", "mse", "sse", "mae", "bce", "bce_logits", "l2",
    )
}

#: named constants an expression may use unless a scenario defines the name itself
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

#: inputs of an op through which no gradient flows (labels of the fused losses)
NO_GRAD_INPUTS: dict[str, tuple[int, ...]] = {
    "softmax_ce": (1,), "bce": (1,), "bce_logits": (1,),
}


def const_operand(name: str, c: float, const_left: bool
                  ) -> tuple[Callable[[Value], Value], Callable[..., tuple[Value]]] | None:
    """Forward and gradient of ``a op c`` (or ``c op a``) with the constant baked in.

    ``2*w`` then costs one call and no lookup of the constant: the scalar graphs of the
    tutorials are mostly such terms.
    """
    if name == "mul":
        return (lambda a: a * c), (lambda g, o, a: (g * c,))
    if name == "add":
        return (lambda a: a + c), (lambda g, o, a: (g,))
    if name == "sub" and not const_left:
        return (lambda a: a - c), (lambda g, o, a: (g,))
    if name == "sub":
        return (lambda a: c - a), (lambda g, o, a: (-g,))
    if name == "div" and not const_left:
        return (lambda a: a / c), (lambda g, o, a: (g / c,))
    return None


def const_pow(c: float) -> tuple[Callable[[Value], Value], Callable[..., tuple[Value]]]:
    """Forward and gradient of ``a ** c`` for a constant exponent (squares as a*a, exactly)."""
    if c == 2.0:
        return (lambda a: a * a), (lambda g, o, a: (2.0 * g * a,))
    if c == 1.0:
        return (lambda a: a), (lambda g, o, a: (g,))

    def fwd(a: Value) -> Value:
        return _pow(a, c)

    def bwd(g: Value, o: Value, a: Value) -> tuple[Value]:
        return (g * c * _pow(a, c - 1.0),)

    return fwd, bwd
