"""The network screen: watch a network learn, batch by batch, neuron by neuron.

Every network scenario opens here. The boundary panel shows the decision surface of a 2-D
problem (the fitted curve of a 1-D regression; MNIST's test digits); the tabs hold the neurons'
maps with the selected neuron's weights, the layers (shapes, norms, speeds of learning, BP1-BP4
with numbers), the curves per epoch and the confusion matrix.

The network is trained in a process of its own (network_worker.py, tui/network_trainer.py):
after a step, and a dozen times a second while running, it sends a Frame (tui/network_frame.py)
back; the screen draws only Frames (network_draw.py). Epoch 0 is drawn from the screen's own
session while the process boots. The keys (network_keys.py): edits, reset and new seed are
checked and recorded by the screen's NetworkSession (for ``gdlab replay``) and sent to the
trainer as the same actions.
"""

from __future__ import annotations

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

from engine.kinds.network import NetworkScenario

from ..network_frame import Frame, Selection, clamp
from ..network_report import NetworkOutcome
from ..network_session import NetworkSession
from ..widgets.cells_view import CellsView
from ..widgets.digits import DigitGrid
from ..widgets.footer import FitFooter
from .network_draw import Drawing
from .network_keys import Keys
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


class NetworkScreen(Keys, Training, Drawing, Screen):
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
        # the trainer process boots while the screen draws epoch 0; MNIST's is the trainer's
        # (60,000 examples loaded and evaluated in both at once: both later, bench_app.py)
        self._launch(self.scenario.dataset(None, load=False).source != "mnist")
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

    def outcome(self) -> NetworkOutcome:
        """The epochs so far (and the summary, once training has ended), as last drawn."""
        f = self.frame
        return NetworkOutcome(self.session.variant, list(f.epochs) if f else [],
                              f.summary if f else None)

    def on_unmount(self) -> None:
        self._close_trainer()


def _ref(sc: NetworkScenario) -> str:
    from ..network_session import reference

    return reference(sc, sc.name)
