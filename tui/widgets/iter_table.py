"""The iteration table: the columns of ``gdlab run``, following the newest row or paging through history."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widgets import DataTable

from engine.records import IterationRecord as Record

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
        self.page: int | None = None  # None: follow the newest row; else rows page*window...

    def set_columns(self, cols: Sequence[Column]) -> None:
        """Start again with these columns (header, record -> text)."""
        self.clear(columns=True)
        self.columns_spec = list(cols)
        for header, _ in cols:
            self.add_column(Text(header, justify="right"), key=header)
        self.total = 0
        self.page = None

    def _row(self, r: Record) -> list[Text]:
        return [Text(f(r), justify="right") for _, f in self.columns_spec]

    def sync(self, records: Sequence[Record], limit: int | None = None) -> None:
        """Catch up with ``records`` (the whole trace): add the new rows, at most ``limit``.

        With more new records than ``limit`` the table starts again from the newest ``limit``
        rows; ``fill`` later restores the full window once the run pauses.
        """
        n = len(records)
        new = n - self.total
        if new <= 0 or self.page is not None:
            return
        limit = self.window if limit is None else min(limit, self.window)
        if new > limit:
            self.clear()
            self.add_rows([self._row(r) for r in records[n - limit:]])
        elif limit < self.window:  # a fast run: rebuild now and then, not row by row
            if self.row_count + new > self.window + self.window // 2:
                self.clear()
                self.add_rows([self._row(r) for r in records[max(0, n - self.window):n - new]])
            self.add_rows([self._row(r) for r in records[n - new:]])
        else:  # steps by hand: drop the oldest rows so that exactly the window is shown
            self.add_rows([self._row(r) for r in records[n - new:]])
            while self.row_count > self.window:
                self.remove_row(self.ordered_rows[0].key)
        self.total = n
        self.move_cursor(row=self.row_count - 1, animate=False)

    def fill(self, records: Sequence[Record]) -> None:
        """Show exactly the window of newest rows (a fast run leaves fewer, or a few more)."""
        want = min(self.window, len(records))
        if self.row_count == want or self.page is not None:
            return
        self.clear()
        self.add_rows([self._row(r) for r in records[len(records) - want:]])
        self.total = len(records)
        self.move_cursor(row=self.row_count - 1, animate=False)

    # --- history ----------------------------------------------------------------------

    def first_shown(self, n: int) -> int:
        """Index of the first record in view when the trace has ``n`` records."""
        if self.page is not None:
            return self.page * self.window
        return max(0, min(n, self.total) - self.row_count)

    def show_page(self, records: Sequence[Record], page: int) -> None:
        """Stop following and show records ``page*window`` to ``page*window + window - 1``."""
        start = page * self.window
        self.page = page
        self.clear()
        self.add_rows([self._row(r) for r in records[start:start + self.window]])
        self.move_cursor(row=0, animate=False)
        self.scroll_home(animate=False)

    def goto(self, records: Sequence[Record], i: int) -> None:
        """Show the window holding record ``i`` with the cursor on it (stop following)."""
        self.show_page(records, i // self.window)
        self.move_cursor(row=i - self.page * self.window, animate=False)

    def older(self, records: Sequence[Record]) -> bool:
        """Page back one window of rows; False if the first row is already in view."""
        first = self.first_shown(len(records))
        if first == 0:
            return False
        self.show_page(records, (first - 1) // self.window)
        return True

    def newer(self, records: Sequence[Record]) -> bool:
        """Page forward one window; the last window follows the newest row again."""
        if self.page is None:
            return False
        if (self.page + 2) * self.window >= len(records):
            self.follow(records)
        else:
            self.show_page(records, self.page + 1)
        return True

    def follow(self, records: Sequence[Record]) -> None:
        """Show the newest rows again and follow them as the run goes on."""
        self.page = None
        self.clear()
        self.total = 0
        self.sync(records)

    def position(self, n: int) -> str:
        """Where the view is in a trace of ``n`` records, e.g. "rows 1,000-1,999 of 100,001"."""
        first = self.first_shown(n)
        last = first + self.row_count - 1
        return f"rows {first:,}-{last:,} of {n:,}"
