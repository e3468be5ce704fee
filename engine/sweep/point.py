"""One point of a sweep: load the scenario with ``--set``-style overrides, run it to the end
headlessly, and return its summary as a plain dict with the metric's value.

This module is the sweep's only contact with the kinds of scenario: it runs any kind through
the registry (``engine.kinds``) and reads the shared record types, and its tables say which
metrics each kind's summary gives and which keys seed it. Everything else in ``engine.sweep``
(the grid, the execution, resume) and the views treat a point's result as a plain dict.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GdlabError
from ..scenario import Scenario, load_scenario, parse_scenario

#: metrics of each kind: name -> what it is. A name ending in ":" takes a number after it.
GRAPH_METRICS = {
    "updates": "the number of updates the run took",
    "final_output": "the output node's value at the end",
    "final_loss": "the loss at the end (gradient rule)",
    "final_delta": "output - target at the end (target rule)",
    "final_grad_norm": "the gradient norm at the end (gradient rule)",
    "iterations_to:": "the first iteration with |delta| (target rule) or the loss <= TOL",
    "final:": "the final value of the scalar parameter NAME",
    "seconds": "the run's wall time (differs between runs)",
}
NETWORK_METRICS = {
    "final_test_accuracy": "test accuracy of the final weights (classification)",
    "final_train_accuracy": "training accuracy of the final weights (classification)",
    "final_test_loss": "mean test cost of the final weights",
    "final_train_loss": "mean training cost of the final weights",
    "final_validation_loss": "mean validation cost (with a validation set)",
    "final_validation_accuracy": "validation accuracy (with a validation set)",
    "best_test_accuracy": "the best test accuracy of any epoch",
    "epochs": "the epochs completed",
    "epochs_to:": "the first epoch whose test accuracy is >= ACC (a fraction, e.g. 0.9)",
    "seconds": "the training time (differs between runs)",
}
#: each kind's metrics (less those a graph's rule has no number for) and the keys that seed it
METRICS = {"graph": GRAPH_METRICS, "network": NETWORK_METRICS}
SEED_KEYS = {"graph": ("run.seed",), "network": ("model.seed",)}
#: metrics a graph rule has no number for
NOT_FOR_RULE = {"gradient": ("final_delta",), "target": ("final_loss", "final_grad_norm")}
#: without --metric and a tolerance: the first of these the scenario gives
DEFAULT_METRICS = ("final_test_accuracy", "final_loss", "updates", "seconds")
TIMINGS = ("seconds", "total_seconds")  # kept apart from the summary (rows' "timing")
HIGHER_IS_BETTER = ("final_test_accuracy", "final_train_accuracy", "final_validation_accuracy",
                    "best_test_accuracy")
#: metrics where neither end is "best" (a value, not a cost): no best point is marked
NO_BEST = ("final_output", "final_delta", "final:")


@dataclass(frozen=True)
class ScenarioSource:
    """A scenario file's text and where it came from: all a worker (a process, a cluster node)
    needs to load it, read once so that every point runs the same file."""

    text: str
    source: str  # as messages name it
    path: str | None  # the file, for the data files it names relative to its folder

    @classmethod
    def read(cls, ref: str | Path, search: list[Path] | None = None) -> ScenarioSource:
        """Find (a bundled name or a path), read and validate a scenario file."""
        sc = load_scenario(ref, search=search)
        assert sc.path is not None
        return cls(sc.path.read_text(encoding="utf-8"), sc.source, str(sc.path))

    def load(self, overrides: list[str] | None = None) -> Scenario:
        """The validated scenario with ``--set``-style overrides applied."""
        return parse_scenario(self.text, source=self.source,
                              path=Path(self.path) if self.path else None, overrides=overrides)


def kind(sc: Scenario) -> str:
    """The kind of scenario a point runs (a name of the registry, engine.kinds)."""
    return sc.kind


def metrics(sc: Scenario) -> dict[str, str]:
    """The metrics this scenario's summaries give (``name:`` entries take a number or a name):
    its kind's, less those its rule has no number for (a target rule has no loss)."""
    known = dict(METRICS.get(kind(sc), {}))
    rule = getattr(sc.config(sc.default_variant()), "rule", "")
    for name in NOT_FOR_RULE.get(rule, ()):
        known.pop(name, None)
    return known


def check_metric(sc: Scenario, metric: str) -> None:
    """Raise GdlabError unless ``metric`` is one this scenario gives (the error lists them)."""
    known = metrics(sc)
    name, sep, arg = metric.partition(":")
    if sep and name + ":" in known:
        if name == "final":
            scalars = [p for p, v in getattr(sc, "params", {}).items()
                       if getattr(v, "ndim", 0) == 0]
            if arg not in scalars:
                raise GdlabError(f"metric {metric!r}: '{arg}' is not a scalar parameter "
                                 f"(parameters: {', '.join(scalars) or 'none'})")
            return
        try:
            x = float(arg)
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and x >= 0):
            raise GdlabError(f"metric {metric!r}: expected a number >= 0 after '{name}:'")
        return
    if not sep and metric in known:
        return
    listed = ", ".join(k + ("TOL" if k == "iterations_to:" else "ACC" if k == "epochs_to:" else
                            "NAME" if k == "final:" else "") for k in known)
    raise GdlabError(f"unknown metric {metric!r} for a {kind(sc)} scenario (available: {listed})")


