"""The graph kind: parameters, data and a graph of named expressions, driven by a rule.

Tables: [params] (starting values), [data] (inline, CSV or generated arrays), [graph] (named
expressions) and [run] (the target or the gradient rule). Variants change [run] keys. The graph
is parsed, checked and compiled once at load; its record stream is ``engine.runner.Run``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import validate as v
from ..errors import GdlabError, ScenarioError
from ..graph import Graph
from ..records import IterationRecord
from ..run import HYPER_KEYS, SHARED_KEYS, RunConfig, check_keys, parameter_names, run_config
from .base import FLAT_TABLE, SECONDS, Kind, Metric, Probe, RecordStream, Scenario

#: the [run] keys of a graph scenario
RUN_KEYS = ("rule", "output", "train", "max_iterations", "tolerance", "target", "factor",
            "split", "grad_tolerance", *SHARED_KEYS)
DEFAULTS = {"lr": 0.1, "max_iterations": 100, "seed": 0}
#: keys only the gradient rule takes, and only the target rule
GRADIENT_ONLY = ("lr", "optimizer", "grad_tolerance", "batch_size", "epochs", "schedule",
                 *HYPER_KEYS)
TARGET_ONLY = ("target", "factor", "split")
#: what a sweep can report of a graph run (the loss and gradient norm with the gradient rule
#: only, output - target with the target rule only)
METRICS = (
    Metric("updates", "the number of updates the run took"),
    Metric("final_output", "the output node's value at the end", best=None),
    Metric("final_loss", "the loss at the end (gradient rule)"),
    Metric("final_delta", "output - target at the end (target rule)", best=None),
    Metric("final_grad_norm", "the gradient norm at the end (gradient rule)"),
    Metric("iterations_to", "the first iteration with |delta| (target rule) or the loss <= TOL",
           arg="TOL"),
    Metric("final", "the final value of the scalar parameter NAME", best=None, arg="NAME"),
    SECONDS,
)
NOT_FOR_RULE = {"gradient": ("final_delta",), "target": ("final_loss", "final_grad_norm")}


@dataclass
class GraphScenario(Scenario):
    """A graph scenario: starting values, data arrays, the [graph] expressions."""

    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    graph: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(self.run.get("rule", ""))

    def build_graph(self) -> Graph:
        """Parse and compile the graph (params, data, [graph] nodes)."""
        return Graph.build(self.params, self.data, self.graph, self.source)

    def config(self, variant: str | None = None, **overrides: Any) -> RunConfig:
        """The RunConfig of ``variant`` (None: the plain [run]), with keyword overrides."""
        table = {**self.run_table(variant), **overrides}
        return graph_run_config(table, self, self.where(FLAT_TABLE, variant))


def graph_run_config(t: dict[str, Any], sc: GraphScenario, where: str) -> RunConfig:
    """Check a [run] table of a graph scenario against the rule and the scenario's names."""
    src = sc.source
    check_keys(t, RUN_KEYS, src, where)
    rule = t.get("rule", "")
    if rule not in ("target", "gradient"):
        raise v.fail(f"{src}: {where} key 'rule'", "'target' or 'gradient'", rule)
    train = parameter_names(t["train"], f"{src}: {where} key 'train'") if "train" in t \
        else list(sc.params)
    for p in train:
        if p not in sc.params:
            raise ScenarioError(f"{src}: {where} key 'train': '{p}' is not a parameter "
                                f"(parameters: {', '.join(sc.params)})")
    if not train:
        raise ScenarioError(f"{src}: {where} key 'train': train at least one parameter")
    if len(set(train)) != len(train):
        raise ScenarioError(f"{src}: {where} key 'train': a parameter is listed twice")
    if rule == "target":
        if "target" not in t:
            raise ScenarioError(f"{src}: {where} key 'target' is required by the target rule")
        for key in GRADIENT_ONLY:
            if key in t:
                raise ScenarioError(f"{src}: {where} key '{key}' does not apply to the "
                                    "target rule")
    else:
        for key in TARGET_ONLY:
            if key in t:
                raise ScenarioError(f"{src}: {where} key '{key}' does not apply to the "
                                    "gradient rule")
        if "batch_size" in t and not sc.data:
            raise ScenarioError(f"{src}: {where} key 'batch_size': mini-batches need [data]")
    return run_config({**t, "train": list(train)}, RUN_KEYS, src, where, DEFAULTS)


