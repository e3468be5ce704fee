"""What the network screen draws at one moment: a ``Frame`` taken from a NetworkSession.

``take_frame`` runs where the training runs (the screen's worker thread, the session's lock
held, between two mini-batches): it copies the records so far and asks the engine for what the
records do not hold, the pictures of the current network (``engine.models.surface``: the
decision surface or fitted curve, each hidden neuron's map), the numbers of BP1-BP4 for the
selected neuron and example of the last mini-batch (``engine.models.explain.bp_terms``, with the
weights that batch used) and, once per epoch, the test predictions (confusion matrix, MNIST's
digits). The screen's panels only draw a Frame. No textual import here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.models.explain import bp_terms
from engine.models.surface import (
    Curve,
    NeuronMaps,
    Surface,
    decision_surface,
    fitted_curve,
    has_curve,
    has_plane,
    neuron_maps,
)
from engine.records import EpochRecord, NetworkSummary

from .network_session import NetworkSession
from .widgets.mnist_panels import confusion_matrix

SAMPLE_DIGITS = 40  # MNIST's test digits sent to the grid (it shows as many as fit)
NEURON_POINTS = 10  # a neuron's map: at most 10 x 10 grid points drawn (tui/widgets/network_panels.py)


@dataclass
class Selection:
    """The neuron (layer 1..L, index) and the example of the last mini-batch the panels explain."""

    layer: int = 1
    neuron: int = 0
    example: int = 0


@dataclass(eq=False)
class Frame:
    """Everything the panels draw; ``generation`` names the run it belongs to."""

    generation: int
    sizes: list[int]
    epoch: int = 0
    batch: int = 0
    batches_per_epoch: int = 0
    epochs: list[EpochRecord] = field(default_factory=list)
    batch_losses: list[tuple[float, float]] = field(default_factory=list)  # (epoch, loss)
    batch_loss: float | None = None
    summary: NetworkSummary | None = None
    description: str = ""
    surface: Surface | None = None
    curve: Curve | None = None
    neurons: NeuronMaps | None = None
    stats: list[dict[str, Any]] = field(default_factory=list)
    selection: Selection = field(default_factory=Selection)
    incoming: tuple[np.ndarray, float] | None = None  # the selected neuron's w and b
    bp: dict[str, Any] | None = None
    bp_error: str = ""
    confusion: np.ndarray | None = None
    digits: tuple[np.ndarray, np.ndarray] | None = None  # MNIST: sample test images, labels
    predictions: np.ndarray | None = None  # of the sample digits
    class_names: list[str] | None = None  # the data's (a CSV's labels), for the legend
    raw_names: list[str] | None = None  # the raw inputs' names
    batch_n: int = 0  # examples in the last mini-batch (x steps through them)


class Predictions:
    """The test set's predictions, taken once per epoch record (they cost a pass over it)."""

    def __init__(self) -> None:
        self.key: tuple[int, int] = (-1, -1)
        self.confusion: np.ndarray | None = None
        self.predictions: np.ndarray | None = None

    def update(self, s: NetworkSession, classes: int | None) -> None:
        key = (s.generation, len(s.epochs))
        if key == self.key or s.net is None or s.data is None or classes is None:
            return
        self.key = key
        pred = s.net.predict(s.data.X_test)
        self.confusion = confusion_matrix(s.data.y_test, pred, classes)
        self.predictions = pred[:SAMPLE_DIGITS]


def take_frame(s: NetworkSession, sel: Selection, nx: int, ny: int,
               cache: Predictions | None = None, since: tuple[int, int] = (0, 0)) -> Frame:
    """A Frame of ``s`` now (call with ``s.lock`` held, after ``s.prepare()``): the surface on
    an nx x ny grid (ny even: two grid rows per text row), the selection clamped to the net,
    the epoch records and batch losses from index ``since`` on (the ones not sent yet)."""
    trainer, net, data = s.trainer, s.net, s.data
    assert trainer is not None and net is not None and data is not None
    sizes = list(net.sizes)
    sel = clamp(sel, sizes)
    bpe = max(1, trainer.batches_per_epoch)
    f = Frame(s.generation, sizes, trainer.epoch, trainer.batch, trainer.batches_per_epoch,
              s.epochs[since[0]:],
              [(r.epoch - 1 + r.batch / bpe, r.loss) for r in s.batches[since[1]:]],
              s.batch_loss, s.summary, data.description, selection=sel)
    f.class_names = list(data.class_names) if data.class_names else None
    f.raw_names = list(data.raw_names) if data.raw_names else None
    last = net.last_batch()
    f.batch_n = int(last["n"]) if last is not None else 0
    if has_plane(data):
        f.surface = decision_surface(net, data, max(2, nx), max(2, ny))
        f.neurons = neuron_maps(net, data, NEURON_POINTS, NEURON_POINTS)
    elif has_curve(data):
        f.curve = fitted_curve(net, data, max(2, nx))
        f.neurons = neuron_maps(net, data, NEURON_POINTS)
    f.stats = net.layer_stats()
    f.incoming = (np.asarray(net.W[sel.layer][sel.neuron], np.float64).copy(),
                  float(net.b[sel.layer][sel.neuron]))
    if net.last_batch() is not None:
        try:
            f.bp = bp_terms(net, sel.layer, sel.neuron, sel.example,
                            weights=trainer.weights_before or None)
        except IndexError as exc:  # an example beyond a short last batch
            f.bp_error = str(exc)
    classes = None if data.regression else max(2, data.n_classes or 2)
    if cache is not None:
        cache.update(s, classes)
        f.confusion, f.predictions = cache.confusion, cache.predictions
    if data.source == "mnist":
        k = min(SAMPLE_DIGITS, len(data.X_test))
        f.digits = (data.X_test[:k], data.y_test[:k])
    return f


def clamp(sel: Selection, sizes: list[int]) -> Selection:
    """``sel`` moved inside a network of layer ``sizes`` (after an edit removed its neuron)."""
    layer = min(max(1, sel.layer), len(sizes) - 1)
    return Selection(layer, min(max(0, sel.neuron), sizes[layer] - 1), max(0, sel.example))


def step_selection(sel: Selection, sizes: list[int], by: int) -> Selection:
    """The next (``by`` = 1) or previous (-1) neuron, layer by layer, the output layer last."""
    order = [(l, j) for l in range(1, len(sizes)) for j in range(sizes[l])]
    sel = clamp(sel, sizes)
    i = order.index((sel.layer, sel.neuron))
    layer, neuron = order[(i + by) % len(order)]
    return Selection(layer, neuron, sel.example)
