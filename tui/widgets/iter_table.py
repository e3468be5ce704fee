"""The iteration table: the columns of ``gdlab run``, the newest rows, following the last one."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.widgets import DataTable

from engine.runner import Record

Column = tuple[str, Callable[[Record], str]]

WINDOW = 1000  # rows kept in the widget; the whole trace is in the session (export it)


class IterationTable(DataTable):
    """A DataTable of records holding at most ``WINDOW`` rows, cursor on the newest."""

    can_focus = False  # keys belong to the run view; the table follows the newest row

    def __init__(self, window: int = WINDOW, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.window = window
        self.columns_spec: list[Column] = []
        self.total = 0  # records shown so far, including those scrolled out of the window

    def set_columns(self, cols: Sequence[Column]) -> None:
        """Start again with these columns (header, record -> text)."""
        self.clear(columns=True)
        self.columns_spec = list(cols)
        for header, _ in cols:
            self.add_column(header, key=header)
        self.total = 0

    def add_records(self, records: Sequence[Record]) -> None:
        """Append rows for ``records``, drop the oldest beyond the window, follow the newest."""
        if not records:
            return
        self.total += len(records)
        records = records[-self.window:]
        if self.row_count + len(records) > self.window + self.window // 2:
            keep = self.window - len(records)
            old = [self.get_row_at(i) for i in range(self.row_count - keep, self.row_count)] \
                if keep > 0 else []
            self.clear()
            self.add_rows(old)
        self.add_rows([[f(r) for _, f in self.columns_spec] for r in records])
        self.move_cursor(row=self.row_count - 1, animate=False)

    def drop_last(self) -> None:
        """Remove the newest row (a final state evaluated again after a settings change)."""
        if self.row_count:
            key = self.coordinate_to_cell_key((self.row_count - 1, 0)).row_key
            self.remove_row(key)
            self.total -= 1
