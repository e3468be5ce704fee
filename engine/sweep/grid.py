"""The grid of a sweep: its axes (a key and its values), seeds and metric, and its points in order.

Points come in grid order: the first axis varies slowest, then the next, seeds innermost, like
nested loops written in the order the keys were given. A point is identified by its settings
and its seed (not its position), so that a resumed sweep recognises the rows it already has
even when the grid around them changed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ..errors import GdlabError
from .values import ValueListError, parse_values, values_from_toml

MAX_RUNS = 1000  # runs (points x seeds) a sweep may have without --force
HARD_MAX_RUNS = 100_000  # and with it
MAX_SEEDS = 1000
TABLE_KEYS = ("grid", "metric", "seeds", "variant")  # the keys of a scenario's [sweep] table


@dataclass(frozen=True)
class Axis:
    """One swept key and its values, in the order given."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Point:
    """One run of a sweep: a value for every axis, and a seed."""

    settings: tuple[tuple[str, Any], ...]
    seed: int | None  # None when the grid itself sweeps the seed key

    @property
    def settings_dict(self) -> dict[str, Any]:
        return dict(self.settings)

    def ident(self) -> str:
        """A stable text identity (settings and seed) for matching rows on resume."""
        return identity(self.settings_dict, self.seed)

    def overrides(self) -> list[str]:
        """The point's settings as ``--set`` overrides."""
        return [f"{k}={toml_value(v)}" for k, v in self.settings]


def identity(settings: dict[str, Any], seed: int | None) -> str:
    """The identity of a row with these settings and seed (see ``Point.ident``)."""
    return json.dumps({"settings": settings, "seed": seed}, sort_keys=True)


def toml_value(v: Any) -> str:
    """A value as TOML writes it (``--set`` reads it back to the same value)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise GdlabError(f"{v!r}: sweep values must be finite")
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    # a TOML basic string: quotes and backslashes escaped, control characters as \uXXXX
    text = "".join("\\" + ch if ch in '"\\' else
                   f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch
                   for ch in str(v))
    return f'"{text}"'


@dataclass(frozen=True)
class Grid:
    """What to sweep: the axes, how many seeds per point, the metric, the variant."""

    axes: tuple[Axis, ...]
    seeds: int = 1
    metric: str | None = None  # None: the scenario's default (``point.default_metric``)
    variant: str | None = None

    @property
    def keys(self) -> list[str]:
        return [a.key for a in self.axes]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    @property
    def n_points(self) -> int:
        """Grid points (settings), not counting seeds."""
        return math.prod(self.shape)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.seeds

    def settings(self) -> list[tuple[tuple[str, Any], ...]]:
        """Every combination of the axes' values, first axis slowest."""
        combos: list[tuple[tuple[str, Any], ...]] = [()]
        for a in self.axes:
            combos = [c + ((a.key, v),) for c in combos for v in a.values]
        return combos

    def points(self, base_seed: int) -> list[Point]:
        """Every run in grid order: seeds ``base_seed .. base_seed + seeds - 1`` innermost."""
        return [Point(s, base_seed + i) for s in self.settings() for i in range(self.seeds)]

    def check_size(self, force: bool) -> None:
        """Refuse a grid of more than MAX_RUNS runs without ``force``, HARD_MAX_RUNS with it."""
        n = self.n_runs
        shape = " x ".join(str(k) for k in self.shape) or "1"
        seeds = f" x {self.seeds} seeds" if self.seeds > 1 else ""
        if n > HARD_MAX_RUNS:
            raise GdlabError(f"the grid has {n:,} runs ({shape}{seeds}); at most "
                             f"{HARD_MAX_RUNS:,} even with --force")
        if n > MAX_RUNS and not force:
            raise GdlabError(f"the grid has {n:,} runs ({shape}{seeds}), more than the limit "
                             f"of {MAX_RUNS:,} (--force runs it anyway)")


def check_key(key: str, where: str) -> None:
    """A grid key is TABLE.NAME, as ``--set`` takes it (whether the scenario's kind has the
    table is checked with the scenario: ``Kind.check_sweep_key``)."""
    table, dot, name = key.partition(".")
    if not dot or not name or not table:
        raise GdlabError(f"{where}: '{key}' is not TABLE.KEY (e.g. run.lr, model.seed, "
                         "params.x)")


def parse_grid_option(text: str) -> Axis:
    """``--grid KEY=LIST`` -> an Axis (GdlabError naming the key when the list is bad)."""
    key, eq, spec = text.partition("=")
    key = key.strip()
    if not eq or not key:
        raise GdlabError(f"--grid {text!r}: expected KEY=VALUES, e.g. run.lr=0.1,0.2,0.5")
    check_key(key, f"--grid {key}")
    try:
        values = parse_values(spec)
    except ValueListError as exc:
        raise GdlabError(f"--grid {key}: {exc}") from None
    return Axis(key, tuple(values))


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in table.items():
        if isinstance(v, dict):
            out += _flatten(v, f"{prefix}{k}.")
        else:
            out.append((prefix + k, v))
    return out


def grid_from_table(table: Any, source: str) -> Grid:
    """A scenario's ``[sweep]`` table -> Grid; ScenarioError-style messages naming the key."""
    from ..errors import ScenarioError

    if not isinstance(table, dict):
        raise ScenarioError(f"{source}: [sweep] must be a table")
    for k in table:
        if k not in TABLE_KEYS:
            raise ScenarioError(f"{source}: [sweep] unknown key '{k}' "
                                f"(expected: {', '.join(TABLE_KEYS)})")
    grid = table.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise ScenarioError(f"{source}: [sweep] key 'grid': expected a table of keys and their "
                            "values, e.g. \"run.lr\" = \"0.01:1:0.01\"")
    axes = []
    for key, v in _flatten(grid):
        where = f"{source}: [sweep.grid] key '{key}'"
        try:
            check_key(key, where)
            axes.append(Axis(key, tuple(values_from_toml(v))))
        except ValueListError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        except GdlabError as exc:
            raise ScenarioError(str(exc)) from None
    metric = table.get("metric")
    if metric is not None and (not isinstance(metric, str) or not metric):
        raise ScenarioError(f"{source}: [sweep] key 'metric': expected a metric name, "
                            f"got {metric!r}")
    seeds = table.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ScenarioError(f"{source}: [sweep] key 'seeds': expected an integer from 1 to "
                            f"{MAX_SEEDS}, got {seeds!r}")
    variant = table.get("variant")
    if variant is not None and not isinstance(variant, str):
        raise ScenarioError(f"{source}: [sweep] key 'variant': expected a variant name")
    return Grid(tuple(axes), seeds, metric, variant)
