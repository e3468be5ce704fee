"""The registry of each scenario kind's views: its headless report and its app screen.

Each kind of engine/kinds/ has a module here defining ``VIEWS``, a ``tui.kinds.base.Views``:
``gdlab run`` and ``gdlab compare`` (tables, CSV, JSONL, --plot) and the screen the app opens.
Modules are imported on first use; none imports textual at module level, so the headless
commands never load the app's libraries.
"""

from __future__ import annotations

from importlib import import_module

from engine.errors import GdlabError

from .base import Views

#: kind name -> the module that defines its VIEWS (the same names as engine.kinds.KINDS)
KINDS = {
    "network": "tui.kinds.network",
    "graph": "tui.kinds.graph",
}

__all__ = ["KINDS", "Views", "get"]


def get(name: str) -> Views:
    """The views of the kind called ``name``."""
    if name not in KINDS:
        raise GdlabError(f"no views for scenario kind {name!r} (kinds: {', '.join(KINDS)})")
    views: Views = import_module(KINDS[name]).VIEWS
    return views
