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
from textual.widgets import DataTable, Header, Label, Static, TabbedContent, TabPane

from engine.errors import describe
from engine.run import RunConfig
from engine.runner import Run
from engine.scenario import Scenario

from .. import report
from ..formatting import fmt
from ..widgets.charts import ErrorChart
from ..widgets.footer import FitFooter
from ..widgets.iter_table import IterationTable
from .export import ExportScreen

MAX_ROWS = 1000


class CompareScreen(Screen):
    """Every variant of one scenario, run to its stop condition."""

    HELP_TITLE = "compare view"
    HELP_ORDER = 20

    NARROW = 120  # before the tables' widths are known, narrower screens use tabs

    COLUMNS = Binding.Group("Columns", compact=True)
    BINDINGS = [
        Binding("escape,c", "back", "Back", key_display="esc/c"),
        Binding("l", "toggle_log", "Log/lin"),
        Binding("e", "export", "Export"),
        Binding("question_mark", "app.show_help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
        Binding("less_than_sign", "columns_left", "Columns left", key_display="<", group=COLUMNS),
        Binding("greater_than_sign", "columns_right", "Columns right", key_display=">",
                group=COLUMNS),
    ]

    class Done(Message):
        """The variants have run (or one failed with ``error``)."""

        def __init__(self, outcomes: list[report.Outcome], error: str = "") -> None:
            super().__init__()
            self.outcomes = outcomes
            self.error = error

    def __init__(self, scenario: Scenario, configs: dict[str, RunConfig] | None = None,
                 title: str = "", edits: list[str] | None = None) -> None:
        super().__init__()
        self.scenario = scenario
        # each variant's configuration (the run view's edits applied), else the file's
        self.configs = configs or {v: scenario.config(v) for v in scenario.variants}
        self.headline = title or scenario.title
        self.edits = edits or []
        self.outcomes: list[report.Outcome] = []
        self.log_scale = True
        self.need = self.NARROW  # columns the tables need side by side
        self.summary_width = 0  # columns the summary needs (set when it is filled)
        self.state = "running"  # running, then "drawn" once every table is filled, or "error"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._edits_text(), id="cmp-edits", markup=False)
        yield Static("running the variants...", id="cmp-status", markup=False)
        yield Horizontal(id="cmp-tables")
        yield TabbedContent(id="cmp-tabs")
        with Horizontal(id="cmp-bottom"):
            yield ErrorChart(id="cmp-chart")
            yield DataTable(id="cmp-summary", cursor_type="none")
        yield FitFooter()

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
        # Wide, the summary is as wide as its columns, given (not `width: auto`, which waits
        # for the table to measure its columns and can miss the layout after it: the summary
        # then had no width at all; seen on Python 3.13).
        summary.styles.width = self.summary_width if not narrow and self.summary_width else None

    def on_mount(self) -> None:
        self._layout()
        self.title = f"compare: {self.headline}"
        self.sub_title = ", ".join(self.configs)
        self.query_one("#cmp-edits").display = bool(self.edits)
        self._run_variants()

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _run_variants(self) -> None:
        try:
            outcomes = [report.Outcome.of(Run(self.scenario, v, config=cfg))
                        for v, cfg in self.configs.items()]
        except Exception as exc:  # shown on the screen, the app goes on
            self.post_message(self.Done([], describe(exc)))
            return
        self.post_message(self.Done(outcomes))

    async def on_compare_screen_done(self, message: Done) -> None:
        status = self.query_one("#cmp-status", Static)
        if message.error:
            status.update(f"error: {message.error}")
            status.add_class("-error")
            self.state = "error"
            return
        self.outcomes = message.outcomes
        status.update("  ".join(report.stop_line(o.summary) for o in self.outcomes))
        boxes = []
        tabs = self.query_one("#cmp-tabs", TabbedContent)
        for i, o in enumerate(self.outcomes):
            boxes.append(Vertical(Label(f" {o.variant} ", classes="cmp-title"),
                                  self._table(o, "cmp-table"), self._note(), classes="cmp-box"))
            await tabs.add_pane(TabPane(o.variant or "run", self._table(o, "cmp-tab-table"),
                                        self._note(), id=f"cmp-tab-{i}"))
        await tabs.add_pane(TabPane("chart", ErrorChart(id="cmp-tab-chart"), id="cmp-tab-chart-pane"))
        await self.query_one("#cmp-tables").mount_all(boxes)
        for table in self.query(".cmp-table, .cmp-tab-table").results(IterationTable):
            o = self.outcomes[int(table.name or 0)]
            fixed = report._fixed_params(o)
            table.set_columns([c for c in report.value_columns(o) if c[0] not in fixed])
            table.sync(o.records)  # the newest rows, fitted to the table's width
        # side by side when every variant's table fits at full digits
        self.need = sum(t.natural_width() for t in self.query(".cmp-table").results(IterationTable))
        params = self.outcomes[0].params
        summary_rows = [[o.variant or "run", str(o.summary.updates), o.summary.stop_reason,
                         *(fmt(o.summary.final_params.get(p)) for p in params),
                         fmt(o.summary.final_output)] for o in self.outcomes]
        summary_header = ["variant", "updates", "stop", *params, "final output"]
        _fill(self.query_one("#cmp-summary", DataTable), summary_header, summary_rows)
        # a column is as wide as its widest cell plus one space each side
        self.summary_width = sum(2 + w for w in _widths(summary_header, summary_rows))
        self._layout()
        self._draw()
        self.state = "drawn"

    def _edits_text(self) -> str:
        """Says that the variants run at the values edited in the run view, and which."""
        if not self.edits:
            return ""
        own = sorted({k for v in self.scenario.variants.values() for k in v.get("run", {})})
        return (f"at the run view's edits: {', '.join(self.edits)} (each variant keeps its own "
                f"{', '.join(own)})")

    def _table(self, o: report.Outcome, cls: str) -> IterationTable:
        """An empty table for variant ``o`` (filled once mounted); its name is the variant's index."""
        return IterationTable(MAX_ROWS, cursor_type="none", classes=cls,
                              name=str(self.outcomes.index(o)))

    @staticmethod
    def _note() -> Static:
        """The line under a variant's table: its columns out of view, and the keys for them."""
        return Static("", classes="cmp-note", markup=False)

    def on_iteration_table_refitted(self, event: IterationTable.Refitted) -> None:
        table = event.table
        for note in table.parent.query(".cmp-note").results(Static) if table.parent else []:
            text = table.column_note().replace(" (t: columns)", "")
            note.update(text)
            note.display = bool(text)

    def _scroll(self, step: int) -> None:
        moved = [t.scroll_columns(step) for t in self.query(IterationTable)]
        if not any(moved):
            self.notify("every column of the tables is in view on that side")

    def action_columns_left(self) -> None:
        """Scroll the variants' tables one column to the left."""
        self._scroll(-1)

    def action_columns_right(self) -> None:
        """Scroll the variants' tables one column to the right."""
        self._scroll(1)

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
