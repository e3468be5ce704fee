"""A checked sweep: the grid validated against its scenario, and every run's overrides.

``plan_sweep`` is where a sweep's bad input is caught, before any point runs: an unknown key, a
value the scenario's validator refuses, an unknown metric, a grid too large. Each mistake is one
GdlabError naming the key (and the value).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import kinds
from ..errors import GdlabError
from . import point as adapter
from .grid import Grid, Point, toml_value


@dataclass(frozen=True)
class Plan:
    """A sweep ready to run: the scenario, the grid, the base overrides and the points."""

    source: adapter.ScenarioSource
    grid: Grid
    overrides: tuple[str, ...]  # the sweep's own --set overrides, before each point's
    points: tuple[Point, ...]
    scenario: str  # the scenario's name
    kind: str
    variant: str | None
    seeded: bool  # whether each run sets its seed (--seeds N > 1)
    seed_keys: tuple[str, ...]
    best: str | None = "min"  # which end of the metric is best: "min", "max", None (neither)

    def run_overrides(self, p: Point) -> list[str]:
        """Everything ``--set`` must change for run ``p``: base, the point's values, its seed."""
        seed = [] if not self.seeded else self._seed_overrides(p.seed)
        return [*self.overrides, *p.overrides(), *seed]

    def _seed_overrides(self, seed: int) -> list[str]:
        return [f"{k}={seed}" for k in self.seed_keys]

    def task(self, p: Point) -> tuple[Any, ...]:
        """The arguments of ``point.run_point`` for run ``p`` (plain, picklable data)."""
        return (self.source, self.run_overrides(p), self.metric, self.variant)

    @property
    def metric(self) -> str:
        assert self.grid.metric is not None  # plan_sweep resolves it
        return self.grid.metric

    def header(self) -> dict[str, Any]:
        """What every row of this sweep shares: the scenario, variant and metric, and the
        ``--set`` overrides of every point (so that resuming never mixes two settings)."""
        return {"scenario": self.scenario, "variant": self.variant, "metric": self.metric,
                "set": list(self.overrides)}


def plan_sweep(source: adapter.ScenarioSource, grid: Grid, overrides: list[str] | None = None,
               force: bool = False) -> Plan:
    """Check ``grid`` against the scenario and list its runs; GdlabError on any mistake."""
    overrides = list(overrides or [])
    sc = source.load(overrides)
    if not grid.axes:
        raise GdlabError("nothing to sweep: give --grid KEY=VALUES (or a [sweep] table in "
                         "the scenario)")
    keys = grid.keys
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup:
        raise GdlabError(f"sweep key {dup}: given twice")
    variant = grid.variant if grid.variant is not None else sc.default_variant()
    if variant is not None and variant not in sc.variants:
        raise GdlabError(f"{sc.source}: no variant named '{variant}' "
                         f"(variants: {', '.join(sc.variants) or 'none'})")
    grid = replace(grid, metric=grid.metric or adapter.default_metric(sc, variant))
    metric = adapter.find_metric(sc, grid.metric, variant)
    seed_keys = adapter.seed_keys(sc)
    if grid.seeds > 1:
        swept = [k for k in keys if k in seed_keys]
        if swept:
            raise GdlabError(f"sweep key {swept[0]}: the grid sweeps the seed, so --seeds must "
                             "be 1")
    grid.check_size(force)
    kind = kinds.get(sc.kind)
    for axis in grid.axes:
        table, _, name = axis.key.partition(".")
        kind.check_sweep_key(sc, table, name)
        for v in dict.fromkeys(axis.values):  # each distinct value once
            text = f"{axis.key}={toml_value(v)}"
            try:
                source.load([*overrides, text])
            except GdlabError as exc:
                raise GdlabError(f"sweep value {text}: {exc}") from None
    base = adapter.base_seed(sc, variant)
    swept_seed = any(k in seed_keys for k in keys)
    points = grid.points(base)
    if swept_seed:  # the seed is one of the settings: rows carry no separate seed
        points = [Point(p.settings, None) for p in points]
    return Plan(source, grid, tuple(overrides), tuple(points), sc.name, sc.kind, variant,
                grid.seeds > 1, seed_keys, metric.best)
