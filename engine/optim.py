"""Optimizers, simplest first, with the update equations and defaults of PyTorch's torch.optim.

Every optimizer shares one interface: ``step(name, p, g) -> new p`` for one parameter, with the
per-parameter state (velocity, squared-gradient averages, step count) kept in ``self.state[name]``
so that a view can show it. A parameter is a float or a numpy array; arrays are updated in place
(no copy per step, which matters for the MLP at mini-batch 10), floats are returned anew.
``lr`` is read from the optimizer at every step, so a schedule can change it between steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Value = Any  # float | np.ndarray


def _operand(num: Callable[[Any], str]) -> Callable[[Any], str]:
    """``num``, with a negative number in parentheses: 0.9*(-215.6), not 0.9*-215.6."""
    def o(x: Any) -> str:
        text = num(x)
        return f"({text})" if text.startswith("-") else text
    return o


def _sqrt(x: Value) -> Value:
    return math.sqrt(x) if type(x) is float else np.sqrt(x)


@dataclass
class Optimizer:
    """Base class: holds the learning rate and each parameter's state."""

    lr: float = 0.01
    state: dict[str, dict[str, Value]] = field(default_factory=dict)

    name = "optimizer"

    def step(self, name: str, p: Value, g: Value) -> Value:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every parameter's state (a reset to the starting point)."""
        self.state.clear()

    def equation(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, name: str, p: float, g: float, before: dict[str, Any],
                after: dict[str, Any], step: float, num: Callable[[Any], str] = repr,
                lr: float | None = None) -> list[str]:
        """One scalar parameter's update written out with its numbers substituted.

        ``before``/``after`` are the parameter's state around the step, ``step`` the amount
        subtracted, ``lr`` the rate in force then (a schedule changes it); ``num`` formats a
        number. The last line gives the new value. State that does not fit this optimizer
        (a step taken before the settings changed) gives just the step.
        """
        o = _operand(num)
        saved = self.lr
        if lr is not None:
            self.lr = lr
        try:
            lines = self._explain(name, p, g, before, after, step, num)
        except (KeyError, TypeError, ValueError):
            lines = [f"step_{name} = {num(step)}"]
        finally:
            self.lr = saved
        return lines + [f"{name} = {num(p)} - {o(step)} = {num(p - step)}"]

    def _explain(self, name: str, p: float, g: float, before: dict[str, Any],
                 after: dict[str, Any], step: float, num: Callable[[Any], str]) -> list[str]:
        return [f"step_{name} = {num(step)}"]  # pragma: no cover - every optimizer overrides

    def _decayed(self, name: str, p: float, g: float, wd: float, num: Callable[[Any], str]
                 ) -> tuple[list[str], float]:
        """The weight-decay line (if any) and the gradient the update then uses."""
        if not wd:
            return [], g
        o = _operand(num)
        g2 = g + wd * p
        return [f"g_{name} <- g + weight_decay*{name} = {num(g)} + {o(wd)}*{o(p)} "
                f"= {num(g2)}"], g2


