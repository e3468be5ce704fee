"""Update rules: the target rule (drive an output to a value) and the gradient rule.

A rule looks at the current state of the graph once per iteration, returns what a record
needs (the output, delta or loss, factors or gradients) and either a stop reason or the step
to apply to each trained parameter. The runner applies steps and writes the records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .graph import Graph
from .optim import Optimizer, make_optimizer
from .run import RunConfig

Value = Any


def is_finite(v: Value) -> bool:
    """True for a finite float, or an array with only finite entries."""
    if type(v) is float:
        return math.isfinite(v)
    return bool(np.all(np.isfinite(v)))


def norm(values: Iterable[Value]) -> float:
    """The Euclidean norm of all components of some floats and arrays, without overflow.

    sqrt(sum x_i^2) overflows once a component passes about 1.34e154 (and underflows to 0 below
    about 1e-162), although the norm itself is representable. Then, as in ``math.hypot``, the
    components are scaled by the largest magnitude m first: ||x|| = m * sqrt(sum (x_i / m)^2).
    Otherwise the plain sum of squares is kept: the same last digit as every earlier output.
    """
    vals = list(values)
    if all(type(v) is float for v in vals):
        sq = sum(v * v for v in vals)
        return math.sqrt(sq) if 1e-290 < sq < math.inf else math.hypot(*vals)
    with np.errstate(over="ignore", under="ignore"):
        sq = sum(float(np.sum(np.square(v))) for v in vals)
    if 1e-290 < sq < math.inf:  # no square overflowed, and none that matters underflowed
        return math.sqrt(sq)
    flat = [np.abs(np.asarray(v, dtype=float)).ravel() for v in vals]
    m = max((float(np.max(a)) for a in flat if a.size), default=0.0)
    if m == 0.0 or not math.isfinite(m):
        return m if not any(np.isnan(a).any() for a in flat) else math.nan
    return m * math.sqrt(sum(float(np.sum(np.square(a / m))) for a in flat))


def _copy_state(s: dict[str, Value]) -> dict[str, Value]:
    return {k: (x.copy() if isinstance(x, np.ndarray) else x) for k, x in s.items()}


def _where(g: Graph, output: str) -> str:
    """Where a NaN or infinity first appeared, when that is not the output itself."""
    first = g.first_nonfinite()
    return f" (first at node '{first}')" if first and first != output else ""


@dataclass
class Visit:
    """What a rule saw at one state, and what it decided."""

    output: float
    delta: float | None = None
    loss: float | None = None
    factors: dict[str, Value] | None = None
    grads: dict[str, Value] | None = None
    grad_norm: float | None = None
    lr: float | None = None
    step: dict[str, Value] = field(default_factory=dict)
    stop: str | None = None
    message: str = ""
    # with the rule's ``detail`` on (the app): the optimizer's state after and before the step,
    # and the optimizer that took it, to explain the step
    opt_state: dict[str, dict[str, Value]] | None = None
    opt_before: dict[str, dict[str, Value]] | None = None
    optimizer: Optimizer | None = None


class TargetRule:
    """delta = output - target; step_p = (delta / n) / (d output / d p); p <- p - step_p."""

    name = "target"

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.fixed: dict[str, Value] | None = None

    def reset(self) -> None:
        """Forget the fixed factor, so that it is taken again at the next starting point."""
        self.fixed = None

    def visit(self, g: Graph, iteration: int, epoch: int = 0, limit: str | None = None) -> Visit:
        """Look at the current (evaluated) state; stop, or apply the step and return it.

        ``limit`` names a stop the runner imposes at this state (``"epochs"``).
        """
        cfg = self.cfg
        out = g.value(cfg.output)
        if not is_finite(out):
            return Visit(out, stop="diverged",
                         message=f"output '{cfg.output}' became {out}" + _where(g, cfg.output))
        delta = out - cfg.target
        if cfg.factor == "fixed" and self.fixed is not None:
            factors = self.fixed
        else:
            factors = g.gradients(cfg.output, cfg.train)
            if cfg.factor == "fixed":
                self.fixed = factors
        v = Visit(out, delta=delta, factors=dict(factors))
        bad = [p for p, f in factors.items() if not is_finite(f)]
        if bad:
            v.stop, v.message = "diverged", f"factor d{cfg.output}/d{bad[0]} is not finite"
            return v
        if cfg.tolerance is not None and abs(delta) < cfg.tolerance:
            v.stop = "converged"
            return v
        if limit is not None or iteration >= cfg.max_iterations:
            v.stop = limit or "max_iterations"
            return v
        zero = [p for p, f in factors.items() if np.any(np.asarray(f) == 0.0)]
        if zero:
            v.stop = "zero_factor"
            v.message = (f"factor d{cfg.output}/d{zero[0]} is zero: {cfg.output} does not "
                         f"change with {zero[0]} here, so no step can reach the target")
            return v
        n = len(cfg.train)
        # split = "equal": each trained parameter removes delta / n of the error
        v.step = {p: (delta / n) / factors[p] for p in cfg.train}
        for p, s in v.step.items():
            g.set_value(p, g.value(p) - s)
        return v

    def describe(self) -> str:
        return f"target rule: drive {self.cfg.output} to {self.cfg.target:g} " \
               f"({self.cfg.factor} factor)"


class GradientRule:
    """p <- optimizer step on d output / d p (plain SGD: p - lr * grad)."""

    name = "gradient"

    def __init__(self, cfg: RunConfig, detail: bool = False) -> None:
        self.cfg = cfg
        self.detail = detail  # keep the optimizer's state around each step (for the app)
        self.optimizer: Optimizer = make_optimizer(cfg.optimizer, cfg.lr, **cfg.hyper)

    def reset(self) -> None:
        """Forget the optimizer's state (velocities, averages, step counts)."""
        self.optimizer.reset()

    def lr_at(self, epoch: int) -> float:
        return self.cfg.lr_at(epoch)

    def visit(self, g: Graph, iteration: int, epoch: int = 0, limit: str | None = None) -> Visit:
        """Look at the current (evaluated) state; stop, or take the optimizer's step."""
        cfg = self.cfg
        loss = g.value(cfg.output)
        if not is_finite(loss):
            return Visit(loss, loss=loss, stop="diverged",
                         message=f"'{cfg.output}' became {loss}" + _where(g, cfg.output))
        grads = g.gradients(cfg.output, cfg.train)
        gnorm = norm(grads.values())
        lr = self.lr_at(epoch)
        v = Visit(loss, loss=loss, grads=grads, grad_norm=gnorm, lr=lr)
        if not math.isfinite(gnorm):
            bad = next((p for p, x in grads.items() if not is_finite(x)), None)
            v.stop = "diverged"
            v.message = (f"gradient d{cfg.output}/d{bad} is not finite" if bad else
                         "the gradient norm overflowed (every gradient is finite but huge)")
            return v
        if cfg.tolerance is not None and loss < cfg.tolerance:
            v.stop = "converged"
            return v
        if cfg.grad_tolerance is not None and gnorm < cfg.grad_tolerance:
            v.stop = "converged"
            v.message = f"gradient norm {gnorm:.3g} < grad_tolerance {cfg.grad_tolerance:g}"
            return v
        if limit is not None or iteration >= cfg.max_iterations:
            v.stop = limit or "max_iterations"
            return v
        self.optimizer.lr = lr
        st = self.optimizer.state
        if self.detail:
            v.opt_before = {p: _copy_state(s) for p, s in st.items()} if st else None
        for p in cfg.train:
            old = g.value(p)
            before = old.copy() if isinstance(old, np.ndarray) else old
            new = self.optimizer.step(p, old, grads[p])
            v.step[p] = before - new
            g.set_value(p, new)
        if self.detail:
            v.opt_state = {p: _copy_state(s) for p, s in st.items()} if st else None
            v.optimizer = self.optimizer
        return v

    def describe(self) -> str:
        return f"gradient rule: {self.cfg.optimizer}, lr = {self.cfg.lr:g}"


def make_rule(cfg: RunConfig, detail: bool = False) -> TargetRule | GradientRule:
    """The rule object for a run configuration (``detail``: keep what explains each step)."""
    return TargetRule(cfg) if cfg.rule == "target" else GradientRule(cfg, detail)
