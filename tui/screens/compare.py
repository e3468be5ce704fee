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

from engine.errors import GdlabError
from engine.run import RunConfig
from engine.runner import Run
from engine.scenario import Scenario

from .. import report
from ..formatting import fmt
from ..widgets.charts import ErrorChart
from ..widgets.footer import FitFooter
from .export import ExportScreen

MAX_ROWS = 1000


class CompareScreen(Screen):
    """Every variant of one scenario, run to its stop condition."""

    HELP_TITLE = "compare view"
    HELP_ORDER = 20

    NARROW = 120  # before the tables' widths are known, narrower screens use tabs

    BINDINGS = [
        Binding("escape,c", "back", "Back", key_display="esc/c"),
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
        except GdlabError as exc:
            self.post_message(self.Done([], str(exc)))
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
            table.add_columns(*(Text(h, justify="right") for h in header))
            table.add_rows([[Text(c, justify="right") for c in row] for row in rows])
        # a column is as wide as its widest cell plus one space each side; 2 for the scrollbar
        self.need = sum(2 + sum(2 + max(len(c) for c in col) for col in zip(header, *rows, strict=True))
                        for header, rows in cells)
        self._layout()
        summary = self.query_one("#cmp-summary", DataTable)
        params = self.outcomes[0].params
        summary.add_columns("variant", "updates", "stop", *params, "final output")
        for o in self.outcomes:
            s = o.summary
            summary.add_row(o.variant or "run", str(s.updates), s.stop_reason,
                            *(fmt(s.final_params.get(p)) for p in params), fmt(s.final_output))
        self._draw()

    def _edits_text(self) -> str:
        """Says that the variants run at the values edited in the run view, and which."""
        if not self.edits:
            return ""
        own = sorted({k for v in self.scenario.variants.values() for k in v.get("run", {})})
        return (f"at the run view's edits: {', '.join(self.edits)} (each variant keeps its own "
                f"{', '.join(own)})")

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
