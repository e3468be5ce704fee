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
from ..errors import ScenarioError
from ..graph import Graph
from ..run import HYPER_KEYS, SHARED_KEYS, RunConfig, check_keys, parameter_names, run_config
from .base import FLAT_TABLE, Kind, RecordStream, Scenario

#: the [run] keys of a graph scenario
RUN_KEYS = ("rule", "output", "train", "max_iterations", "tolerance", "target", "factor",
            "split", "grad_tolerance", *SHARED_KEYS)
DEFAULTS = {"lr": 0.1, "max_iterations": 100, "seed": 0}
#: keys only the gradient rule takes, and only the target rule
GRADIENT_ONLY = ("lr", "optimizer", "grad_tolerance", "batch_size", "epochs", "schedule",
                 *HYPER_KEYS)
TARGET_ONLY = ("target", "factor", "split")


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


KIND = GraphKind()
