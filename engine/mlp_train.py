"""Train an MLP on MNIST with mini-batch SGD (or any engine.optim optimizer), as a record stream.

``train(config, settings, data)`` is a generator: a ``BatchRecord`` every ``report_every``
mini-batches (for live plots), an ``EpochRecord`` after each epoch and one ``TrainSummary`` at
the end. Everything is deterministic for given seeds (initial weights: ``config.seed``; shuffling:
``settings.shuffle_seed``, by default the model's seed) and a given BLAS thread count.

To stop early, stop iterating (or ``close()`` the generator), or pass ``should_stop``: a callable
checked at every report and every chunk of about 2048 images; it ends the run with a summary
whose stop_reason is "stopped".

BLAS threads: for these small matrices one OpenBLAS thread is about as fast as two (see
docs/benchmarks.md); the thread count is fixed when numpy is first imported
(OPENBLAS_NUM_THREADS), so it is the command line's job, not this module's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engine.errors import ScenarioError
from engine.mlp import MLP, MLPConfig
from engine.optim import HYPERPARAMETERS, OPTIMIZERS, make_optimizer, scheduled_lr

SCHEDULES = ("constant", "step", "exponential")
CHUNK_ROWS = 2048  # images converted from uint8 to float at a time (whole mini-batches)


class MnistArrays(Protocol):
    """What train() needs of engine.data.mnist.MnistData: images (N, 784) uint8, labels (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


@dataclass
class TrainSettings:
    """A scenario's [run] table: optimizer and its hyperparameters, batches, epochs, schedule.

    The learning rate of epoch e (0-based) is scheduled_lr(lr, e, schedule, step_size, gamma).
    shuffle_seed seeds the order of the examples in every epoch (None: the model's seed).
    """

    optimizer: str = "sgd"
    lr: float = 3.0
    hyper: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 10
    epochs: int = 30
    schedule: str = "constant"
    step_size: int = 1
    gamma: float = 0.1
    shuffle_seed: int | None = None
    report_every: int = 500


@dataclass(frozen=True)
class BatchRecord:
    """The loss of mini-batch ``batch`` (1-based within ``epoch``, 1-based), before its step."""

    epoch: int
    batch: int
    loss: float

    def to_json(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "batch": self.batch, "loss": self.loss}


@dataclass(frozen=True)
class EpochRecord:
    """After epoch ``epoch`` (1-based): mean cost and accuracy on the whole training set, test
    accuracy, the seconds of training of this epoch alone (no loading, no evaluation), the
    learning rate in force and ``MLP.layer_stats()`` of the epoch's last mini-batch."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_accuracy: float
    seconds: float
    lr: float
    layer_stats: list[dict[str, Any]] = field(default_factory=list, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch, "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy, "test_accuracy": self.test_accuracy,
            "seconds": self.seconds, "lr": self.lr,
        }


@dataclass(frozen=True)
class TrainSummary:
    """The end of a run. stop_reason: "epochs" (all done), "diverged" (a NaN/inf loss, at
    ``diverged_epoch``/``diverged_batch``) or "stopped" (should_stop). ``epochs``: epochs
    completed; accuracies of the final weights; total_seconds: sum of the epochs' seconds."""

    stop_reason: str
    epochs: int
    final_test_accuracy: float
    final_train_accuracy: float
    total_seconds: float
    diverged_epoch: int | None = None
    diverged_batch: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "stop_reason": self.stop_reason, "epochs": self.epochs,
            "final_test_accuracy": self.final_test_accuracy,
            "final_train_accuracy": self.final_train_accuracy,
            "total_seconds": self.total_seconds,
            "diverged_epoch": self.diverged_epoch, "diverged_batch": self.diverged_batch,
        }


Record = BatchRecord | EpochRecord | TrainSummary

RUN_KEYS = (
    "optimizer", "lr", "batch_size", "epochs", "schedule", "step_size", "gamma",
    "shuffle_seed", "report_every",
)


