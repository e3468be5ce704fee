"""Scenario files (TOML) -> validated ``Scenario``: the one place that knows the file format.

Every key is checked here (unknown keys, wrong types, undefined names, bad choices), and each
mistake is reported as one line naming the file, the table and the key. ``--set KEY=VALUE``
overrides are applied to the raw TOML before validation, so they are checked the same way.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .bundled import BUNDLED_DIR
from .errors import ScenarioError
from .graph import Graph, as_value
from .optim import HYPERPARAMETERS, OPTIMIZERS

RULES = ("target", "gradient")
SCHEDULES = ("constant", "step", "exponential")

#: [run] keys: name -> (accepted types, description used in messages)
RUN_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "rule": ((str,), "'target' or 'gradient'"),
    "output": ((str,), "the name of a graph node"),
    "train": ((list,), "a list of parameter names"),
    "max_iterations": ((int,), "an integer >= 0"),
    "tolerance": ((int, float), "a number >= 0"),
    "target": ((int, float), "a number"),
    "factor": ((str,), "'fixed' or 'recomputed'"),
    "split": ((str,), "'equal'"),
    "lr": ((int, float), "a number >= 0"),
    "optimizer": ((str,), "one of " + ", ".join(OPTIMIZERS)),
    "grad_tolerance": ((int, float), "a number >= 0"),
    "batch_size": ((int,), "an integer >= 1"),
    "epochs": ((int,), "an integer >= 1"),
    "seed": ((int,), "an integer"),
    "schedule": ((str,), "one of " + ", ".join(SCHEDULES)),
    "step_size": ((int,), "an integer >= 1"),
    "gamma": ((int, float), "a number > 0"),
    # optimizer hyperparameters (which apply depends on the optimizer)
    "momentum": ((int, float), "a number >= 0"),
    "dampening": ((int, float), "a number"),
    "nesterov": ((bool,), "true or false"),
    "weight_decay": ((int, float), "a number >= 0"),
    "lr_decay": ((int, float), "a number >= 0"),
    "initial_accumulator_value": ((int, float), "a number >= 0"),
    "eps": ((int, float), "a number > 0"),
    "alpha": ((int, float), "a number in [0, 1]"),
    "centered": ((bool,), "true or false"),
    "betas": ((list,), "a list of two numbers in [0, 1)"),
}

SCENARIO_KEYS = ("name", "title", "description")


@dataclass(frozen=True)
class RunConfig:
    """The validated [run] table (after a variant's overrides)."""

    rule: str
    output: str
    train: tuple[str, ...]
    max_iterations: int = 100
    tolerance: float | None = None
    # target rule
    target: float = 0.0
    factor: str = "recomputed"
    split: str = "equal"
    # gradient rule
    lr: float = 0.1
    optimizer: str = "sgd"
    hyper: dict[str, Any] = field(default_factory=dict)
    grad_tolerance: float | None = None
    batch_size: int | None = None
    epochs: int | None = None
    seed: int = 0
    schedule: str = "constant"
    step_size: int = 1
    gamma: float = 0.1


@dataclass
class Scenario:
    """A validated scenario: what to build (params, data, graph or model) and how to run it."""

    path: Path | None
    source: str  # the file as named in messages
    name: str
    title: str
    description: str
    params: dict[str, Any]
    data: dict[str, Any]
    graph: dict[str, str]
    run: dict[str, Any]  # the raw [run] table, validated
    variants: dict[str, dict[str, Any]]
    model: dict[str, Any] | None = None  # [model] of an MLP scenario
    data_table: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """"mlp" for a multilayer-perceptron scenario, "graph" for every other."""
        return "mlp" if self.model is not None else "graph"

    @property
    def rule(self) -> str:
        return str(self.run.get("rule", "mlp" if self.model is not None else ""))

    def default_variant(self) -> str | None:
        """The variant a plain run uses: the first one, or None when there are none."""
        return next(iter(self.variants), None)

    def run_table(self, variant: str | None = None) -> dict[str, Any]:
        """[run] with ``variant``'s overrides applied (the raw but validated keys)."""
        if variant is None:
            return dict(self.run)
        if variant not in self.variants:
            known = ", ".join(self.variants) or "none"
            raise ScenarioError(f"{self.source}: no variant named '{variant}' (variants: {known})")
        return {**self.run, **self.variants[variant]}

    def config(self, variant: str | None = None, **overrides: Any) -> RunConfig:
        """The RunConfig for ``variant`` (None: the plain [run]), with keyword overrides."""
        table = {**self.run_table(variant), **overrides}
        where = f"[variants.{variant}]" if variant else "[run]"
        return _run_config(table, self, where)

    def build_graph(self) -> Graph:
        """Parse and compile the graph (params, data, [graph] nodes)."""
        return Graph.build(self.params, self.data, self.graph, self.source)


# --- loading ----------------------------------------------------------------------------

def find_scenario(name_or_path: str | Path, search: list[Path] | None = None) -> Path:
    """Resolve a path, or the name of a bundled scenario (``target_z``), to a file."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    stem = p.name[:-5] if p.name.endswith(".toml") else p.name
    if p.parent == Path("."):
        for d in [*(search or []), BUNDLED_DIR]:
            cand = d / f"{stem}.toml"
            if cand.is_file():
                return cand
    if p.is_dir():
        raise ScenarioError(f"{p}: is a folder, not a scenario file")
    raise ScenarioError(
        f"{name_or_path}: no such scenario file (nor a bundled scenario of that name; "
        "`gdlab list` shows them)"
    )


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped with gdlab."""
    return sorted(BUNDLED_DIR.glob("*.toml"))


def parse_override(text: str) -> dict[str, Any]:
    """``"run.tolerance=1e-6"`` -> {"run": {"tolerance": 1e-06}}: a TOML key = value line.

    Keys are TOML keys (``variants."lr_0.1".lr=0.5`` works); a value that is not TOML (a bare
    word) is taken as a string.
    """
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected KEY=VALUE, e.g. run.tolerance=1e-6")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        key, raw = text.split("=", 1)
        quoted = raw.strip().replace("\\", "\\\\").replace('"', '\\"')
        try:
            table = tomllib.loads(f'{key.strip()} = "{quoted}"')
        except tomllib.TOMLDecodeError:
            raise ScenarioError(f"--set {text!r}: the key must name a table and a key, "
                                "e.g. run.lr=0.1") from None
    node: Any = table
    depth = 0
    while isinstance(node, dict) and len(node) == 1:
        node = next(iter(node.values()))
        depth += 1
    if depth < 2:
        raise ScenarioError(f"--set {text!r}: the key must name a table and a key, e.g. run.lr")
    return table


def _merge(base: dict[str, Any], extra: dict[str, Any], text: str) -> None:
    for k, v in extra.items():
        if isinstance(v, dict):
            nxt = base.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise ScenarioError(f"--set {text}: '{k}' is not a table")
            _merge(nxt, v, text)
        else:
            base[k] = v


def load_scenario(
    name_or_path: str | Path, overrides: list[str] | None = None,
    search: list[Path] | None = None,
) -> Scenario:
    """Read, override and validate a scenario file; raise ScenarioError on any mistake."""
    path = find_scenario(name_or_path, search)
    source = path.name if path.parent.resolve() == BUNDLED_DIR else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{source}: cannot read the file ({exc})") from None
    return parse_scenario(text, source=source, path=path, overrides=overrides)


def parse_scenario(
    text: str, source: str = "<scenario>", path: Path | None = None,
    overrides: list[str] | None = None,
) -> Scenario:
    """Validate scenario TOML text (see docs/scenarios.md for every key)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: TOML syntax error: {exc}") from None
    for ov in overrides or []:
        change = parse_override(ov)
        _merge(raw, change, ov)
        # `--set run.lr=0.5` means "this lr", so it also replaces a variant's own lr
        variants = raw.get("variants")
        if isinstance(change.get("run"), dict) and isinstance(variants, dict):
            for table in variants.values():
                if isinstance(table, dict):
                    for key, value in change["run"].items():
                        if key in table:
                            table[key] = value
    return _validate(raw, source, path)


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


def _expect_table(raw: dict, key: str, source: str) -> dict:
    v = raw.get(key, {})
    if not isinstance(v, dict):
        raise ScenarioError(f"{source}: [{key}] must be a table, got {_type_name(v)}")
    return v


def _validate(raw: dict[str, Any], source: str, path: Path | None) -> Scenario:
    allowed = ("scenario", "params", "data", "graph", "run", "variants", "model")
    for key in raw:
        if key not in allowed:
            raise ScenarioError(
                f"{source}: unknown table [{key}] (expected: {', '.join(allowed)})"
            )
    meta = _expect_table(raw, "scenario", source)
    for key, v in meta.items():
        if key not in SCENARIO_KEYS:
            raise ScenarioError(
                f"{source}: [scenario] unknown key '{key}' (expected: {', '.join(SCENARIO_KEYS)})"
            )
        if not isinstance(v, str):
            raise ScenarioError(f"{source}: [scenario] key '{key}': expected a string, "
                                f"got {_type_name(v)}")
    default_name = path.stem if path is not None else "scenario"
    name = meta.get("name", default_name)
    model = raw.get("model")
    if model is not None and not isinstance(model, dict):
        raise ScenarioError(f"{source}: [model] must be a table")

    params_raw = _expect_table(raw, "params", source)
    params: dict[str, Any] = {}
    for key, v in params_raw.items():
        _check_name(key, "params", source)
        params[key] = _number_or_array(v, f"[params] key '{key}'", source)

    data_table = _expect_table(raw, "data", source)
    data: dict[str, Any] = {}
    if model is None:
        from .data.sources import load_data  # local import: only graph scenarios need it

        data = load_data(data_table, path.parent if path else Path("."), source)
        for key in data:
            _check_name(key, "data", source)

    graph = _expect_table(raw, "graph", source)
    for key, v in graph.items():
        _check_name(key, "graph", source)
        if not isinstance(v, str):
            raise ScenarioError(
                f"{source}: [graph] node '{key}': expected an expression string, "
                f"got {_type_name(v)}"
            )
    run = _expect_table(raw, "run", source)
    if model is None:  # an MLP scenario's [run] is checked by its trainer's settings
        _check_run_keys(run, "[run]", source)
    variants_raw = _expect_table(raw, "variants", source)
    variants: dict[str, dict[str, Any]] = {}
    for vname, table in variants_raw.items():
        if not isinstance(table, dict):
            raise ScenarioError(f"{source}: [variants.{vname}] must be a table of [run] keys")
        if model is None:
            _check_run_keys(table, f"[variants.{vname}]", source)
        variants[vname] = table

    sc = Scenario(
        path=path, source=source, name=name, title=meta.get("title", name),
        description=meta.get("description", ""), params=params, data=data, graph=graph,
        run=run, variants=variants, model=model, data_table=data_table,
    )
    if model is not None:
        from .mlp_scenario import validate_mlp_scenario  # only MLP scenarios need it

        validate_mlp_scenario(sc)
        return sc
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
        where = f"[variants.{vname}]" if vname else "[run]"
        if cfg.output not in g.index or g.nodes[g.index[cfg.output]].kind in ("param", "data"):
            raise ScenarioError(
                f"{source}: {where} key 'output': '{cfg.output}' is not a [graph] node "
                f"(nodes: {', '.join(g.order)})"
            )
    try:
        g.forward()
    except ArithmeticError:
        pass  # reported by the run as a divergence at iteration 0
    else:
        out = g.value(sc.config(None).output)
        if np.ndim(out) != 0:
            raise ScenarioError(
                f"{source}: [run] key 'output': '{sc.config(None).output}' must be a scalar, "
                f"but it has shape {np.shape(out)}: reduce it with mean(...) or sum(...)"
            )
    return sc


def _check_name(key: str, table: str, source: str) -> None:
    if not key.isidentifier() or key.startswith("_"):
        raise ScenarioError(
            f"{source}: [{table}] key '{key}': a name must be a Python identifier "
            "(letters, digits, underscores, not starting with a digit or underscore)"
        )


def _number_or_array(v: Any, where: str, source: str) -> Any:
    if isinstance(v, bool) or isinstance(v, str | dict):
        raise ScenarioError(f"{source}: {where}: expected a number or an array of numbers, "
                            f"got {_type_name(v)}")
    try:
        value = as_value(v)
    except (TypeError, ValueError):
        raise ScenarioError(
            f"{source}: {where}: expected a number or a rectangular array of numbers"
        ) from None
    if isinstance(value, np.ndarray) and value.size == 0:
        raise ScenarioError(f"{source}: {where}: the array is empty")
    if not np.all(np.isfinite(value)):
        raise ScenarioError(f"{source}: {where}: values must be finite numbers")
    return value


def _check_run_keys(table: dict[str, Any], where: str, source: str) -> None:
    for key, v in table.items():
        spec = RUN_KEYS.get(key)
        if spec is None:
            raise ScenarioError(
                f"{source}: {where} unknown key '{key}' (expected one of: {', '.join(RUN_KEYS)})"
            )
        types, desc = spec
        ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
        if not ok:
            raise ScenarioError(
                f"{source}: {where} key '{key}': expected {desc}, got {_type_name(v)} {v!r}"
            )


def _run_config(t: dict[str, Any], sc: Scenario, where: str) -> RunConfig:
    src = sc.source

    def bad(key: str, msg: str) -> ScenarioError:
        return ScenarioError(f"{src}: {where} key '{key}': {msg}, got {t[key]!r}")

    rule = t.get("rule", "")
    if rule not in RULES:
        raise ScenarioError(f"{src}: {where} key 'rule': expected 'target' or 'gradient', "
                            f"got {rule!r}")
    train = t.get("train", list(sc.params))
    for p in train:
        if not isinstance(p, str) or p not in sc.params:
            raise ScenarioError(
                f"{src}: {where} key 'train': '{p}' is not a parameter "
                f"(parameters: {', '.join(sc.params)})"
            )
    if not train:
        raise ScenarioError(f"{src}: {where} key 'train': train at least one parameter")
    if len(set(train)) != len(train):
        raise ScenarioError(f"{src}: {where} key 'train': a parameter is listed twice")
    for key in ("max_iterations",):
        if key in t and t[key] < 0:
            raise bad(key, "expected an integer >= 0")
    for key in ("tolerance", "grad_tolerance", "lr", "momentum", "weight_decay", "lr_decay",
                "initial_accumulator_value"):
        if key in t and not (t[key] >= 0 and math.isfinite(t[key])):
            raise bad(key, "expected a finite number >= 0")
    for key in ("batch_size", "epochs", "step_size"):
        if key in t and t[key] < 1:
            raise bad(key, "expected an integer >= 1")
    if "eps" in t and not t["eps"] > 0:
        raise bad("eps", "expected a number > 0")
    if "gamma" in t and not t["gamma"] > 0:
        raise bad("gamma", "expected a number > 0")
    if "alpha" in t and not 0 <= t["alpha"] <= 1:
        raise bad("alpha", "expected a number in [0, 1]")
    if "betas" in t:
        b = t["betas"]
        if len(b) != 2 or not all(isinstance(x, int | float) and not isinstance(x, bool)
                                  and 0 <= x < 1 for x in b):
            raise bad("betas", "expected a list of two numbers in [0, 1)")
    if rule == "target":
        if "target" not in t:
            raise ScenarioError(f"{src}: {where} key 'target' is required by the target rule")
        if t.get("factor", "recomputed") not in ("fixed", "recomputed"):
            raise bad("factor", "expected 'fixed' or 'recomputed'")
        if t.get("split", "equal") != "equal":
            raise bad("split", "expected 'equal'")
        for key in ("lr", "optimizer", "grad_tolerance", "batch_size", "epochs", "schedule",
                    *HYPERPARAMETERS["adam"], *HYPERPARAMETERS["sgd"], *HYPERPARAMETERS["rmsprop"],
                    *HYPERPARAMETERS["adagrad"]):
            if key in t:
                raise ScenarioError(
                    f"{src}: {where} key '{key}' does not apply to the target rule"
                )
    hyper: dict[str, Any] = {}
    opt = t.get("optimizer", "sgd")
    if rule == "gradient":
        if opt not in OPTIMIZERS:
            raise bad("optimizer", "expected one of " + ", ".join(OPTIMIZERS))
        all_hyper = {k for ks in HYPERPARAMETERS.values() for k in ks}
        for key in all_hyper:
            if key in t:
                if key not in HYPERPARAMETERS[opt]:
                    raise ScenarioError(
                        f"{src}: {where} key '{key}' does not apply to optimizer '{opt}' "
                        f"(it takes: {', '.join(HYPERPARAMETERS[opt])})"
                    )
                hyper[key] = t[key]
        merged = {**OPTIMIZERS[opt][1], **hyper}
        if merged.get("nesterov") and (merged.get("momentum", 0) <= 0
                                       or merged.get("dampening", 0) != 0):
            key = next((k for k in ("nesterov", "dampening", "momentum") if k in hyper),
                       "optimizer")
            raise ScenarioError(f"{src}: {where} key '{key}': Nesterov momentum needs "
                                f"momentum > 0 and dampening = 0 (optimizer '{opt}')")
        if t.get("schedule", "constant") not in SCHEDULES:
            raise bad("schedule", "expected one of " + ", ".join(SCHEDULES))
        for key in ("target", "factor", "split"):
            if key in t:
                raise ScenarioError(
                    f"{src}: {where} key '{key}' does not apply to the gradient rule"
                )
        if "batch_size" in t and not sc.data:
            raise ScenarioError(f"{src}: {where} key 'batch_size': mini-batches need [data]")
    return RunConfig(
        rule=rule, output=t["output"], train=tuple(train),
        max_iterations=int(t.get("max_iterations", 100)),
        tolerance=float(t["tolerance"]) if "tolerance" in t else None,
        target=float(t.get("target", 0.0)), factor=t.get("factor", "recomputed"),
        split=t.get("split", "equal"), lr=float(t.get("lr", 0.1)), optimizer=opt, hyper=hyper,
        grad_tolerance=float(t["grad_tolerance"]) if "grad_tolerance" in t else None,
        batch_size=t.get("batch_size"), epochs=t.get("epochs"), seed=int(t.get("seed", 0)),
        schedule=t.get("schedule", "constant"), step_size=int(t.get("step_size", 1)),
        gamma=float(t.get("gamma", 0.1)),
    )


def with_run(sc: Scenario, **changes: Any) -> Scenario:
    """A copy of ``sc`` with [run] keys changed (for the app's settings panel)."""
    run = {**sc.run, **changes}
    _check_run_keys(run, "[run]", sc.source)
    new = replace(sc, run=run)
    new.config(None)
    return new
