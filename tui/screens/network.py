"""The network screen: watch a network learn, batch by batch, neuron by neuron.

Every network scenario opens here. The boundary panel shows the decision surface of a 2-D
problem (the fitted curve of a 1-D regression; MNIST's test digits); the tabs hold the neurons'
maps with the selected neuron's weights, the layers (shapes, norms, speeds of learning, BP1-BP4
with numbers), the curves per epoch and the confusion matrix.

All training runs in a thread worker that owns the session while it steps (its lock); after a
step, and a dozen times a second while running, it takes a Frame (tui/network_frame.py) and
hands it over; the screen draws only Frames. Edits, reset and new seed go through the
NetworkSession, which records them for ``gdlab replay``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

from rich.markup import escape
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from engine.errors import GdlabError
from engine.kinds.network import NetworkScenario

from ..network_frame import Frame, Predictions, Selection, clamp, step_selection, take_frame
from ..network_session import NetworkSession
from ..widgets.cell_strips import array_segments
from ..widgets.cells_view import CellsView
from ..widgets.digits import DigitGrid
from ..widgets.footer import FitFooter
from ..widgets.mnist_panels import confusion_table
from ..widgets.network_panels import (
    boundary_arrays,
    boundary_legend,
    bp_text,
    incoming_text,
    neuron_strips,
)
from ..widgets.network_views import draw_curve, draw_curves, layers_renderable

FRAME_SECONDS = 0.08  # while running, a frame (surface, maps, numbers) this often
PLOT_SECONDS = 0.4  # plotext charts at most this often: a build costs milliseconds
PANEL_SECONDS = 0.25  # while running, text panels this often (a Static's update lays out the
#                      whole screen again; the boundary repaints every frame)

ABOUT = """\
Panels of the network screen
  boundary  the network's output over the input plane: each class its hue,
            brighter = surer; training points filled, test points hollow,
            a red ✗ on each test point the network gets wrong. A 1-D regression
            shows the fitted curve; MNIST its test digits
  Neurons   what each hidden neuron computes over the plane (up to 8 a layer);
            ] and [ select a neuron: its incoming weights and bias
  Layers    per layer: W's shape and norm, avg‖δ‖ (each example's, averaged)
            and ‖∂C/∂b‖ (‖δ averaged‖, BP3) of the last batch,
            the speed of learning per epoch; BP1-BP4 for the selected neuron
            and example (x: the next example) with the numbers substituted
  Curves    train, test (and validation) loss per epoch; accuracy per epoch
  Confusion the test set's confusion matrix at the last epoch
1-4 open the tabs.

