"""Train a network with mini-batches and any engine.optim optimizer, as a record stream.

``train(net, cfg, data)`` is a generator: an ``EpochRecord`` for epoch 0 (the network before
any training), a ``BatchRecord`` every ``cfg.report_every`` mini-batches (for live plots), an
``EpochRecord`` after each epoch and one ``NetworkSummary`` at the end. Everything is
deterministic for given seeds (the initial weights are the model's; the order of the examples
in each epoch comes from ``numpy.random.default_rng(cfg.seed)``) and a given BLAS thread count.

Stopping: after ``cfg.epochs`` ("epochs"); on a NaN or infinite loss ("diverged", with the
epoch and batch); when the monitored loss has not improved for ``cfg.patience`` epochs
("early_stop": the validation loss when there is a validation set, else the training loss; the
test set is never looked at); or when ``should_stop`` (checked at every report and every chunk
of about 2048 examples) returns true ("stopped"). Closing the generator stops it too.

Stepping: ``Trainer`` is the same training, advanced one mini-batch (``step_batch``) or one
epoch (``step_epoch``) at a time, for the app and its sessions; its records are train()'s,
record for record (the same code yields them), and a pause between two steps is not counted in
an epoch's seconds. A Trainer may be stepped from different threads, one at a time.

BLAS threads: for these small matrices one OpenBLAS thread is about as fast as two (see
docs/benchmarks.md); the thread count is fixed when numpy is first imported
(OPENBLAS_NUM_THREADS), so it is the command line's job, not this module's.
"""

from __future__ import annotations

import contextvars
import math
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np

from .records import BatchRecord, EpochRecord, NetworkSummary
from .run import RunConfig

CHUNK_ROWS = 2048  # examples converted from uint8 to float at a time (whole mini-batches)
SPEED_EXAMPLES = 1000  # the fixed training examples layer_grad_norm is measured on


