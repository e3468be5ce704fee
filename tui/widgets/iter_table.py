"""The iteration table: the columns of ``gdlab run``, fitted to the width, paging through history.

The table shows a window of consecutive records of the trace (the newest, or a page the person
chose), reading them by index. Numbers are written in as many significant digits as the width
allows (6, 5 or 4: ``fmt_sig``), the same in every row of a column. Columns a person hides
(``t``) stay hidden; when the rest still do not fit, the least needed ones (``|grad|``, ``lr``,
fixed parameters) give way first, then the table scrolls sideways by whole columns (``<``,
``>``) with ``◂``/``▸`` on the headers where columns are out of view. The iteration column stays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from engine.records import IterationRecord as Record

from ..formatting import Fit, fit_columns, fmt_sig

WINDOW = 1000  # rows kept in the widget; the whole trace is in the session (export it)
RUNNING_ROWS = 100  # rows added per redraw while a fast run goes (nobody reads faster)
SIGNIFICANT = (6, 5, 4)  # digits tried, most first, until the columns fit the width
PAD = 1  # DataTable's cell padding on each side


@dataclass(frozen=True)
class Column:
    """One column: its header, the record's value, and its rank (0 always shown; higher ranks
    give way first when the table is narrow)."""

    header: str
    value: Callable[[Record], Any]
    rank: int = 1


class IterationTable(DataTable):
    """A DataTable of a window of records (at most ``window`` rows), cursor on the newest."""

    can_focus = False  # keys belong to the run view; the table follows the newest row

    class Refitted(Message):
        """The columns in view changed (digits, columns hidden, scrolled): notes say so anew."""

        def __init__(self, table: IterationTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> IterationTable:
            return self.table

    def __init__(self, window: int = WINDOW, cursor_type: str = "row", **kwargs: Any) -> None:
        super().__init__(cursor_type=cursor_type, zebra_stripes=True, cell_padding=PAD, **kwargs)
        self.window = window
        self.specs: list[Column] = []
        self.chosen: set[str] | None = None  # headers a person chose to see; None: all
        self.col_offset = 0  # the first scrollable column in view (sideways scrolling)
        self.fit = Fit(SIGNIFICANT[0], [], [], 0, 0)
        self.total = 0  # records of the trace the table has caught up with
        self.first = 0  # the index in the trace of the table's first row
        self.page: int | None = None  # None: follow the newest row; else rows page*window...
        self._records: Sequence[Record] = []
        self._lens: dict[int, list[int]] = {}  # sig -> widest cell of each column in view
        self._quick = False  # measured for a fast run only (fill measures again)

    # --- columns ----------------------------------------------------------------------

    def set_columns(self, cols: Sequence[Column | tuple[str, Callable[[Record], Any], int]]
                    ) -> None:
        """Start again with these columns (a person's choice of columns is kept by header)."""
        self.specs = [c if isinstance(c, Column) else Column(*c) for c in cols]
        self.col_offset = 0
        self.total = 0
        self.first = 0
        self.page = None
        self._records = []
        self._show(0, 0)

    @property
    def headers(self) -> list[str]:
        """Every column's header, shown or not."""
        return [c.header for c in self.specs]

    @property
    def shown(self) -> list[str]:
        """The headers of the columns in view, left to right."""
        return [self.specs[i].header for i in self.fit.shown]

    @property
    def hidden(self) -> list[str]:
        """Columns out of view because they were hidden (by a person, or to fit the width)."""
        chosen = self.chosen
        return [c.header for i, c in enumerate(self.specs) if i in self.fit.hidden or
                (chosen is not None and i and c.header not in chosen)]

    def choose(self, headers: set[str] | None) -> None:
        """Show only these columns (and the iteration); None shows all that fit."""
        self.chosen = None if headers is None else set(headers)
        self._rebuild()

    def scroll_columns(self, step: int) -> bool:
        """Scroll sideways by ``step`` columns; False when there is nothing more that way."""
        if (step < 0 and not self.fit.left) or (step > 0 and not self.fit.right):
            return False
        self.col_offset = max(0, self.col_offset + step)
        self._rebuild()
        return True

    def column_note(self) -> str:
        """What is out of view and the keys that bring it back ("" when everything shows)."""
        parts = []
        if self.fit.left or self.fit.right:
            parts.append(f"◂ {self.fit.left} | {self.fit.right} ▸ columns: < > scroll")
        hidden = self.hidden
        if hidden:
            parts.append("hidden: " + ", ".join(hidden) + " (t: columns)")
        return "; ".join(parts)

    def natural_width(self) -> int:
        """Characters every column takes at the most digits (the rows in view, a scrollbar)."""
        lens = self._lens.get(SIGNIFICANT[0]) or [len(c.header) for c in self.specs]
        return sum(w + 2 * PAD for w in lens) + self.styles.scrollbar_size_vertical

    def row_texts(self, row: int) -> dict[str, str]:
        """The cells of row ``row`` in view, by header."""
        return {self.specs[i].header: str(c)
                for i, c in zip(self.fit.shown, self.get_row_at(row), strict=True)}

    # --- fitting ----------------------------------------------------------------------

    def _available(self) -> int:
        """Characters the columns may take: the widget's width less a vertical scrollbar."""
        width = self.size.width or (self.app.size.width if self.is_attached else 80)
        return max(10, width - self.styles.scrollbar_size_vertical)

    def _measure(self, records: Sequence[Record], sigs: Sequence[int] = SIGNIFICANT
                 ) -> dict[int, list[list[str]]]:
        """Widen ``_lens`` for the digits ``sigs`` to fit ``records``; return every column's text
        of each record at those digits (the cells are made from them: formatted once)."""
        for sig in sigs:
            self._lens.setdefault(sig, [len(c.header) for c in self.specs])
        getters = [c.value for c in self.specs]
        texts: dict[int, list[list[str]]] = {sig: [] for sig in sigs}
        for r in records:
            values = [get(r) for get in getters]
            for sig in sigs:
                lens = self._lens[sig]
                row = [fmt_sig(v, sig) for v in values]
                texts[sig].append(row)
                for k, t in enumerate(row):
                    if len(t) > lens[k]:
                        lens[k] = len(t)
        return texts

    def _refit(self) -> bool:
        """Choose digits and columns for the width; True if that changed what is shown."""
        rank = [c.rank for c in self.specs]
        chosen = None if self.chosen is None else \
            {i for i, c in enumerate(self.specs) if c.header in self.chosen}
        widths = {s: [w + 2 * PAD for w in lens] for s, lens in self._lens.items()}
        fit = fit_columns(widths, rank, self._available(), chosen, self.col_offset)
        self.col_offset = fit.left
        changed = fit != self.fit
        self.fit = fit
        return changed

    # --- rows -------------------------------------------------------------------------

    def _rows(self, texts: list[list[str]]) -> list[list[Text]]:
        """Right-aligned cells of the columns in view (the table widens a column as needed)."""
        shown = self.fit.shown
        return [[Text(row[i], justify="right") for i in shown] for row in texts]

    def _show(self, first: int, stop: int, quick: bool = False) -> None:
        """Rebuild the table: columns fitted to the width, rows ``first`` to ``stop - 1``.

        ``quick`` (a fast run) measures the digits in use, and fewer only when those no longer
        fit; ``fill`` measures every choice again once the run pauses.
        """
        records = self._records[first:stop]
        self.first = first
        self._lens = {}
        self._quick = quick
        before = self.fit
        if quick:
            texts = self._measure(records, (before.sig,))
            self._refit()
            if (self.fit.shown, self.fit.hidden) != (before.shown, before.hidden):
                texts.update(self._measure(records, [s for s in SIGNIFICANT if s < before.sig]))
                self._refit()
        else:
            texts = self._measure(records)
            self._refit()
        rows = self._rows(texts[self.fit.sig])
        if self.fit == before and len(self.columns) == len(before.shown) > 0:
            self.clear()  # the same columns: only the rows change
            for col in self.columns.values():  # as wide as the new rows (clear keeps widths)
                col.content_width = col.label.cell_len
            self.add_rows(rows)
            return
        self.clear(columns=True)
        self.post_message(self.Refitted(self))
        last = len(self.fit.shown) - 1
        for k, i in enumerate(self.fit.shown):
            header = self.specs[i].header
            if k == 1 and self.fit.left:
                header = "◂ " + header
            if k == last and k and self.fit.right:
                header += " ▸"
            self.add_column(Text(header, justify="right"), key=str(i))
        self.add_rows(rows)

    def _rebuild(self) -> None:
        """Show the same rows again (after a change of width, columns or scrolling)."""
        cursor = self.cursor_row
        self._show(self.first, self.first + self.row_count)
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1), animate=False)

    def on_resize(self) -> None:
        if self.specs and self._lens:
            old = self.fit
            self._refit()
            if self.fit != old:
                self._rebuild()

    def _add(self, new: Sequence[Record], quick: bool = False) -> None:
        """Append rows (the columns widen by themselves); rebuild when the fit changes."""
        fit = self.fit
        texts = self._measure(new, tuple(self._lens))
        self._refit()
        if self.fit != fit:
            self.fit, self.col_offset = fit, fit.left  # _show compares with what is in view
            self._show(self.first, self.first + self.row_count + len(new), quick)
        else:
            self.add_rows(self._rows(texts[fit.sig]))

    def sync(self, records: Sequence[Record], limit: int | None = None) -> None:
        """Catch up with ``records`` (the whole trace): add the new rows, at most ``limit``.

        With more new records than ``limit`` the table starts again from the newest ``limit``
        rows; ``fill`` later restores the full window once the run pauses.
        """
        self._records = records
        n = len(records)
        new = n - self.total
        if new <= 0 or self.page is not None:
            return
        limit = self.window if limit is None else min(limit, self.window)
        quick = limit < self.window  # a fast run
        if new > limit:
            self._show(n - limit, n, quick)
        elif quick:  # rebuild now and then, not row by row
            if self.row_count + new > self.window + self.window // 2:
                self._show(max(0, n - self.window), n, quick)
            else:
                self._add(records[n - new:], quick)
        else:  # steps by hand: drop the oldest rows so that exactly the window is shown
            self._add(records[n - new:])
            while self.row_count > self.window:
                self.remove_row(self.ordered_rows[0].key)
                self.first += 1
        self.total = n
        self.move_cursor(row=self.row_count - 1, animate=False)

    def fill(self, records: Sequence[Record]) -> None:
        """Show exactly the window of newest rows (a fast run leaves fewer, or a few more)."""
        self._records = records
        want = min(self.window, len(records))
        if (self.row_count == want and not self._quick) or self.page is not None:
            return
        self._show(len(records) - want, len(records))
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
        self._records = records
        start = page * self.window
        self.page = page
        self._show(start, min(len(records), start + self.window))
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
        self.total = 0
        self._records = records
        self._show(0, 0)
        self.sync(records)

    def position(self, n: int) -> str:
        """Where the view is in a trace of ``n`` records, e.g. "rows 1,000-1,999 of 100,001"."""
        first = self.first_shown(n)
        last = first + self.row_count - 1
        return f"rows {first:,}-{last:,} of {n:,}"
