"""The records every scenario kind produces, and how each is written as JSON.

A run is a stream of plain value records (numbers, arrays, dicts of numbers: nothing that holds
the run's state) ending with one summary. Keys mean the same in every kind: ``epoch``, ``batch``,
``loss``, ``lr``, ``seconds``, ``stop_reason``.

- graph kind: one ``IterationRecord`` per evaluated state (iteration 0 is the start), then a
  ``GraphSummary``. What only the app's explain panel needs about the newest step (the optimizer
  that took it, its state before and after, d output / d node) is a ``StepDetail`` that the
  runner keeps for its latest step, never part of a record.
- network kind: ``BatchRecord`` every ``report_every`` mini-batches, one ``EpochRecord`` per
  epoch (epoch 0 is the state before any training), then a ``NetworkSummary``.

JSON is strict: NaN and infinities are written as null, and the summary's message says what
happened (a diverged run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Value = Any  # a float or a numpy array

#: why a run ended, for every kind ("paused": a session's trace that is still going)
STOP_REASONS = ("converged", "max_iterations", "epochs", "early_stop", "diverged",
                "zero_factor", "stopped", "paused")


def plain(v: Any) -> Any:
    """JSON-ready: arrays as lists, numpy scalars as Python ones, NaN and infinities as null
    (strict JSON has no such numbers; the summary's message says what happened)."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return plain(v.tolist())
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    if isinstance(v, np.floating | np.integer):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# --- the graph kind -----------------------------------------------------------------------

@dataclass
class IterationRecord:
    """One evaluated state and the step taken from it (empty on the final state)."""

    iteration: int
    params: dict[str, Value]
    values: dict[str, float]
    output: float
    delta: float | None = None
    loss: float | None = None
    factors: dict[str, Value] | None = None
    grads: dict[str, Value] | None = None
    step: dict[str, Value] = field(default_factory=dict)
    lr: float | None = None
    grad_norm: float | None = None
    epoch: int | None = None
    batch: int | None = None
    rule: str = ""  # "target" or "gradient": which keys the JSON object has

    def to_json(self) -> dict[str, Any]:
        """The JSONL object of this record (floats at full precision, arrays as lists)."""
        d: dict[str, Any] = {
            "iteration": self.iteration,
            "params": plain(self.params),
            "values": plain(self.values),
        }
        if self.rule == "target" or (not self.rule and self.factors is not None):
            d["factors"] = plain(self.factors or {})
            d["delta"] = plain(self.delta)
        else:
            d["grads"] = plain(self.grads or {})
            d["loss"] = plain(self.loss)
            d["lr"] = self.lr
            d["grad_norm"] = plain(self.grad_norm)
            d["epoch"] = self.epoch
            if self.batch is not None:
                d["batch"] = self.batch
        d["step"] = plain(self.step)
        return d


@dataclass
class StepDetail:
    """What the explain panel shows about one step beyond its record (kept for the newest step).

    ``optimizer``: the optimizer that took the step (a later settings change replaces the run's);
    ``before``/``after``: each parameter's optimizer state around the step; ``node_grads``:
    d output / d node at the recorded state.
    """

    iteration: int
    optimizer: Any = None
    before: dict[str, dict[str, Value]] | None = None
    after: dict[str, dict[str, Value]] | None = None
    node_grads: dict[str, Value] | None = None


# --- summaries ----------------------------------------------------------------------------

@dataclass(kw_only=True)
class Summary:
    """How a run ended: every kind's summary has these; ``seconds`` is not written to JSON by
    the graph kind (its outputs are compared byte for byte)."""

    scenario: str
    variant: str | None
    stop_reason: str
    message: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:  # pragma: no cover - every kind overrides
        return {"summary": {"scenario": self.scenario, "variant": self.variant,
                            "stop_reason": self.stop_reason, "message": self.message}}


@dataclass(kw_only=True)
class GraphSummary(Summary):
    """The end of a graph run: updates taken, the final parameters and output."""

    updates: int
    final_params: dict[str, Value]
    final_output: float

    def to_json(self) -> dict[str, Any]:
        return {"summary": {
            "scenario": self.scenario, "variant": self.variant,
            "stop_reason": self.stop_reason, "updates": self.updates,
            "final_params": plain(self.final_params), "final_output": plain(self.final_output),
            "message": self.message,
        }}


# --- the network kind ---------------------------------------------------------------------

@dataclass(frozen=True)
class BatchRecord:
    """The loss of mini-batch ``batch`` (1-based within ``epoch``, 1-based) before its step,
    and the learning rate of that step."""

    epoch: int
    batch: int
    loss: float
    lr: float

    def to_json(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "batch": self.batch, "loss": plain(self.loss),
                "lr": self.lr}


@dataclass(frozen=True)
class EpochRecord:
    """The network after epoch ``epoch`` (0: before any training).

    Losses are the mean cost over a whole set (plus the regularisation term); accuracies are
    fractions (None for regression), the validation figures None without a validation set.
    ``lr``: the rate in force during the epoch (for epoch 0, the first epoch's); ``seconds``:
    training time of this epoch alone (no loading, no evaluation; 0 for epoch 0);
    ``layer_grad_norm``: for each layer l, ||dC/db_l|| over a fixed set of up to 1,000 training
    examples (Nielsen's speed of learning). ``layer_stats`` (not written to JSON): the
    backprop numbers of the epoch's last mini-batch, for the dashboard.
    """

    epoch: int
    train_loss: float
    test_loss: float
    lr: float
    seconds: float
    layer_grad_norm: tuple[float, ...] = ()
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    validation_loss: float | None = None
    validation_accuracy: float | None = None
    layer_stats: list[dict[str, Any]] = field(default_factory=list, compare=False)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"epoch": self.epoch, "train_loss": self.train_loss,
                             "test_loss": self.test_loss}
        if self.train_accuracy is not None:
            d["train_accuracy"] = self.train_accuracy
            d["test_accuracy"] = self.test_accuracy
        if self.validation_loss is not None:
            d["validation_loss"] = self.validation_loss
            if self.validation_accuracy is not None:
                d["validation_accuracy"] = self.validation_accuracy
        d.update(lr=self.lr, seconds=self.seconds, layer_grad_norm=list(self.layer_grad_norm))
        return plain(d)


