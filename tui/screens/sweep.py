"""The sweep screen: choose one or two keys and their values, run the grid on worker processes,
and watch the map fill in as points finish; enter on a cell opens that run in its own view.

The sweep runs in a thread worker that drives ``engine.sweep`` (a local process pool, or this
process with ``workers=1``) and posts one message per finished run; the screen only draws what
the messages hold, at most five times a second, so the app never waits for a point.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, Static
from textual_plotext import PlotextPlot

from engine import kinds
from engine.errors import GdlabError
from engine.sweep.driver import SweepRun
from engine.sweep.execute import default_workers, make_backend
from engine.sweep.grid import Grid, parse_grid_option
from engine.sweep.plan import Plan, plan_sweep
from engine.sweep.point import ScenarioSource, default_metric
from engine.sweep.rows import PointStats, best_point, point_stats

from ..sweep_plot import draw_line, short, value_label
from ..widgets.footer import FitFooter
from ..widgets.sweep_map import SweepMap
from .sweep_point import open_point

REDRAW_SECONDS = 0.2


class SweepScreen(Screen):
    """A sweep of one scenario (its variant and the app's edits as base overrides)."""

    HELP_TITLE = "sweep screen"
    HELP_ORDER = 45

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "start", "Start"),
        Binding("x", "stop", "Stop"),
        Binding("question_mark", "app.show_help", "Help", key_display="?"),
    ]

    class PointDone(Message):
        """Run ``index`` of ``plan`` finished with ``row``."""

        def __init__(self, plan: Plan, index: int, row: dict[str, Any]) -> None:
            super().__init__()
            self.plan, self.index, self.row = plan, index, row

    class Started(Message):
        """The workers are ready: where the points run."""

        def __init__(self, plan: Plan, description: str, note: str) -> None:
            super().__init__()
            self.plan, self.description, self.note = plan, description, note

    class Finished(Message):
        """The sweep ended: all done, stopped, or failed with ``error``."""

        def __init__(self, plan: Plan, error: str = "") -> None:
            super().__init__()
            self.plan, self.error = plan, error

    def __init__(self, source: ScenarioSource, variant: str | None = None,
                 overrides: list[str] | None = None, workers: int | None = None) -> None:
        super().__init__()
        self.source, self.variant = source, variant
        self.overrides = list(overrides or [])
        self.n_workers = workers if workers is not None else default_workers()
        self.scenario = source.load(self.overrides)
        self.plan: Plan | None = None
        self.rows: dict[int, dict[str, Any]] = {}
        self.stats: list[PointStats] = []
        self.state = "idle"  # idle, starting, running, done, stopped, error
        self.where = ""
        self._t0 = 0.0
        self._stop = threading.Event()
        self._dirty = False

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        sc, grid = self.scenario, self.scenario.sweep
        axes = list(grid.axes[:2]) if grid is not None else []
        key1, vals1 = (axes[0].key, ", ".join(value_label(v) for v in axes[0].values)) \
            if axes else kinds.get(sc.kind).suggested_axis(sc, self.variant)
        key2, vals2 = (axes[1].key, ", ".join(value_label(v) for v in axes[1].values)) \
            if len(axes) > 1 else ("", "")
        metric = (grid.metric if grid is not None and grid.metric else
                  default_metric(sc, self.variant or sc.default_variant()))
        seeds = str(grid.seeds) if grid is not None else "1"
        yield Header()
        with Horizontal(classes="sweep-form"):
            yield Label("x key", classes="sweep-label")
            yield Input(key1, placeholder="run.lr", id="sweep-key1", compact=True)
            yield Label("values", classes="sweep-label")
            yield Input(vals1, placeholder="0.01:1:0.01", id="sweep-values1", compact=True)
            yield Label("metric", classes="sweep-label")
            yield Input(metric, id="sweep-metric", compact=True)
        with Horizontal(classes="sweep-form"):
            yield Label("y key", classes="sweep-label")
            yield Input(key2, placeholder="(optional) run.momentum", id="sweep-key2",
                        compact=True)
            yield Label("values", classes="sweep-label")
            yield Input(vals2, placeholder="0,0.5,0.9", id="sweep-values2", compact=True)
            yield Label("seeds", classes="sweep-label")
            yield Input(seeds, id="sweep-seeds", compact=True, type="integer")
            yield Button("Start", id="sweep-start", compact=True)
        yield Static("", id="sweep-error", markup=False)
        yield Static("", id="sweep-status", markup=False)
        with Horizontal(id="sweep-body"):
            yield SweepMap(id="sweep-map")
            yield PlotextPlot(id="sweep-line")
        yield Static("", id="sweep-detail", markup=False)
        yield FitFooter()

    def on_mount(self) -> None:
        self.title = self.scenario.title
        self.sub_title = f"sweep {self.scenario.name}" + \
            (f" [{self.variant}]" if self.variant else "")
        self.query_one("#sweep-line").display = False
        self.query_one("#sweep-error").display = False
        self.set_interval(REDRAW_SECONDS, self._tick)
        self._status()

    def on_unmount(self) -> None:
        self._stop.set()

    # --- starting and stopping ----------------------------------------------------------

    def grid_from_form(self) -> Grid:
        """The form as a Grid (GdlabError naming the field when something is off)."""
        def value(field: str) -> str:
            return self.query_one(f"#sweep-{field}", Input).value.strip()

        axes = []
        for n in ("1", "2"):
            key, vals = value(f"key{n}"), value(f"values{n}")
            if not key and n == "2":
                continue
            axes.append(parse_grid_option(f"{key}={vals}"))
        try:
            seeds = int(value("seeds") or "1")
        except ValueError:
            raise GdlabError("seeds: expected a whole number >= 1") from None
        if seeds < 1:
            raise GdlabError("seeds: expected a whole number >= 1")
        return Grid(tuple(axes), seeds, value("metric") or None, self.variant)

    def action_start(self) -> None:
        """Check the form and run the grid (a sweep still running is stopped first)."""
        try:
            plan = plan_sweep(self.source, self.grid_from_form(), self.overrides)
        except GdlabError as exc:
            self._error(str(exc))
            return
        self._stop.set()
        self._error("")
        self.plan, self.rows, self.stats = plan, {}, []
        self.state, self.where, self._t0 = "starting", "", time.monotonic()
        self._stop = threading.Event()
        axes = plan.grid.axes
        sweep_map = self.query_one(SweepMap)
        sweep_map.set_grid(plan.grid.keys, [a.values for a in axes], plan.metric)
        self.query_one("#sweep-line").display = len(axes) == 1
        self._run(plan, self._stop)
        sweep_map.focus()
        self._dirty = True
        self._status()

    def action_stop(self) -> None:
        """Stop the sweep: the finished points stay on the map."""
        if self.state in ("starting", "running"):
            self._stop.set()

    def action_back(self) -> None:
        """Leave the form field, or stop the sweep and go back to the view below."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
            return
        self._stop.set()
        self.app.pop_screen()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#sweep-start")
    def _pressed(self) -> None:
        if self.state in ("starting", "running"):
            self.action_stop()
        else:
            self.action_start()

    @work(thread=True, exclusive=True, group="sweep", exit_on_error=False)
    def _run(self, plan: Plan, stop: threading.Event) -> None:
        error = ""
        try:
            with make_backend(self.n_workers) as backend:
                self.post_message(self.Started(plan, backend.description, backend.note))
                for i, row in SweepRun(plan).run(backend, stop):
                    self.post_message(self.PointDone(plan, i, row))
        except GdlabError as exc:
            error = str(exc)
        except Exception as exc:  # an engine bug: say so on screen, keep the app alive
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(self.Finished(plan, error))

    # --- messages from the worker -------------------------------------------------------

    def on_sweep_screen_started(self, msg: Started) -> None:
        if msg.plan is self.plan:
            self.state, self.where = "running", msg.description
            if msg.note:
                self.notify(msg.note, severity="warning")
            self._status()

    def on_sweep_screen_point_done(self, msg: PointDone) -> None:
        if msg.plan is self.plan:
            self.rows[msg.index] = msg.row
            self._dirty = True

    def on_sweep_screen_finished(self, msg: Finished) -> None:
        if msg.plan is not self.plan:
            return
        if msg.error:
            self.state = "error"
            self._error(msg.error)
        else:
            self.state = "done" if len(self.rows) == len(msg.plan.points) else "stopped"
        self.redraw()

    # --- drawing ------------------------------------------------------------------------

    def _error(self, message: str) -> None:
        """Show a one-line error above the map (and as a notification); "" clears it."""
        panel = self.query_one("#sweep-error", Static)
        panel.update(f"error: {message}" if message else "")
        panel.display = bool(message)
        if message:
            self.notify(message, severity="error", timeout=8)

    def _tick(self) -> None:
        if self._dirty:
            self.redraw()
        elif self.state == "running":
            self._status()

    def redraw(self) -> None:
        """The map, the line (one key), the status and the detail of the cursor's point."""
        self._dirty = False
        plan = self.plan
        if plan is None:
            return
        self.stats = point_stats(self.rows[i] for i in sorted(self.rows))
        best = best_point(self.stats, plan.best)
        self.query_one(SweepMap).set_points(self.stats, best)
        if len(plan.grid.axes) == 1:
            chart = self.query_one("#sweep-line", PlotextPlot)
            chart.plt.clear_data()
            chart.plt.clear_figure()
            order = {value_label(v): k for k, v in enumerate(plan.grid.axes[0].values)}
            stats = sorted(self.stats, key=lambda s: order[value_label(s.settings[plan.grid.keys[0]])])
            draw_line(chart.plt, stats, plan.grid.keys[0], plan.metric, best)
            chart.refresh()
        self._status()
        self._detail()

    def _status(self) -> None:
        running = self.state in ("starting", "running")
        self.query_one("#sweep-start", Button).label = "Stop" if running else "Start"
        plan = self.plan
        if plan is None:
            text = ("enter (or ctrl+r) starts; values: 0.1,0.5,1 or 0.01:1.1:0.01 "
                    "(start:stop:step) or lin(0,1,11) or log(1e-3,1,4)")
        else:
            done, total = len(self.rows), len(plan.points)
            text = f"{self.state}: {done}/{total} runs"
            if self.where:
                text += f" on {self.where}"
            if self.state == "running" and done:
                left = (time.monotonic() - self._t0) / done * (total - done)
                text += f", ~{int(left) // 60}:{int(left) % 60:02d} left"
            best = best_point(self.stats, plan.best)
            if best is not None:
                text += "; best " + ", ".join(
                    f"{k} = {value_label(best.settings[k])}" for k in plan.grid.keys) + \
                    f" -> {short(best.mean, 10)}"
        self.query_one("#sweep-status", Static).update(text)

    @on(SweepMap.Moved)
    def _detail(self) -> None:
        plan = self.plan
        sweep_map = self.query_one(SweepMap)
        if plan is None or not sweep_map.keys:
            return
        settings = sweep_map.settings_at(*sweep_map.cursor)
        where = ", ".join(f"{k} = {value_label(v)}" for k, v in settings.items())
        s = sweep_map.point_at(*sweep_map.cursor)
        if s is None:
            state = "not finished yet"
        else:
            state = f"{plan.metric} {short(s.mean, 12)}, {s.stop_text()}" + \
                (f" ({'; '.join(s.messages)})" if s.messages else "")
        self.query_one("#sweep-detail", Static).update(
            f"{where}: {state}   (enter opens this run)")

    # --- opening a point ----------------------------------------------------------------

    @on(SweepMap.Selected)
    def _selected(self, event: SweepMap.Selected) -> None:
        plan = self.plan
        if plan is None:
            return
        point = next(p for p in plan.points if all(
            p.settings_dict.get(k) == v for k, v in event.settings.items()))
        overrides = plan.run_overrides(point)
        try:
            self.app.push_screen(open_point(self.app, plan, overrides))
        except GdlabError as exc:
            self.notify(str(exc), severity="error", timeout=8)
