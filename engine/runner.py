"""Iterate a graph scenario: one record per evaluated state (iteration 0 is the start), then a
summary.

``Run`` holds the compiled graph and the rule; ``step()`` evaluates the current state, lets the
rule decide (stop, or the step to apply) and returns that state's record, made by ``_record``
(the one place where records are made). Views (tables, CSV, JSONL, plots, the app) only read
records; they never recompute what a record holds. With ``detail`` (the app) the run also keeps a
``StepDetail`` of its newest step: the optimizer that took it and its state around the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NumericError, ScenarioError
from .graph import Graph
from .records import STOP_REASONS, GraphSummary, IterationRecord, StepDetail
from .rules import GradientRule, TargetRule, Visit, make_rule
from .run import RunConfig

if TYPE_CHECKING:
    from .kinds.graph import GraphScenario

Value = Any

__all__ = ["STOP_REASONS", "Run"]


def _copy(v: Value) -> Value:
    return v.copy() if isinstance(v, np.ndarray) else v


class Run:
    """A scenario being iterated: call ``step()`` per state, or iterate ``records()``."""

    def __init__(
        self, scenario: GraphScenario, variant: str | None = None, *,
        config: RunConfig | None = None, detail: bool = False,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.scenario = scenario
        self.variant = variant
        self.cfg = config or scenario.config(variant)
        self.detail = detail  # keep a StepDetail of the newest step (for the app)
        self.should_stop = should_stop  # checked before each step: true ends the run
        self.graph: Graph = scenario.build_graph()
        self.start = {p: _copy(self.graph.value(p)) for p in self.graph.params}
        self.rule: TargetRule | GradientRule = make_rule(self.cfg, detail)
        self._batches = _Batcher(self.graph, self.cfg)
        self.iteration = 0
        self.summary: GraphSummary | None = None
        self.last: IterationRecord | None = None
        # of the two newest steps (detail on): a tuple replaced whole, so that the app's thread
        # may read it while the worker steps
        self.details: tuple[StepDetail, ...] = ()
        self._t0 = time.perf_counter()

    @property
    def last_detail(self) -> StepDetail | None:
        """The StepDetail of the newest state (None without ``detail``)."""
        return self.details[-1] if self.details else None

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
        self.details = ()
        self._t0 = time.perf_counter()

    def check_batches(self) -> None:
        """Evaluate the graph on a mini-batch of each size its epochs have (the last one may be
        shorter), without a step: data whose shapes do not fit a mini-batch are refused here
        (ScenarioError naming the file and the node, as the step that met them would say)."""
        batches = self._batches
        try:
            for rows in batches.sizes():
                batches.take(rows)
                try:
                    self._forward()
                except NumericError:
                    pass  # numbers are the run's business: a divergence, with its iteration
        finally:
            batches.take(None)

    def _forward(self) -> None:
        """Evaluate the graph; shapes that do not fit, met in a mini-batch, say so."""
        try:
            self.graph.forward()
        except ScenarioError as exc:
            rows = self._batches.rows
            if rows is None:
                raise
            raise ScenarioError(f"{exc}, in a mini-batch of {rows} row{'s' if rows != 1 else ''} "
                                f"(batch_size = {self._batches.size})") from None

    def continue_from(self, old: Run) -> None:
        """Go on from ``old`` (this scenario under other settings): its parameter values, its
        iteration and its epoch count (so the learning-rate schedule goes on too)."""
        self.reset(params={p: old.graph.value(p) for p in old.graph.params})
        self.iteration = old.iteration
        self._batches.carry_on(old._batches, old.iteration)

    def step(self) -> IterationRecord:
        """Evaluate the current state, take the rule's step (unless it stops), return the record."""
        if self.summary is not None:
            raise RuntimeError("the run has stopped; reset() to start again")
        limit = "epochs" if self._batches.epoch_limit_reached(self.iteration) else None
        rec, stop, message = self._evaluate(limit, stopping=True)
        if stop is not None:
            return self._finish(rec, stop, message)
        self.last = rec
        self.iteration += 1
        return rec

    def peek(self) -> IterationRecord:
        """The record of the current state as a last one (no step), leaving the run as it was:
        the row a paused trace ends on. A stopped run's is its final record."""
        if self.summary is not None:
            assert self.last is not None
            return self.last
        fixed = getattr(self.rule, "fixed", None)
        try:
            rec, _, _ = self._evaluate("paused", stopping=False)
        finally:
            if isinstance(self.rule, TargetRule):
                self.rule.fixed = fixed
        rec.step = {}
        return rec

    def _evaluate(self, limit: str | None, stopping: bool
                  ) -> tuple[IterationRecord, str | None, str]:
        """Evaluate the current state and let the rule decide (``limit``: a stop imposed here,
        so that no step is taken); return its record, the stop reason (None: stepped) and a
        message. ``stopping``: a step of the run (should_stop asked, the app's detail kept)."""
        g, cfg = self.graph, self.cfg
        epoch, batch = self._batches.next(self.iteration)
        params = {p: _copy(g.value(p)) for p in g.params}
        try:
            self._forward()
        except NumericError as exc:
            return (IterationRecord(self.iteration, params, {}, float("nan"), epoch=epoch,
                                    batch=batch, rule=cfg.rule),
                    "diverged", f"{exc.message} at node '{exc.node}'")
        values = {n: float(g.value(n)) for n in g.order if np.ndim(g.value(n)) == 0}
        detail = self.detail and stopping
        node_grads = None
        if detail:  # at this state, before the rule moves the parameters
            try:
                node_grads = g.named_gradients(cfg.output)
            except NumericError:
                node_grads = None
        if stopping and self.should_stop is not None and self.should_stop():
            limit = "stopped"  # this state is the last: recorded, and no step taken
        try:
            v: Visit = self.rule.visit(g, self.iteration, epoch or 0, limit)
        except NumericError as exc:
            v = Visit(g.value(cfg.output), stop="diverged",
                      message=f"{exc.message} at node '{exc.node}'")
        rec = self._record(params, values, v, epoch, batch)
        if detail:
            self.details = (*self.details[-1:], StepDetail(self.iteration, v.optimizer,
                                                           v.opt_before, v.opt_state, node_grads))
        return rec, v.stop, v.message

    def _record(self, params: dict[str, Value], values: dict[str, float], v: Visit,
                epoch: int | None, batch: int | None) -> IterationRecord:
        """The record of the state just evaluated (the one place where records are made)."""
        return IterationRecord(
            iteration=self.iteration, params=params, values=values, output=float(v.output),
            delta=v.delta, loss=v.loss, factors=v.factors, grads=v.grads, step=v.step,
            lr=v.lr, grad_norm=v.grad_norm,
            epoch=epoch if isinstance(self.rule, GradientRule) else None,
            batch=batch, rule=self.cfg.rule,
        )

    def _finish(self, rec: IterationRecord, reason: str, message: str) -> IterationRecord:
        rec.step = {}
        if reason == "diverged":
            message = f"{message} at iteration {rec.iteration}"
        self.last = rec
        self.summary = GraphSummary(
            scenario=self.scenario.name, variant=self.variant, stop_reason=reason,
            updates=rec.iteration, final_params=dict(rec.params), final_output=rec.output,
            message=message, seconds=time.perf_counter() - self._t0,
        )
        return rec

    def records(self) -> Iterator[IterationRecord]:
        """Every remaining record, up to and including the final one. A ``should_stop`` that
        returns true makes the next state the final one (stop reason "stopped")."""
        while self.summary is None:
            yield self.step()

    __iter__ = records

    def run_all(self) -> tuple[list[IterationRecord], GraphSummary]:
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
                raise ScenarioError(
                    f"{g.source}: [run] key 'batch_size': mini-batches need data arrays of one "
                    f"length, got " + ", ".join(f"{d}: {n}" for d, n in lengths.items())
                )
            self.per_epoch = max(1, -(-self.n // cfg.batch_size))
        self.size = cfg.batch_size if self.n else None  # rows per batch; None: full batch
        self.rng = np.random.default_rng(cfg.seed)
        self.order: np.ndarray | None = None
        self.drawn: int | None = None  # the epoch whose order of rows ``order`` is
        # iteration iter0 starts epoch epoch0 (0, 0 unless a session changed the batching)
        self.iter0, self.epoch0 = 0, 0
        self.rows: int | None = None  # rows in the data nodes now (None: every row)

    def position(self, iteration: int) -> tuple[int, int | None]:
        """(epoch, batch within the epoch) of ``iteration``; batch None without mini-batches,
        where each iteration is an epoch."""
        if self.size is None:
            return self.epoch0 + iteration - self.iter0, None
        epoch, batch = divmod(iteration - self.iter0, self.per_epoch)
        return self.epoch0 + epoch, batch

    def epoch_limit_reached(self, iteration: int) -> bool:
        return self.cfg.epochs is not None and \
            iteration - self.iter0 >= (self.cfg.epochs - self.epoch0) * self.per_epoch

    def sizes(self) -> list[int]:
        """The batch sizes an epoch has: batch_size, and a shorter last batch if any."""
        return [] if self.size is None else sorted({self.size, self.n % self.size} - {0})

    def take(self, rows: int | None) -> None:
        """Set the data nodes to their first ``rows`` rows (None: every row)."""
        for d, v in self.full.items():
            if np.ndim(v) > 0:
                self.g.set_value(d, v if rows is None else v[:rows])
        self.rows = rows

    def carry_on(self, old: _Batcher, iteration: int) -> None:
        """Go on from ``old`` (the same data under other settings) at ``iteration``: with the
        same batch size the epoch in progress goes on with its order of rows; with another,
        the epoch in progress ends there and the next one starts (each full batch is an
        epoch). Orders are drawn on from where ``old`` drew them."""
        self.rng.bit_generator.state = old.rng.bit_generator.state
        if self.size == old.size:
            self.iter0, self.epoch0 = old.iter0, old.epoch0
            self.order, self.drawn = old.order, old.drawn
            return
        epoch, batch = old.position(iteration)
        self.iter0, self.epoch0 = iteration, epoch + (1 if batch else 0)

    def next(self, iteration: int) -> tuple[int | None, int | None]:
        """Set the data for ``iteration``; return (epoch, batch within the epoch)."""
        epoch, batch = self.position(iteration)
        if batch is None or self.size is None:
            return (epoch if self.cfg.rule == "gradient" else None), None
        if epoch != self.drawn:  # each epoch's order is drawn once (a state seen again: none)
            self.order, self.drawn = self.rng.permutation(self.n), epoch
        assert self.order is not None
        idx = self.order[batch * self.size:(batch + 1) * self.size]
        for d, v in self.full.items():
            if np.ndim(v) > 0:
                self.g.set_value(d, v[idx])
        self.rows = len(idx)
        return epoch, batch
