"""The run view's keys that move between its panels and to the other screens: the backward
walk-through, diagram or tree, log or linear, the tabs, compare, sweep, open, export, help."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import TabbedContent

from ..widgets.graph_view import GraphPanel

if TYPE_CHECKING:
    from ..session import Session
    from ..widgets.probe import Probe


class ViewKeys:
    """The part of ``RunScreen`` that answers its view keys (it uses the screen's ``pause``,
    ``redraw`` and the Screen's own query and focus methods)."""

    session: Session
    log_scale: bool
    _walk: int | None
    _probe: Probe | None

    def action_walk(self) -> None:
        """Show the next edge of the backward walk-through."""
        point = self._probe.at(self.session.records[-1].params if self.session.records
                               else dict(self.session.run.start)) if self._probe else None
        if point is None or not point.edges:
            self.notify("no backward pass to walk through")
            return
        self.query_one(TabbedContent).active = "tab-graph"
        if self._walk is None or self._walk >= len(point.edges):
            self._walk = 1
        else:
            self._walk += 1
        self.redraw()

    def action_diagram(self) -> None:
        """Switch the graph panel between the drawn diagram and the tree."""
        graph = self.query_one(GraphPanel)
        graph.use_diagram(not graph.has_class("-diagram"))
        self.query_one(TabbedContent).active = "tab-graph"
        self.redraw()
        if graph.has_class("-too-large"):
            self.notify("the graph is too large to draw: showing the tree")

    def action_toggle_log(self) -> None:
        """Switch the error chart between a log and a linear axis."""
        self.log_scale = not self.log_scale
        self.query_one(TabbedContent).active = "tab-plots"
        self.redraw()

    def action_tab(self, pane: str) -> None:
        """Open the tab (in Params and Settings its first field takes what is typed next)."""
        self.query_one(TabbedContent).active = pane
        self.call_after_refresh(self._focus_pane, pane)

    def _focus_pane(self, pane: str) -> None:
        if pane not in ("tab-params", "tab-settings"):
            self.set_focus(None)  # keys act on the run
            return
        box = self.query_one(f"#{pane}")
        fields = [w for w in (*box.query("Input"), *box.query("Select, Checkbox")) if w.focusable]
        self.set_focus(fields[0] if fields else None)

    def action_compare(self) -> None:
        """Open the compare view of the scenario's variants."""
        self.pause()
        self.app.action_compare()

    def action_sweep(self) -> None:
        """Open the sweep screen on this scenario (with the settings edited here)."""
        self.pause()
        self.app.action_sweep()

    def action_open(self) -> None:
        """Open the scenario picker."""
        self.pause()
        self.app.action_picker()

    def action_export(self) -> None:
        """Open the export dialog."""
        self.pause()
        self.app.action_export()

    def action_help(self) -> None:
        """Show the keys."""
        self.app.action_show_help()

    def action_blur(self) -> None:
        """Leave the field being edited so that keys act on the run again."""
        self.set_focus(None)

    async def action_quit(self) -> None:
        """Quit the app."""
        self.pause()
        self.app.exit()
