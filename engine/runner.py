"""Iterate a graph scenario: one record per evaluated state (iteration 0 is the start), then a
summary.

``Run`` holds the compiled graph and the rule; ``step()`` evaluates the current state, lets the
rule decide (stop, or the step to apply) and returns that state's record, made by ``_record``
(the one place where records are made). Every state is written into the run's ``trace``
(engine/trace.py: a row of float64 numbers, the records made from it on demand); ``advance(n)``
takes up to n states without making records at all, and for a graph of floats under the
gradient rule it keeps its loop to the compiled graph, the optimizer and the row (``_fast``).
Views (tables, CSV, JSONL, plots, the app) only read records or the trace's rows; they never
recompute what a record holds. With ``detail`` (the app) the run also keeps a ``StepDetail`` of
its newest step: the optimizer that took it and its state around the step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from .batches import Batcher
from .errors import NumericError, ScenarioError
from .graph import Graph
from .records import STOP_REASONS, GraphSummary, IterationRecord, StepDetail
from .rules import GradientRule, TargetRule, Visit, make_rule
from .run import RunConfig
from .trace import Trace

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
        should_stop: Callable[[], bool] | None = None, keep: bool = True,
    ) -> None:
        self.scenario = scenario
        self.variant = variant
        self.cfg = config or scenario.config(variant)
        self.detail = detail  # keep a StepDetail of the newest step (for the app)
        self.should_stop = should_stop  # checked before each step: true ends the run
        self.graph: Graph = scenario.build_graph()
        self.start = {p: _copy(self.graph.value(p)) for p in self.graph.params}
        self.rule: TargetRule | GradientRule = make_rule(self.cfg, detail)
        self._batches = Batcher(self.graph, self.cfg)
        self.iteration = 0
        self.keep = keep  # the trace holds every state (else: those not yet dropped)
        self.trace = Trace(self.cfg.rule, keep)
        self.summary: GraphSummary | None = None
        self._stop_now = False  # should_stop said yes in the fast loop: the next state is last
        self._fast_plan: tuple | None | bool = False  # False: not looked at yet
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

    @property
    def last(self) -> IterationRecord | None:
        """The newest state's record (None before the first, or once dropped)."""
        t = self.trace
        return t.record(len(t) - 1) if len(t) > t.base else None

    def resume_at(self, iteration: int) -> None:
        """Number the next state ``iteration`` (a run continued with new settings)."""
        self.iteration = iteration
        self.trace = Trace(self.cfg.rule, self.keep, first=iteration)
        self._fast_plan = False

    def reset(self, params: dict[str, Value] | None = None) -> None:
        """Back to the starting point (or to ``params``), forgetting the rule's state."""
        for p, v in (params or self.start).items():
            self.graph.set_value(p, _copy(v))
        self.rule.reset()
        self._batches = Batcher(self.graph, self.cfg)
        self.iteration = 0
        self.trace = Trace(self.cfg.rule, self.keep)
        self.summary = None
        self._stop_now = False
        self._fast_plan = False
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
        self.resume_at(old.iteration)
        self._batches.carry_on(old._batches, old.iteration)

    def step(self) -> IterationRecord:
        """Evaluate the current state, take the rule's step (unless it stops), return the record."""
        if self.summary is not None:
            raise RuntimeError("the run has stopped; reset() to start again")
        limit = "epochs" if self._batches.epoch_limit_reached(self.iteration) else None
        rec, stop, message = self._evaluate(limit, stopping=True)
        if stop is not None:
            return self._finish(rec, stop, message)
        self.trace.add(rec)
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
        if stopping and (self._stop_now or
                         (self.should_stop is not None and self.should_stop())):
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
        self.trace.add(rec)
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
            start = len(self.trace)
            self.advance(256)
            for i in range(start, len(self.trace)):
                yield self.trace.record(i)

    __iter__ = records

    def run_all(self) -> tuple[Trace, GraphSummary]:
        """Run to the stop condition; return the trace of every state and the summary."""
        while self.summary is None:
            self.advance(1 << 16)
        return self.trace, self.summary

    def advance(self, n: int) -> int:
        """Take up to ``n`` states into the trace (fewer if the run stops); how many."""
        start = len(self.trace)
        while self.summary is None and len(self.trace) - start < n:
            left = n - (len(self.trace) - start)
            # with detail, the newest two states are stepped whole: their StepDetails explain
            if not self._fast(left - 2 if self.detail else left):
                self.step()
        return len(self.trace) - start

    def _fast(self, n: int) -> int:
        """Up to ``n`` states of the gradient rule on a graph of floats, written as rows; stops
        before a state that needs more (the last, a diverged one): ``step()`` takes that one
        from the start. How many were taken. The numbers are those ``step()`` computes, in the
        same order (its rule's ``visit``), so the rows equal its records."""
        # should_stop said yes: the state it answered at is step()'s (asked once, so an answer
        # given once ends the run there)
        plan = self._plan() if n > 0 and not self._stop_now else None
        if plan is None:
            return 0
        g, vals, out, order, train, opt = plan
        cfg, trace, should_stop = self.cfg, self.trace, self.should_stop
        tol, gtol, last = cfg.tolerance, cfg.grad_tolerance, cfg.max_iterations
        # without mini-batches each state is an epoch: epoch = epoch0 + iteration - iter0
        shift = self._batches.epoch0 - self._batches.iter0
        if cfg.epochs is not None:
            last = min(last, cfg.epochs - shift)  # Batcher.epoch_limit_reached
        isfinite, sqrt = math.isfinite, math.sqrt
        lr_at = None if cfg.schedule == "constant" else cfg.lr_at
        lr = cfg.lr_at(0)
        run_forward, backward = g._run_forward, g._backward  # noqa: SLF001 - floats only
        current = itemgetter(*order) if len(order) > 1 else lambda v: (v[order[0]],)
        step, steps = opt.step, []
        taken, it, stop = 0, self.iteration, False
        while not stop and taken < n and it < last:
            todo = min(n - taken, last - it, trace.room())  # rows up to the chunk's end
            extend, done = trace.buf.extend, 0
            try:
                while done < todo:
                    run_forward(vals)  # g.forward() without its error report: step() has it
                    loss = vals[out]
                    if not isfinite(loss):
                        stop = True
                        break
                    gl = backward(out, 1.0)
                    grads = [gl[i] for _, i in train]
                    norm = sqrt(sum([x * x for x in grads]))  # the rule's grad_norm, alike
                    if not isfinite(norm) or (tol is not None and loss < tol) \
                            or (gtol is not None and norm < gtol):
                        stop = True
                        break
                    if should_stop is not None and should_stop():
                        self._stop_now = stop = True
                        break
                    if lr_at is not None:
                        lr = lr_at(it + shift)
                    opt.lr = lr
                    extend(current(vals))
                    extend((loss, norm, lr, it + shift, *grads))  # the epoch, as a float
                    for (p, i), gp in zip(train, grads):  # noqa: B905 - the same length
                        old = vals[i]
                        vals[i] = new = step(p, old, gp)
                        steps.append(old - new)
                        if type(new) is not float:
                            g.set_value(p, new)
                    extend(steps)
                    steps.clear()
                    done += 1
                    it += 1
            except (NumericError, ArithmeticError, ValueError):
                stop = True  # step() evaluates this state again and records how it failed
            finally:
                trace.extended(done)
                taken += done
                self.iteration = it
        return taken

    def _plan(self) -> tuple | None:
        """What ``_fast`` needs, once the first state has fixed the trace's layout; None when
        this run's states need ``step()`` (target rule, arrays, mini-batches)."""
        if self._fast_plan is not False:
            return self._fast_plan
        lay, g, cfg = self.trace.layout, self.graph, self.cfg
        if lay is None:
            return None  # the first state goes through step()
        plan = None
        scalar = g._scalar and all(s is None for _, s in lay.params + lay.train)  # noqa: SLF001
        if cfg.rule == "gradient" and scalar and not lay.batch \
                and self._batches.size is None \
                and [p for p, _ in lay.train] == list(cfg.train) \
                and list(lay.values) == list(g.order) \
                and [p for p, _ in lay.params] == list(g.params):
            index = g.index
            plan = (g, g._vals, index[cfg.output],  # noqa: SLF001 - the graph's value slots
                    [index[p] for p in g.params] + [index[k] for k in g.order],
                    [(p, index[p]) for p in cfg.train], self.rule.optimizer)
        self._fast_plan = plan
        return plan
