"""The run view: iteration table, graph, explain, plots, parameters and settings of one scenario.

Iterations run in a thread worker (``run_worker``) that steps the session's Run, commits the
records to the session and nudges the screen with a message; the screen shows the session's new
records and redraws its charts at most five times a second. The table's keys are in
``run_table``. The worker's ``batch_hook`` lets a watcher of the live record stream hold
the run (the tests do).
"""

from __future__ import annotations

import threading

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane
from textual.worker import Worker

from engine.errors import describe
from engine.landscape import landscape_params

from .. import report
from ..session import Session
from ..widgets.charts import ErrorChart, LandscapeChart, TrajectoryChart
from ..widgets.explain import ExplainPanel
from ..widgets.footer import FitFooter
from ..widgets.graph_view import GraphPanel, walk_lines
from ..widgets.iter_table import IterationTable
from ..widgets.params import ParamsPanel
from ..widgets.probe import Probe, explain_gradient, explain_target
from ..widgets.settings import SettingsPanel
from .run_charts import Charts
from .run_edits import Edits
from .run_keys import ViewKeys
from .run_table import TableKeys
from .run_worker import REDRAW_SECONDS, SPEEDS, Iterating, speed_text


class RunScreen(Iterating, TableKeys, Edits, Charts, ViewKeys, Screen):
    """One scenario being stepped, run and explained."""

    HELP_TITLE = "run view"
    HELP_ORDER = 10

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]

    TABS = Binding.Group("Tabs", compact=True)
    SPEED = Binding.Group("Speed", compact=True)
    SIDEWAYS = Binding.Group("Columns", compact=True)

    # most important first: the footer shows as many as fit, ? help and the palette show all
    BINDINGS = [
        Binding("s", "step", "Step"),
        Binding("space", "toggle_run", "Run/pause"),
        Binding("enter", "run_to_end", "To stop"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("1", "tab('tab-explain')", "Explain tab", group=TABS),
        Binding("2", "tab('tab-graph')", "Graph tab", group=TABS),
        Binding("3", "tab('tab-plots')", "Plots tab", group=TABS),
        Binding("4", "tab('tab-params')", "Params tab", group=TABS),
        Binding("5", "tab('tab-settings')", "Settings tab", group=TABS),
        Binding("c", "compare", "Compare"),
        Binding("e", "export", "Export"),
        Binding("o", "open", "Open"),
        Binding("w", "sweep", "Sweep"),
        Binding("r", "reset", "Reset"),
        Binding("b", "walk", "Backward"),
        Binding("g", "goto", "Go to iteration"),
        Binding("t", "columns", "Table columns"),
        Binding("less_than_sign", "columns_left", "Columns left", key_display="<", group=SIDEWAYS),
        Binding("greater_than_sign", "columns_right", "Columns right", key_display=">",
                group=SIDEWAYS),
        Binding("left_square_bracket", "older", "Older rows", key_display="["),
        Binding("right_square_bracket", "newer", "Newer rows", key_display="]"),
        Binding("f", "follow", "Follow the newest row"),
        Binding("l", "toggle_log", "Log/lin"),
        Binding("d", "diagram", "Graph: diagram/tree"),
        Binding("plus", "faster", "Faster", key_display="+", group=SPEED),
        Binding("minus", "slower", "Slower", key_display="-", group=SPEED),
        Binding("escape", "blur", "Leave the field"),
    ]

    AUTO_FOCUS = None

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.speed_index = SPEEDS.index(10)
        self.log_scale = True
        self.running = False
        self._halt = threading.Event()
        self._worker: Worker | None = None
        self._shown = 0  # session records shown in the table
        self._generation = -1
        self._dirty = True
        self._walk: int | None = None  # edges of the walk-through shown so far
        self._probe: Probe | None = None
        self._traj: list[str] = []  # the scalar trained parameters (the trajectory chart)
        #: the landscape's two parameters, and the extent of their path so far (lo, hi)
        self._land: list[str] | None = None
        self._extent: tuple[np.ndarray, np.ndarray] | None = None
        self.frames = 0  # chart redraws (bench_app.py reads it)
        #: called by the worker with each batch it committed, before it steps again
        self.batch_hook = None

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status", markup=False)
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield IterationTable(id="table")
                yield Static("", id="table-note", markup=False)
                yield ExplainPanel(id="explain-side", classes="explain")
            with TabbedContent(id="tabs", initial="tab-explain"):
                with TabPane("1 Explain", id="tab-explain"):
                    yield ExplainPanel(id="explain-tab", classes="explain")
                with TabPane("2 Graph", id="tab-graph"):
                    yield GraphPanel(id="graph")
                with TabPane("3 Plots", id="tab-plots"):
                    with Horizontal(id="charts"):
                        with Horizontal(id="charts-lines"):
                            yield ErrorChart(id="chart-error")
                            yield TrajectoryChart(id="chart-params")
                        yield LandscapeChart(id="chart-landscape")
                with TabPane("4 Params", id="tab-params"):
                    yield ParamsPanel(id="params")
                with TabPane("5 Settings", id="tab-settings"):
                    yield SettingsPanel(id="settings")
        yield FitFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc (leave the field) is offered only while a field has the keys."""
        if action == "blur":
            return self.app.focused is not None
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()

    async def on_mount(self) -> None:
        await self.resync()
        self.set_interval(REDRAW_SECONDS, self._tick)
        self._wide_tabs()

    def on_resize(self) -> None:
        self._wide_tabs()
        # tall screens stack the two line charts and give the landscape the other half
        self.set_class(self.size.height >= 40, "-tall")
        self.call_after_refresh(self._redraw_if_plots)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """The landscape is computed for the chart's size: draw it once the tab is shown."""
        if event.pane.id == "tab-plots":
            self.call_after_refresh(self._redraw_if_plots)

    def _redraw_if_plots(self) -> None:
        if self.session.run is not None and \
                self.query_one(TabbedContent).active == "tab-plots":
            self._draw_charts()

    def _wide_tabs(self) -> None:
        """A wide screen shows the explain panel beside the table: open the graph tab instead."""
        tabs = self.query_one(TabbedContent)
        if self.size.width >= 150 and tabs.active == "tab-explain":
            tabs.active = "tab-graph"

    def on_unmount(self) -> None:
        self._halt.set()
        if self._worker is not None:
            self._worker.cancel()

    # --- showing the session ------------------------------------------------------------

    async def resync(self) -> None:
        """Show the session from scratch (after an open, an edit or a reset)."""
        s = self.session
        sc, run = s.scenario, s.run
        assert sc is not None and run is not None
        self._generation = s.generation
        self.title = s.title()
        edits = s.edits()
        self.sub_title = sc.name + (f" [{s.variant}]" if s.variant else "") + \
            (f" · edited: {', '.join(edits)}" if edits else "")
        cfg = run.cfg
        self._probe = Probe(s.effective(), cfg)
        table = self.query_one(IterationTable)
        table.set_columns(report.value_columns(report.Outcome(s.variant, cfg,
                                                             list(run.graph.params), [], None)))
        self._shown = 0
        self._traj = [p for p in cfg.train if np.ndim(run.start[p]) == 0]
        self._land = landscape_params(self._probe.graph, cfg)
        self._extent = None
        self._walk = None
        await self.query_one(ParamsPanel).load(dict(sc.params), cfg.train)
        await self.query_one(SettingsPanel).load(cfg)
        self.show_new()
        self.redraw()

    def show_new(self) -> None:
        """Note the session's new records: the charts sample the trace, the landscape's frame
        takes in the new part of the path, and the table catches up in redraw."""
        s = self.session
        n = len(s.records)
        if s.generation != self._generation or n == self._shown:
            return
        if self._land is not None:
            xy = np.column_stack([s.records.column(f"param:{p}", self._shown, n)
                                  for p in self._land])
            xy = xy[np.isfinite(xy).all(axis=1)]
            if len(xy):
                lo, hi = xy.min(axis=0), xy.max(axis=0)
                if self._extent is not None:
                    lo, hi = np.minimum(lo, self._extent[0]), np.maximum(hi, self._extent[1])
                self._extent = (lo, hi)
        self._shown = n
        self._walk = None
        self._dirty = True

    def _tick(self) -> None:
        if self._dirty:
            self.redraw()

    def redraw(self) -> None:
        """Redraw status, explain, graph, parameters and the charts from the newest record."""
        self._dirty = False
        s = self.session
        run = s.run
        if run is None or self._probe is None:
            return
        self._sync_table()
        rec = s.records[-1] if s.records and s.generation == self._generation else None
        state = "running " + speed_text(SPEEDS[self.speed_index]) if self.running else \
            f"paused, speed {speed_text(SPEEDS[self.speed_index])}"
        if run.summary is not None:
            state = f"stopped: {run.summary.stop_reason}" + \
                (f" ({run.summary.message})" if run.summary.message else "")
        cfg = run.cfg
        rule = (f"target rule: {cfg.output} -> {cfg.target:g}, {cfg.factor} factor"
                if cfg.rule == "target" else f"gradient rule: {cfg.optimizer}, lr {cfg.lr:g}")
        n = len(s.records)
        self.query_one("#status", Static).update(
            f"{state}  |  {n:,} record{'' if n == 1 else 's'}  |  {rule}")
        self.query_one("#table-note", Static).update(self._table_note())
        params = rec.params if rec else dict(run.start)
        point = self._probe.at(params)
        if rec is None:
            lines = ["no steps yet: press s to take one", "", "start: " + ", ".join(
                f"{p} = {v:g}" for p, v in params.items() if np.ndim(v) == 0)]
        elif cfg.rule == "target":
            lines = explain_target(rec, cfg, point, fixed=cfg.factor == "fixed")
        else:
            lines = explain_gradient(rec, cfg, run.rule.optimizer, point, s.step_detail(rec))
        for panel in self.query(ExplainPanel):
            panel.show(lines)
        graph = self.query_one(GraphPanel)
        highlight = None
        if self._walk is not None and point.edges:
            e = point.edges[min(self._walk, len(point.edges)) - 1] if self._walk else None
            highlight = (e.parent, e.child) if e else None
            graph.show_walk(walk_lines(point, cfg.output, self._walk))
        else:
            graph.show_walk(["b: walk the backward pass one edge at a time"])
        graph.show(self._probe.graph, cfg.output, cfg.train, point, highlight)
        self.query_one(ParamsPanel).show_current(params)
        self._redraw_if_plots()  # hidden charts wait: the tab draws them when it is shown

    # --- actions ------------------------------------------------------------------------

    def action_step(self) -> None:
        """Take one step."""
        self.pause()
        run = self.session.run
        if run is None or run.stopped:
            self.notify("the run has stopped: r resets it", severity="warning")
            return
        try:
            self.session.step(1)
        except Exception as exc:  # the app goes on after any failed step
            self.notify(describe(exc), severity="error")
        self.show_new()
        self.redraw()

    async def action_reset(self) -> None:
        """Back to the starting values."""
        await self._edit(self.session.reset)
