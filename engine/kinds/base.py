"""What every scenario kind provides (``Kind``) and what every validated scenario holds
(``Scenario``): the contract between the file format (engine/scenario.py), the kinds
(engine/kinds/*.py) and the views (tui/)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ..errors import GdlabError, ScenarioError
from ..records import Summary
from ..run import RunConfig

#: the table a variant's flat keys change (`[variants.fast] lr = 0.5` is a [run] key)
FLAT_TABLE = "run"


@dataclass
class Scenario:
    """A validated scenario: its name and texts, its kind, its tables and its variants.

    ``tables``: the kind's tables as the file gives them (after ``--set``), every key checked;
    ``variants``: name -> table -> the keys that variant changes (flat keys are in "run").
    Each kind subclasses this with what it built from the tables (a graph, a model's settings).
    """

    path: Path | None
    source: str  # the file as named in messages
    name: str
    title: str
    description: str
    kind: str
    tables: dict[str, dict[str, Any]]
    variants: dict[str, dict[str, dict[str, Any]]]
    sweep: Any = None  # the [sweep] table as an engine.sweep.grid.Grid, when the file has one

    @property
    def run(self) -> dict[str, Any]:
        """The plain [run] table (validated)."""
        return self.tables.get(FLAT_TABLE, {})

    @property
    def label(self) -> str:
        """A word for listings: the kind's name (the graph kind names its rule)."""
        return self.kind

    @property
    def rule(self) -> str:
        """The listing word (kept for the views that call it a rule)."""
        return self.label

    def default_variant(self) -> str | None:
        """The variant a plain run uses: the first one, or None when there are none."""
        return next(iter(self.variants), None)

    def check_variant(self, variant: str | None) -> None:
        """Raise ScenarioError unless ``variant`` is None or one of the scenario's variants."""
        if variant is not None and variant not in self.variants:
            known = ", ".join(self.variants) or "none"
            raise ScenarioError(f"{self.source}: no variant named '{variant}' (variants: {known})")

    def table(self, name: str, variant: str | None = None) -> dict[str, Any]:
        """Table ``name`` with ``variant``'s changes applied (the raw but validated keys)."""
        self.check_variant(variant)
        base = dict(self.tables.get(name, {}))
        if variant is not None:
            base.update(self.variants[variant].get(name, {}))
        return base

    def run_table(self, variant: str | None = None) -> dict[str, Any]:
        """[run] with ``variant``'s changes applied."""
        return self.table(FLAT_TABLE, variant)

    def where(self, name: str, variant: str | None) -> str:
        """How a message names table ``name`` as ``variant`` sees it: ``[model]`` when the
        variant leaves the table alone, else ``[variants.v]`` for its [run] keys and
        ``[variants.v.model]`` for its other tables."""
        if variant is None or not self.variants.get(variant, {}).get(name):
            return f"[{name}]"
        return f"[variants.{variant}]" if name == FLAT_TABLE else f"[variants.{variant}.{name}]"

    def config(self, variant: str | None = None, **overrides: Any) -> RunConfig:
        """The RunConfig of ``variant`` (None: the plain [run]), with keyword overrides."""
        raise NotImplementedError  # pragma: no cover - every kind defines it

    def with_run(self, **changes: Any) -> Scenario:
        """A copy with [run] keys changed (None removes a key), validated as a whole."""
        run = {k: x for k, x in {**self.run, **changes}.items() if x is not None}
        new = replace(self, tables={**self.tables, FLAT_TABLE: run})
        new.config(None)
        return new


class RecordStream(Protocol):
    """A run of one variant: iterating yields its records in order; ``summary`` is set once the
    records are exhausted."""

    summary: Summary | None

    def __iter__(self) -> Iterator[Any]: ...


@dataclass(frozen=True)
class Metric:
    """A number a sweep can report of one run: ``name`` as ``--metric`` gives it (with
    ``arg``, a placeholder such as TOL, written ``name:TOL``), what it is, and which end is
    best ("min", "max", or None for a value that is not a cost)."""

    name: str
    text: str
    best: str | None = "min"
    arg: str = ""

    @property
    def usage(self) -> str:
        """How --metric writes it: ``updates``, ``iterations_to:TOL``."""
        return f"{self.name}:{self.arg}" if self.arg else self.name


#: what every kind's runs can report: their wall time (a timing, kept out of the summary)
SECONDS = Metric("seconds", "the run's wall time (differs between runs)")


class Probe:
    """Reads one run's records as they pass, for what its summary leaves out: a sweep point's
    extra summary numbers (``extras``) and its metric's value (``value``). This one reads
    nothing: the metric is a number of the summary."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.name, _, self.arg = metric.partition(":")

    def see(self, record: Any) -> None:
        """One record of the run, in order."""

    def extras(self) -> dict[str, Any]:
        """Numbers of the run's records that its summary does not hold."""
        return {}

    def value(self, summary: dict[str, Any]) -> Any:
        """The metric's value, from the summary (with ``extras``) and the records seen."""
        return summary.get(self.metric)


class Kind:
    """A kind of scenario: which tables it reads, how it validates them, how it runs.

    name: as written in ``[scenario] kind``; tables: the top-level tables it accepts (besides
    [scenario] and [variants]); variant_tables: the tables a variant may change (flat variant
    keys change [run]); implied_by: a table whose presence selects this kind when the file
    does not name one; steps: its runs can be stepped and edited between steps (sessions).
    The methods after ``stream`` say what a sweep can do with the kind (its metrics, its seed
    keys, the keys it may sweep); their defaults suit a kind with a [run] table and a seed.
    """

    name: str = ""
    tables: tuple[str, ...] = ()
    variant_tables: tuple[str, ...] = (FLAT_TABLE,)
    implied_by: str | None = None
    steps: bool = False  # its runs step one state at a time (the app's run view, sessions)

    def validate(self, meta: dict[str, Any], tables: dict[str, dict[str, Any]],
                 variants: dict[str, dict[str, dict[str, Any]]]) -> Scenario:
        """Check the tables and every variant; return the kind's Scenario. ``meta``: path,
        source, name, title, description. Raise ScenarioError naming the file and the key."""
        raise NotImplementedError  # pragma: no cover

    def check(self, sc: Scenario) -> None:
        """Every check a run makes before its first record (data shapes too), without running."""
        raise NotImplementedError  # pragma: no cover

    def stream(self, sc: Scenario, variant: str | None, *,
               should_stop: Callable[[], bool] | None = None) -> RecordStream:
        """The records of ``variant`` (None: the plain [run]), as a RecordStream."""
        raise NotImplementedError  # pragma: no cover

    # --- what a sweep (engine.sweep) needs of the kind ----------------------------------

    def metrics(self, sc: Scenario, variant: str | None = None) -> dict[str, Metric]:
        """What a sweep can report of ``variant``'s runs, by name (only what they have a
        number for)."""
        return {SECONDS.name: SECONDS}

    def default_metric(self, sc: Scenario, variant: str | None = None) -> str:
        """What a sweep reports unless told."""
        return SECONDS.name

    def check_metric_arg(self, sc: Scenario, metric: Metric, arg: str) -> None:
        """Raise GdlabError unless ``arg`` suits ``metric`` (here: a number >= 0)."""
        try:
            x = float(arg)
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and x >= 0):
            raise GdlabError(f"metric '{metric.name}:{arg}': expected a number >= 0 after "
                             f"'{metric.name}:'")

    def probe(self, sc: Scenario, metric: str) -> Probe:
        """What reads ``metric`` (already checked) off a run's records and summary."""
        return Probe(metric)

    def seed_keys(self, sc: Scenario) -> tuple[str, ...]:
        """The keys (TABLE.KEY) a sweep over seeds sets to the run's seed."""
        return (f"{FLAT_TABLE}.seed",)

    def check_sweep_key(self, sc: Scenario, table: str, key: str) -> None:
        """Raise GdlabError unless a sweep may change ``table.key`` (one of the kind's
        tables; the validator checks each value)."""
        if table not in self.tables:
            raise GdlabError(f"sweep key {table}.{key}: a {self.name} scenario has no table "
                             f"[{table}] (tables: {', '.join(self.tables)})")

    def suggested_axis(self, sc: Scenario, variant: str | None) -> tuple[str, str]:
        """A first key for the app's sweep form and its values: the learning rate over two
        decades around the run's own."""
        lr = float(sc.config(variant).lr or 0.1)
        return f"{FLAT_TABLE}.lr", ",".join(f"{x:g}" for x in nice_values(lr / 10, lr * 10, lr))


def nice_values(lo: float, hi: float, keep: float) -> list[float]:
    """The numbers 1, 2 and 5 times a power of ten from ``lo`` to ``hi`` (lo > 0), and
    ``keep``."""
    out = {keep}
    if lo > 0:
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
            out |= {float(f"{m}e{e}") for m in (1, 2, 5) if lo <= m * 10.0 ** e <= hi * 1.000001}
    return sorted(out)
