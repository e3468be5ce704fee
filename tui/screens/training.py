"""The network dashboard's training worker: the messages it posts to the screen and the loop
that posts them (runs in a thread; the screen only draws what the messages hold)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from textual.message import Message

from engine.records import BatchRecord, EpochRecord, NetworkSummary

from ..widgets.mnist_panels import confusion_matrix

SAMPLE_DIGITS = 40  # test digits sent to the grid (it shows as many as fit)
POINTS_PER_EPOCH = 100  # batch losses reported per epoch for the live curve (at most)
POST_SECONDS = 0.05  # the worker posts batch losses at most this often


@dataclass
class Control:
    """One training run's switches, shared with its worker thread."""

    stop: threading.Event
    resume: threading.Event  # set while running, clear while paused

    @classmethod
    def new(cls) -> Control:
        resume = threading.Event()
        resume.set()
        return cls(threading.Event(), resume)


class Loaded(Message, namespace="mnist_screen"):
    """The data is in memory: where it came from and the digits the grid will show (None
    unless MNIST)."""

    def __init__(self, run: int, source: str, subset: bool, n_train: int, n_test: int,
                 images: np.ndarray | None, labels: np.ndarray | None) -> None:
        super().__init__()
        self.run, self.source, self.subset = run, source, subset
        self.n_train, self.n_test = n_train, n_test
        self.images, self.labels = images, labels


class Batch(Message, namespace="mnist_screen"):
    """Batch losses since the last message, with the backprop numbers of the newest batch."""

    def __init__(self, run: int, records: list[BatchRecord],
                 stats: list[dict[str, Any]]) -> None:
        super().__init__()
        self.run, self.records, self.stats = run, records, stats


class Epoch(Message, namespace="mnist_screen"):
    """An epoch's record, the test predictions of the sample digits and the confusion."""

    def __init__(self, run: int, record: EpochRecord, predictions: np.ndarray | None,
                 confusion: np.ndarray | None) -> None:
        super().__init__()
        self.run, self.record = run, record
        self.predictions, self.confusion = predictions, confusion


class Finished(Message, namespace="mnist_screen"):
    """The run's summary (or the one-line error that stopped it)."""

    def __init__(self, run: int, summary: NetworkSummary | None, error: str = "") -> None:
        super().__init__()
        self.run, self.summary, self.error = run, summary, error


def post_training(screen: Any, run: int, control: Control, stopped: Callable[[], bool],
                  train: Callable[..., Iterator[Any]]) -> None:
    """The body of the dashboard's worker thread: load ``screen``'s scenario's data, train with
    ``train`` (engine.train.train), post what the screen draws (Loaded, Batch, Epoch,
    Finished), hold while ``control`` says pause, stop when ``stopped()``. ``screen`` provides
    scenario, variant, settings, digits (show MNIST digits), n_classes (None: regression)
    and post_message."""
    sc, variant = screen.scenario, screen.variant
    data = sc.dataset(variant)
    sc.check_fit(variant, data)
    k = min(SAMPLE_DIGITS, len(data.X_test)) if screen.digits else 0
    classes = screen.n_classes
    screen.post_message(Loaded(
        run, data.description, data.is_subset, len(data.X_train), len(data.X_test),
        data.X_test[:k] if k else None, data.y_test[:k] if k else None))
    batches = math.ceil(len(data.X_train) / int(screen.settings.batch_size or 1))
    every = min(screen.settings.report_every, max(1, batches // POINTS_PER_EPOCH))
    settings = replace(screen.settings, report_every=every)
    net = sc.build_model(variant, data)
    records = train(net, settings, data, should_stop=stopped, scenario=sc.name,
                    variant=variant)
    pending: list[BatchRecord] = []
    posted = time.monotonic()

    def flush() -> None:
        nonlocal posted
        if pending:
            screen.post_message(Batch(run, list(pending), net.layer_stats()))
            pending.clear()
        posted = time.monotonic()

    try:
        for rec in records:
            # The trainer is suspended here: reading the network is safe.
            if isinstance(rec, BatchRecord):
                pending.append(rec)
                if time.monotonic() - posted >= POST_SECONDS:
                    flush()
            elif isinstance(rec, EpochRecord):
                flush()
                pred = conf = None
                if classes is not None:
                    pred = net.predict(data.X_test)
                    conf = confusion_matrix(data.y_test, pred, classes)
                screen.post_message(Epoch(run, rec, None if pred is None else pred[:k],
                                             conf))
            else:
                flush()
                screen.post_message(Finished(run, rec))
            if not control.resume.is_set():
                flush()
            while not control.resume.is_set() and not stopped():
                control.resume.wait(0.1)  # paused; should_stop ends the run when stopped
    finally:
        records.close()