def _check_name(key: str, table: str, source: str) -> None:
    if not key.isidentifier() or key.startswith("_"):
        raise ScenarioError(
            f"{source}: [{table}] key '{key}': a name must be a Python identifier "
            "(letters, digits, underscores, not starting with a digit or underscore)"
        )


class GraphKind(Kind):
    """Scalar and matrix graphs with the target or the gradient rule."""

    name = "graph"
    tables = ("params", "data", "graph", "run")
    variant_tables = (FLAT_TABLE,)
    steps = True

    def validate(self, meta: dict[str, Any], tables: dict[str, dict[str, Any]],
                 variants: dict[str, dict[str, dict[str, Any]]]) -> GraphScenario:
        source = meta["source"]
        params: dict[str, Any] = {}
        for key, x in tables.get("params", {}).items():
            _check_name(key, "params", source)
            params[key] = v.number_array(x, v.key_at(source, "params", key))
        from ..data.sources import load_data  # the data sources: only graph scenarios use them

        path: Path | None = meta["path"]
        data = load_data(tables.get("data", {}), path.parent if path else Path("."), source)
        for key in data:
            _check_name(key, "data", source)
        graph = tables.get("graph", {})
        for key, x in graph.items():
            _check_name(key, "graph", source)
            if not isinstance(x, str):
                raise ScenarioError(f"{source}: [graph] node '{key}': expected an expression "
                                    f"string, got {v.typed(x)}")
        sc = GraphScenario(**meta, kind=self.name, tables=tables, variants=variants,
                           params=params, data=data, graph=graph)
        run = sc.run
        check_keys(run, RUN_KEYS, source, "[run]")
        for name, changes in variants.items():
            check_keys(changes.get(FLAT_TABLE, {}), RUN_KEYS, source, f"[variants.{name}]")
        if not graph:
            raise ScenarioError(f"{source}: [graph] is empty: define at least one node")
        if not params:
            raise ScenarioError(f"{source}: [params] is empty: define at least one parameter")
        for key in ("rule", "output"):
            if key not in run:
                raise ScenarioError(f"{source}: [run] key '{key}' is required")
        # build once: names, expressions and cycles are checked here, and every variant's config
        g = sc.build_graph()
        for vname in [None, *variants]:
            cfg = sc.config(vname)
            if cfg.output not in g.index or g.nodes[g.index[cfg.output]].kind in ("param", "data"):
                raise ScenarioError(
                    f"{source}: {sc.where(FLAT_TABLE, vname)} key 'output': '{cfg.output}' is "
                    f"not a [graph] node (nodes: {', '.join(g.order)})")
        try:
            g.forward()
        except ArithmeticError:
            pass  # reported by the run as a divergence at iteration 0
        else:
            out = sc.config(None).output
            if np.ndim(g.value(out)) != 0:
                raise ScenarioError(
                    f"{source}: [run] key 'output': '{out}' must be a scalar, but it has shape "
                    f"{np.shape(g.value(out))}: reduce it with mean(...) or sum(...)")
        return sc

    def check(self, sc: Scenario) -> None:
        """A run of every variant can start and go on: its data arrays have one length and
        the graph evaluates on a mini-batch of each size an epoch has (no step taken)."""
        from ..runner import Run

        for variant in sc.variants or [None]:
            Run(sc, variant).check_batches()  # type: ignore[arg-type]

    def stream(self, sc: Scenario, variant: str | None, *,
               should_stop: Callable[[], bool] | None = None) -> RecordStream:
        from ..runner import Run

        return Run(sc, variant, should_stop=should_stop)  # type: ignore[arg-type]

    # --- sweeps --------------------------------------------------------------------------

    def metrics(self, sc: Scenario, variant: str | None = None) -> dict[str, Metric]:
        drop = NOT_FOR_RULE[sc.config(variant).rule]
        return {m.name: m for m in METRICS if m.name not in drop}

    def default_metric(self, sc: Scenario, variant: str | None = None) -> str:
        """The iterations to the run's own tolerance when it has one, else the final loss
        (gradient rule) or the updates (target rule)."""
        cfg = sc.config(variant)
        if cfg.tolerance is not None:  # 1e-6 as a person writes it, not 1e-06
            return "iterations_to:" + f"{cfg.tolerance:g}".replace("e-0", "e-").replace("e+0", "e")
        return "final_loss" if cfg.rule == "gradient" else "updates"

    def check_metric_arg(self, sc: Scenario, metric: Metric, arg: str) -> None:
        if metric.name != "final":
            return super().check_metric_arg(sc, metric, arg)
        scalars = _scalar_params(sc)
        if arg not in scalars:
            raise GdlabError(f"metric 'final:{arg}': '{arg}' is not a scalar parameter "
                             f"(parameters: {', '.join(scalars) or 'none'})")

    def probe(self, sc: Scenario, metric: str) -> Probe:
        return GraphProbe(metric)

    def check_sweep_key(self, sc: Scenario, table: str, key: str) -> None:
        """[params], [data] and [graph] keys are the file's own names: a sweep changes one
        that the file has (``data.generate.seed`` changes a key of its [data.generate])."""
        super().check_sweep_key(sc, table, key)
        if table == FLAT_TABLE:
            return
        names = sc.tables.get(table, {})
        if key.split(".")[0] not in names:
            what = {"params": "a parameter", "data": "a [data] key", "graph": "a node"}[table]
            raise GdlabError(f"sweep key {table}.{key}: '{key}' is not {what} of {sc.source} "
                             f"({table}: {', '.join(names) or 'none'})")

    def suggested_axis(self, sc: Scenario, variant: str | None) -> tuple[str, str]:
        """The gradient rule's learning rate (the default), else the first scalar parameter's
        start, from half to twice it."""
        if sc.config(variant).rule == "gradient":
            return super().suggested_axis(sc, variant)
        assert isinstance(sc, GraphScenario)
        name = next(iter(_scalar_params(sc)), next(iter(sc.params)))
        x = sc.params[name]
        x = float(x) if np.ndim(x) == 0 else 1.0
        lo, hi = sorted((x / 2, x * 2)) if x else (-1.0, 1.0)
        return f"params.{name}", f"lin({lo:g},{hi:g},7)"