@dataclass
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov, weight decay.

    g <- g + weight_decay * p
    b <- g (first step) or momentum * b + (1 - dampening) * g
    g <- g + momentum * b (nesterov) or b (momentum)
    p <- p - lr * g
    """

    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0

    name = "sgd"

    def step(self, name: str, p: Value, g: Value) -> Value:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            st = self.state.setdefault(name, {})
            buf = st.get("velocity")
            if buf is None:
                buf = np.array(g, dtype=p.dtype) if isinstance(p, np.ndarray) else g
            elif isinstance(buf, np.ndarray):  # in place: no new array per step
                buf *= self.momentum
                buf += g if self.dampening == 0 else (1.0 - self.dampening) * g
            else:
                buf = self.momentum * buf + (1.0 - self.dampening) * g
            st["velocity"] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g
        return p

    def _explain(self, name: str, p: float, g: float, before: dict[str, Any],
                 after: dict[str, Any], step: float, num: Callable[[Any], str]) -> list[str]:
        o = _operand(num)
        lines, g = self._decayed(name, p, g, self.weight_decay, num)
        if not self.momentum:
            return lines + [f"step_{name} = lr * g_{name} = {num(self.lr)} * {o(g)} "
                            f"= {num(step)}"]
        v = after["velocity"]
        prev = before.get("velocity")
        if prev is None:
            lines.append(f"v_{name} = g_{name} = {num(v)}   (first step)")
        else:
            lines.append(f"v_{name} = momentum*v + (1-dampening)*g = {num(self.momentum)}*"
                         f"{o(prev)} + {o(1 - self.dampening)}*{o(g)} = {num(v)}")
        if self.nesterov:
            d = g + self.momentum * v
            lines.append(f"d_{name} = g + momentum*v = {num(g)} + {o(self.momentum)}*{o(v)} "
                         f"= {num(d)}")
            return lines + [f"step_{name} = lr * d_{name} = {num(self.lr)} * {o(d)} "
                            f"= {num(step)}"]
        return lines + [f"step_{name} = lr * v_{name} = {num(self.lr)} * {o(v)} = {num(step)}"]

    def equation(self) -> str:
        if not self.momentum:
            return "p <- p - lr * g"
        if self.nesterov:
            return "v <- momentum*v + (1-dampening)*g;  p <- p - lr*(g + momentum*v)"
        return "v <- momentum*v + (1-dampening)*g;  p <- p - lr*v"


@dataclass
class Adagrad(Optimizer):
    """Adagrad: divide by the root of the sum of all squared gradients so far.

    s <- s + g^2;  p <- p - lr_t * g / (sqrt(s) + eps),  lr_t = lr / (1 + (t-1) * lr_decay)
    """

    lr_decay: float = 0.0
    weight_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10

    name = "adagrad"

    def step(self, name: str, p: Value, g: Value) -> Value:
        st = self.state.setdefault(name, {})
        t = st.get("t", 0) + 1
        st["t"] = t
        if self.weight_decay:
            g = g + self.weight_decay * p
        s = st.get("sum")
        if s is None:
            s = self.initial_accumulator_value + 0.0 * p
        s = s + g * g
        st["sum"] = s
        clr = self.lr / (1.0 + (t - 1) * self.lr_decay)
        p -= clr * g / (_sqrt(s) + self.eps)
        return p

    def _explain(self, name: str, p: float, g: float, before: dict[str, Any],
                 after: dict[str, Any], step: float, num: Callable[[Any], str]) -> list[str]:
        o = _operand(num)
        lines, g = self._decayed(name, p, g, self.weight_decay, num)
        prev = before.get("sum", self.initial_accumulator_value)
        s_ = after["sum"]
        t = after["t"]
        lr_t = self.lr / (1.0 + (t - 1) * self.lr_decay)
        lines.append(f"s_{name} = s + g^2 = {num(prev)} + {o(g)}^2 = {num(s_)}")
        return lines + [f"step_{name} = lr_t * g / (sqrt(s) + eps) = {num(lr_t)} * {o(g)} / "
                        f"({o(math.sqrt(s_))} + {self.eps:g}) = {num(step)}"]

    def equation(self) -> str:
        return "s <- s + g^2;  p <- p - lr * g / (sqrt(s) + eps)"


@dataclass
class RMSprop(Optimizer):
    """RMSprop: divide by the root of a moving average of squared gradients.

    v <- alpha*v + (1-alpha)*g^2;  d = sqrt(v) + eps  (centered: sqrt(v - m^2) + eps)
    p <- p - lr * g / d,  or with momentum: b <- momentum*b + g/d;  p <- p - lr*b
    """

    lr: float = 0.01
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    centered: bool = False

    name = "rmsprop"

    def step(self, name: str, p: Value, g: Value) -> Value:
        st = self.state.setdefault(name, {})
        if self.weight_decay:
            g = g + self.weight_decay * p
        v = st.get("square_avg", 0.0 * p)
        v = self.alpha * v + (1.0 - self.alpha) * g * g
        st["square_avg"] = v
        if self.centered:
            m = st.get("grad_avg", 0.0 * p)
            m = self.alpha * m + (1.0 - self.alpha) * g
            st["grad_avg"] = m
            d = _sqrt(v - m * m) + self.eps
        else:
            d = _sqrt(v) + self.eps
        if self.momentum:
            b = st.get("momentum_buffer", 0.0 * p)
            b = self.momentum * b + g / d
            st["momentum_buffer"] = b
            p -= self.lr * b
        else:
            p -= self.lr * g / d
        return p

    def _explain(self, name: str, p: float, g: float, before: dict[str, Any],
                 after: dict[str, Any], step: float, num: Callable[[Any], str]) -> list[str]:
        o = _operand(num)
        lines, g = self._decayed(name, p, g, self.weight_decay, num)
        v = after["square_avg"]
        a = self.alpha
        lines.append(f"v_{name} = alpha*v + (1-alpha)*g^2 = {num(a)}*{o(before.get('square_avg', 0.0))}"
                     f" + {o(1 - a)}*{o(g)}^2 = {num(v)}")
        if self.centered:
            m = after["grad_avg"]
            lines.append(f"m_{name} = alpha*m + (1-alpha)*g = {num(m)}")
            d = math.sqrt(v - m * m) + self.eps
            lines.append(f"d_{name} = sqrt(v - m^2) + eps = {num(d)}")
        else:
            d = math.sqrt(v) + self.eps
            lines.append(f"d_{name} = sqrt(v) + eps = {num(d)}")
        if self.momentum:
            b = after["momentum_buffer"]
            lines.append(f"b_{name} = momentum*b + g/d = {num(self.momentum)}*"
                         f"{o(before.get('momentum_buffer', 0.0))} + {o(g)}/{o(d)} = {num(b)}")
            return lines + [f"step_{name} = lr * b = {num(self.lr)} * {o(b)} = {num(step)}"]
        return lines + [f"step_{name} = lr * g / d = {num(self.lr)} * {o(g)} / {o(d)} "
                        f"= {num(step)}"]

    def equation(self) -> str:
        return "v <- alpha*v + (1-alpha)*g^2;  p <- p - lr * g / (sqrt(v) + eps)"


@dataclass
class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, both bias-corrected.

    m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2
    p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    lr: float = 0.001
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0

    name = "adam"

    def step(self, name: str, p: Value, g: Value) -> Value:
        st = self.state.setdefault(name, {})
        t = st.get("t", 0) + 1
        st["t"] = t
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p
        bc1 = 1.0 - b1**t
        bc2 = 1.0 - b2**t
        if isinstance(p, np.ndarray):  # in place: the averages are updated, not rebuilt
            m = st.setdefault("exp_avg", np.zeros_like(p))
            v = st.setdefault("exp_avg_sq", np.zeros_like(p))
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= math.sqrt(bc2)
            denom += self.eps
            p -= (self.lr / bc1) * m / denom
            return p
        m = b1 * st.get("exp_avg", 0.0) + (1.0 - b1) * g
        v = b2 * st.get("exp_avg_sq", 0.0) + (1.0 - b2) * g * g
        st["exp_avg"], st["exp_avg_sq"] = m, v
        p -= (self.lr / bc1) * m / (_sqrt(v) / math.sqrt(bc2) + self.eps)
        return p

    def _explain(self, name: str, p: float, g: float, before: dict[str, Any],
                 after: dict[str, Any], step: float, num: Callable[[Any], str]) -> list[str]:
        o = _operand(num)
        lines, g = self._decayed(name, p, g, self.weight_decay, num)
        b1, b2 = self.betas
        t = after["t"]
        m, v = after["exp_avg"], after["exp_avg_sq"]
        lines.append(f"m_{name} = b1*m + (1-b1)*g = {num(b1)}*{o(before.get('exp_avg', 0.0))} + "
                     f"{o(1 - b1)}*{o(g)} = {num(m)}")
        lines.append(f"v_{name} = b2*v + (1-b2)*g^2 = {num(b2)}*"
                     f"{o(before.get('exp_avg_sq', 0.0))} + {o(1 - b2)}*{o(g)}^2 = {num(v)}")
        mh, vh = m / (1 - b1**t), v / (1 - b2**t)
        lines.append(f"bias-corrected (t = {t}): m/(1-b1^t) = {num(mh)}, v/(1-b2^t) = {num(vh)}")
        return lines + [f"step_{name} = lr * m_hat / (sqrt(v_hat) + eps) = {num(self.lr)} * "
                        f"{o(mh)} / ({o(math.sqrt(vh))} + {self.eps:g}) = {num(step)}"]

    def equation(self) -> str:
        return (
            "m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  "
            "p <- p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)"
        )


#: optimizer name -> (class, defaults that differ from the class's own)
OPTIMIZERS: dict[str, tuple[type[Optimizer], dict[str, Any]]] = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (Adagrad, {}),
    "rmsprop": (RMSprop, {}),
    "adam": (Adam, {}),
}

#: hyperparameter keys each optimizer accepts in a scenario's [run] table
HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "sgd": ("momentum", "dampening", "nesterov", "weight_decay"),
    "momentum": ("momentum", "dampening", "nesterov", "weight_decay"),
    "nesterov": ("momentum", "dampening", "nesterov", "weight_decay"),
    "adagrad": ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
    "rmsprop": ("alpha", "eps", "weight_decay", "momentum", "centered"),
    "adam": ("betas", "eps", "weight_decay"),
}


def make_optimizer(name: str, lr: float, **hyper: Any) -> Optimizer:
    """Build the optimizer called ``name`` with learning rate ``lr`` and its hyperparameters."""
    cls, defaults = OPTIMIZERS[name]
    kwargs = {**defaults, **hyper}
    if "betas" in kwargs:
        kwargs["betas"] = tuple(float(b) for b in kwargs["betas"])
    opt = cls(lr=lr, **kwargs)
    if isinstance(opt, SGD) and opt.nesterov and (opt.momentum <= 0 or opt.dampening != 0):
        raise ValueError("nesterov momentum requires a momentum > 0 and zero dampening")
    return opt


# Learning-rate schedules, stepped once per epoch like torch.optim.lr_scheduler.

SCHEDULES = ("constant", "step", "exponential")


def scheduled_lr(
    base_lr: float, epoch: int, schedule: str = "constant", *, step_size: int = 1,
    gamma: float = 0.1,
) -> float:
    """The learning rate in force during ``epoch`` (0-based) under ``schedule``.

    constant: lr;  step: lr * gamma^(epoch // step_size) (StepLR);  exponential: lr * gamma^epoch.
    A factor too large for a float gives an infinite rate (the run then diverges), not an error.
    """
    if schedule == "constant":
        return base_lr
    if schedule not in ("step", "exponential"):
        raise ValueError(f"unknown schedule {schedule!r}")
    k = epoch // step_size if schedule == "step" else epoch
    try:
        return base_lr * gamma**k
    except OverflowError:
        return math.inf if base_lr > 0 else 0.0
