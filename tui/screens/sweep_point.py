"""A point of a sweep in its own view: a run view of its own for a kind that steps (graphs: over
the sweep screen, escape goes back to it), else its kind's screen (a network's network screen)."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from engine.sweep.plan import Plan

from ..session import Session
from .run import RunScreen


def open_point(app: Any, plan: Plan, overrides: list[str]) -> Screen:
    """The view of one point: a kind that steps opens in a run view of its own over the sweep
    (its own session, recorded with the point's overrides); any other in its kind's screen."""
    from engine import kinds

    from ..kinds import get as kind_views

    if kinds.get(plan.kind).steps:
        session = Session(search=getattr(app, "dirs", []), detail=True)
        session.open(str(plan.source.path), plan.variant, overrides)
        return PointRunScreen(session)
    sc = plan.source.load(overrides)
    return kind_views(plan.kind).screen(app, sc, str(plan.source.path), plan.variant)


class PointRunScreen(RunScreen):
    """The run view of one point of a sweep, over the sweep screen: escape goes back to it."""

    HELP_TITLE = "a sweep point's run view (the run view's keys too)"
    HELP_ORDER = 46

    BINDINGS = [Binding("escape", "back", "Back to the sweep")]

    def on_mount(self) -> None:
        """Show the point's run to its end at once: that is what was asked for. (Textual also
        calls RunScreen.on_mount; the run starts after both.)"""
        self.call_after_refresh(self.start_run, True)

    def action_back(self) -> None:
        """Leave the field being edited, or go back to the sweep."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
            return
        self.pause()
        self.app.pop_screen()

    def action_compare(self) -> None:
        """Compare this point's variants."""
        from .compare import CompareScreen

        self.pause()
        sc = self.session.scenario
        if sc is None or not sc.variants:
            self.notify("this scenario has no variants to compare", severity="warning")
            return
        self.app.push_screen(CompareScreen(sc))

    def action_export(self) -> None:
        """Export this point's trace or session."""
        from .export import ExportScreen

        self.pause()
        self.app.push_screen(ExportScreen(self.session))