def _scalar_params(sc: Scenario) -> list[str]:
    assert isinstance(sc, GraphScenario)
    return [p for p, x in sc.params.items() if np.ndim(x) == 0]


class GraphProbe(Probe):
    """The last iteration's loss, delta and gradient norm; the first iteration whose |delta|
    (target rule) or loss is <= TOL; a parameter's final value."""

    def __init__(self, metric: str) -> None:
        super().__init__(metric)
        self.tol = float(self.arg) if self.name == "iterations_to" else None
        self.hit: int | None = None
        self.last: IterationRecord | None = None

    def see(self, record: Any) -> None:
        if not isinstance(record, IterationRecord):
            return
        self.last = record
        if self.tol is not None and self.hit is None:
            x = abs(record.delta) if record.delta is not None else record.loss
            if x is not None and np.isfinite(x) and x <= self.tol:
                self.hit = record.iteration

    def extras(self) -> dict[str, Any]:
        r = self.last
        if r is None:
            return {}
        return {k: x for k, x in (("final_delta", r.delta), ("final_loss", r.loss),
                                  ("final_grad_norm", r.grad_norm)) if x is not None}

    def value(self, summary: dict[str, Any]) -> Any:
        if self.name == "iterations_to":
            return self.hit
        if self.name == "final":
            return summary["final_params"].get(self.arg)
        return super().value(summary)


KIND = GraphKind()
