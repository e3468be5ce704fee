"""The state behind one record, re-evaluated on a private copy of the graph (no textual here).

The graph panel and the explain panel need more than a record holds: the chain-rule terms of
the backward pass and a central finite-difference estimate of each parameter's gradient, at
any record a person selects. The Run's own graph has already moved on (the rule applies its
step), so these are computed on a separate graph set to the record's parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.errors import GdlabError
from engine.expr import Expr
from engine.gradcheck import central_difference
from engine.graph import Edge, Graph
from engine.kinds.graph import GraphScenario
from engine.optim import Optimizer
from engine.records import IterationRecord, StepDetail
from engine.run import RunConfig
from engine.symbolic import derivative, to_text, total_derivative

from ..formatting import fmt


@dataclass
class Point:
    """One evaluated state: node values, d output / d node, walk-through edges, FD estimates."""

    values: dict[str, Any]
    grads: dict[str, Any]
    edges: list[Edge]
    fd: dict[str, float]
    error: str = ""
    formulas: dict[str, tuple[str, str]] = field(default_factory=dict)  # p -> (text, numbers)
    # (node, input) -> the local partial d node / d input of the node's own expression:
    # (formula, formula with numbers), e.g. ("y", "9") for dz/dx of z = x * y
    partials: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)


class Probe:
    """A private graph of a scenario, evaluated at the parameters of any record."""

    def __init__(self, scenario: GraphScenario, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.graph: Graph = scenario.build_graph()
        # d output / d p as a formula in the named nodes (None where there is none)
        self.formulas = {p: total_derivative(self.graph, cfg.output, p)
                         for p in self.graph.params if np.ndim(self.graph.value(p)) == 0}
        trees = self.graph.trees
        self.partials = {(n, r): derivative(trees[n], r) for n in trees for r in trees[n].names()}

    def at(self, params: dict[str, Any]) -> Point:
        """Evaluate the graph at ``params`` (a record's parameters)."""
        g, out = self.graph, self.cfg.output
        for p, v in params.items():
            g.set_value(p, v)
        try:
            g.forward()
            grads = g.named_gradients(out)
            edges = g.walkthrough(out)
        except (GdlabError, ArithmeticError, ValueError) as exc:
            return Point({}, {}, [], {}, error=str(exc))
        values = {n: g.value(n) for n in g.names()}
        fd: dict[str, float] = {}
        for p in g.params:
            v = params.get(p, g.value(p))
            if np.ndim(v) != 0:
                continue
            fd[p] = central_difference(g, out, p)
        formulas = _texts(self.formulas, values, skip_constants=True)
        partials = _texts(self.partials, values, skip_constants=False)
        return Point(values, grads, edges, fd, formulas=formulas, partials=partials)


def _texts(exprs: dict[Any, Expr | None], values: dict[str, Any], skip_constants: bool
           ) -> dict[Any, tuple[str, str]]:
    """Each formula as text, and with the values substituted (where both can be written)."""
    out = {}
    for k, e in exprs.items():
        if e is None or (skip_constants and e.kind == "const"):
            continue
        try:
            out[k] = (to_text(e), to_text(e, values, num))
        except (KeyError, TypeError, ValueError):
            pass
    return out


def opnd(x: Any) -> str:
    """``num`` for an operand: a negative number in parentheses, 2 - (-3), not 2 - -3."""
    text = num(x)
    return f"({text})" if text.startswith("-") else text


def partial_text(parent: str, child: str, local: Any, point: Point | None = None) -> str:
    """The local partial of one node's own expression: ``∂z/∂x = y = 9`` (or ``∂x/∂b = 3``)."""
    text = f"∂{parent}/∂{child}"
    formula = point.partials.get((parent, child)) if point is not None else None
    if formula is not None and formula[0] != num(local):
        text += f" = {formula[0]}"
    return f"{text} = {num(local)}"


def edge_text(e: Edge, out: str, point: Point | None = None) -> list[str]:
    """One chain-rule term as a tutorial writes it: the local partial, then what it adds.

    ``∂x/∂b = 3`` / ``dz/db += dz/dx · ∂x/∂b = 9 · 3 = 27``: ∂ is the partial of one node's
    own expression, d the derivative through the whole graph. From the output itself
    (dz/dz = 1): ``dz/dx += ∂z/∂x = 9``.
    """
    lines = [partial_text(e.parent, e.child, e.local, point)]
    if e.parent == out:
        add = f"  d{out}/d{e.child} += ∂{out}/∂{e.child} = {num(e.term)}"
    else:
        add = (f"  d{out}/d{e.child} += d{out}/d{e.parent} · ∂{e.parent}/∂{e.child} = "
               f"{num(e.upstream)} · {num(e.local)} = {num(e.term)}")
    if not _same(e.total, e.term):
        add += f"   (so far d{out}/d{e.child} = {num(e.total)})"
    return [*lines, add]


def _same(a: Any, b: Any) -> bool:
    return bool(np.all(np.asarray(a) == np.asarray(b)))


def num(x: Any) -> str:
    """A number for an equation: as short as it is exact (9, 0.190476), else ``fmt``."""
    if isinstance(x, float | int) and not isinstance(x, bool) and math.isfinite(x):
        if float(x).is_integer() and abs(x) < 1e15:
            return str(int(x))
    return fmt(x)


def explain_target(rec: IterationRecord, cfg: RunConfig, point: Point | None, fixed: bool) -> list[str]:
    """The arithmetic of one target-rule step with its numbers substituted."""
    out = cfg.output
    lines = [f"iteration {rec.iteration}"]
    if rec.delta is None:
        return lines + [f"{out} = {num(rec.output)}: the run stopped here (no step)"]
    lines.append(f"delta_{out} = {out} - target = {num(rec.output)} - {opnd(cfg.target)} "
                 f"= {num(rec.delta)}")
    n = len(cfg.train)
    for p in cfg.train:
        f = (rec.factors or {}).get(p)
        line = f"factor_{p} = d{out}/d{p} = {num(f)}"
        if fixed and rec.iteration > 0:
            line += " (fixed: taken at the starting point)"
            if point and p in point.grads:
                line += f"; here d{out}/d{p} = {num(point.grads[p])}"
        lines.append(line)
        if point and not (fixed and rec.iteration > 0):
            if p in point.formulas:
                text, nums = point.formulas[p]
                lines.append(f"  = {text} = {nums}")
            terms = [e for e in point.edges if e.child == p]
            if len(terms) > 1:
                sym = " + ".join(f"d{out}/d{e.parent}·∂{e.parent}/∂{p}" for e in terms)
                nums = " + ".join(f"{num(e.upstream)}·{num(e.local)}" for e in terms)
                lines.append(f"  = {sym} = {nums}")
            if p in point.fd:
                lines.append(f"  check: (f({p}+h) - f({p}-h)) / 2h = {point.fd[p]:.12g}")
        step = rec.step.get(p)
        if step is None:
            continue
        share = f"delta_{out} / {n}" if n > 1 else f"delta_{out}"
        nums = f"({num(rec.delta)} / {n})" if n > 1 else num(rec.delta)
        lines.append(f"step_{p} = {share} / factor_{p} = {nums} / {opnd(f)} = {num(step)}")
        old = rec.params[p]
        lines.append(f"{p} = {num(old)} - {opnd(step)} = {num(old - step)}")
    return lines


def explain_gradient(rec: IterationRecord, cfg: RunConfig, optimizer: Optimizer,
                     point: Point | None, detail: StepDetail | None = None) -> list[str]:
    """The arithmetic of one gradient-rule step: the gradient, the optimizer's update and state.

    ``detail``: the step's optimizer and its state around the step (the run keeps it for its
    newest step); without it, the step is explained with ``optimizer`` and no state.
    """
    out = cfg.output
    lines = [f"iteration {rec.iteration}" + (f"  (epoch {rec.epoch})" if cfg.batch_size else ""),
             f"{'loss' if out == 'loss' else f'loss {out}'} = {num(rec.output)}"]
    if rec.grads is None:
        return lines + ["the run stopped here (no step)"]
    if detail is not None and detail.iteration != rec.iteration:
        detail = None
    took = (detail.optimizer if detail else None) or optimizer  # the one that took this step
    label = cfg.optimizer if took is optimizer else took.name
    lines.append(f"optimizer {label}, lr = {num(rec.lr)}:  {took.equation()}")
    for p in cfg.train:
        g = rec.grads.get(p)
        line = f"g_{p} = d{out}/d{p} = {num(g)}"
        if point and p in point.fd:
            line += f"   (finite difference: {point.fd[p]:.12g})"
        lines.append(line)
        if point and p in point.formulas:
            text, nums = point.formulas[p]
            lines.append(f"  = {text} = {nums}")
        step = rec.step.get(p)
        if step is None:
            continue
        old = rec.params[p]
        if all(np.ndim(x) == 0 for x in (old, g, step)):
            before = ((detail.before if detail else None) or {}).get(p, {})
            after = ((detail.after if detail else None) or {}).get(p, {})
            lines += took.explain(p, float(old), float(g), before, after, float(step), num,
                                  lr=rec.lr)
        else:  # an array parameter: its norms
            for k, v in (((detail.after if detail else None) or {}).get(p) or {}).items():
                lines.append(f"  {k}_{p} = {num(v)}")
            lines.append(f"step_{p} = {num(step)}")
            lines.append(f"{p} = {num(old)} - {opnd(step)} = {num(old - step)}")
    if rec.grad_norm is not None:
        lines.append(f"|grad| = {num(rec.grad_norm)}")
    return lines
