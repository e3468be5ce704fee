"""The run view's iteration-table keys: paging through history, going to an iteration,
choosing the columns and scrolling them sideways, and the note under the table."""

from __future__ import annotations

from ..session import Session
from ..widgets.iter_table import RUNNING_ROWS, IterationTable
from .columns import FIT, ColumnsScreen
from .goto import GotoScreen


class TableKeys:
    """The iteration table's keys (a part of RunScreen)."""

    session: Session
    running: bool
    _generation: int

    def _sync_table(self) -> None:
        s = self.session
        if s.generation != self._generation:
            return
        table = self.query_one(IterationTable)
        if self.running:
            table.sync(s.records, RUNNING_ROWS)
        else:
            table.sync(s.records)
            table.fill(s.records)

    def on_iteration_table_refitted(self, event: IterationTable.Refitted) -> None:
        """The table's columns changed (a resize, a choice): the note says so at the next redraw."""
        self._dirty = True

    def _table_note(self) -> str:
        """Where the table is in the trace, what is out of view, and the keys for both."""
        table = self.query_one(IterationTable)
        n = len(self.session.records)
        if table.page is not None:
            rows = f"{table.position(n)} ([ ] page, g go to, f follow)"
        elif n > table.row_count:
            rows = f"{table.position(n)} ([ older, g go to)"
        elif not n:
            rows = "s: one step   space: run/pause   enter: run to the stop   ?: help"
        else:
            rows = ""
        return "  ·  ".join(p for p in (rows, table.column_note()) if p)

    def action_older(self) -> None:
        """Page the iteration table back one window of rows."""
        if self.session.generation != self._generation:
            return
        if not self.query_one(IterationTable).older(self.session.records):
            self.notify("the first row is in view")
        self.redraw()

    def action_newer(self) -> None:
        """Page the iteration table forward one window (the last one follows the newest row)."""
        if self.session.generation != self._generation:
            return
        if not self.query_one(IterationTable).newer(self.session.records):
            self.notify("already following the newest row")
        self.redraw()

    def action_follow(self) -> None:
        """Jump back to following the newest row."""
        table = self.query_one(IterationTable)
        if table.page is not None and self.session.generation == self._generation:
            table.follow(self.session.records)
        self.redraw()

    def action_goto(self) -> None:
        """Ask for an iteration and show it in the table (the run pauses)."""
        records = self.session.records
        if not records:
            self.notify("no iterations yet: press s to take one")
            return
        self.pause()
        generation = self.session.generation

        def show(i: int | None) -> None:
            if i is None or self.session.generation != generation:
                return
            self.query_one(IterationTable).goto(self.session.records, i)
            self.redraw()

        self.app.push_screen(GotoScreen(len(records) - 1), show)

    def action_columns(self) -> None:
        """Choose the columns of the iteration table."""
        table = self.query_one(IterationTable)

        def chosen(headers: set[str] | str | None) -> None:
            if headers is not None:
                table.choose(None if headers == FIT else set(headers))
                self.redraw()

        self.app.push_screen(ColumnsScreen(table.headers, set(table.headers) - set(table.hidden)),
                             chosen)

    def action_columns_left(self) -> None:
        """Scroll the iteration table one column to the left."""
        if not self.query_one(IterationTable).scroll_columns(-1):
            self.notify("the first columns are in view (t: choose the columns)")
        self.redraw()

    def action_columns_right(self) -> None:
        """Scroll the iteration table one column to the right."""
        if not self.query_one(IterationTable).scroll_columns(1):
            self.notify("the last columns are in view (t: choose the columns)")
        self.redraw()