def default_metric(sc: Scenario, variant: str | None = None) -> str:
    """The metric a sweep reports unless told: the iterations to the run's own tolerance when
    it has one, else the first of DEFAULT_METRICS that the scenario gives (a network's final
    test accuracy, a graph's final loss or its updates)."""
    known = metrics(sc)
    tol = getattr(sc.config(variant), "tolerance", None)
    if tol is not None and "iterations_to:" in known:  # 1e-6 as a person writes it, not 1e-06
        return "iterations_to:" + f"{tol:g}".replace("e-0", "e-").replace("e+0", "e")
    return next(m for m in DEFAULT_METRICS if m in known)


def best_direction(metric: str) -> str | None:
    """"max" when a larger value is better, "min" when a smaller one is, None for neither."""
    name = metric.split(":")[0]
    if name in HIGHER_IS_BETTER:
        return "max"
    if name in NO_BEST or name + ":" in NO_BEST:
        return None
    return "min"


def base_seed(sc: Scenario, variant: str | None = None) -> int:
    """The seed a plain run of this scenario uses: its run configuration's (a network's is its
    model's seed unless [run] sets its own)."""
    return int(sc.config(variant).seed)


def seed_overrides(sc: Scenario, seed: int) -> list[str]:
    """The ``--set`` overrides that make a run use ``seed``: its kind's SEED_KEYS, and the
    [run] seed keys the file sets itself."""
    keys = list(SEED_KEYS.get(kind(sc), ("run.seed",)))
    keys += [f"run.{k}" for k in ("seed", "shuffle_seed") if k in sc.run and f"run.{k}" not in keys]
    return [f"{k}={seed}" for k in keys]


def seed_keys(sc: Scenario) -> tuple[str, ...]:
    """The keys ``seed_overrides`` sets (a grid over one of them cannot also use --seeds)."""
    return tuple(o.split("=")[0] for o in seed_overrides(sc, 0))


def run_point(source: ScenarioSource, overrides: list[str], metric: str,
              variant: str | None = None) -> dict[str, Any]:
    """Run one point to its end; return {"value", "stop_reason", "message", "summary",
    "seconds", "cpu_seconds"}: the metric's value (None when the run gives none, e.g. a
    tolerance never reached), how the run ended, its summary without timings, and the run's
    wall and CPU time (this process's: a worker runs one point at a time)."""
    from .. import kinds
    from ..records import EpochRecord, IterationRecord

    sc = source.load(overrides)
    if variant is None:
        variant = sc.default_variant()
    t0, c0 = time.perf_counter(), time.process_time()
    name, _, arg = metric.partition(":")
    tol = float(arg) if name == "iterations_to" else None
    hit: int | None = None
    last: IterationRecord | None = None
    epochs: list[EpochRecord] = []
    stream = kinds.get(sc.kind).stream(sc, variant)
    for rec in stream:
        if isinstance(rec, IterationRecord):
            last = rec
            if tol is not None and hit is None:  # |delta| (target rule) or the loss
                v = abs(rec.delta) if rec.delta is not None else rec.loss
                if v is not None and math.isfinite(v) and v <= tol:
                    hit = rec.iteration
        elif isinstance(rec, EpochRecord):
            epochs.append(rec)
    s = stream.summary
    assert s is not None  # every stream ends with a summary
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    summary = {k: v for k, v in s.to_json()["summary"].items() if k not in TIMINGS}
    if last is not None:  # the final state's numbers that the summary leaves out
        summary.update({k: _finite(v) for k, v in (("final_delta", last.delta),
                        ("final_loss", last.loss), ("final_grad_norm", last.grad_norm))
                        if v is not None})
    if epochs and epochs[0].test_accuracy is not None:
        summary["best_test_accuracy"] = max(e.test_accuracy for e in epochs)
    if name == "iterations_to":
        value: Any = hit
    elif name == "epochs_to":
        value = next((e.epoch for e in epochs
                      if e.test_accuracy is not None and e.test_accuracy >= float(arg)), None)
    elif name == "final":
        value = summary["final_params"].get(arg)
    elif metric == "seconds":
        value = seconds
    else:
        value = summary.get(metric)
    return {"value": _finite(value), "stop_reason": s.stop_reason, "message": s.message,
            "summary": summary, "seconds": seconds, "cpu_seconds": cpu}


def _finite(v: Any) -> Any:
    """A number as JSON holds it: a Python float or int, None for NaN and the infinities."""
    if v is None or isinstance(v, bool | int | str):
        return v
    v = float(v)
    return v if math.isfinite(v) else None
