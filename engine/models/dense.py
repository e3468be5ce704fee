"""A dense network of any shape, vectorised over the mini-batch: backprop's four equations.

Shapes follow Nielsen's ``network.py`` with the mini-batch stacked in rows: layer ``l`` has
weights ``W_l`` (n_l, n_{l-1}) and biases ``b_l`` (n_l,); a mini-batch of N examples gives
``z_l = a_{l-1} W_l^T + b_l`` and ``a_l = act_l(z_l)``, both (N, n_l). Each layer costs one
matrix product forward and two backward, whatever N; there is no loop over examples.

    BP1  delta_L = dC_x/dz_L              (engine.models.costs: one formula per output/cost)
    BP2  delta_l = (W_{l+1}^T delta_{l+1}) * act_l'(z_l)
    BP3  dC/db_l = mean over the batch of delta_l
    BP4  dC/dW_l = mean over the batch of delta_l a_{l-1}^T   + regularisation (weights only)

The arithmetic is, operation for operation, that of the earlier engine/mlp.py, so an MNIST
network with the same seed trains to the same bits.

Regularisation (engine.models.regularisation), with n the training-set size: L2 adds
(lambda/2n) sum w^2 to the cost and (lambda/n) W_l to dC/dW_l, so plain SGD steps
w <- (1 - eta lambda/n) w - (eta/m) sum grad C_x (Nielsen ch. 3); L1 adds (lambda/n) sum |w|
and (lambda/n) sign(W_l), sign(0) = 0.

dtype: float64 unless told otherwise, so that small networks give the numbers of a hand
calculation or of PyTorch in float64; MNIST uses float32 (its data source asks for it), which
is twice as fast and what the earlier engine/mlp.py used. Integer inputs (MNIST's uint8 pixels)
are converted a chunk at a time with the data source's ``input_scale``. Training buffers are
allocated once per batch size, so the hot loop allocates almost nothing; ``params`` and
``grads`` are dicts name -> array ("W1", "b1", ...) that engine.optim optimizers update in place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..limits import MAX_ACTIVATIONS
from .activations import ACTIVATIONS
from .config import DenseConfig
from .init import initial_parameters
from .regularisation import Regulariser

EVAL_CHUNK = 10000  # rows per forward pass when evaluating a data set, at most (eval_rows)
SPEED_EXAMPLES = 1000  # layer_grad_norm: dC/db_l over (at most) this many examples


class _Buffers:
    """Every array one forward (+ backward) pass at batch size N writes, allocated once."""

    def __init__(self, sizes: list[int], n: int, dtype: np.dtype, train: bool) -> None:
        def layers() -> list[Any]:  # index 0 (the input layer) is unused
            return [None] + [np.empty((n, s), dtype) for s in sizes[1:]]

        self.n = n
        self.x = np.empty((n, sizes[0]), dtype)  # a_0 when the input needs converting
        self.z, self.a = layers(), layers()  # a[0] is set to the input by each pass
        self.delta = layers() if train else []  # delta_l, one row per example
        self.tmp = layers() if train else []  # act'(z_l), then delta_l / N
        self.y = np.empty((n, sizes[-1]), dtype)  # targets when labels are given
        self.rowmax = np.empty((n, 1), dtype)  # softmax scratch
        self.rowsum = np.empty((n, 1), dtype)
        self.mean_row = np.full(n, 1.0 / n, dtype)  # (1/N, ..., 1/N): a batch mean as a product


class DenseNet:
    """A fully connected network: parameters, forward pass, backpropagation, evaluation.

    ``params``: "W1" (n1, n0), "b1" (n1,), "W2" (n2, n1), ...; ``grads``: the same names and
    shapes, overwritten by every ``backward`` call. ``n_train``: the training-set size n of the
    regularisation terms (needed when l2 or l1 is set). ``input_scale``: what integer inputs
    are multiplied by (the data source's, e.g. 1/255 for MNIST pixels).
    """

    def __init__(self, config: DenseConfig, *, dtype: Any = None, n_train: int | None = None,
                 input_scale: float | None = None) -> None:
        self.config = config
        self.sizes = list(config.layers)
        self.L = len(self.sizes) - 1  # number of weight layers; layer 0 is the input
        self.dtype = np.dtype(dtype or config.dtype or np.float64)
        self.pair = config.pair
        self.regression = self.pair.regression
        self.acts = [None] + [ACTIVATIONS[a] for a in config.activations]  # hidden 1..L-1
        if (config.l2 or config.l1) and not n_train:
            raise ValueError("l2/l1 regularisation needs n_train, the training-set size")
        self.n_train = n_train
        self.regulariser = Regulariser(config.l2, config.l1, n_train) \
            if (config.l2 or config.l1) and n_train else None
        self.input_scale = input_scale
        self.params: dict[str, np.ndarray] = {}
        for l in range(1, self.L + 1):
            self.params[f"W{l}"] = np.empty((self.sizes[l], self.sizes[l - 1]), self.dtype)
            self.params[f"b{l}"] = np.empty(self.sizes[l], self.dtype)
        self.W = [None] + [self.params[f"W{l}"] for l in range(1, self.L + 1)]
        self.b = [None] + [self.params[f"b{l}"] for l in range(1, self.L + 1)]
        self._WT = [None] + [w.T for w in self.W[1:]]  # views: stay current as W changes
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.gW = [None] + [self.grads[f"W{l}"] for l in range(1, self.L + 1)]
        self.gb = [None] + [self.grads[f"b{l}"] for l in range(1, self.L + 1)]
        self._reg_tmp = [None] + [np.empty_like(w) for w in self.W[1:]]
        self._targets = self.pair.target_table(self.sizes[-1]).astype(self.dtype)
        self._bufs: dict[int, _Buffers] = {}  # training buffers by batch size
        self._eval_bufs: dict[int, _Buffers] = {}  # forward-only buffers by chunk size
        self._grid_bufs: dict[int, _Buffers] = {}  # output_grid's own (a view may draw meanwhile)
        self._last: _Buffers | None = None  # the buffers of the last backward pass
        self._last_y: np.ndarray | None = None  # and its targets (N, n_L)
        self.reset()

    # -- parameters -----------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """Set the parameters to their initial values (config's seed, or ``seed``), in place."""
        c = self.config
        init = initial_parameters(self.sizes, c.init, c.seed if seed is None else seed,
                                  c.bias_init, c.weights, c.biases)
        for l, (w, b) in enumerate(init, start=1):
            self.W[l][...] = w
            self.b[l][...] = b
        self._last = self._last_y = None

    @property
    def parameter_count(self) -> int:
        return sum(p.size for p in self.params.values())

    def weight_norms(self) -> list[float]:
        """||W_l||_F for l = 1..L."""
        return [float(np.linalg.norm(w)) for w in self.W[1:]]

    # -- inputs and targets ---------------------------------------------------------------

    def inputs(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return X as a_0 in this network's dtype; integers are multiplied by ``input_scale``."""
        if X.dtype == self.dtype:
            return X
        if X.dtype.kind in "iu":
            if self.input_scale is None:
                raise ValueError("integer inputs need the data source's input_scale")
            return np.multiply(X, self.dtype.type(self.input_scale), out=out, dtype=self.dtype)
        if out is None:
            return X.astype(self.dtype)
        np.copyto(out, X)
        return out

    def targets(self, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return the target rows (N, n_L) of labels y (N,): one-hot (or +-1 for a tanh output,
        0/1 for one sigmoid output). A float target array (N, n_L) (regression) passes."""
        if y.ndim == 2:
            return y if y.dtype == self.dtype else y.astype(self.dtype)
        return np.take(self._targets, y, axis=0, out=out)

    # -- forward and backward -------------------------------------------------------------

    def _buffers(self, store: dict[int, _Buffers], n: int, train: bool) -> _Buffers:
        buf = store.get(n)
        if buf is None:
            if len(store) >= 4:  # a run uses two sizes (batch and remainder); keep few
                store.clear()
            buf = store[n] = _Buffers(self.sizes, n, self.dtype, train)
        return buf

    def _forward(self, a0: np.ndarray, buf: _Buffers) -> None:
        """Fill buf.z[l], buf.a[l] for l = 1..L from the input a_0 (N, n0)."""
        a, z_, WT, b, acts = buf.a, buf.z, self._WT, self.b, self.acts
        a[0] = a0
        L = self.L
        for l in range(1, L + 1):
            z = np.dot(a[l - 1], WT[l], out=z_[l])  # z_l = a_{l-1} W_l^T + b_l
            np.add(z, b[l], out=z)
            if l < L:
                acts[l].f(z, a[l])  # a_l = act_l(z_l)
            else:
                self.pair.forward(z, a[l], buf)  # a_L = output(z_L)

    def forward(self, X: np.ndarray) -> list[np.ndarray]:
        """Return the activations [a_0, a_1, ..., a_L] for inputs X (N, n0), a_l (N, n_l).

        a_0 is X in this network's dtype (scaled if integer); the arrays are new.
        """
        buf = _Buffers(self.sizes, X.shape[0], self.dtype, train=False)
        with np.errstate(over="ignore"):
            self._forward(self.inputs(X, buf.x), buf)
        return buf.a

    def backward(self, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagate one mini-batch; return ``grads`` (name -> array, the shapes of params).

        X: inputs (N, n0); Y: labels (N,) or targets (N, n_L). The gradient is of the batch
        mean cost plus the regularisation terms, at the current params. The returned arrays are
        reused by the next call. Call it inside ``np.errstate(over="ignore")`` to silence exp
        overflow warnings of a saturated sigmoid (the values stay right).
        """
        n = X.shape[0]
        buf = self._bufs.get(n) or self._buffers(self._bufs, n, True)
        self._last = buf
        a0 = X if X.dtype == self.dtype else self.inputs(X, buf.x)
        y = self._last_y = Y if Y.ndim == 2 and Y.dtype == self.dtype else self.targets(Y, buf.y)
        self._forward(a0, buf)
        self._backprop(buf, y, self.gW, self.gb)
        if self.regulariser is not None:
            self._add_regularisation(self.gW)
        return self.grads

    def _backprop(self, buf: _Buffers, y: np.ndarray, gW: list[Any], gb: list[Any]) -> None:
        """BP1-BP4 for the pass held in ``buf``: write dC/dW_l, dC/db_l (data term only)."""
        L, z, a, delta, tmp, W, acts = self.L, buf.z, buf.a, buf.delta, buf.tmp, self.W, self.acts
        # BP1: delta_L = dC_x/dz_L (the pair's formula)
        self.pair.delta(z[L], a[L], y, delta[L], tmp[L])
        for l in range(L, 0, -1):
            if l < L:
                # BP2: delta_l = (W_{l+1}^T delta_{l+1}) * act_l'(z_l)   (rows: delta_{l+1} W_{l+1})
                np.dot(delta[l + 1], W[l + 1], out=delta[l])
                if acts[l].name != "linear":
                    np.multiply(delta[l], acts[l].prime(z[l], a[l], tmp[l]), out=delta[l])
            # BP3: dC/db_l = delta_l                 (averaged over the batch: (1/N) 1^T delta_l)
            np.dot(buf.mean_row, delta[l], out=gb[l])
            # BP4: dC/dW_l = delta_l a_{l-1}^T       (averaged: (delta_l / N)^T a_{l-1} in rows)
            np.dot(np.multiply(delta[l], buf.mean_row[0], out=tmp[l]).T, a[l - 1], out=gW[l])

    def _add_regularisation(self, gW: list[Any]) -> None:
        """BP4's extra term: dC/dW_l += (l2/n) W_l + (l1/n) sign(W_l), weights only."""
        reg = self.regulariser
        if reg is not None:
            for l in range(1, self.L + 1):
                reg.add_gradient(self.W[l], gW[l], self._reg_tmp[l])

    def gradients(self, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """Return new arrays dC/dp for the mean cost over X, Y plus regularisation; like
        ``backward`` but leaving ``grads`` and the last batch's state untouched."""
        buf = _Buffers(self.sizes, X.shape[0], self.dtype, train=True)
        y = self.targets(Y, buf.y)
        gW = [None] + [np.empty_like(w) for w in self.W[1:]]
        gb = [None] + [np.empty_like(b) for b in self.b[1:]]
        with np.errstate(over="ignore"):
            self._forward(self.inputs(X, buf.x), buf)
            self._backprop(buf, y, gW, gb)
        if self.regulariser is not None:
            self._add_regularisation(gW)
        out = {f"W{l}": gW[l] for l in range(1, self.L + 1)}
        return out | {f"b{l}": gb[l] for l in range(1, self.L + 1)}

    # -- cost and evaluation --------------------------------------------------------------

    def penalty(self) -> float:
        """The regularisation terms: (l2/2n) sum w^2 + (l1/n) sum |w| (0.0 without)."""
        return self.regulariser.penalty(self.W[1:]) if self.regulariser else 0.0

    def _predicted(self, out: np.ndarray) -> np.ndarray:
        """Class labels (N,) from outputs (N, n_L): a threshold for one output, else argmax."""
        if out.shape[1] == 1:
            return (out[:, 0] > self.pair.threshold).astype(np.intp)
        return np.argmax(out, axis=1)

    def _chunk_terms(self, X: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        buf = self._buffers(self._eval_bufs, X.shape[0], False)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._forward(self.inputs(X, buf.x), buf)
            L = self.L
            cost = float(np.sum(self.pair.costs(buf.z[L], buf.a[L], self.targets(y, buf.y))))
        correct = 0 if self.regression else int(
            np.count_nonzero(self._predicted(buf.a[L]) == y))
        return cost, correct

    @property
    def eval_rows(self) -> int:
        """Rows per forward pass when evaluating a data set: EVAL_CHUNK, fewer when their
        activations (rows times the units of all the layers) would pass MAX_ACTIVATIONS."""
        return max(1, min(EVAL_CHUNK, MAX_ACTIVATIONS // sum(self.sizes)))

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        """Return (mean cost + regularisation, accuracy in [0, 1] or None for regression).

        X: inputs (N, n0); y: labels (N,) or regression targets (N, n_L). ``eval_rows`` rows
        at a time; NaN (and NaN accuracy) for no rows.
        """
        n = X.shape[0]
        if n == 0:
            return float("nan"), None if self.regression else float("nan")
        total, correct = 0.0, 0
        step = self.eval_rows
        for i in range(0, n, step):
            c, k = self._chunk_terms(X[i : i + step], y[i : i + step])
            total += c
            correct += k
        return total / n + self.penalty(), None if self.regression else correct / n

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The mean cost over X, y plus the regularisation terms."""
        return self.evaluate(X, y)[0]

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float | None:
        """The fraction of rows of X whose predicted class is y (None for regression)."""
        return self.evaluate(X, y)[1]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels (N,) for classification, the outputs (N, n_L) for regression."""
        parts = []
        step = self.eval_rows
        for i in range(0, X.shape[0], step):
            out = self.output_grid(X[i : i + step])
            parts.append(out if self.regression else self._predicted(out))
        if parts:
            return np.concatenate(parts)
        return np.zeros((0, self.sizes[-1])) if self.regression else np.zeros(0, np.intp)

    def batch_loss(self) -> float:
        """The mean cost (+ regularisation) of the last backward's batch, before its step.

        From the activations kept from that pass; NaN or inf when the network has diverged.
        """
        buf, y = self._last, self._last_y
        if buf is None or y is None:
            raise RuntimeError("batch_loss() needs a backward() call first")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            total = float(np.sum(self.pair.costs(buf.z[self.L], buf.a[self.L], y)))
        return total / buf.n + self.penalty()

    # -- what the views draw --------------------------------------------------------------

    def output_grid(self, X: np.ndarray) -> np.ndarray:
        """The outputs a_L (N, n_L), a new array, for many points at once (a decision boundary
        over a grid of inputs). Uses buffers of its own, so it may run between training steps."""
        buf = self._buffers(self._grid_bufs, X.shape[0], False)
        with np.errstate(over="ignore"):
            self._forward(self.inputs(X, buf.x), buf)
        return buf.a[self.L].copy()

    def hidden_activations(self, X: np.ndarray, layer: int) -> np.ndarray:
        """a_layer (N, n_layer) for inputs X: what each neuron of ``layer`` (1..L) computes."""
        if not 1 <= layer <= self.L:
            raise IndexError(f"layer {layer} is not in 1..{self.L}")
        buf = self._buffers(self._grid_bufs, X.shape[0], False)
        with np.errstate(over="ignore"):
            self._forward(self.inputs(X, buf.x), buf)
        return buf.a[layer].copy()

    def deltas(self) -> list[np.ndarray]:
        """[delta_1, ..., delta_L] of the last backward's batch, per example (N, n_l), new
        arrays; empty before the first backward."""
        buf = self._last
        if buf is None:
            return []
        return [d.copy() for d in buf.delta[1:]]

    def last_batch(self) -> dict[str, Any] | None:
        """The last backward pass as arrays (shared, not copies): "n", "a" and "z" (lists
        indexed by layer, a[0] the input), "y" the targets, "delta" (delta_l, per example)."""
        buf = self._last
        if buf is None:
            return None
        return {"n": buf.n, "a": buf.a, "z": buf.z, "y": self._last_y, "delta": buf.delta}

    def layer_grad_norm(self, X: np.ndarray, y: np.ndarray) -> list[float]:
        """||dC/db_l|| for l = 1..L over the first SPEED_EXAMPLES rows of X, y: each layer's
        speed of learning (Nielsen ch. 5). Leaves ``grads`` and the last batch untouched."""
        k = min(X.shape[0], SPEED_EXAMPLES)
        g = self.gradients(X[:k], y[:k])
        return [float(np.linalg.norm(g[f"b{l}"])) for l in range(1, self.L + 1)]

    def layer_stats(self) -> list[dict[str, Any]]:
        """One dict per layer from the last backward pass (empty before the first): "layer",
        "W_shape", "W_norm" (||W_l||_F), "b_norm", "delta_norm" (mean over the batch of each
        example's ||delta_l||), "grad_W_norm" (incl. regularisation), "grad_b_norm"."""
        buf = self._last
        if buf is None:
            return []
        stats = []
        for l in range(1, self.L + 1):
            d = buf.delta[l].astype(np.float64)
            stats.append({
                "layer": l, "W_shape": tuple(self.W[l].shape),
                "W_norm": float(np.linalg.norm(self.W[l])),
                "b_norm": float(np.linalg.norm(self.b[l])),
                "delta_norm": float(np.mean(np.sqrt(np.einsum("ij,ij->i", d, d)))),
                "grad_W_norm": float(np.linalg.norm(self.gW[l])),
                "grad_b_norm": float(np.linalg.norm(self.gb[l])),
            })
        return stats