m edits the data, layers, activation, lr, batch size, optimizer and
regularisation: each edit starts a fresh run and is recorded in the session
script (e exports it; gdlab replay reproduces it). r resets to the same
initial weights, n draws new ones."""


class NetworkScreen(Screen):
    """A network scenario's live training: boundary, neurons, layers, curves."""

    HELP_TITLE = "network screen"
    HELP_ORDER = 50
    HELP_ABOUT = ABOUT
    TABS = Binding.Group("Tabs", compact=True)

    # most important first: the footer shows as many as fit, ? help and the palette show all
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "step_batch", "Batch"),
        Binding("S", "step_epoch", "Epoch", key_display="S"),
        Binding("space", "toggle_run", "Run/pause"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit_app", "Quit"),
        Binding("1", "tab('tab-neurons')", "Neurons tab", group=TABS),
        Binding("2", "tab('tab-layers')", "Layers tab", group=TABS),
        Binding("3", "tab('tab-curves')", "Curves tab", group=TABS),
        Binding("4", "tab('tab-confusion')", "Confusion tab", group=TABS),
        Binding("m", "edit", "Edit"),
        Binding("r", "reset", "Reset"),
        Binding("c", "compare", "Compare"),
        Binding("w", "sweep", "Sweep"),
        Binding("e", "export", "Export"),
        Binding("n", "new_seed", "New seed"),
        Binding("right_square_bracket", "neuron(1)", "Next neuron", key_display="]"),
        Binding("left_square_bracket", "neuron(-1)", "Previous neuron", key_display="["),
        Binding("x", "example(1)", "Next example of the batch"),
        Binding("plus", "resize_layer(1)", "Add a neuron to the layer", key_display="+"),
        Binding("minus", "resize_layer(-1)", "Remove a neuron from the layer", key_display="-"),
        Binding("escape", "back", "Back"),
    ]

    class FrameReady(Message, namespace="network_screen"):
        """A new Frame waits in the screen's box (one message at a time: no backlog)."""

    class Failed(Message, namespace="network_screen"):
        """The worker stopped on an error (bad data, an engine bug): one line to show."""

        def __init__(self, generation: int, error: str) -> None:
            super().__init__()
            self.generation, self.error = generation, error

    def __init__(self, scenario: NetworkScenario, variant: str | None = None, *,
                 session: NetworkSession | None = None, show_timings: bool = True) -> None:
        super().__init__()
        self.session = session or NetworkSession()
        if session is None:
            self.session.start(scenario, variant)
            self.session._log({"do": "open", "scenario": _ref(scenario),
                               **({"variant": self.session.variant}
                                  if self.session.variant else {})})
        self.show_timings = show_timings
        self.selection = Selection()
        self.frame: Frame | None = None
        self.state = "loading"  # loading, paused, running, finished, diverged, early_stop, error
        self.error = ""
        self.draws = 0  # frames drawn (the benchmark's redraws)
        self.grid = (40, 40)  # the boundary's grid points (columns, 2 x rows), set on resize
        self._halt = threading.Event()  # set: the running worker stops at the next batch
        self._jobs: deque[tuple[str, threading.Event]] = deque()  # what the keys asked for
        self._jobs_lock = threading.Lock()
        self._idle = True  # no worker is taking jobs
        self._box: Frame | None = None
        self._box_lock = threading.Lock()
        self._posted = False
        self._plotted = 0.0
        self._cache = Predictions()
        self._config = self.scenario.model_config(None)  # the model in force (after edits)
        self._legend = ""
        self._digits_set = False
        self._panels_at = 0.0
        self._shapes: dict[str, int] = {}  # the text panels' shapes when last laid out

    @property
    def scenario(self) -> NetworkScenario:
        sc = self.session.scenario
        assert sc is not None
        return sc

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._head(), id="net-head")
        yield Static("loading…", id="net-status")
        with Horizontal(id="net-main"):
            with Vertical(id="net-left"):
                with Vertical(id="net-boundary"):
                    yield CellsView(id="net-map")
                    yield Static("", id="net-legend")
                yield PlotextPlot(id="net-fit")
                yield DigitGrid(id="net-digits")
            with TabbedContent(id="net-tabs"):
                with TabPane("Neurons", id="tab-neurons"):
                    with VerticalScroll():
                        yield CellsView(id="net-neurons", text=True)
                        yield Static("", id="net-incoming")
                # the hidden tabs' panels are mounted after the first paint (Lazy)
                with TabPane("Layers", id="tab-layers"):
                    yield Lazy(VerticalScroll(Static("", id="net-layers"),
                                              Static("", id="net-bp")))
                with TabPane("Curves", id="tab-curves"):
                    yield Lazy(Vertical(PlotextPlot(id="net-loss"), PlotextPlot(id="net-acc"),
                                        id="net-curves"))
                with TabPane("Confusion", id="tab-confusion"):
                    yield Lazy(VerticalScroll(Static("", id="net-confusion")))
        yield FitFooter()

    def _head(self) -> str:
        """Scenario, variant and the settings in force (after edits)."""
        sc, s = self.scenario, self.session
        cfg, m = sc.config(None), sc.model_config(None)
        name = sc.name + (f" [{s.variant}]" if s.variant else "")
        hidden = "/".join(dict.fromkeys(m.activations)) or "no hidden layer"
        reg = "".join(f", {k} {x:g}" for k, x in (("l2", m.l2), ("l1", m.l1)) if x)
        return (f"[b]{escape(name)}[/b]: layers {m.layers}, {hidden}, {m.output} + "
                f"{m.cost}, {cfg.optimizer} lr {cfg.lr:g}, batch {cfg.batch_size}{reg}")

    def on_mount(self) -> None:
        shape = self.scenario.dataset(None, load=False)
        self._kind_of_data(shape)
        self.query_one("#net-digits").border_title = "test digits"
        self.query_one("#net-fit", PlotextPlot).plt.theme("clear")
        self._prepare()

    def _kind_of_data(self, shape: Any) -> None:
        """Which left panel shows (boundary, fitted curve, digits) and which tabs apply."""
        from engine.models.surface import has_curve, has_plane

        plane, curve = has_plane(shape), has_curve(shape)
        mnist = shape.source == "mnist"
        self.query_one("#net-boundary").display = plane
        self.query_one("#net-fit").display = curve
        self.query_one("#net-digits").display = mnist
        self.query_one("#net-left").display = plane or curve or mnist
        self.query_one("#net-boundary").border_title = "decision boundary"
        if plane and shape.input_range is not None:
            (x0, x1), (y0, y1) = shape.input_range
            names = shape.raw_names or ("x1", "x2")
            self.query_one("#net-boundary").border_subtitle = (
                f"{names[0]} {x0:g}..{x1:g} → {names[1]} {y0:g}..{y1:g} ↑")
        tabs = self.query_one(TabbedContent)
        if shape.regression:
            tabs.hide_tab("tab-confusion")
        else:
            tabs.show_tab("tab-confusion")

    def on_resize(self) -> None:
        self.call_after_refresh(self._measure)

    def on_cells_view_resized(self, msg: CellsView.Resized) -> None:
        """The boundary panel changed size (the terminal, a panel mounted late): when the
        network is not running, draw it again at its new size (running: the next frame is)."""
        if msg.view.id != "net-map":
            return
        before = self.grid
        self._measure()
        if self.grid != before and self.frame is not None and self.state != "running":
            self._draw(self.frame)

    def _measure(self) -> None:
        box = self.query_one("#net-map").size
        if box.width > 2 and box.height > 1:
            self.grid = (box.width, 2 * box.height)

    # -- the worker -----------------------------------------------------------------------

    def _prepare(self) -> None:
        self.state = "loading"
        self._queue("prepare", self._halt)

    def _queue(self, job: str, halt: threading.Event) -> None:
        """Add a job for the worker, in order (keys pressed quickly are all taken); start a
        worker when none is taking jobs."""
        with self._jobs_lock:
            self._jobs.append((job, halt))
            start, self._idle = self._idle, False
        if start:
            self._work()

    @work(thread=True, group="network-train")
    def _work(self) -> None:
        """Take the queued jobs ("prepare", "batch", "epoch", "run") in order, on the session;
        hand over Frames; end when there are none left."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            with self._jobs_lock:
                if not self._jobs:
                    self._idle = True
                    return
                job, halt = self._jobs.popleft()
            self._do(job, halt, lambda: worker.is_cancelled)

    def _do(self, job: str, halt: threading.Event, cancelled: Callable[[], bool]) -> None:
        s = self.session
        generation = s.generation

        def halted() -> bool:
            return halt.is_set() or cancelled() or s.generation != generation

        try:
            with s.lock:
                if s.generation != generation:
                    return
                s.prepare()
                if job == "batch":
                    s.step_batches(1)
                elif job == "epoch":
                    s.step_epoch(halted)
                self._hand_over()
            due = time.monotonic()
            while job == "run" and not halted() and not s.finished:
                # frames on a fixed beat (not FRAME_SECONDS after the last one was handed over:
                # taking it and waiting for the lock would slow the beat down)
                due = max(due + FRAME_SECONDS, time.monotonic() + FRAME_SECONDS / 4)

                def frame_due(end: float = due) -> bool:
                    return halted() or time.monotonic() >= end

                with s.lock:
                    if s.generation != generation:
                        break
                    s.step_batches(10**9, frame_due)
                    self._hand_over()
        except GdlabError as exc:
            self.post_message(self.Failed(generation, str(exc)))
        except Exception as exc:  # an engine bug: report it on screen, keep the app alive
            self.post_message(self.Failed(generation, f"{type(exc).__name__}: {exc}"))

    def _hand_over(self) -> None:
        """Take a Frame (worker thread, lock held) and tell the screen, unless it has not yet
        drawn the last one (then it draws this newer one instead)."""
        frame = take_frame(self.session, self.selection, *self.grid, cache=self._cache)
        with self._box_lock:
            self._box = frame
            if self._posted:
                return
            self._posted = True
        self.post_message(self.FrameReady())

    def on_network_screen_frame_ready(self, _: FrameReady) -> None:
        with self._box_lock:
            frame, self._box, self._posted = self._box, None, False
        if frame is None or frame.generation != self.session.generation:
            return
        self.frame = frame
        self.selection = frame.selection
        if self.state in ("loading",) or frame.summary is not None:
            self.state = "paused" if frame.summary is None else (
                "finished" if frame.summary.stop_reason == "epochs"
                else frame.summary.stop_reason)
        self._draw(frame)

    def on_network_screen_failed(self, msg: Failed) -> None:
        if msg.generation != self.session.generation:
            return
        self.state, self.error = "error", msg.error
        self.notify(msg.error, title="cannot train", severity="error", timeout=10)
        self.query_one("#net-status", Static).update(Text(msg.error, "bold red"))

    # -- drawing --------------------------------------------------------------------------

    def _status(self, f: Frame) -> Text:
        colour = {"running": "green", "paused": "yellow", "finished": "bold green",
                  "diverged": "bold red", "error": "bold red"}.get(self.state, "")
        t = Text()
        t.append(self.state, colour)
        epochs = self.scenario.config(None).epochs
        t.append(f" · epoch {f.epoch}/{epochs} · batch {f.batch}/{f.batches_per_epoch}")
        if f.batch_loss is not None:
            t.append(f" · batch loss {f.batch_loss:.4f}")
        if f.epochs:
            last = f.epochs[-1]
            if last.test_accuracy is not None:
                t.append(f" · test acc {last.test_accuracy * 100:.1f}%")
            t.append(f" · test loss {last.test_loss:.4g}")
            if self.show_timings and last.epoch:
                t.append(f" · {last.seconds:.2f} s/epoch")
        if f.summary is not None and f.summary.message:
            t.append(f" · {f.summary.message}", "red" if self.state == "diverged" else "")
        return t

    def _draw(self, f: Frame) -> None:
        """Draw a Frame: status, boundary (or curve, or digits), the tabs' panels."""
        self.draws += 1
        self._measure()  # the next frame's grid fits the panel as it is now
        if f.surface is not None and self.state != "running" \
                and f.surface.outputs.shape[:2] != (self.grid[1], self.grid[0]):
            retaken = self._retake()  # taken before the panel was measured: fit it now
            f = retaken if retaken is not None else f
        now = time.monotonic()
        panels = self.state != "running" or now - self._panels_at >= PANEL_SECONDS
        if panels:
            self._panels_at = now
            status = self._status(f)
            self._update("#net-status", status, len(status.plain))
        names = self.session.data.class_names if self.session.data is not None else None
        if f.surface is not None:
            self.query_one("#net-map", CellsView).set_lines(
                array_segments(boundary_arrays(f.surface)))
            legend = boundary_legend(f.surface, names)
            if legend.plain != self._legend:  # one line high: a repaint, no layout
                self._legend = legend.plain
                self.query_one("#net-legend", Static).update(legend, layout=False)
        tab = self.query_one(TabbedContent).active
        if not panels:
            pass
        elif tab == "tab-neurons":
            self._draw_neurons(f)
        elif tab in ("tab-layers", "tab-confusion") and not self.query(
                "#net-layers" if tab == "tab-layers" else "#net-confusion"):
            pass  # not mounted yet (see compose): drawn when shown
        elif tab == "tab-layers":
            self._update("#net-layers", layers_renderable(f, self._config), len(f.sizes))
            bp = bp_text(f.bp, f.bp_error)
            self._update("#net-bp", bp, bp.plain.count("\n"))
        elif tab == "tab-confusion" and f.confusion is not None:
            self._update("#net-confusion", confusion_table(f.confusion, f.confusion.shape[0]),
                         f.confusion.shape[0])
        if f.digits is not None and panels:
            grid = self.query_one(DigitGrid)
            if not self._digits_set:
                grid.set_digits(*f.digits)
                self._digits_set = True
            grid.set_predictions(f.predictions)
        if tab == "tab-curves" or f.curve is not None:
            if now - self._plotted >= PLOT_SECONDS or self.state != "running":
                self._plotted = now
                if tab == "tab-curves" and self.query("#net-loss"):  # (mounted: see compose)
                    draw_curves(self.query_one("#net-loss", PlotextPlot),
                                self.query_one("#net-acc", PlotextPlot), f)
                if f.curve is not None:
                    draw_curve(self.query_one("#net-fit", PlotextPlot), f.curve)

    def _update(self, selector: str, content: Any, shape: int) -> None:
        """Update a text panel; lay the screen out again only when its ``shape`` (a number
        that changes when its height may: its length, its count of lines) changed or the
        network is not running (a layout costs as much as the rest of a frame)."""
        layout = self.state != "running" or self._shapes.get(selector) != shape
        self._shapes[selector] = shape
        self.query_one(selector, Static).update(content, layout=layout)

    def on_tabbed_content_tab_activated(self) -> None:
        """Draw the panel just shown (hidden panels are not redrawn while training)."""
        if self.frame is not None:
            self._plotted = self._panels_at = 0.0
            self._draw(self.frame)

    def _draw_neurons(self, f: Frame, again: bool = False) -> None:
        sel = f.selection
        if f.neurons is not None:
            width = self.query_one("#net-neurons").content_size.width
            if not width and not again:  # not laid out yet: size the maps once it is
                self.call_after_refresh(self._draw_neurons, f, True)
                return
            lines = neuron_strips(f.neurons, f.sizes, sel.layer, sel.neuron, width or 40)
        else:
            lines = [[Segment("neuron maps need one or two raw inputs; ] selects a neuron",
                              Style(dim=True))]]
        self.query_one("#net-neurons", CellsView).set_lines(lines)
        raw = self.session.data.raw_names if self.session.data is not None else None
        incoming = incoming_text(f.incoming, sel.layer, sel.neuron, f.sizes, raw)
        self._update("#net-incoming", incoming, incoming.plain.count("\n"))

    # -- keys -----------------------------------------------------------------------------

    def _stop_running(self) -> None:
        """Stop a running worker at its next batch."""
        self._halt.set()

    def _start(self, job: str) -> None:
        if self.state == "error":
            return
        if self.state == "running":
            self._stop_running()
            self.state = "paused"
        self._halt = threading.Event()
        if job == "run":
            self.state = "running"
        self._queue(job, self._halt)

    def action_step_batch(self) -> None:
        """Take one mini-batch (pauses a running network first)."""
        self._start("batch")

    def action_step_epoch(self) -> None:
        """Train to the end of the epoch."""
        self._start("epoch")

    def action_toggle_run(self) -> None:
        """Run continuously, or pause."""
        if self.state == "running":
            self._stop_running()
            self.state = "paused"
            if self.frame is not None:
                self.query_one("#net-status", Static).update(self._status(self.frame))
        elif self.state in ("paused", "loading"):
            self._start("run")

    def _fresh(self, change: Any) -> bool:
        """Stop the worker, apply ``change`` to the session (an edit, reset, new seed), start
        the new run; errors are shown and change nothing."""
        self._stop_running()
        with self._jobs_lock:
            self._jobs.clear()  # steps asked of the old run are not taken by the new one
        try:
            with self.session.lock:
                change()
        except GdlabError as exc:
            self.notify(str(exc), title="not changed", severity="error", timeout=10)
            return False
        self.frame = None
        self._cache = Predictions()
        self._config = self.scenario.model_config(None)
        self.query_one("#net-head", Static).update(self._head())
        self._kind_of_data(self.scenario.dataset(None, load=False))
        self._halt = threading.Event()
        self._prepare()
        return True

    def action_reset(self) -> None:
        """A fresh run from the same initial weights."""
        self._fresh(self.session.reset)

    def action_new_seed(self) -> None:
        """A fresh run from new initial weights (a new seed, recorded in the session)."""
        seed = random.randrange(1, 2**31)
        self._fresh(lambda: self.session.new_seed(seed))

    def apply_edits(self, changes: dict[str, Any]) -> bool:
        """Apply the edit dialog's changes (one recorded edit): a fresh run."""
        return self._fresh(lambda: self.session.edit(changes))

    def action_edit(self) -> None:
        """Open the dialog that edits data, layers, activation, lr, batch, optimizer, λ."""
        from .network_edit import NetworkEditScreen

        self.app.push_screen(NetworkEditScreen(self))

    def action_resize_layer(self, by: int) -> None:
        """Add (+) or remove (-) a neuron in the selected hidden layer: a fresh run."""
        layers = list(self.scenario.model_config(None).layers)
        l = self.selection.layer
        if not 1 <= l < len(layers) - 1:
            self.notify("select a neuron of a hidden layer first (] and [)", severity="warning")
            return
        if layers[l] + by < 1:
            self.notify("a layer keeps at least one neuron (edit the layers with m)",
                        severity="warning")
            return
        layers[l] += by
        self.apply_edits({"model.layers": layers})

    def action_neuron(self, by: int) -> None:
        """Select the next or previous neuron (layer by layer, the output last)."""
        sizes = self.frame.sizes if self.frame else self.scenario.model_config(None).layers
        self.selection = step_selection(self.selection, list(sizes), by)
        self._refresh_selection()

    def action_example(self, by: int) -> None:
        """Explain the next example of the last mini-batch."""
        s = self.session
        n = 0
        net = s.net
        last = net.last_batch() if net is not None else None
        if last is not None:
            n = int(last["n"])
        if n:
            sel = self.selection
            self.selection = Selection(sel.layer, sel.neuron, (sel.example + by) % n)
            self._refresh_selection()

    def _retake(self) -> Frame | None:
        """A Frame of the run as it is now, taken here; None while the worker steps."""
        s = self.session
        if not s.lock.acquire(blocking=False):  # the worker is stepping: its frame will fit
            return None
        try:
            if s.trainer is None:
                return None
            frame = take_frame(s, self.selection, *self.grid, cache=self._cache)
        finally:
            s.lock.release()
        self.frame = frame
        return frame

    def _refresh_selection(self) -> None:
        """Redraw with the new selection: now when paused, else with the next frame."""
        if self.state == "running" or self.frame is None:
            return
        s = self.session
        with s.lock:
            if s.trainer is None:
                return
            self.selection = clamp(self.selection, list(s.net.sizes)) if s.net else \
                self.selection
            frame = take_frame(s, self.selection, *self.grid, cache=self._cache)
        self.frame = frame
        self._draw(frame)

    def action_compare(self) -> None:
        """The scenario's variants side by side."""
        from .network_compare import NetworkCompareScreen

        sc = self.session.base
        if sc is None or not sc.variants:
            self.notify("this scenario has no variants to compare", severity="warning")
            return
        self.action_pause()
        self.app.push_screen(NetworkCompareScreen(sc))

    def action_pause(self) -> None:
        if self.state == "running":
            self.action_toggle_run()

    def action_export(self) -> None:
        """Export the epochs (CSV, JSONL), a screenshot or the session script."""
        from .. import network_report as nr
        from .export import NETWORK_KINDS, ExportScreen

        def csv() -> str:
            o = self.session.outcome()
            return nr.csv_text([(o.variant, o.epochs)])

        def jsonl() -> str:
            o = self.session.outcome()
            text = "".join(nr.json_line(r) for r in o.epochs)
            return text + (nr.summary_json(o.summary) if o.summary is not None else "")

        self.action_pause()
        self.app.push_screen(ExportScreen(
            stem=self.scenario.name, kinds=NETWORK_KINDS,
            texts={"csv": csv, "jsonl": jsonl, "script": self.session.script}))

    def action_help(self) -> None:
        """Every key, this screen's first, and what its panels show."""
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(type(self)))

    def action_tab(self, pane: str) -> None:
        """Open the tab (Confusion: for a classification only)."""
        tabs = self.query_one(TabbedContent)
        if not tabs.get_tab(pane).display:
            self.notify("a regression has no confusion matrix", severity="warning")
            return
        tabs.active = pane

    def action_sweep(self) -> None:
        """Pause a running network and open the sweep screen on this scenario."""
        if self.state == "running":
            self.action_toggle_run()
        action = getattr(self.app, "action_sweep", None)
        if callable(action):
            action()

    def action_back(self) -> None:
        """Stop training and go back: the screen below, else the picker, else quit."""
        self._stop_running()
        app = self.app
        picker = getattr(app, "action_picker", None)
        if len(app.screen_stack) > 2:
            app.pop_screen()
        elif callable(picker):
            app.pop_screen()
            picker()
        else:
            app.exit()

    def action_quit_app(self) -> None:
        """Stop training and quit."""
        self._stop_running()
        self.app.exit()

    def on_unmount(self) -> None:
        self._stop_running()


def _ref(sc: NetworkScenario) -> str:
    from ..network_session import reference

    return reference(sc, sc.name)
