"""The iteration table fits its width: significant digits, ranked columns, sideways scrolling."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox

from tui.app import GdlabApp
from tui.formatting import fit_columns, fmt_sig
from tui.screens.columns import ColumnsScreen
from tui.widgets.iter_table import IterationTable


def table_of(app: GdlabApp) -> IterationTable:
    return app.screen.query_one(IterationTable)


def used(t: IterationTable) -> int:
    """Characters the columns in view take (cell padding included)."""
    return sum(c.get_render_width(t) for c in t.columns.values())


def check_consistent(t: IterationTable, records: list) -> None:
    """Every cell is the record's value in the column's significant digits, right-aligned."""
    for row in range(t.row_count):
        rec = records[t.first + row]
        cells = t.row_texts(row)
        for i in t.fit.shown:
            col = t.specs[i]
            assert cells[col.header] == fmt_sig(col.value(rec), t.fit.sig), (row, col.header)


async def test_two_parameters_at_80_columns_show_the_steps() -> None:
    app = GdlabApp(scenario="gd_two_variables")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "s", "s")
        t = table_of(app)
        assert {"step x", "step y", "x", "y", "J"} <= set(t.shown)
        assert used(t) <= t.size.width
        check_consistent(t, app.session.records)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_rosenbrock_run_to_the_end_fits_every_width(size: tuple[int, int]) -> None:
    app = GdlabApp(scenario="rosenbrock")
    async with app.run_test(size=size) as pilot:
        await pilot.press("enter")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        t = table_of(app)
        assert app.session.run.stopped and t.row_count == 1000
        assert used(t) <= t.size.width, (size, t.shown, t.fit)
        # as drawn: no column wider than measured (rows replaced during the run were wider)
        assert not t.show_horizontal_scrollbar and t.virtual_size.width <= t._available()
        assert {"step x", "step y"} <= set(t.shown)
        if size[0] >= 120:  # the table is 120 or 100 columns wide: everything, nothing cut
            assert t.shown == t.headers and not t.fit.left and not t.fit.right
        else:  # the least needed column gives way, and the note says so
            assert t.hidden == ["|grad|"] and t.fit.sig == 4
            assert "hidden: |grad| (t: columns)" in str(app.screen.query_one("#table-note")
                                                         .render())
        check_consistent(t, app.session.records)


async def test_columns_are_chosen_in_a_dialog_and_scroll_sideways() -> None:
    app = GdlabApp(scenario="rosenbrock")
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.press("s", "s")
        t = table_of(app)
        await pilot.press("t")
        dialog = app.screen
        assert isinstance(dialog, ColumnsScreen)
        await pilot.press("a")  # all columns: more than 60 characters hold
        assert app.screen is not dialog and t.chosen == set(t.headers)
        assert t.fit.left == 0 and t.fit.right > 0 and t.shown[0] == "iter"
        last = t.ordered_columns[-1].label.plain
        assert last.rstrip().endswith("▸")
        note = str(app.screen.query_one("#table-note").render())
        assert "< > scroll" in note
        hidden_right = t.fit.right
        await pilot.press("greater_than_sign")
        assert t.fit.left == 1 and t.shown[0] == "iter"
        assert t.ordered_columns[1].label.plain.lstrip().startswith("◂")
        for _ in range(hidden_right + 3):
            await pilot.press("greater_than_sign")
        assert t.fit.right == 0 and t.shown[-1] == "step y"
        await pilot.press("less_than_sign")
        assert t.fit.right == 1
        # the dialog: untick df/dx and df/dy, apply with ctrl+s
        await pilot.press("t")
        dialog = app.screen
        for box in dialog.query(Checkbox):
            if str(box.label) in ("df/dx", "df/dy", "|grad|"):
                box.value = False
        await pilot.press("ctrl+s")
        assert "df/dx" not in t.shown and "|grad|" not in t.shown
        assert t.shown == ["iter", "x", "y", "f", "step x", "step y"]
        assert used(t) <= t.size.width
        check_consistent(t, app.session.records)
        await pilot.press("t", "w")  # back to the columns that fit
        assert t.chosen is None and t.fit.left == t.fit.right == 0


def test_fit_prefers_digits_then_ranks_then_scrolling() -> None:
    widths = {6: [6, 12, 12, 12], 4: [6, 10, 10, 10]}
    rank = [0, 1, 3, 1]
    assert fit_columns(widths, rank, 42).sig == 6  # everything at 6 digits
    f = fit_columns(widths, rank, 36)
    assert (f.sig, f.shown, f.hidden) == (4, [0, 1, 2, 3], [])  # fewer digits first
    f = fit_columns(widths, rank, 30)
    assert (f.sig, f.shown, f.hidden) == (6, [0, 1, 3], [2])  # then the rank-3 column goes
    f = fit_columns(widths, rank, 30, chosen={1, 2, 3})  # chosen columns are not dropped...
    assert f.shown[0] == 0 and f.right > 0 and f.hidden == []  # ...they scroll
    f = fit_columns(widths, rank, 30, chosen={1, 2, 3}, offset=5)  # clamped to the last
    assert f.right == 0 and f.shown[-1] == 3