@dataclass(kw_only=True)
class NetworkSummary(Summary):
    """The end of a network run.

    ``epochs``: epochs completed; the final figures are those of the weights the run ended
    with; ``diverged_epoch``/``diverged_batch``: where the loss became NaN or infinite;
    ``seconds``: the sum of the epochs' training seconds; ``data``: which data was used.
    """

    epochs: int
    final_train_loss: float
    final_test_loss: float
    final_train_accuracy: float | None = None
    final_test_accuracy: float | None = None
    final_validation_loss: float | None = None
    final_validation_accuracy: float | None = None
    diverged_epoch: int | None = None
    diverged_batch: int | None = None
    data: str = ""

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "scenario": self.scenario, "variant": self.variant, "data": self.data,
            "stop_reason": self.stop_reason, "epochs": self.epochs,
            "final_train_loss": self.final_train_loss, "final_test_loss": self.final_test_loss,
        }
        if self.final_test_accuracy is not None:
            d["final_train_accuracy"] = self.final_train_accuracy
            d["final_test_accuracy"] = self.final_test_accuracy
        if self.final_validation_loss is not None:
            d["final_validation_loss"] = self.final_validation_loss
            if self.final_validation_accuracy is not None:
                d["final_validation_accuracy"] = self.final_validation_accuracy
        d.update(seconds=self.seconds, diverged_epoch=self.diverged_epoch,
                 diverged_batch=self.diverged_batch, message=self.message)
        return {"summary": plain(d)}
