"""One point of a sweep: load the scenario with ``--set``-style overrides, run it to the end
headlessly, and return its summary as a plain dict with the metric's value.

This module is the sweep's only contact with the kinds of scenario, and it never asks which
kind it has: it runs any kind through the registry (``engine.kinds``), and the kind says what a
sweep can do with it (its metrics and their probe, its seed keys, the keys it may sweep:
``engine.kinds.base.Kind``). Everything else in ``engine.sweep`` (the grid, the execution,
resume) and the views treat a point's result as a plain dict.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import kinds
from ..errors import GdlabError
from ..kinds.base import SECONDS, Metric
from ..scenario import Scenario, load_scenario, parse_scenario

TIMINGS = ("seconds", "total_seconds")  # kept apart from the summary (rows' "timing")


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


def metrics(sc: Scenario, variant: str | None = None) -> dict[str, Metric]:
    """The metrics ``variant``'s runs give (its kind says which), by name."""
    return kinds.get(sc.kind).metrics(sc, variant)


def find_metric(sc: Scenario, metric: str, variant: str | None = None) -> Metric:
    """The Metric ``metric`` names (``iterations_to:1e-6`` -> iterations_to), its argument
    checked; GdlabError listing the available ones otherwise."""
    known = metrics(sc, variant)
    name, sep, arg = metric.partition(":")
    m = known.get(name)
    if m is not None and bool(sep) == bool(m.arg):
        if sep:
            kinds.get(sc.kind).check_metric_arg(sc, m, arg)
        return m
    listed = ", ".join(m.usage for m in known.values())
    raise GdlabError(f"unknown metric {metric!r} for a {sc.kind} scenario (available: {listed})")


def check_metric(sc: Scenario, metric: str, variant: str | None = None) -> None:
    """Raise GdlabError unless ``metric`` is one this scenario gives (the error lists them)."""
    find_metric(sc, metric, variant)


def default_metric(sc: Scenario, variant: str | None = None) -> str:
    """The metric a sweep reports unless told (its kind's choice: a graph's iterations to its
    own tolerance, a network's final test accuracy...)."""
    return kinds.get(sc.kind).default_metric(sc, variant)


def base_seed(sc: Scenario, variant: str | None = None) -> int:
    """The seed a plain run of this scenario uses: its run configuration's (a network's is its
    model's seed unless [run] sets its own)."""
    return int(sc.config(variant).seed)


def seed_keys(sc: Scenario) -> tuple[str, ...]:
    """The keys a sweep over seeds sets to each run's seed (its kind's)."""
    return kinds.get(sc.kind).seed_keys(sc)


def run_point(source: ScenarioSource, overrides: list[str], metric: str,
              variant: str | None = None) -> dict[str, Any]:
    """Run one point to its end; return {"value", "stop_reason", "message", "summary",
    "seconds", "cpu_seconds"}: the metric's value (None when the run gives none, e.g. a
    tolerance never reached), how the run ended, its summary without timings, and the run's
    wall and CPU time (this process's: a worker runs one point at a time)."""
    sc = source.load(overrides)
    if variant is None:
        variant = sc.default_variant()
    kind_ = kinds.get(sc.kind)
    probe = kind_.probe(sc, metric)
    t0, c0 = time.perf_counter(), time.process_time()
    stream = kind_.stream(sc, variant)
    for rec in stream:
        probe.see(rec)
    s = stream.summary
    assert s is not None  # every stream ends with a summary
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    summary = {k: v for k, v in s.to_json()["summary"].items() if k not in TIMINGS}
    summary.update({k: _finite(v) for k, v in probe.extras().items()})
    value = seconds if metric == SECONDS.name else probe.value(summary)
    return {"value": _finite(value), "stop_reason": s.stop_reason, "message": s.message,
            "summary": summary, "seconds": seconds, "cpu_seconds": cpu}


def _finite(v: Any) -> Any:
    """A number as JSON holds it: a Python float or int, None for NaN and the infinities."""
    if v is None or isinstance(v, bool | int | str):
        return v
    v = float(v)
    return v if math.isfinite(v) else None
