"""The run configuration every scenario kind shares: the [run] table's keys, checked once.

A scenario's [run] table (after a variant's overrides) becomes one ``RunConfig``. The keys are
described once, in ``RUN_KEYS``: the shared ones (the optimizer and its hyperparameters, the
learning rate and its schedule, batch size, epochs, seed) and each kind's own. A kind says which
keys it accepts and its defaults; ``run_config`` checks every value with ``engine.validate`` and
the optimizer's hyperparameters against ``engine.optim.HYPERPARAMETERS``. Checks that relate
keys to the rest of the scenario (a node name, a parameter list) belong to the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import validate as v
from .errors import ScenarioError
from .optim import HYPERPARAMETERS, OPTIMIZERS, SCHEDULES, make_optimizer, scheduled_lr

RULES = ("target", "gradient")
FACTORS = ("fixed", "recomputed")
SPLITS = ("equal",)
#: every hyperparameter of some optimizer; which apply depends on the optimizer
HYPER_KEYS = tuple(dict.fromkeys(k for ks in HYPERPARAMETERS.values() for k in ks))


def _betas(x: Any, at: str) -> list[float]:
    expected = "a list of two numbers in [0, 1)"
    if not isinstance(x, list) or len(x) != 2:
        raise v.fail(at, expected, x, wrong_type=not isinstance(x, list))
    for b in x:
        if isinstance(b, bool) or not isinstance(b, int | float):
            raise v.fail(at, expected, x)
        try:
            if not 0.0 <= float(b) < 1.0:
                raise v.fail(at, expected, x)
        except OverflowError:
            raise v.fail(at, expected, x) from None
    return [float(b) for b in x]


def parameter_names(x: Any, at: str) -> list[str]:
    """A list of names (strings); the kind checks that each is one of its parameters."""
    if not isinstance(x, list):
        raise v.fail(at, "a list of parameter names", x, wrong_type=True)
    for name in x:
        if not isinstance(name, str):
            raise v.fail(at, "parameter names (strings)", name, wrong_type=True)
    return list(x)


def _name(x: Any, at: str) -> str:
    if not isinstance(x, str):
        raise v.fail(at, "the name of a graph node", x, wrong_type=True)
    return x


class RunKey:
    """One [run] key: its check (value, where -> the value the config holds) and its meaning."""

    __slots__ = ("check", "meaning")

    def __init__(self, check: Callable[[Any, str], Any], meaning: str) -> None:
        self.check, self.meaning = check, meaning


#: every [run] key of every kind, checked the same way wherever it appears
RUN_KEYS: dict[str, RunKey] = {
    # shared by every kind
    "optimizer": RunKey(lambda x, at: v.choice(x, at, tuple(OPTIMIZERS)), "the optimizer"),
    "lr": RunKey(lambda x, at: v.finite(x, at, low=0.0), "the learning rate"),
    "batch_size": RunKey(lambda x, at: v.integer(x, at, low=1), "examples per mini-batch"),
    "epochs": RunKey(lambda x, at: v.integer(x, at, low=1), "passes over the data"),
    "seed": RunKey(v.seed, "seed of the mini-batch shuffling"),
    "schedule": RunKey(lambda x, at: v.choice(x, at, SCHEDULES), "learning-rate schedule"),
    "step_size": RunKey(lambda x, at: v.integer(x, at, low=1), "epochs between decays"),
    "gamma": RunKey(lambda x, at: v.finite(x, at, low=0.0, low_open=True), "decay factor"),
    # optimizer hyperparameters (PyTorch's names and meanings)
    "momentum": RunKey(lambda x, at: v.finite(x, at, low=0.0), "momentum"),
    "dampening": RunKey(lambda x, at: v.finite(x, at), "dampening of the momentum"),
    "nesterov": RunKey(v.boolean, "Nesterov momentum"),
    "weight_decay": RunKey(lambda x, at: v.finite(x, at, low=0.0),
                           "the optimizer's weight decay (every parameter)"),
    "lr_decay": RunKey(lambda x, at: v.finite(x, at, low=0.0), "Adagrad's lr decay"),
    "initial_accumulator_value": RunKey(lambda x, at: v.finite(x, at, low=0.0),
                                        "Adagrad's initial sum"),
    "eps": RunKey(lambda x, at: v.finite(x, at, low=0.0, low_open=True), "added to the divisor"),
    "alpha": RunKey(lambda x, at: v.finite(x, at, low=0.0, high=1.0), "RMSprop's smoothing"),
    "centered": RunKey(v.boolean, "centred RMSprop"),
    "betas": RunKey(_betas, "Adam's averaging factors"),
    # the graph kind
    "rule": RunKey(lambda x, at: v.choice(x, at, RULES), "the update rule"),
    "output": RunKey(_name, "the node the rule looks at"),
    "train": RunKey(parameter_names, "the parameters that change"),
    "max_iterations": RunKey(lambda x, at: v.integer(x, at, low=0), "at most this many updates"),
    "tolerance": RunKey(lambda x, at: v.finite(x, at, low=0.0), "stop below this"),
    "grad_tolerance": RunKey(lambda x, at: v.finite(x, at, low=0.0),
                             "stop when the gradient norm is below this"),
    "target": RunKey(v.finite, "the value the target rule drives the output to"),
    "factor": RunKey(lambda x, at: v.choice(x, at, FACTORS), "recompute or fix the factor"),
    "split": RunKey(lambda x, at: v.choice(x, at, SPLITS), "how the error is split"),
    # the network kind
    "report_every": RunKey(lambda x, at: v.integer(x, at, low=1),
                           "mini-batches between batch records"),
    "shuffle_seed": RunKey(v.seed, "the older name of seed (network scenarios)"),
    "patience": RunKey(lambda x, at: v.integer(x, at, low=1),
                       "early stopping: epochs without a better monitored loss"),
}

#: the keys every kind accepts
SHARED_KEYS = ("optimizer", "lr", "batch_size", "epochs", "seed", "schedule", "step_size",
               "gamma", *HYPER_KEYS)


@dataclass(frozen=True)
class RunConfig:
    """A validated [run] table (after a variant's overrides).

    Shared: the optimizer, its hyperparameters (``hyper``: only those set in the file), the
    learning rate and its schedule (``lr_at``), batch size, epochs and the shuffling seed.
    Graph kind: rule, output, train, max_iterations, tolerance, target, factor, split,
    grad_tolerance. Network kind: report_every and patience.
    """

    rule: str = ""
    output: str = ""
    train: tuple[str, ...] = ()
    max_iterations: int = 100
    tolerance: float | None = None
    # target rule
    target: float = 0.0
    factor: str = "recomputed"
    split: str = "equal"
    # the optimizer (gradient rule, networks)
    lr: float = 0.1
    optimizer: str = "sgd"
    hyper: dict[str, Any] = field(default_factory=dict)
    grad_tolerance: float | None = None
    batch_size: int | None = None
    epochs: int | None = None
    seed: int | None = 0
    schedule: str = "constant"
    step_size: int = 1
    gamma: float = 0.1
    # networks
    report_every: int = 500
    patience: int | None = None

    def lr_at(self, epoch: int) -> float:
        """The learning rate in force during ``epoch`` (0-based) under the schedule."""
        return scheduled_lr(self.lr, epoch, self.schedule, step_size=self.step_size,
                            gamma=self.gamma)

    def make_optimizer(self) -> Any:
        """A fresh optimizer with this configuration's learning rate and hyperparameters."""
        return make_optimizer(self.optimizer, self.lr, **self.hyper)


def check_keys(table: Mapping[str, Any], keys: Collection[str], source: str,
               where: str) -> dict[str, Any]:
    """Refuse keys outside ``keys``; check every value; return the checked values."""
    out: dict[str, Any] = {}
    for key, x in table.items():
        if key not in keys or key not in RUN_KEYS:
            raise ScenarioError(f"{source}: {where} unknown key '{key}' "
                                f"(expected one of: {', '.join(keys)})")
        out[key] = RUN_KEYS[key].check(x, f"{source}: {where} key '{key}'")
    return out


def run_config(table: Mapping[str, Any], keys: Collection[str], source: str, where: str,
               defaults: Mapping[str, Any] | None = None) -> RunConfig:
    """The RunConfig of a [run] table: every key checked, hyperparameters against the optimizer.

    ``keys``: the keys the kind accepts; ``defaults``: the kind's defaults for keys the table
    leaves out; ``where``: ``[run]`` or ``[variants.NAME]``, as messages name the table.
    """
    t = check_keys(table, keys, source, where)
    opt = t.get("optimizer", (defaults or {}).get("optimizer", "sgd"))
    hyper: dict[str, Any] = {}
    for key in HYPER_KEYS:
        if key in t:
            if key not in HYPERPARAMETERS[opt]:
                raise ScenarioError(
                    f"{source}: {where} key '{key}' does not apply to optimizer '{opt}' "
                    f"(it takes: {', '.join(HYPERPARAMETERS[opt])})")
            hyper[key] = t[key]
    merged = {**OPTIMIZERS[opt][1], **hyper}
    if merged.get("nesterov") and (merged.get("momentum", 0) <= 0
                                   or merged.get("dampening", 0) != 0):
        key = next((k for k in ("nesterov", "dampening", "momentum") if k in hyper), "optimizer")
        raise ScenarioError(f"{source}: {where} key '{key}': Nesterov momentum needs "
                            f"momentum > 0 and dampening = 0 (optimizer '{opt}')")
    values = {k: x for k, x in t.items() if k not in HYPER_KEYS}
    if "shuffle_seed" in values:
        if "seed" in values:
            raise ScenarioError(f"{source}: {where} key 'shuffle_seed': give seed or "
                                "shuffle_seed, not both (shuffle_seed is seed's older name)")
        values["seed"] = values.pop("shuffle_seed")
    if "train" in values:
        values["train"] = tuple(values["train"])
    return RunConfig(**{**(defaults or {}), **values, "hyper": hyper})
