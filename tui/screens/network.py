"""The network screen: watch a network learn, batch by batch, neuron by neuron.

Every network scenario opens here. The boundary panel shows the decision surface of a 2-D
problem (the fitted curve of a 1-D regression; MNIST's test digits); the tabs hold the neurons'
maps with the selected neuron's weights, the layers (shapes, norms, speeds of learning, BP1-BP4
with numbers), the curves per epoch and the confusion matrix.

The network is trained in a process of its own (network_worker.py, tui/network_trainer.py):
after a step, and a dozen times a second while running, it sends a Frame (tui/network_frame.py)
back; the screen draws only Frames (network_draw.py). Edits, reset and new seed are checked and
recorded by the screen's NetworkSession (for ``gdlab replay``) and sent to the trainer as the
same actions.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from engine.errors import GdlabError
from engine.kinds.network import NetworkScenario

from ..network_frame import Frame, Selection, clamp, step_selection
from ..network_report import NetworkOutcome
from ..network_session import NetworkSession
from ..widgets.cells_view import CellsView
from ..widgets.digits import DigitGrid
from ..widgets.footer import FitFooter
from .network_draw import Drawing
from .network_worker import Training

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


class NetworkScreen(Training, Drawing, Screen):
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

    def __init__(self, scenario: NetworkScenario, variant: str | None = None, *,
                 show_timings: bool = True,
                 hold: Callable[[NetworkSession], None] | None = None) -> None:
        """``hold``: a test's gate, called in the trainer after each frame of a run (it
        must pickle: a module-level function, a partial of one)."""
        super().__init__()
        self.session = NetworkSession()
        self.session.start(scenario, variant)
        self.session._log({"do": "open", "scenario": _ref(scenario),
                           **({"variant": self.session.variant}
                              if self.session.variant else {})})
        self.show_timings = show_timings
        self.selection = Selection()
        self.frame: Frame | None = None
        self.state = "loading"  # loading, paused, running, finished, diverged, early_stop, error
        self.error = ""
        self.grid = (40, 40)  # the boundary's grid points (columns, 2 x rows), set on resize
        self._config = self.scenario.model_config(None)  # the model in force (after edits)
        self._init_training(hold)
        self._init_drawing()

    @property
    def scenario(self) -> NetworkScenario:
        sc = self.session.scenario
        assert sc is not None
        return sc

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._launch()  # the trainer process boots while the screen mounts
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
            self._queue("frame")

    def _measure(self) -> None:
        box = self.query_one("#net-map").size
        if box.width > 2 and box.height > 1:
            self.grid = (box.width, 2 * box.height)
            self._control.aim(self.selection, self.grid)

    # -- frames from the worker -----------------------------------------------------------

    def _prepare(self) -> None:
        self.state = "loading"
        self._queue("prepare")

    def on_network_screen_frame_ready(self, _: Training.FrameReady) -> None:
        frame = self._take_box()
        if frame is None or frame.generation != self.session.generation:
            return
        self.frame = frame
        sel = clamp(self.selection, frame.sizes)
        if sel != self.selection:  # an edit removed the selected neuron
            self.selection = sel
        if self.state in ("loading",) or frame.summary is not None:
            self.state = "paused" if frame.summary is None else (
                "finished" if frame.summary.stop_reason == "epochs"
                else frame.summary.stop_reason)
        self._measure()  # the next frame's grid fits the panel as it is now
        if frame.surface is not None and self.state != "running" \
                and frame.surface.outputs.shape[:2] != (self.grid[1], self.grid[0]):
            self._queue("frame")  # taken before the panel was measured: fit it now
        self._draw(frame)

    def on_network_screen_failed(self, msg: Training.Failed) -> None:
        if msg.generation != self.session.generation:
            return
        self.state, self.error = "error", msg.error
        self.notify(msg.error, title="cannot train", severity="error", timeout=10)
        self.query_one("#net-status", Static).update(Text(msg.error, "bold red"))

    # -- keys -----------------------------------------------------------------------------

    def _start(self, job: str) -> None:
        if self.state == "error":
            return
        if self.state == "running":
            self._stop_running()
            self.state = "paused"
        if job == "run":
            self.state = "running"
        self._queue(job)

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
        self._drop_jobs()  # steps asked of the old run are not taken by the new one
        try:
            with self.session.lock:
                change()
                action = dict(self.session.actions[-1])
        except GdlabError as exc:
            self.notify(str(exc), title="not changed", severity="error", timeout=10)
            return False
        self.frame = None
        self._config = self.scenario.model_config(None)
        self.query_one("#net-head", Static).update(self._head())
        self._kind_of_data(self.scenario.dataset(None, load=False))
        self._queue("apply", action)  # the trainer takes the same action
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
        n = self.frame.batch_n if self.frame is not None else 0
        if n:
            sel = self.selection
            self.selection = Selection(sel.layer, sel.neuron, (sel.example + by) % n)
            self._refresh_selection()

    def _refresh_selection(self) -> None:
        """Redraw with the new selection: a frame taken now when paused, else the next one."""
        self._control.aim(self.selection, self.grid)
        if self.state != "running" and self.frame is not None:
            self._queue("frame")

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
            o = self.outcome()
            return nr.csv_text([(o.variant, o.epochs)])

        def jsonl() -> str:
            o = self.outcome()
            text = "".join(nr.json_line(r) for r in o.epochs)
            return text + (nr.summary_json(o.summary) if o.summary is not None else "")

        self.action_pause()
        self.app.push_screen(ExportScreen(
            stem=self.scenario.name, kinds=NETWORK_KINDS,
            texts={"csv": csv, "jsonl": jsonl, "script": self.session.script}))

    def outcome(self) -> NetworkOutcome:
        """The epochs so far (and the summary, once training has ended), as last drawn."""
        f = self.frame
        return NetworkOutcome(self.session.variant, list(f.epochs) if f else [],
                              f.summary if f else None)

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
        self._close_trainer()


def _ref(sc: NetworkScenario) -> str:
    from ..network_session import reference

    return reference(sc, sc.name)
