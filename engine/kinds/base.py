"""What every scenario kind provides (``Kind``) and what every validated scenario holds
(``Scenario``): the contract between the file format (engine/scenario.py), the kinds
(engine/kinds/*.py) and the views (tui/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ..errors import ScenarioError
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


class Kind:
    """A kind of scenario: which tables it reads, how it validates them, how it runs.

    name: as written in ``[scenario] kind``; tables: the top-level tables it accepts (besides
    [scenario] and [variants]); variant_tables: the tables a variant may change (flat variant
    keys change [run]); implied_by: a table whose presence selects this kind when the file
    does not name one; steps: its runs can be stepped and edited between steps (sessions).
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
