"""The iteration table: the columns of ``gdlab run``, the newest rows, following the last one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widgets import DataTable

from engine.runner import Record

Column = tuple[str, Callable[[Record], str]]

WINDOW = 1000  # rows kept in the widget; the whole trace is in the session (export it)
RUNNING_ROWS = 100  # rows added per redraw while a fast run goes (nobody reads faster)


class IterationTable(DataTable):
    """A DataTable of the newest records (at most ``window`` rows), cursor on the newest."""

    can_focus = False  # keys belong to the run view; the table follows the newest row

    def __init__(self, window: int = WINDOW, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.window = window
        self.columns_spec: list[Column] = []
        self.total = 0  # records of the trace the table has caught up with

    def set_columns(self, cols: Sequence[Column]) -> None:
        """Start again with these columns (header, record -> text)."""
        self.clear(columns=True)
        self.columns_spec = list(cols)
        for header, _ in cols:
            self.add_column(Text(header, justify="right"), key=header)
        self.total = 0

    def _row(self, r: Record) -> list[Text]:
        return [Text(f(r), justify="right") for _, f in self.columns_spec]

    def sync(self, records: Sequence[Record], limit: int | None = None) -> None:
        """Catch up with ``records`` (the whole trace): add the new rows, at most ``limit``.

        With more new records than ``limit`` the table starts again from the newest ``limit``
        rows; ``fill`` later restores the full window once the run pauses.
        """
        n = len(records)
        new = n - self.total
        if new <= 0:
            return
        limit = self.window if limit is None else min(limit, self.window)
        if new > limit:
            self.clear()
            self.add_rows([self._row(r) for r in records[n - limit:]])
        else:
            if self.row_count + new > self.window + self.window // 2:
                self.clear()
                self.add_rows([self._row(r) for r in records[max(0, n - self.window):n - new]])
            self.add_rows([self._row(r) for r in records[n - new:]])
        self.total = n
        self.move_cursor(row=self.row_count - 1, animate=False)

    def fill(self, records: Sequence[Record]) -> None:
        """Show the full window of newest rows if a fast run left fewer."""
        want = min(self.window, len(records))
        if self.row_count >= want:
            return
        self.clear()
        self.add_rows([self._row(r) for r in records[len(records) - want:]])
        self.total = len(records)
        self.move_cursor(row=self.row_count - 1, animate=False)
