"""Iterate a scenario: one record per evaluated state (iteration 0 is the start), then a summary.

``Run`` holds the compiled graph and the rule; ``step()`` evaluates the current state, lets the
rule decide (stop, or the step to apply) and returns that state's record. Views (tables, CSV,
JSONL, plots, the app) only read records; they never recompute what a record holds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import NumericError
from .graph import Graph
from .rules import GradientRule, TargetRule, Visit, make_rule
from .scenario import RunConfig, Scenario

Value = Any

STOP_REASONS = ("converged", "max_iterations", "epochs", "diverged", "zero_factor")


def _copy(v: Value) -> Value:
    return v.copy() if isinstance(v, np.ndarray) else v


@dataclass
class Record:
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
    opt_state: dict[str, dict[str, Value]] | None = None  # the optimizer's state after the step
    opt_before: dict[str, dict[str, Value]] | None = None  # and before it
    optimizer: Any = None  # the optimizer that took the step, to explain it (not exported)
    node_grads: dict[str, Value] | None = None  # d output / d node, when asked for (the app)
    rule: str = ""  # "target" or "gradient": which keys the JSON object has

    def to_json(self) -> dict[str, Any]:
        """The JSONL object of this record (floats at full precision, arrays as lists)."""
        d: dict[str, Any] = {
            "iteration": self.iteration,
            "params": _plain(self.params),
            "values": _plain(self.values),
        }
        if self.rule == "target" or (not self.rule and self.factors is not None):
            d["factors"] = _plain(self.factors or {})
            d["delta"] = _plain(self.delta)
        else:
            d["grads"] = _plain(self.grads or {})
            d["loss"] = _plain(self.loss)
            d["lr"] = self.lr
            d["grad_norm"] = _plain(self.grad_norm)
            d["epoch"] = self.epoch
            if self.batch is not None:
                d["batch"] = self.batch
        d["step"] = _plain(self.step)
        return d


@dataclass
class Summary:
    """How a run ended."""

    scenario: str
    variant: str | None
    stop_reason: str
    updates: int
    final_params: dict[str, Value]
    final_output: float
    message: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"summary": {
            "scenario": self.scenario, "variant": self.variant,
            "stop_reason": self.stop_reason, "updates": self.updates,
            "final_params": _plain(self.final_params), "final_output": _plain(self.final_output),
            "message": self.message,
        }}


def _plain(v: Any) -> Any:
    """JSON-ready: arrays as lists, numpy scalars as Python ones, NaN and infinities as null
    (strict JSON has no such numbers; the summary's message says what happened)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, np.floating | np.integer):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class Run:
    """A scenario being iterated: call ``step()`` per state, or iterate ``records()``."""

    def __init__(
        self, scenario: Scenario, variant: str | None = None, *,
        config: RunConfig | None = None, detail: bool = False,
    ) -> None:
        self.scenario = scenario
        self.variant = variant
        self.cfg = config or scenario.config(variant)
        self.detail = detail  # also record every named node's gradient (for the app)
        self.graph: Graph = scenario.build_graph()
        self.start = {p: _copy(self.graph.value(p)) for p in self.graph.params}
        self.rule: TargetRule | GradientRule = make_rule(self.cfg)
        self._batches = _Batcher(self.graph, self.cfg)
        self.iteration = 0
        self.summary: Summary | None = None
        self.last: Record | None = None
        self._t0 = time.perf_counter()

    @property
    def stopped(self) -> bool:
        return self.summary is not None

    def reset(self, params: dict[str, Value] | None = None) -> None:
        """Back to the starting point (or to ``params``), forgetting the rule's state."""
        for p, v in (params or self.start).items():
            self.graph.set_value(p, _copy(v))
        self.rule.reset()
        self._batches = _Batcher(self.graph, self.cfg)
        self.iteration = 0
        self.summary = None
        self.last = None
        self._t0 = time.perf_counter()

    def step(self) -> Record:
        """Evaluate the current state, take the rule's step (unless it stops), return the record."""
        if self.summary is not None:
            raise RuntimeError("the run has stopped; reset() to start again")
        g, cfg = self.graph, self.cfg
        epoch, batch = self._batches.next(self.iteration)
        params = {p: _copy(g.value(p)) for p in g.params}
        try:
            g.forward()
        except NumericError as exc:
            return self._finish(Record(self.iteration, params, {}, float("nan"),
                                       epoch=epoch, batch=batch, rule=cfg.rule),
                                "diverged", f"{exc.message} at node '{exc.node}'")
        values = {n: float(g.value(n)) for n in g.order if np.ndim(g.value(n)) == 0}
        node_grads = None
        if self.detail:  # at this state, before the rule moves the parameters
            try:
                node_grads = g.named_gradients(cfg.output)
            except NumericError:
                node_grads = None
        limit = "epochs" if self._batches.epoch_limit_reached(self.iteration) else None
        try:
            v: Visit = self.rule.visit(g, self.iteration, epoch or 0, limit)
        except NumericError as exc:
            v = Visit(g.value(cfg.output), stop="diverged",
                      message=f"{exc.message} at node '{exc.node}'")
        rec = Record(
            iteration=self.iteration, params=params, values=values, output=float(v.output),
            delta=v.delta, loss=v.loss, factors=v.factors, grads=v.grads, step=v.step,
            lr=v.lr, grad_norm=v.grad_norm,
            epoch=epoch if isinstance(self.rule, GradientRule) else None,
            batch=batch, opt_state=v.opt_state, opt_before=v.opt_before, optimizer=v.optimizer,
            node_grads=node_grads, rule=cfg.rule,
        )
        if v.stop is not None:
            return self._finish(rec, v.stop, v.message)
        self.last = rec
        self.iteration += 1
        return rec

    def _finish(self, rec: Record, reason: str, message: str) -> Record:
        rec.step = {}
        if reason == "diverged":
            message = f"{message} at iteration {rec.iteration}"
        self.last = rec
        self.summary = Summary(
            scenario=self.scenario.name, variant=self.variant, stop_reason=reason,
            updates=rec.iteration, final_params=dict(rec.params), final_output=rec.output,
            message=message, seconds=time.perf_counter() - self._t0,
        )
        return rec

    def records(self) -> Iterator[Record]:
        """Every remaining record, up to and including the final one."""
        while self.summary is None:
            yield self.step()

    def run_all(self) -> tuple[list[Record], Summary]:
        """Run to the stop condition; return every record and the summary."""
        recs = list(self.records())
        assert self.summary is not None
        return recs, self.summary


class _Batcher:
    """Feeds the graph's data nodes one mini-batch per iteration (full batch without batch_size).

    Each epoch visits the rows in an order shuffled by ``numpy.random.default_rng(seed)``.
    """

    def __init__(self, g: Graph, cfg: RunConfig) -> None:
        self.g, self.cfg = g, cfg
        self.full = {d: g.value(d) for d in g.data}
        self.n = 0
        self.per_epoch = 1
        if cfg.batch_size and self.full:
            lengths = {d: np.shape(v)[0] for d, v in self.full.items() if np.ndim(v) > 0}
            self.n = min(lengths.values()) if lengths else 0
            if len(set(lengths.values())) > 1:
                from .errors import ScenarioError
                raise ScenarioError(
                    f"{g.source}: [run] key 'batch_size': mini-batches need data arrays of one "
                    f"length, got " + ", ".join(f"{d}: {n}" for d, n in lengths.items())
                )
            self.per_epoch = max(1, -(-self.n // cfg.batch_size))
        self.rng = np.random.default_rng(cfg.seed)
        self.order: np.ndarray | None = None

    def epoch_limit_reached(self, iteration: int) -> bool:
        return self.cfg.epochs is not None and iteration >= self.cfg.epochs * self.per_epoch

    def next(self, iteration: int) -> tuple[int | None, int | None]:
        """Set the data for ``iteration``; return (epoch, batch within the epoch)."""
        if not self.cfg.batch_size or not self.n:
            return (iteration if self.cfg.rule == "gradient" else None), None
        epoch, batch = divmod(iteration, self.per_epoch)
        if batch == 0 or self.order is None:
            self.order = self.rng.permutation(self.n)
        idx = self.order[batch * self.cfg.batch_size:(batch + 1) * self.cfg.batch_size]
        for d, v in self.full.items():
            if np.ndim(v) > 0:
                self.g.set_value(d, v[idx])
        return epoch, batch
