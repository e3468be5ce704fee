"""The app with a 1,000,000-state trace (issue 13): it opens it, pages, jumps with g and
exports, making records only for what it shows; the trace is compact. The states are stepped
through the session (as a replay steps them: the same Run.advance as the app's worker, without
the worker's pauses for the keys: tests/test_app_run.py runs the worker to the end).

Synchronised on the app's own state (the worker's completion, the screens it opens), never on
time. What keeps each key quick on any machine is counted instead: the records made from the
trace for one page or one jump are about the table's window, whatever the trace's length.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from test_app_run import square_toml
from textual.widgets import Input, RadioSet

from engine import trace as trace_module
from tui import report
from tui.app import GdlabApp
from tui.screens.export import ExportScreen
from tui.screens.goto import GotoScreen
from tui.widgets.iter_table import IterationTable

N = 1_000_000
SIZE = (120, 36)


class Counted:
    """Counts the records made from trace rows (Layout.record) while installed."""

    def __init__(self, monkeypatch: object) -> None:
        self.n = 0
        original = trace_module.Layout.record

        def record(lay: trace_module.Layout, *args: object) -> object:
            self.n += 1
            return original(lay, *args)

        monkeypatch.setattr(trace_module.Layout, "record", record)  # type: ignore[attr-defined]


async def test_a_million_states_run_page_jump_and_export(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "long_square.toml"
    path.write_text(square_toml("long_square", 0.0001, N))  # no tolerance: every iteration runs
    counted = Counted(monkeypatch)
    app = GdlabApp(scenario=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        s = app.session
        assert s.step(N + 5) == N + 1  # to the stop: N steps and the final state
        screen.post_message(screen.Stepped(s.generation))  # as the worker says it
        screen.post_message(screen.Finished(None, ""))
        await pilot.pause()
        assert s.run.stopped and s.run.summary.stop_reason == "max_iterations"
        assert len(s.records) == N + 1
        trace = s.records.parts[-1]
        # one row of floats a state, in numpy chunks: x, J, loss, |grad|, lr, epoch, dJ/dx, step
        assert trace.layout.width * 8 * (N + 1) <= 80 * 2**20
        assert sum(c.nbytes for c in trace.chunks) + len(trace.buf) * 8 \
            == trace.layout.width * 8 * (N + 1)
        table = screen.query_one(IterationTable)
        window = table.window
        assert str(table.get_row_at(table.row_count - 1)[0]) == str(N)

        counted.n = 0
        await pilot.press("g")
        assert isinstance(app.screen, GotoScreen)
        await pilot.press(*"654321", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert table.page == 654321 // window and table.cursor_row == 654321 % window
        assert str(table.get_row_at(table.cursor_row)[0]) == "654321"
        assert counted.n <= 3 * window  # one window made, not the trace
        counted.n = 0
        await pilot.press("left_square_bracket")
        assert table.page == 654321 // window - 1
        assert counted.n <= 3 * window

        out = tmp_path / "long.csv"
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        buttons = list(app.screen.query_one(RadioSet).query("RadioButton"))
        buttons[0].value = True  # the trace as CSV
        await pilot.pause()
        field = app.screen.query_one("#export-path", Input)
        field.value = str(out)
        field.focus()
        counted.n = 0
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert counted.n <= 2  # rows written from the trace's numbers: the last state whole
        records = s.records
        o = report.Outcome(s.variant, s.run.cfg, list(s.run.graph.params), records,
                           s.run.summary)
        fields = report.csv_fields(o)
    with out.open(newline="") as fh:
        rows = csv.reader(fh)
        assert next(rows) == fields
        n = 0
        for n, row in enumerate(rows):  # noqa: B007 - the count is the point
            if n in (0, 1, 654321, N - 1, N):  # as the record made from the trace says
                want = report.csv_row(o, records[n])
                assert row == [str(want.get(f, "")) for f in fields], n
    assert n == N


async def test_a_long_trace_exports_as_jsonl_while_nothing_else_waits(tmp_path: Path) -> None:
    """JSONL from the same trace: every line a record's to_json (spot checks), the summary
    last; the app answers keys meanwhile (the export is a worker)."""
    path = tmp_path / "mid_square.toml"
    path.write_text(square_toml("mid_square", 0.0001, 50_000))
    app = GdlabApp(scenario=str(path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        out = tmp_path / "mid.jsonl"
        await pilot.press("e")
        buttons = list(app.screen.query_one(RadioSet).query("RadioButton"))
        buttons[1].value = True
        await pilot.pause()
        field = app.screen.query_one("#export-path", Input)
        field.value = str(out)
        field.focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        records = app.session.records
        summary = app.session.run.summary
    lines = out.read_text().splitlines()
    assert len(lines) == 50_002
    for i in (0, 1, 25_000, 50_000):
        assert json.loads(lines[i]) == json.loads(json.dumps(records[i].to_json()))
    assert json.loads(lines[-1]) == json.loads(json.dumps(summary.to_json()))
