"""The registry of scenario kinds: the one place that lists them.

A kind is a module of this package that defines ``KIND``, an ``engine.kinds.base.Kind``: the
tables it reads, its validation (into its own ``Scenario``), its deep check and its record
stream. Adding a kind is one module here, one in ``tui/kinds/`` for its views, and one line in
each registry. Kind modules are imported on first use, so that the format module
(engine/scenario.py) can use the registry without importing every kind's engine.
"""

from __future__ import annotations

from importlib import import_module

from ..errors import ScenarioError
from .base import Kind, RecordStream, Scenario

#: kind name -> the module that defines its KIND
KINDS = {
    "network": "engine.kinds.network",
    "graph": "engine.kinds.graph",
}
#: a table whose presence selects the kind of a file that names none (each kind's implied_by)
IMPLIED_BY = {"model": "network"}
DEFAULT = "graph"  # the kind of a file that names none and has no table implying another

__all__ = ["DEFAULT", "IMPLIED_BY", "KINDS", "Kind", "RecordStream", "Scenario", "get",
           "kind_of", "names"]


def names() -> tuple[str, ...]:
    """Every registered kind's name."""
    return tuple(KINDS)


def get(name: str) -> Kind:
    """The registered kind called ``name`` (ScenarioError for an unknown name)."""
    if name not in KINDS:
        raise ScenarioError(f"unknown scenario kind {name!r} (kinds: {', '.join(KINDS)})")
    kind: Kind = import_module(KINDS[name]).KIND
    return kind


def kind_of(named: str | None, tables: set[str] | list[str], source: str) -> Kind:
    """The kind of a file: the one ``[scenario] kind`` names, else the one a table implies
    ([model] makes a network), else the default. Only that kind's module is imported."""
    if named is not None:
        if named not in KINDS:
            raise ScenarioError(f"{source}: [scenario] key 'kind': expected one of "
                                f"{', '.join(repr(k) for k in KINDS)}, got {named!r}")
        return get(named)
    for table, name in IMPLIED_BY.items():
        if table in tables:
            return get(name)
    return get(DEFAULT)
