"""The run view: iteration table, graph, explain, plots, parameters and settings of one scenario.

Iterations run in a thread worker that steps the session's Run, commits the records to the
session and nudges the screen with a message; the screen shows the session's new records and
redraws its charts at most five times a second. ``batch_hook``, if set, sees every batch the
worker commits (outside the session's lock): a watcher of the live record stream can hold the
run there, as the tests do to keep a long run from ending while they press keys.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker, get_current_worker

from engine.errors import GdlabError, describe
from engine.landscape import compute_landscape, landscape_params
from engine.records import IterationRecord

from .. import report
from ..plots import fit_landscape
from ..session import HYPER_KEYS, INT_SETTINGS, Session
from ..widgets.charts import ErrorChart, LandscapeChart, TrajectoryChart
from ..widgets.explain import ExplainPanel
from ..widgets.graph_view import GraphPanel, walk_lines
from ..widgets.iter_table import RUNNING_ROWS, IterationTable
from ..widgets.params import ParamsPanel
from ..widgets.probe import Probe, explain_gradient, explain_target
from ..widgets.settings import SettingsPanel
from .goto import GotoScreen

SPEEDS = [1, 2, 5, 10, 20, 50, 100, 1000, 0]  # iterations per second; 0 = as fast as possible
REDRAW_SECONDS = 0.2  # charts, graph and explain redraw at most 5 times a second
STEP_CHUNK = 256  # states a fast run takes between looks at the clock
CHART_POINTS = 2000  # states a chart samples from the trace, however long
BATCH_SECONDS = 0.02  # a fast run steps this long, commits, posts one message...
YIELD_SECONDS = 0.01  # ...and sleeps this long so that keys and redraws are answered


def speed_text(speed: int) -> str:
    """A playback speed as a person reads it."""
    return "max speed" if speed == 0 else f"{speed}/s"


class RunScreen(Screen):
    """One scenario being stepped, run and explained."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]

    BINDINGS = [
        Binding("s", "step", "Step"),
        Binding("space", "toggle_run", "Run/pause"),
        Binding("enter", "run_to_end", "To stop"),
        Binding("plus", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("r", "reset", "Reset"),
        Binding("b", "walk", "Backward"),
        Binding("l", "toggle_log", "Log/lin"),
        Binding("left_square_bracket", "older", "Older rows", key_display="[", show=False),
        Binding("right_square_bracket", "newer", "Newer rows", key_display="]", show=False),
        Binding("f", "follow", "Follow the newest row", show=False),
        Binding("g", "goto", "Go to iteration", show=False),
        Binding("d", "diagram", "Graph: diagram/tree", show=False),
        Binding("c", "compare", "Compare"),
        Binding("o", "open", "Open"),
        Binding("e", "export", "Export"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "blur", "Unfocus", show=False),
    ]

    AUTO_FOCUS = None

    class Stepped(Message):
        """The worker committed new records to the session."""

        def __init__(self, generation: int) -> None:
            super().__init__()
            self.generation = generation

    class Finished(Message):
        """The worker stopped (run ended, paused, or failed with ``error``)."""

        def __init__(self, halt: threading.Event, error: str = "") -> None:
            super().__init__()
            self.halt = halt
            self.error = error

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
        self.frames = 0  # chart redraws (bench_app.py reads it)
        #: called by the worker with each batch it committed, before it steps again
        self.batch_hook: Callable[[list[IterationRecord]], None] | None = None

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
                with TabPane("Explain", id="tab-explain"):
                    yield ExplainPanel(id="explain-tab", classes="explain")
                with TabPane("Graph", id="tab-graph"):
                    yield GraphPanel(id="graph")
                with TabPane("Plots", id="tab-plots"):
                    with Horizontal(id="charts"):
                        with Horizontal(id="charts-lines"):
                            yield ErrorChart(id="chart-error")
                            yield TrajectoryChart(id="chart-params")
                        yield LandscapeChart(id="chart-landscape")
                with TabPane("Params", id="tab-params"):
                    yield ParamsPanel(id="params")
                with TabPane("Settings", id="tab-settings"):
                    yield SettingsPanel(id="settings")
        yield Footer()

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
        self.title = sc.title
        self.sub_title = sc.name + (f" [{s.variant}]" if s.variant else "")
        cfg = run.cfg
        self._probe = Probe(s.effective(), cfg)
        table = self.query_one(IterationTable)
        table.set_columns(report.columns(report.Outcome(s.variant, cfg, list(run.graph.params),
                                                       [], None)))
        self._shown = 0
        self._traj = [p for p in cfg.train if np.ndim(run.start[p]) == 0]
        self._walk = None
        await self.query_one(ParamsPanel).load(dict(sc.params), cfg.train)
        await self.query_one(SettingsPanel).load(cfg)
        self.show_new()
        self.redraw()

    def show_new(self) -> None:
        """Note the session's new records: the charts sample the trace and the table catches up
        in redraw."""
        s = self.session
        if s.generation != self._generation or len(s.records) == self._shown:
            return
        self._shown = len(s.records)
        self._walk = None
        self._dirty = True

    def _series(self, names: list[str], last: int | None = None
                ) -> tuple[list[int], dict[str, list[float]]]:
        """At most CHART_POINTS states of the trace (the newest ``last`` of them, else all,
        evenly spaced, the newest always) and the named numbers of each (Trace.column)."""
        recs = self.session.records
        n = min(self._shown, len(recs))
        first = 0 if last is None else max(0, n - last)
        step = max(1, -(-(n - first) // CHART_POINTS))
        xs = list(range(first, n, step))
        if xs and xs[-1] != n - 1:
            xs.append(n - 1)
        out = {}
        for name in names:
            ys = recs.column(name, first, n, step)
            if len(ys) < len(xs):
                ys = np.append(ys, recs.column(name, n - 1, n))
            out[name] = ys.tolist()
        return xs, out

    def _sync_table(self) -> None:
        s = self.session
        if s.generation != self._generation:
            return
        table = self.query_one(IterationTable)
        if self.running:
            table.sync(s.records, RUNNING_ROWS)
        else:
            table.sync(s.records)
            table.fill(s.records)

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
        table = self.query_one(IterationTable)
        rec = s.records[-1] if s.records and s.generation == self._generation else None
        state = "running " + speed_text(SPEEDS[self.speed_index]) if self.running else \
            f"paused, speed {speed_text(SPEEDS[self.speed_index])}"
        if run.summary is not None:
            state = f"stopped: {run.summary.stop_reason}" + \
                (f" ({run.summary.message})" if run.summary.message else "")
        cfg = run.cfg
        rule = (f"target rule: {cfg.output} -> {cfg.target:g}, {cfg.factor} factor"
                if cfg.rule == "target" else f"gradient rule: {cfg.optimizer}, lr {cfg.lr:g}")
        self.query_one("#status", Static).update(
            f"{state}  |  {len(s.records)} records  |  {rule}")
        note = ""
        n = len(s.records)
        if table.page is not None:
            note = f"{table.position(n)}  ([ older, ] newer, g: go to, f: follow the newest)"
        elif n > table.row_count:
            note = f"{table.position(n)}  ([ older rows, g: go to an iteration, e: export all)"
        elif not s.records:
            note = "s: one step   space: run/pause   enter: run to the stop   ?: help"
        self.query_one("#table-note", Static).update(note)
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
        self._draw_charts()

    def _draw_charts(self) -> None:
        s = self.session
        run = s.run
        assert run is not None
        cfg = run.cfg
        label = s.variant or (s.scenario.name if s.scenario else "run")
        err = "delta" if cfg.rule == "target" else "loss"
        xs, ys = self._series([err] + [f"param:{p}" for p in self._traj])
        self.query_one(ErrorChart).show({label: (xs, [abs(v) for v in ys[err]])},
                                        self.log_scale,
                                        "|delta|" if cfg.rule == "target" else "loss")
        self.query_one(TrajectoryChart).show({p: (xs, ys[f"param:{p}"]) for p in self._traj})
        chart = self.query_one(LandscapeChart)
        names = landscape_params(self._probe.graph, cfg) if self._probe else None
        if names is None or not self._traj or chart.size.width < 10:
            chart.display = names is not None
            chart.show(None, {})
        else:
            chart.display = True
            _, xy = self._series([f"param:{names[0]}", f"param:{names[1]}"], last=2000)
            path = list(zip(xy[f"param:{names[0]}"], xy[f"param:{names[1]}"], strict=True)) or \
                [(float(run.start[names[0]]), float(run.start[names[1]]))]
            try:
                land = fit_landscape(
                    lambda nx, ny: compute_landscape(self._probe.graph, cfg, path, nx=nx, ny=ny),
                    chart.size.width, chart.size.height)
            except (GdlabError, ValueError, ArithmeticError) as exc:
                chart.show(None, {}, f"no landscape: {exc}")
            else:
                chart.show(land, {label: path})
        self.frames += 1

    # --- worker -------------------------------------------------------------------------

    def start_run(self, to_end: bool) -> None:
        """Start iterating in a thread worker (continuous playback, or to the stop condition)."""
        run = self.session.run
        if run is None or run.stopped:
            self.notify("the run has stopped: r resets it", severity="warning")
            return
        self.pause()
        self._halt = threading.Event()
        self.running = True
        self._worker = self._iterate(self.session.generation, to_end, self._halt)
        self._dirty = True

    def pause(self) -> None:
        """Stop the worker and wait until it is between steps."""
        self._halt.set()
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        with self.session.lock:
            pass
        self.running = False
        self.show_new()
        self.redraw()

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _iterate(self, generation: int, to_end: bool, halt: threading.Event) -> None:
        worker = get_current_worker()
        s = self.session
        error = ""
        while not worker.is_cancelled and not halt.is_set():
            speed = SPEEDS[self.speed_index]
            fast = to_end or speed == 0
            deadline = time.monotonic() + BATCH_SECONDS
            with s.lock:
                run = s.run
                # halt is checked under the lock: once pause() has held the lock, no batch
                # is committed any more
                if halt.is_set() or s.generation != generation or run is None or run.stopped:
                    break
                before = len(run.trace)
                try:
                    while True:  # a fast run takes states a chunk at a time (Run.advance)
                        run.advance(STEP_CHUNK if fast else 1)
                        if run.stopped or not fast or time.monotonic() > deadline:
                            break
                except Exception as exc:  # reported by Finished, not lost
                    error = describe(exc)
                after = len(run.trace)
                s.commit(after - before)
                stopped = run.stopped
            self.post_message(self.Stepped(generation))
            if self.batch_hook is not None:
                self.batch_hook(run.trace[before:after])  # records made for the hook only
            if stopped or error:
                break
            # between batches the worker sleeps a moment, so the app's thread gets the GIL
            halt.wait(1.0 / speed if not fast else YIELD_SECONDS)
        self.post_message(self.Finished(halt, error))

    def on_run_screen_stepped(self, message: Stepped) -> None:
        self.show_new()

    def on_run_screen_finished(self, message: Finished) -> None:
        if message.halt is self._halt:
            self.running = False
        self.show_new()
        self.redraw()
        if message.error:
            self.notify(message.error, severity="error")

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

    def action_toggle_run(self) -> None:
        """Run continuously at the playback speed, or pause."""
        if self.running:
            self.pause()
        else:
            self.start_run(to_end=False)

    def action_run_to_end(self) -> None:
        """Run as fast as possible to the stop condition."""
        self.start_run(to_end=True)

    def action_faster(self) -> None:
        """More iterations per second."""
        self.speed_index = min(len(SPEEDS) - 1, self.speed_index + 1)
        self._dirty = True

    def action_slower(self) -> None:
        """Fewer iterations per second."""
        self.speed_index = max(0, self.speed_index - 1)
        self._dirty = True

    async def action_reset(self) -> None:
        """Back to the starting values."""
        await self._edit(self.session.reset)

    def action_walk(self) -> None:
        """Show the next edge of the backward walk-through."""
        point = self._probe.at(self.session.records[-1].params if self.session.records
                               else dict(self.session.run.start)) if self._probe else None
        if point is None or not point.edges:
            self.notify("no backward pass to walk through")
            return
        self.query_one(TabbedContent).active = "tab-graph"
        if self._walk is None or self._walk >= len(point.edges):
            self._walk = 1
        else:
            self._walk += 1
        self.redraw()

    def action_diagram(self) -> None:
        """Switch the graph panel between the drawn diagram and the tree."""
        graph = self.query_one(GraphPanel)
        graph.use_diagram(not graph.has_class("-diagram"))
        self.query_one(TabbedContent).active = "tab-graph"
        self.redraw()
        if graph.has_class("-too-large"):
            self.notify("the graph is too large to draw: showing the tree")

    def action_toggle_log(self) -> None:
        """Switch the error chart between a log and a linear axis."""
        self.log_scale = not self.log_scale
        self.query_one(TabbedContent).active = "tab-plots"
        self.redraw()

    def action_older(self) -> None:
        """Page the iteration table back one window of rows."""
        if self.session.generation != self._generation:
            return
        if not self.query_one(IterationTable).older(self.session.records):
            self.notify("the first row is in view")
        self.redraw()

    def action_newer(self) -> None:
        """Page the iteration table forward one window (the last one follows the newest row)."""
        if self.session.generation != self._generation:
            return
        if not self.query_one(IterationTable).newer(self.session.records):
            self.notify("already following the newest row")
        self.redraw()

    def action_follow(self) -> None:
        """Jump back to following the newest row."""
        table = self.query_one(IterationTable)
        if table.page is not None and self.session.generation == self._generation:
            table.follow(self.session.records)
        self.redraw()

    def action_goto(self) -> None:
        """Ask for an iteration and show it in the table (the run pauses)."""
        records = self.session.records
        if not records:
            self.notify("no iterations yet: press s to take one")
            return
        self.pause()
        generation = self.session.generation

        def show(i: int | None) -> None:
            if i is None or self.session.generation != generation:
                return
            self.query_one(IterationTable).goto(self.session.records, i)
            self.redraw()

        self.app.push_screen(GotoScreen(len(records) - 1), show)

    def action_compare(self) -> None:
        """Open the compare view of the scenario's variants."""
        self.pause()
        self.app.action_compare()

    def action_open(self) -> None:
        """Open the scenario picker."""
        self.pause()
        self.app.action_picker()

    def action_export(self) -> None:
        """Open the export dialog."""
        self.pause()
        self.app.action_export()

    def action_help(self) -> None:
        """Show the keys."""
        self.app.action_show_help()

    def action_blur(self) -> None:
        """Leave the field being edited so that keys act on the run again."""
        self.set_focus(None)

    async def action_quit(self) -> None:
        """Quit the app."""
        self.pause()
        self.app.exit()

    # --- edits --------------------------------------------------------------------------

    async def _edit(self, change: Any, *args: Any) -> None:
        self.pause()
        try:
            change(*args)
        except Exception as exc:  # a refused edit leaves the run as it was
            self.notify(describe(exc), severity="error", timeout=8)
        await self.resync()

    @on(ParamsPanel.StartChanged)
    async def _start_changed(self, event: ParamsPanel.StartChanged) -> None:
        try:
            value = float(event.text)
        except ValueError:
            self.notify(f"{event.name}: '{event.text}' is not a number", severity="error")
            return
        if not math.isfinite(value):
            self.notify(f"{event.name}: expected a finite number", severity="error")
            return
        await self._edit(self.session.set_param, event.name, value)

    @on(ParamsPanel.TrainChanged)
    async def _train_changed(self, event: ParamsPanel.TrainChanged) -> None:
        if self.session.run is None or (event.name in self.session.run.cfg.train) == event.on:
            return
        await self._edit(self.session.set_train, event.name, event.on)

    @on(SettingsPanel.Changed)
    async def _setting_changed(self, event: SettingsPanel.Changed) -> None:
        value = parse_setting(event.key, event.value)
        if isinstance(value, GdlabError):
            self.notify(str(value), severity="error")
            return
        await self._edit(self.session.set, event.key, value)


def parse_setting(key: str, text: Any) -> Any:
    """A setting typed in the panel as the value its [run] key takes (or a GdlabError)."""
    if not isinstance(text, str) or key in ("factor", "optimizer", "schedule"):
        return text
    text = text.strip()
    if text == "" and key in ("tolerance", "batch_size", *HYPER_KEYS):
        return None  # no tolerance, full batch, or the optimizer's default
    try:
        if key in INT_SETTINGS:
            return int(text)
        if key == "betas":
            betas = [float(b) for b in text.strip("[]() ").split(",")]
            if len(betas) != 2:
                raise ValueError(text)
            return betas
        return float(text)
    except ValueError:
        kind = ("an integer" if key in INT_SETTINGS else
                "two numbers, e.g. 0.9, 0.999" if key == "betas" else "a number")
        return GdlabError(f"{key}: expected {kind}, got '{text}'")
