"""The compare view: a scenario's variants run in a worker, their tables side by side, one chart."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from engine.errors import GdlabError
from engine.runner import Run
from engine.scenario import Scenario

from .. import report
from ..formatting import fmt
from ..widgets.charts import ErrorChart

MAX_ROWS = 1000


class CompareScreen(Screen):
    """Every variant of one scenario, run to its stop condition."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    BINDINGS = [
        Binding("escape,c", "back", "Back"),
        Binding("l", "toggle_log", "Log/lin"),
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

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("running the variants...", id="cmp-status", markup=False)
        yield Horizontal(id="cmp-tables")
        with Horizontal(id="cmp-bottom"):
            yield ErrorChart(id="cmp-chart")
            yield DataTable(id="cmp-summary", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"compare: {self.scenario.title}"
        self.sub_title = ", ".join(self.scenario.variants)
        self._run_variants()

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _run_variants(self) -> None:
        try:
            outcomes = [report.Outcome.of(Run(self.scenario, v)) for v in self.scenario.variants]
        except GdlabError as exc:
            self.post_message(self.Done([], str(exc)))
            return
        self.post_message(self.Done(outcomes))

    async def on_compare_screen_done(self, message: Done) -> None:
        status = self.query_one("#cmp-status", Static)
        if message.error:
            status.update(f"error: {message.error}")
            return
        self.outcomes = message.outcomes
        status.update("  ".join(report.stop_line(o.summary) for o in self.outcomes))
        boxes = []
        for o in self.outcomes:
            table: DataTable = DataTable(cursor_type="none", zebra_stripes=True,
                                         classes="cmp-table")
            boxes.append(Vertical(Label(f" {o.variant} ", classes="cmp-title"), table,
                                  classes="cmp-box"))
        await self.query_one("#cmp-tables").mount_all(boxes)
        for box, o in zip(boxes, self.outcomes, strict=True):
            table = box.query_one(DataTable)
            cols = [c for c in report.columns(o) if c[0] not in report._fixed_params(o)]
            table.add_columns(*(Text(h, justify="right") for h, _ in cols))
            table.add_rows([[Text(f(r), justify="right") for _, f in cols]
                            for r in o.records[-MAX_ROWS:]])
        summary = self.query_one("#cmp-summary", DataTable)
        params = self.outcomes[0].params
        summary.add_columns("variant", "updates", "stop", *params, "final output")
        for o in self.outcomes:
            s = o.summary
            summary.add_row(o.variant or "run", str(s.updates), s.stop_reason,
                            *(fmt(s.final_params.get(p)) for p in params), fmt(s.final_output))
        self._draw()

    def _draw(self) -> None:
        if not self.outcomes:
            return
        target = self.outcomes[0].cfg.rule == "target"
        series = {}
        for o in self.outcomes:
            ys = [abs(r.delta if target else r.loss) if (r.delta if target else r.loss)
                  is not None else float("nan") for r in o.records]
            series[o.variant or "run"] = ([r.iteration for r in o.records], ys)
        self.query_one(ErrorChart).show(series, self.log_scale, "|delta|" if target else "loss")

    def action_toggle_log(self) -> None:
        """Switch the chart between a log and a linear axis."""
        self.log_scale = not self.log_scale
        self._draw()

    def action_back(self) -> None:
        """Back to the run view."""
        self.dismiss()