def train_settings_from_table(table: dict[str, Any], source: str) -> TrainSettings:
    """Return the TrainSettings a scenario's [run] table (variant already applied) describes.

    Raises ScenarioError naming ``source`` and the key; optimizer hyperparameters (momentum,
    betas, ...) are the keys engine.optim.HYPERPARAMETERS allows for the chosen optimizer.
    """

    def fail(key: str, message: str) -> ScenarioError:
        return ScenarioError(f"{source}: [run] key '{key}': {message}")

    def number(key: str, low: float, inclusive: bool) -> float:
        v = table[key]
        ok = type(v) in (int, float) and math.isfinite(v) and (v >= low if inclusive else v > low)
        if not ok:
            raise fail(key, f"expected a number {'>=' if inclusive else '>'} {low}, got {v!r}")
        return float(v)

    def integer(key: str, low: int) -> int:
        v = table[key]
        if type(v) is not int or v < low:
            raise fail(key, f"expected an integer >= {low}, got {v!r}")
        return v

    s = TrainSettings()
    opt = table.get("optimizer", s.optimizer)
    if not isinstance(opt, str) or opt not in OPTIMIZERS:
        names = ", ".join(repr(k) for k in OPTIMIZERS)
        raise fail("optimizer", f"expected one of {names}, got {opt!r}")
    s.optimizer = opt
    for key in table:
        if key not in RUN_KEYS and key not in HYPERPARAMETERS[opt]:
            allowed = ", ".join(repr(k) for k in RUN_KEYS + HYPERPARAMETERS[opt])
            raise fail(key, f"unknown key for optimizer {opt!r} (allowed: {allowed})")
    if "lr" in table:
        s.lr = number("lr", 0.0, inclusive=False)
    for key in ("batch_size", "epochs", "step_size", "report_every"):
        if key in table:
            setattr(s, key, integer(key, 1))
    if "shuffle_seed" in table:
        s.shuffle_seed = integer("shuffle_seed", 0)
    if "gamma" in table:
        s.gamma = number("gamma", 0.0, inclusive=False)
    if "schedule" in table:
        if table["schedule"] not in SCHEDULES:
            names = ", ".join(repr(k) for k in SCHEDULES)
            raise fail("schedule", f"expected one of {names}, got {table['schedule']!r}")
        s.schedule = table["schedule"]
    s.hyper = {k: table[k] for k in HYPERPARAMETERS[opt] if k in table}
    try:
        make_optimizer(opt, s.lr, **s.hyper)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{source}: [run] optimizer {opt!r}: {exc}") from None
    return s


def train(
    config: MLPConfig,
    settings: TrainSettings,
    data: MnistArrays,
    *,
    should_stop: Callable[[], bool] | None = None,
    model: MLP | None = None,
) -> Iterator[Record]:
    """Train a new MLP(config) (or ``model``) on ``data``; yield records, the summary last.

    data: train_images (N, 784) uint8, train_labels (N,), test_images, test_labels.
    Yields BatchRecord every settings.report_every mini-batches, EpochRecord per epoch and
    a TrainSummary. A non-finite loss ends the run with stop_reason "diverged".
    """
    net = model if model is not None else MLP(config)
    X, y = data.train_images, np.asarray(data.train_labels, dtype=np.intp)
    Xt, yt = data.test_images, np.asarray(data.test_labels, dtype=np.intp)
    n, bs, every = X.shape[0], settings.batch_size, settings.report_every
    if n == 0:
        raise ValueError("train() needs at least one training image")
    if X.shape[1] != net.sizes[0] or int(y.max()) >= net.sizes[-1]:
        raise ScenarioError(
            f"[model] key 'layers': {net.sizes} does not fit the data: {X.shape[1]} inputs "
            f"per image and labels up to {int(y.max())}"
        )
    opt = make_optimizer(settings.optimizer, settings.lr, **settings.hyper)
    seed = settings.shuffle_seed if settings.shuffle_seed is not None else config.seed
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_ROWS // bs) * bs  # whole mini-batches per chunk
    x_u8 = np.empty((min(chunk, n), X.shape[1]), X.dtype)
    x_buf = np.empty(x_u8.shape, net.dtype)
    y_buf = np.empty((min(chunk, n), net.sizes[-1]), net.dtype)
    steps = [(name, p, net.grads[name]) for name, p in net.params.items()]
    out_grad = net.grads[f"b{net.L}"]  # sum(dC/db_L) = mean of delta_L: finite unless diverged
    step = opt.step
    total = 0.0
    epoch = 0
    stop_reason = "epochs"
    where: tuple[int, int] | None = None
    final: tuple[float, float] | None = None  # (train, test) accuracy of the current weights
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, settings.epochs + 1):
            opt.lr = scheduled_lr(settings.lr, epoch - 1, settings.schedule,
                                  step_size=settings.step_size, gamma=settings.gamma)
            final = None
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
                yc = net.targets(np.take(y, idx), out=y_buf[:m])
                for b0 in range(0, m, bs):
                    net.backward(xc[b0 : b0 + bs], yc[b0 : b0 + bs])
                    batch += 1
                    if not math.isfinite(out_grad.sum()):
                        where = (epoch, batch)
                        break
                    for name, p, g in steps:
                        step(name, p, g)
                    if batch % every == 0:
                        loss = net.batch_loss()
                        paused = time.perf_counter()
                        yield BatchRecord(epoch, batch, loss)
                        start += time.perf_counter() - paused  # not counting the consumer
                        if should_stop is not None and should_stop():
                            stop_reason = "stopped"
                            break
                if where is not None or stop_reason == "stopped":
                    break
            if where is not None:
                total += time.perf_counter() - start
                yield BatchRecord(epoch, batch, net.batch_loss())
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
            train_loss, train_acc = net.evaluate(X, y)
            _, test_acc = net.evaluate(Xt, yt)
            final = (train_acc, test_acc)
            yield EpochRecord(epoch, train_loss, train_acc, test_acc, seconds, opt.lr, stats)
            if not math.isfinite(train_loss):
                stop_reason, where = "diverged", (epoch, batch)
                break
    if final is None:  # stopped or diverged within an epoch: evaluate the weights as they are
        final = (net.accuracy(X, y), net.accuracy(Xt, yt))
    yield TrainSummary(
        stop_reason, epoch, final[1], final[0], total,
        where[0] if where else None, where[1] if where else None,
    )
