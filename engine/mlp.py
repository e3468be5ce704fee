"""A multilayer perceptron for MNIST, vectorised over the mini-batch: backprop's four equations.

Shapes follow Nielsen's ``network.py`` with the mini-batch stacked in rows: layer ``l`` has
weights ``W_l`` of shape (n_l, n_{l-1}) and biases ``b_l`` of shape (n_l,); a mini-batch of ``N``
examples gives ``z_l = a_{l-1} W_l^T + b_l`` and ``a_l = act(z_l)``, both (N, n_l). Each layer
costs one matrix product forward and two backward, whatever the batch size; there is no loop over
examples. The error of layer ``l`` is ``delta_l = dC_x/dz_l`` (N, n_l), one row per example, and
the gradients are averaged over the mini-batch:

    BP1  delta_L = softmax(z_L) - onehot(y)                 (softmax output + cross-entropy)
         delta_L = (a_L - y) * sigmoid'(z_L)                 (sigmoid output + quadratic cost)
    BP2  delta_l = (W_{l+1}^T delta_{l+1}) * act'(z_l)
    BP3  dC/db_l = mean over the batch of delta_l
    BP4  dC/dW_l = mean over the batch of delta_l a_{l-1}^T   (+ weight_decay * W_l)

Images are uint8 (N, 784) in memory and are converted to float32 / 255 a batch (or a chunk of
batches) at a time. The training step writes into buffers allocated once per batch size, so the
hot loop allocates almost nothing; ``params`` and ``grads`` are dicts name -> array ("W1", "b1",
"W2", ...) that ``engine.optim`` optimizers update in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import validate
from engine.errors import ScenarioError

ACTIVATIONS = ("sigmoid", "tanh", "relu")
COSTS = ("quadratic", "cross_entropy")
INITS = ("normal", "scaled", "he")
MODEL_KEYS = ("layers", "activation", "cost", "init", "weight_decay", "seed")
EVAL_CHUNK = 10000  # rows per forward pass when evaluating a whole data set
MAX_UNITS = 100_000  # units in one layer (docs/scenarios.md, "Limits")
MAX_WEIGHTS = 10_000_000  # weights in all layers together


@dataclass
class MLPConfig:
    """What a scenario's [model] table describes.

    layers: sizes from input to output, e.g. [784, 30, 10]; activation: of the hidden layers;
    cost: "quadratic" (sigmoid output, C = 0.5 ||a - y||^2) or "cross_entropy" (softmax output);
    init: "normal" N(0, 1) weights and biases, "scaled" N(0, 1/fan_in) weights and N(0, 1) biases
    (the book's two initialisations), "he" N(0, 2/fan_in) weights and zero biases;
    weight_decay: lambda in C = mean cost + lambda/2 * sum of all W^2 (biases not decayed; the
    book's lambda over its n, e.g. 5.0 / 50000); seed: for the initial weights.
    """

    layers: list[int] = field(default_factory=lambda: [784, 30, 10])
    activation: str = "sigmoid"
    cost: str = "quadratic"
    init: str = "normal"
    weight_decay: float = 0.0
    seed: int = 1


def mlp_config_from_table(table: dict[str, Any], source: str, where: str = "[model]"
                          ) -> MLPConfig:
    """Return the MLPConfig a scenario's [model] table describes, or raise ScenarioError.

    ``source`` names the file and ``where`` the table in the one-line messages, e.g.
    "mnist_mlp.toml: [model] key 'activation': expected one of 'sigmoid', 'tanh', 'relu', ...".
    Missing keys take MLPConfig's defaults, except ``layers`` which is required. Sizes are
    limited: at most MAX_UNITS units per layer and MAX_WEIGHTS weights in all.
    """

    def at(key: str) -> str:
        return f"{source}: {where} key '{key}'"

    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: {where} must be a table, got {validate.typed(table)}")
    for key in table:
        if key not in MODEL_KEYS:
            allowed = ", ".join(repr(k) for k in MODEL_KEYS)
            raise ScenarioError(f"{at(key)}: unknown key (allowed: {allowed})")
    if "layers" not in table:
        raise ScenarioError(f"{source}: {where} key 'layers' is missing, "
                            "e.g. layers = [784, 30, 10]")
    layers = table["layers"]
    if not isinstance(layers, list) or len(layers) < 2:
        raise validate.fail(at("layers"), "a list of at least 2 layer sizes", layers,
                            wrong_type=not isinstance(layers, list))
    for n in layers:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_UNITS:
            listed = f" in [{', '.join(validate.show(x) for x in layers)}]" \
                if len(layers) <= 12 else ""
            shown = validate.show(n) if isinstance(n, int) and not isinstance(n, bool) \
                else validate.typed(n)
            raise ScenarioError(f"{at('layers')}: expected layer sizes in [1, {MAX_UNITS:,}], "
                                f"got {shown}{listed}")
    weights = sum(a * b for a, b in zip(layers, layers[1:], strict=False))
    if weights > MAX_WEIGHTS:
        raise ScenarioError(f"{at('layers')}: {weights:,} weights, more than the limit of "
                            f"{MAX_WEIGHTS:,}")
    values: dict[str, Any] = {"layers": list(layers)}
    for key, choices in (("activation", ACTIVATIONS), ("cost", COSTS), ("init", INITS)):
        if key in table:
            values[key] = validate.choice(table[key], at(key), choices)
    if "weight_decay" in table:
        values["weight_decay"] = validate.finite(table["weight_decay"], at("weight_decay"),
                                                 low=0.0)
    if "seed" in table:
        values["seed"] = validate.seed(table["seed"], at("seed"))
    return MLPConfig(**values)


def mnist_config_check(config: MLPConfig, source: str) -> None:
    """Raise ScenarioError unless ``config`` fits MNIST: 784 inputs and 10 outputs."""
    if config.layers[0] != 784 or config.layers[-1] != 10:
        raise ScenarioError(
            f"{source}: [model] key 'layers': MNIST needs 784 inputs and 10 outputs, "
            f"got {config.layers!r}"
        )


# Activations write act(z) into `a`; their derivatives are written through a_l = act(z_l), which
# is cheaper than from z_l: sigmoid' = a(1 - a), tanh' = 1 - a^2, relu' = [z > 0].


def _sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """sigmoid(z) = 1 / (1 + exp(-z)) into ``out`` (exp overflow gives the correct 0)."""
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _tanh(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.tanh(z, out=out)


def _relu(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0, out=out)


def _sigmoid_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.subtract(1.0, a, out=out)  # sigmoid'(z) = a (1 - a)
    return np.multiply(out, a, out=out)


def _tanh_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.multiply(a, a, out=out)  # tanh'(z) = 1 - a^2
    return np.subtract(1.0, out, out=out)


def _relu_prime(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.greater(z, 0.0, out=out)  # relu'(z) = 1 where z > 0, else 0


#: activation -> (act(z, out) -> out, act'(z, a, out) -> out), every array (N, n_l)
ACTIVATION_FUNCTIONS = {
    "sigmoid": (_sigmoid, _sigmoid_prime),
    "tanh": (_tanh, _tanh_prime),
    "relu": (_relu, _relu_prime),
}


class _Buffers:
    """Every array one forward + backward pass at batch size N writes, allocated once."""

    def __init__(self, sizes: list[int], n: int, dtype: np.dtype, train: bool = True) -> None:
        def layers() -> list[Any]:  # index 0 (the input layer) is unused
            return [None] + [np.empty((n, s), dtype) for s in sizes[1:]]

        self.n = n
        self.x = np.empty((n, sizes[0]), dtype)  # a_0 when the input comes as uint8
        self.z, self.a = layers(), layers()  # a[0] is set to the input a_0 by each pass
        self.delta = layers() if train else []
        self.tmp = layers() if train else []  # act'(z_l), then delta_l / N
        self.y = np.empty((n, sizes[-1]), dtype)  # one-hot targets when labels are given
        self.rowmax = np.empty((n, 1), dtype)  # softmax: the max and the sum of each row
        self.rowsum = np.empty((n, 1), dtype)
        self.rows = np.arange(n)
        self.mean_row = np.full(n, 1.0 / n, dtype)  # (1/N, ..., 1/N): a batch mean as a product


class MLP:
    """A fully connected network: parameters, forward pass, backpropagation, evaluation.

    ``params``: "W1" (n1, n0), "b1" (n1,), "W2" (n2, n1), ... float32 (or ``dtype``);
    ``grads``: the same names and shapes, overwritten by every ``backward`` call.
    """

    def __init__(self, config: MLPConfig, dtype: Any = np.float32) -> None:
        self.config = config
        self.sizes = list(config.layers)
        self.L = len(self.sizes) - 1  # number of weight layers; layer 0 is the input
        self.dtype = np.dtype(dtype)
        self.activation = config.activation
        self._act, self._act_prime = ACTIVATION_FUNCTIONS[config.activation]
        self.softmax = config.cost == "cross_entropy"
        self.weight_decay = float(config.weight_decay)
        self.params: dict[str, np.ndarray] = {}
        rng = np.random.default_rng(config.seed)
        for l in range(1, self.L + 1):
            fan_in, fan_out = self.sizes[l - 1], self.sizes[l]
            w = rng.standard_normal((fan_out, fan_in))  # drawn in float64: same for any dtype
            b = rng.standard_normal(fan_out)
            if config.init == "scaled":
                w /= np.sqrt(fan_in)
            elif config.init == "he":
                w *= np.sqrt(2.0 / fan_in)
                b[:] = 0.0
            self.params[f"W{l}"] = w.astype(self.dtype)
            self.params[f"b{l}"] = b.astype(self.dtype)
        self.W = [None] + [self.params[f"W{l}"] for l in range(1, self.L + 1)]
        self.b = [None] + [self.params[f"b{l}"] for l in range(1, self.L + 1)]
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._decay_tmp = [None] + [np.empty_like(w) for w in self.W[1:]]
        self.gW = [None] + [self.grads[f"W{l}"] for l in range(1, self.L + 1)]
        self.gb = [None] + [self.grads[f"b{l}"] for l in range(1, self.L + 1)]
        self._eye = np.eye(self.sizes[-1], dtype=self.dtype)
        self._scale = self.dtype.type(1.0 / 255.0)
        self._bufs: dict[int, _Buffers] = {}  # training buffers by batch size
        self._eval_bufs: dict[int, _Buffers] = {}  # forward-only buffers by chunk size
        self._last: _Buffers | None = None  # the buffers of the last backward pass
        self._last_y: np.ndarray | None = None  # and its one-hot targets (N, n_L)

    # -- helpers --------------------------------------------------------------------------

    def _buffers(self, n: int, train: bool = True) -> _Buffers:
        bufs = self._bufs if train else self._eval_bufs
        buf = bufs.get(n)
        if buf is None:
            if len(bufs) >= 4:  # a training run uses two sizes (batch and remainder); keep few
                bufs.clear()
            buf = bufs[n] = _Buffers(self.sizes, n, self.dtype, train)
        return buf

    def inputs(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return X as a_0: uint8 images scaled to [0, 1] in ``dtype`` (N, n0); floats pass."""
        if X.dtype == np.uint8:
            return np.multiply(X, self._scale, out=out, dtype=self.dtype)
        if X.dtype != self.dtype:
            return X.astype(self.dtype)
        return X

    def targets(self, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return labels (N,) as one-hot rows (N, n_L); an (N, n_L) target array passes."""
        if y.ndim == 2:
            return y
        return np.take(self._eye, y, axis=0, out=out)

    def _forward(self, a0: np.ndarray, buf: _Buffers) -> None:
        """Fill buf.z[l], buf.a[l] for l = 1..L from the input a_0 (N, n0)."""
        a = buf.a
        a[0] = a0
        for l in range(1, self.L + 1):
            z = np.dot(a[l - 1], self.W[l].T, out=buf.z[l])  # z_l = a_{l-1} W_l^T + b_l
            np.add(z, self.b[l], out=z)
            if l < self.L:
                self._act(z, a[l])  # a_l = act(z_l)
            elif self.softmax:  # a_L = softmax(z_L), shifted by the row max for stability
                np.maximum.reduce(z, axis=1, out=buf.rowmax, keepdims=True)
                np.subtract(z, buf.rowmax, out=a[l])
                np.exp(a[l], out=a[l])
                np.add.reduce(a[l], axis=1, out=buf.rowsum, keepdims=True)
                np.divide(a[l], buf.rowsum, out=a[l])
            else:
                _sigmoid(z, a[l])  # a_L = sigmoid(z_L)

    # -- public API -----------------------------------------------------------------------

    def forward(self, X: np.ndarray) -> list[np.ndarray]:
        """Return the activations [a_0, a_1, ..., a_L] for images X (N, n0), a_l of shape (N, n_l).

        a_0 is X scaled to [0, 1]; a_L holds the output probabilities (softmax) or sigmoids.
        The arrays are new (not the training buffers).
        """
        buf = _Buffers(self.sizes, X.shape[0], self.dtype, train=False)
        a0 = self.inputs(X)
        with np.errstate(over="ignore"):
            self._forward(a0, buf)
        return buf.a

    def backward(self, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagate one mini-batch; return ``grads`` (name -> array, the shapes of params).

        X: images (N, n0), uint8 or already scaled floats; Y: labels (N,) ints or targets (N, n_L).
        The gradient is of the batch mean cost plus the weight-decay term, at the current params.
        The returned arrays are reused by the next call. Call it inside
        ``np.errstate(over="ignore")`` to silence exp overflow warnings (the sigmoid stays right).
        """
        n = X.shape[0]
        buf = self._bufs.get(n) or self._buffers(n)
        self._last = buf
        a0 = X if X.dtype == self.dtype else self.inputs(X, buf.x)
        y = self._last_y = Y if Y.ndim == 2 else self.targets(Y, buf.y)
        self._forward(a0, buf)
        L, z, a, delta, tmp, W = self.L, buf.z, buf.a, buf.delta, buf.tmp, self.W
        if self.softmax:
            # BP1: delta_L = softmax(z_L) - onehot(y)
            np.subtract(a[L], y, out=delta[L])
        else:
            # BP1: delta_L = (a_L - y) * sigmoid'(z_L)
            np.subtract(a[L], y, out=delta[L])
            np.multiply(delta[L], _sigmoid_prime(z[L], a[L], tmp[L]), out=delta[L])
        for l in range(L, 0, -1):
            if l < L:
                # BP2: delta_l = (W_{l+1}^T delta_{l+1}) * act'(z_l)    (rows: delta_{l+1} W_{l+1})
                np.dot(delta[l + 1], W[l + 1], out=delta[l])
                np.multiply(delta[l], self._act_prime(z[l], a[l], tmp[l]), out=delta[l])
            # BP3: dC/db_l = delta_l                 (averaged over the batch: (1/N) 1^T delta_l)
            np.dot(buf.mean_row, delta[l], out=self.gb[l])
            # BP4: dC/dW_l = delta_l a_{l-1}^T       (averaged: (delta_l / N)^T a_{l-1} in rows)
            np.dot(np.multiply(delta[l], buf.mean_row[0], out=tmp[l]).T, a[l - 1], out=self.gW[l])
            if self.weight_decay:  # + d/dW_l of lambda/2 * sum W^2
                self.gW[l] += np.multiply(W[l], self.weight_decay, out=self._decay_tmp[l])
        return self.grads

    def loss_terms(self, X: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        """Return (sum of the data cost over the rows, number of correct predictions) for X, y.

        X: images (N, n0); y: labels (N,) ints. Sums, not means, so chunks can be added up.
        """
        buf = self._buffers(X.shape[0], train=False)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._forward(self.inputs(X, buf.x), buf)
            out = buf.a[self.L]
            if self.softmax:
                # -log softmax(z)_y = log sum exp(z - max) - (z_y - max)
                zs = buf.z[self.L] - buf.rowmax
                cost = np.log(buf.rowsum[:, 0]) - zs[buf.rows, y]
                total = float(np.sum(cost, dtype=np.float64))
            else:
                diff = out - self._eye[y]
                total = 0.5 * float(np.sum(diff * diff, dtype=np.float64))
        correct = int(np.count_nonzero(np.argmax(out, axis=1) == y))
        return total, correct

    def decay_term(self) -> float:
        """Return lambda/2 * sum over layers of ||W_l||^2 (0.0 without weight decay)."""
        if not self.weight_decay:
            return 0.0
        squares = sum(float(np.sum(w * w, dtype=np.float64)) for w in self.W[1:])
        return 0.5 * self.weight_decay * squares

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Return (mean cost including weight decay, accuracy in [0, 1]) over all rows of X, y.

        X: images (N, n0); y: labels (N,). Works through EVAL_CHUNK rows at a time.
        """
        n = X.shape[0]
        if n == 0:
            return float("nan"), float("nan")
        total, correct = 0.0, 0
        for i in range(0, n, EVAL_CHUNK):
            t, c = self.loss_terms(X[i : i + EVAL_CHUNK], y[i : i + EVAL_CHUNK])
            total += t
            correct += c
        return total / n + self.decay_term(), correct / n

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Return the mean cost over X (N, n0), y (N,) plus lambda/2 * sum W^2, as a float."""
        return self.evaluate(X, y)[0]

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """Return the fraction of rows of X (N, n0) whose predicted label equals y (N,)."""
        return self.evaluate(X, y)[1]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Return the predicted labels (N,) int64 for images X (N, n0): argmax of the output."""
        parts = []
        for i in range(0, X.shape[0], EVAL_CHUNK):
            parts.append(np.argmax(self.forward(X[i : i + EVAL_CHUNK])[-1], axis=1))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def batch_loss(self) -> float:
        """Return the mean cost (plus weight decay) of the last backward's batch, before its step.

        Uses the activations kept from that pass; NaN or inf when the network has diverged.
        """
        buf, y = self._last, self._last_y
        if buf is None or y is None:
            raise RuntimeError("batch_loss() needs a backward() call first")
        L = self.L
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.softmax:
                # y is one-hot: -sum(y * log softmax) = log sum exp(z - max) - sum(y * (z - max))
                zs = buf.z[L] - buf.rowmax
                total = float(np.sum(np.log(buf.rowsum), dtype=np.float64)) - float(
                    np.sum(y * zs, dtype=np.float64))
            else:
                diff = buf.a[L] - y
                total = 0.5 * float(np.sum(diff * diff, dtype=np.float64))
        return total / buf.n + self.decay_term()

    def layer_grad_norm(self, X: np.ndarray, y: np.ndarray) -> list[float]:
        """||dC/db_l|| for l = 1..L over X (N, n0), y (N,): each layer's speed of learning
        (Nielsen, chapter 5). ``grads`` and the last batch (``layer_stats``, ``batch_loss``)
        are left as they were."""
        if X.shape[0] == 0:
            return []
        saved = {k: g.copy() for k, g in self.grads.items()}
        last, last_y = self._last, self._last_y
        with np.errstate(over="ignore", invalid="ignore"):
            self.backward(X, y)
        norms = [float(np.linalg.norm(self.gb[l])) for l in range(1, self.L + 1)]
        for k, g in self.grads.items():
            np.copyto(g, saved[k])
        self._last, self._last_y = last, last_y
        return norms

    def layer_stats(self) -> list[dict[str, Any]]:
        """Return one dict per weight layer from the last backward pass, for a dashboard.

        Keys: "layer" (1..L), "W_shape" (n_l, n_{l-1}), "delta_norm" (the mean over the batch of
        each example's ||delta_l||_2), "grad_W_norm" (Frobenius norm of dC/dW_l, averaged
        gradient incl. weight decay), "grad_b_norm" (||dC/db_l||_2), "W_norm" (||W_l||_F).
        Empty before the first backward pass.
        """
        buf = self._last
        if buf is None:
            return []
        stats = []
        for l in range(1, self.L + 1):
            d = buf.delta[l].astype(np.float64)
            stats.append({
                "layer": l,
                "W_shape": tuple(self.W[l].shape),
                "delta_norm": float(np.mean(np.sqrt(np.sum(d * d, axis=1)))),
                "grad_W_norm": float(np.linalg.norm(self.gW[l])),
                "grad_b_norm": float(np.linalg.norm(self.gb[l])),
                "W_norm": float(np.linalg.norm(self.W[l])),
            })
        return stats