class Network(Protocol):
    """What train() needs of a model (engine.models.dense.DenseNet has it).

    ``params``/``grads``: name -> array, the gradients written by ``backward`` and updated in
    place by the optimizer; ``sizes``: layer sizes, input first; ``evaluate``: (mean cost,
    accuracy or None) over a whole set; ``layer_grad_norm``: ||dC/db_l|| per layer over the
    given examples, leaving ``grads`` and the last batch untouched.
    """

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    sizes: list[int]
    L: int
    dtype: np.dtype

    def inputs(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray: ...
    def targets(self, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray: ...
    def backward(self, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]: ...
    def batch_loss(self) -> float: ...
    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float | None]: ...
    def layer_grad_norm(self, X: np.ndarray, y: np.ndarray) -> list[float]: ...
    def layer_stats(self) -> list[dict[str, Any]]: ...


class TrainingData(Protocol):
    """What train() needs of a data set (engine.data.dataset.Dataset has it): inputs (N, n0),
    class labels (N,) or regression targets (N, n_out), and a sentence saying what they are."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    description: str


def labels_max(y: np.ndarray) -> int:
    """The largest class index among labels ``y`` (N,) (-1 when there are none)."""
    return int(np.max(y)) if y.size else -1


def _labels(y: np.ndarray) -> np.ndarray:
    """Class labels as indices (intp); regression targets (N, n_out) as they are."""
    return y if y.ndim == 2 else np.asarray(y, dtype=np.intp)


class _Evaluation:
    """The whole-set figures of the current weights: loss and accuracy per set."""

    def __init__(self, net: Network, data: TrainingData, y: np.ndarray, yt: np.ndarray,
                 yv: np.ndarray | None) -> None:
        self.train = net.evaluate(data.X_train, y)
        self.test = net.evaluate(data.X_test, yt)
        self.validation = (net.evaluate(data.X_val, yv)
                           if data.X_val is not None and yv is not None else None)

    def record(self, epoch: int, lr: float, seconds: float, speeds: tuple[float, ...],
               stats: list[dict[str, Any]]) -> EpochRecord:
        val = self.validation
        return EpochRecord(
            epoch=epoch, train_loss=self.train[0], test_loss=self.test[0], lr=lr,
            seconds=seconds, layer_grad_norm=speeds, train_accuracy=self.train[1],
            test_accuracy=self.test[1], validation_loss=val[0] if val else None,
            validation_accuracy=val[1] if val else None, layer_stats=stats)

    def monitored(self) -> float:
        """The loss early stopping watches: validation if there is a validation set, else train."""
        return self.validation[0] if self.validation is not None else self.train[0]


def train(
    net: Network,
    cfg: RunConfig,
    data: TrainingData,
    *,
    should_stop: Callable[[], bool] | None = None,
    scenario: str = "",
    variant: str | None = None,
) -> Iterator[BatchRecord | EpochRecord | NetworkSummary]:
    """Train ``net`` on ``data`` with ``cfg`` (optimizer, lr schedule, batch size, epochs, seed,
    report_every, patience); yield records, the summary last.

    data: X_train (N, n0) uint8 or float, y_train (N,) class indices or (N, n_out) targets,
    the same for the test (and validation) set. The caller checks that the layers fit the data.
    """
    return _records(net, cfg, data, should_stop, scenario, variant, None)


class _Tick:
    """What a Trainer's stream yields after each mini-batch (and nothing else does)."""


TICK = _Tick()


def _records(net: Network, cfg: RunConfig, data: TrainingData,
             should_stop: Callable[[], bool] | None, scenario: str, variant: str | None,
             stepper: Trainer | None) -> Iterator[Any]:
    """train()'s generator; with a ``stepper`` it also yields TICK once each mini-batch has been
    taken with all its records (the epoch's record after its last batch), keeps the weights
    before each step when ``stepper.detail`` is set, and says where it is."""
    X, y = data.X_train, _labels(data.y_train)
    yt = _labels(data.y_test)
    yv = None if data.y_val is None else _labels(data.y_val)
    n, bs, every = X.shape[0], int(cfg.batch_size or 1), cfg.report_every
    if n == 0:
        raise ValueError("train() needs at least one training example")
    classes = max(net.sizes[-1], 2)  # one output separates two classes
    if X.shape[1] != net.sizes[0] or (y.ndim == 1 and labels_max(y) >= classes):
        raise ValueError(f"layers {net.sizes} do not fit {X.shape[1]} inputs and labels up to "
                         f"{labels_max(y)}")
    epochs = int(cfg.epochs or 1)
    opt = cfg.make_optimizer()
    rng = np.random.default_rng(cfg.seed)
    speed_x, speed_y = X[:SPEED_EXAMPLES], y[:SPEED_EXAMPLES]
    chunk = max(1, CHUNK_ROWS // bs) * bs  # whole mini-batches per chunk
    x_u8 = np.empty((min(chunk, n), X.shape[1]), X.dtype)
    x_buf = np.empty(x_u8.shape, net.dtype)
    y_buf = np.empty((min(chunk, n), net.sizes[-1]), net.dtype)
    steps = [(name, p, net.grads[name]) for name, p in net.params.items()]
    out_grad = net.grads[f"b{net.L}"]  # sum(dC/db_L) = mean of delta_L: finite unless diverged
    step = opt.step
    total = 0.0
    epoch = 0
    stop_reason, message = "epochs", ""
    where: tuple[int, int] | None = None
    with np.errstate(over="ignore", invalid="ignore"):
        final = _Evaluation(net, data, y, yt, yv)
        yield final.record(0, cfg.lr_at(0), 0.0, tuple(net.layer_grad_norm(speed_x, speed_y)),
                           [])
        best, best_epoch = final.monitored(), 0
        current = True  # `final` holds the figures of the weights as they are
        for epoch in range(1, epochs + 1):
            opt.lr = cfg.lr_at(epoch - 1)
            current = False
            start = time.perf_counter()
            perm = rng.permutation(n)
            batch = 0
            for c0 in range(0, n, chunk):
                if should_stop is not None and should_stop():
                    stop_reason = "stopped"
                    break
                idx = perm[c0 : c0 + chunk]
                m = idx.shape[0]
                xc = net.inputs(np.take(X, idx, axis=0, out=x_u8[:m]), out=x_buf[:m])
                yc = net.targets(np.take(y, idx, axis=0), out=y_buf[:m])
                for b0 in range(0, m, bs):
                    net.backward(xc[b0 : b0 + bs], yc[b0 : b0 + bs])
                    batch += 1
                    if not math.isfinite(out_grad.sum()):
                        where = (epoch, batch)
                        break
                    if stepper is not None and stepper.detail:
                        stepper.keep_weights()  # what BP2 of this batch multiplied by
                    for name, p, g in steps:
                        step(name, p, g)
                    if batch % every == 0:
                        loss = net.batch_loss()
                        paused = time.perf_counter()
                        yield BatchRecord(epoch, batch, loss, opt.lr)
                        start += time.perf_counter() - paused  # not counting the consumer
                        if should_stop is not None and should_stop():
                            stop_reason = "stopped"
                            break
                    if stepper is not None:
                        stepper.epoch, stepper.batch = epoch, batch
                        if c0 + m < n or b0 + bs < m:  # the epoch's last batch ticks later
                            paused = time.perf_counter()
                            yield TICK
                            start += time.perf_counter() - paused
                if where is not None or stop_reason == "stopped":
                    break
            if where is not None:
                total += time.perf_counter() - start
                yield BatchRecord(epoch, batch, net.batch_loss(), opt.lr)
                stop_reason = "diverged"
                epoch -= 1
                break
            if stop_reason == "stopped":
                total += time.perf_counter() - start
                epoch -= 1
                break
            seconds = time.perf_counter() - start
            total += seconds
            stats = net.layer_stats()
            final = _Evaluation(net, data, y, yt, yv)
            current = True
            speeds = tuple(net.layer_grad_norm(speed_x, speed_y))
            yield final.record(epoch, opt.lr, seconds, speeds, stats)
            if not math.isfinite(final.train[0]):
                stop_reason, where = "diverged", (epoch, batch)
                break
            watched = final.monitored()
            if watched < best:
                best, best_epoch = watched, epoch
            elif cfg.patience is not None and epoch - best_epoch >= cfg.patience:
                stop_reason = "early_stop"
                which = "validation" if final.validation is not None else "training"
                message = (f"the {which} loss has not improved for {cfg.patience} epoch"
                           f"{'s' if cfg.patience != 1 else ''} (best {best:.6g} at epoch "
                           f"{best_epoch})")
                break
            if stepper is not None and epoch < epochs:
                yield TICK  # the epoch's last batch, after its record (the last: the summary)
        if not current:  # stopped or diverged within an epoch: the weights as they are now
            final = _Evaluation(net, data, y, yt, yv)
    if stop_reason == "diverged" and where is not None:
        message = (f"the loss became NaN or infinite at epoch {where[0]}, batch {where[1]}: "
                   "try a smaller learning rate")
    val = final.validation
    yield NetworkSummary(
        scenario=scenario, variant=variant, stop_reason=stop_reason, message=message,
        seconds=total, epochs=epoch, final_train_loss=final.train[0],
        final_test_loss=final.test[0], final_train_accuracy=final.train[1],
        final_test_accuracy=final.test[1], final_validation_loss=val[0] if val else None,
        final_validation_accuracy=val[1] if val else None,
        diverged_epoch=where[0] if where else None, diverged_batch=where[1] if where else None,
        data=data.description,
    )


class Trainer:
    """train() advanced a mini-batch or an epoch at a time (the app steps it; sessions replay it).

    ``begin()`` returns epoch 0's record (the network before training); ``step_batch()`` takes
    one mini-batch and returns the records it produced (a BatchRecord every report_every
    batches, the EpochRecord after an epoch's last batch); ``step_epoch()`` takes batches to the
    end of the epoch. Once training has ended (epochs done, early stop, divergence), ``summary``
    is set and ``finished`` is true; further steps return nothing. The records are those
    ``train`` yields for the same arguments, in the same order.

    ``detail``: keep each layer's weights from before each step in ``weights_before`` (what
    BP2 and BP4 of the last mini-batch used; the optimizer has moved ``net``'s since).
    ``epoch``/``batch``: where the last step was (batch within the epoch, 1-based).
    """

    def __init__(self, net: Network, cfg: RunConfig, data: TrainingData, *, scenario: str = "",
                 variant: str | None = None) -> None:
        self.net, self.cfg, self.data = net, cfg, data
        self.batches_per_epoch = math.ceil(len(data.y_train) / int(cfg.batch_size or 1))
        self.epoch = self.batch = 0
        self.summary: NetworkSummary | None = None
        self.detail = False
        self.weights_before: list[np.ndarray] = []  # W_1..W_L before the last step
        # a proxy: no cycle, so a dropped Trainer closes its stream in __del__ (its Context)
        self._stream = _records(net, cfg, data, None, scenario, variant, weakref.proxy(self))
        # The stream holds np.errstate (a context variable) across its yields, and the app steps
        # it from one worker thread after another: advance it always inside this one Context.
        self._context = contextvars.copy_context()
        self._begun = False

    def _next(self) -> Any:
        return self._context.run(next, self._stream, None)

    @property
    def finished(self) -> bool:
        return self.summary is not None

    def keep_weights(self) -> None:
        """Copy every W_l (before the optimizer's step; called by the stream)."""
        names = [f"W{l}" for l in range(1, self.net.L + 1)]
        if len(self.weights_before) != len(names):
            self.weights_before = [np.empty_like(self.net.params[k]) for k in names]
        for keep, name in zip(self.weights_before, names, strict=True):
            np.copyto(keep, self.net.params[name])

    def begin(self) -> list[EpochRecord]:
        """Epoch 0's record (once; later calls return nothing)."""
        if self._begun:
            return []
        self._begun = True
        return [self._next()]

    def step_batch(self) -> list[Any]:
        """Take one mini-batch; return the records it produced (none once finished)."""
        out: list[Any] = self.begin()
        if self.finished:
            return out
        while (rec := self._next()) is not None:
            if rec is TICK:
                return out
            if isinstance(rec, NetworkSummary):
                self.summary = rec
            else:
                out.append(rec)
        return out

    def step_epoch(self, halt: Callable[[], bool] | None = None) -> tuple[list[Any], int]:
        """Take mini-batches to the end of the epoch (or until ``halt()``, checked after each);
        return the records and the number of batches taken."""
        out: list[Any] = self.begin()
        taken = 0
        while not self.finished:
            recs = self.step_batch()
            taken += 1
            out += recs
            if any(isinstance(r, EpochRecord) for r in recs) or (halt is not None and halt()):
                break
        return out, taken

    def close(self) -> None:
        """End the stream (its buffers are freed)."""
        self._context.run(self._stream.close)

    def __del__(self) -> None:
        self.close()
