"""The compare view: a scenario's variants run in a worker; their tables side by side, one chart.

A narrow screen shows one variant's table per tab (and the chart in a tab of its own); the
summary rows stay visible at every size.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static, TabbedContent, TabPane

from engine.errors import describe
from engine.runner import Run
from engine.scenario import Scenario

from .. import report
from ..formatting import fmt
from ..widgets.charts import ErrorChart
from .export import ExportScreen

MAX_ROWS = 1000


class CompareScreen(Screen):
    """Every variant of one scenario, run to its stop condition."""

    NARROW = 120  # before the tables' widths are known, narrower screens use tabs

    BINDINGS = [
        Binding("escape,c", "back", "Back"),
        Binding("l", "toggle_log", "Log/lin"),
        Binding("e", "export", "Export"),
        Binding("question_mark", "app.show_help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
    ]

    class Done(Message):
        """The variants have run (or one failed with ``error``)."""

        def __init__(self, outcomes: list[report.Outcome], error: str = "") -> None:
            super().__init__()
            self.outcomes = outcomes
            self.error = error

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.scenario = scenario
        self.outcomes: list[report.Outcome] = []
        self.log_scale = True
        self.need = self.NARROW  # columns the tables need side by side

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("running the variants...", id="cmp-status", markup=False)
        yield Horizontal(id="cmp-tables")
        yield TabbedContent(id="cmp-tabs")
        with Horizontal(id="cmp-bottom"):
            yield ErrorChart(id="cmp-chart")
            yield DataTable(id="cmp-summary", cursor_type="none")
        yield Footer()

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        """Tables side by side when they fit the width, else one variant per tab."""
        narrow = self.size.width < self.need
        self.set_class(narrow, "-narrow")
        self.set_class(not narrow, "-wide")
        # Narrow, the summary is as tall as its rows: the border, the header, one row per
        # variant. Not `height: auto`, which waits for the table to measure its new rows and
        # can miss the layout pass after it (the rows then stay hidden; seen on Python 3.13).
        summary = self.query_one("#cmp-summary", DataTable)
        summary.styles.height = 2 + len(self.outcomes) if narrow else None

    def on_mount(self) -> None:
        self._layout()
        self.title = f"compare: {self.scenario.title}"
        self.sub_title = ", ".join(self.scenario.variants)
        self._run_variants()

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _run_variants(self) -> None:
        try:
            outcomes = [report.Outcome.of(Run(self.scenario, v)) for v in self.scenario.variants]
        except Exception as exc:  # shown on the screen, the app goes on
            self.post_message(self.Done([], describe(exc)))
            return
        self.post_message(self.Done(outcomes))

    async def on_compare_screen_done(self, message: Done) -> None:
        status = self.query_one("#cmp-status", Static)
        if message.error:
            status.update(f"error: {message.error}")
            status.add_class("-error")
            return
        self.outcomes = message.outcomes
        status.update("  ".join(report.stop_line(o.summary) for o in self.outcomes))
        boxes = []
        tabs = self.query_one("#cmp-tabs", TabbedContent)
        for i, o in enumerate(self.outcomes):
            boxes.append(Vertical(Label(f" {o.variant} ", classes="cmp-title"),
                                  self._table(o, "cmp-table"), classes="cmp-box"))
            await tabs.add_pane(TabPane(o.variant or "run", self._table(o, "cmp-tab-table"),
                                        id=f"cmp-tab-{i}"))
        await tabs.add_pane(TabPane("chart", ErrorChart(id="cmp-tab-chart"), id="cmp-tab-chart-pane"))
        await self.query_one("#cmp-tables").mount_all(boxes)
        cells = []
        for o in self.outcomes:
            cols = [c for c in report.columns(o) if c[0] not in report._fixed_params(o)]
            rows = [[f(r) for _, f in cols] for r in o.records[-MAX_ROWS:]]
            cells.append(([h for h, _ in cols], rows))
        for table in self.query(".cmp-table, .cmp-tab-table").results(DataTable):
            header, rows = cells[int(table.name or 0)]
            _fill(table, header, rows, justify="right")
        # a column is as wide as its widest cell plus one space each side; 2 for the scrollbar
        self.need = sum(2 + sum(2 + w for w in _widths(header, rows)) for header, rows in cells)
        params = self.outcomes[0].params
        summary_rows = [[o.variant or "run", str(o.summary.updates), o.summary.stop_reason,
                         *(fmt(o.summary.final_params.get(p)) for p in params),
                         fmt(o.summary.final_output)] for o in self.outcomes]
        _fill(self.query_one("#cmp-summary", DataTable),
              ["variant", "updates", "stop", *params, "final output"], summary_rows)
        self._layout()
        self._draw()

    def _table(self, o: report.Outcome, cls: str) -> DataTable:
        """An empty table for variant ``o`` (filled once mounted); its name is the variant's index."""
        return DataTable(cursor_type="none", zebra_stripes=True, classes=cls,
                         name=str(self.outcomes.index(o)))

    def _draw(self) -> None:
        if not self.outcomes:
            return
        target = self.outcomes[0].cfg.rule == "target"
        series = {}
        for o in self.outcomes:
            ys = [abs(r.delta if target else r.loss) if (r.delta if target else r.loss)
                  is not None else float("nan") for r in o.records]
            series[o.variant or "run"] = ([r.iteration for r in o.records], ys)
        for chart in self.query(ErrorChart):
            chart.show(series, self.log_scale, "|delta|" if target else "loss")

    def action_toggle_log(self) -> None:
        """Switch the chart between a log and a linear axis."""
        self.log_scale = not self.log_scale
        self._draw()

    def action_export(self) -> None:
        """Export every variant as `gdlab compare --format csv|jsonl` writes it, or a screenshot."""
        if not self.outcomes:
            self.notify("the variants are still running", severity="warning")
            return
        self.app.push_screen(ExportScreen(outcomes=self.outcomes, stem=self.scenario.name))

    def action_back(self) -> None:
        """Back to the run view."""
        self.dismiss()


def _widths(header: list[str], rows: list[list[str]]) -> list[int]:
    """Each column's width: its widest cell, the header included."""
    return [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]


def _fill(table: DataTable, header: list[str], rows: list[list[str]], justify: str = "left") -> None:
    """Add the columns, with their widths given, and the rows.

    Given widths are drawn at once: a table left to measure its own columns does so after it
    has drawn the new rows, and that redraw can be missed (the rows then show with the
    headers' widths; seen on Python 3.13).
    """
    for h, w in zip(header, _widths(header, rows), strict=True):
        table.add_column(Text(h, justify=justify), width=w)
    table.add_rows([[Text(c, justify=justify) for c in row] for row in rows])
