"""Validation of MLP scenarios ([model], [data] source = "mnist", and the training [run])."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ScenarioError

if TYPE_CHECKING:
    from .mlp import MLPConfig
    from .mlp_train import TrainSettings
    from .scenario import Scenario

DATA_KEYS = ("source", "path", "train_limit", "test_limit")


def validate_mlp_scenario(sc: Scenario) -> None:
    """Check [model], [data] and every variant's [run]; raise ScenarioError naming the key."""
    model_config(sc)
    data_options(sc)
    for v in [None, *sc.variants]:
        train_settings(sc, v)


def model_config(sc: Scenario) -> MLPConfig:
    """The validated network configuration of an MLP scenario."""
    from .mlp import mlp_config_from_table

    return mlp_config_from_table(dict(sc.model or {}), sc.source)


def train_settings(sc: Scenario, variant: str | None = None) -> TrainSettings:
    """The training settings of ``variant`` (None: the plain [run])."""
    from .mlp_train import train_settings_from_table

    table = sc.run_table(variant)
    try:
        return train_settings_from_table(table, sc.source)
    except ScenarioError as exc:
        if variant is None:
            raise
        raise ScenarioError(str(exc).replace("[run]", f"[variants.{variant}]", 1)) from None


def data_options(sc: Scenario) -> dict[str, Any]:
    """[data] of an MLP scenario: source = "mnist", optional path and limits."""
    t = sc.data_table
    src = sc.source
    for key in t:
        if key not in DATA_KEYS:
            raise ScenarioError(f"{src}: [data] unknown key '{key}' for an MNIST scenario "
                                f"(expected: {', '.join(DATA_KEYS)})")
    if t.get("source", "mnist") != "mnist":
        raise ScenarioError(f"{src}: [data] key 'source': expected 'mnist', got {t['source']!r}")
    if "path" in t and not isinstance(t["path"], str):
        raise ScenarioError(f"{src}: [data] key 'path': expected a folder path (a string)")
    for key in ("train_limit", "test_limit"):
        if key in t:
            v = t[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ScenarioError(f"{src}: [data] key '{key}': expected an integer >= 1, "
                                    f"got {v!r}")
    opts = {k: t[k] for k in ("train_limit", "test_limit") if k in t}
    if "path" in t:
        base = sc.path.parent if sc.path else None
        from pathlib import Path

        p = Path(t["path"]).expanduser()
        opts["path"] = p if p.is_absolute() or base is None else base / p
    return opts
