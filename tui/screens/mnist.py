"""The network dashboard: train a network live and watch loss, accuracy and backprop numbers
(and, for MNIST, the test digits).

Any network scenario opens here: MNIST shows its digits beside the confusion matrix; a small
classification problem shows its confusion matrix; a regression shows its losses only (the
network screen of a 2-D problem, with its decision boundary, is the next issue's).

Training runs in a thread worker that owns the network; it posts messages back (a batch loss
with the layers' backprop numbers, an epoch record with the test predictions, the summary) and
the screen only draws what the messages hold. Plots are redrawn at most a few times a second.
``space`` pauses at the next reported batch, ``r`` restarts, ``escape`` goes back, ``q`` quits;
closing the screen stops the worker at its next check (a few milliseconds of training).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, get_current_worker
from textual_plotext import PlotextPlot

from engine.errors import GdlabError
from engine.kinds.network import NetworkScenario
from engine.records import EpochRecord, NetworkSummary
from engine.train import train

from ..plots import draw_series, int_ticks
from ..widgets.digits import DigitGrid
from ..widgets.footer import FitFooter
from ..widgets.mnist_panels import confusion_table, equations, layer_table
from .training import Batch, Control, Epoch, Finished, Loaded, post_training

REDRAW_SECONDS = 0.2  # numbers and digits are redrawn at most this often
PLOT_SECONDS = 0.6  # plots at most this often: a plotext build costs tens of milliseconds
MAX_LOSS_POINTS = 150  # the loss curve averages batch losses into at most this many points


def loss_curve(points: list[tuple[float, float]], limit: int) -> tuple[list[float], list[float]]:
    """Return (x, y) of the finite points, averaged in consecutive groups to at most ``limit``."""
    pts = np.array([p for p in points if math.isfinite(p[1])], dtype=float).reshape(-1, 2)
    if len(pts) > limit:
        groups = np.array_split(pts, limit)
        pts = np.array([g.mean(axis=0) for g in groups])
    return pts[:, 0].tolist(), pts[:, 1].tolist()


def _train_figure(r: EpochRecord) -> float | None:
    """What the right-hand plot shows of an epoch: accuracy in %, or the loss (regression)."""
    return r.train_loss if r.train_accuracy is None else r.train_accuracy * 100


def _test_figure(r: EpochRecord) -> float | None:
    return r.test_loss if r.test_accuracy is None else r.test_accuracy * 100


class MnistScreen(Screen):
    """Live training of a network scenario: progress, curves, digits (MNIST), confusion
    (classification), backprop numbers per layer."""

    HELP_TITLE = "MNIST dashboard"
    HELP_ORDER = 50

    DEFAULT_CSS = """
    MnistScreen { layout: vertical; }
    MnistScreen #mnist-head { height: auto; padding: 0 1; background: $boost; }
    MnistScreen #mnist-statusbar { height: auto; padding: 0 1; }
    MnistScreen #mnist-status { width: 1fr; height: auto; }
    MnistScreen #mnist-progress { width: auto; }
    MnistScreen #mnist-progress Bar { width: 16; }
    MnistScreen #mnist-body { height: 1fr; }
    MnistScreen #mnist-plots { height: 14; }
    MnistScreen #mnist-middle { height: auto; }
    MnistScreen #mnist-digits { width: 1fr; height: 32; border: round $primary-muted;
                                border-title-color: $text-muted; }
    MnistScreen #mnist-side { width: 66; height: auto; }
    MnistScreen .mnist-panel { height: auto; border: round $primary-muted; padding: 0 1;
                               border-title-color: $text-muted; }
    MnistScreen.-tall #mnist-plots { height: 20; }
    MnistScreen.-narrow #mnist-plots { height: 12; }
    MnistScreen.-narrow #mnist-middle { layout: vertical; }
    MnistScreen.-narrow #mnist-digits { height: 18; }
    MnistScreen.-narrow #mnist-side { width: 1fr; }
    """

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"), (130, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (56, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "Pause/resume"),
        Binding("r", "restart", "Restart"),
        Binding("escape", "back", "Back"),
        Binding("question_mark", "app.show_help", "Help", key_display="?"),
        Binding("q", "quit_app", "Quit"),
    ]

    Loaded, Batch, Epoch, Finished = Loaded, Batch, Epoch, Finished  # the worker's messages

    def __init__(self, scenario: NetworkScenario, variant: str | None = None, *,
                 show_timings: bool = True, name: str | None = None) -> None:
        super().__init__(name=name)
        self.scenario = scenario
        self.variant = variant if variant is not None else scenario.default_variant()
        self.config = scenario.model_config(self.variant)
        self.settings = scenario.config(self.variant)
        shape = scenario.dataset(self.variant, load=False)  # MNIST without its images
        self.digits = shape.source == "mnist"  # the test digits panel
        self.regression = self.config.regression
        self.n_classes = None if shape.regression else max(2, shape.n_classes or 2)
        self.show_timings = show_timings
        self.state = "loading"  # loading, running, paused, finished, diverged, stopped, error
        self.data_source = ""
        self.batches_per_epoch = 0
        self.epoch = 0  # the epoch in progress (1-based), or the last one finished
        self.batch = 0
        self.losses: list[tuple[float, float]] = []  # (fractional epoch, batch loss)
        self.epochs: list[EpochRecord] = []  # from epoch 0, the network before training
        self.summary: NetworkSummary | None = None
        self.confusion: np.ndarray | None = None  # (10, 10) of the last epoch
        self.predictions: np.ndarray | None = None  # of the sample digits, last epoch
        self.layer_stats: list[dict[str, Any]] = []
        self._epoch_dirty = False
        self._plots_dirty = False
        self._run = 0
        self._control = Control.new()
        self._worker: Worker[None] | None = None
        self._dirty = False

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Head, status line with the epoch's progress bar, then the scrollable dashboard."""
        yield Static(self._head("[dim]data: loading…[/dim]"), id="mnist-head")
        with Horizontal(id="mnist-statusbar"):
            yield Static("", id="mnist-status")
            yield ProgressBar(total=None, show_eta=False, id="mnist-progress")
        with VerticalScroll(id="mnist-body"):
            with Horizontal(id="mnist-plots"):
                yield PlotextPlot(id="mnist-loss")
                yield PlotextPlot(id="mnist-acc")
            with Horizontal(id="mnist-middle"):
                yield DigitGrid(id="mnist-digits")
                with Vertical(id="mnist-side"):
                    yield Static(confusion_table(None, self.n_classes or 2), id="mnist-confusion",
                                 classes="mnist-panel")
                    yield Static(layer_table([]), id="mnist-layers", classes="mnist-panel")
                    c = self.config
                    yield Static(equations(c.pair.bp1_formula, c.output, c.cost, c.activations),
                                 id="mnist-equations", classes="mnist-panel")
        yield FitFooter()

    def _head(self, data_line: str) -> str:
        """The two head lines: scenario, variant and settings; then which data is used."""
        sc, s, c = self.scenario, self.settings, self.config
        name = sc.name + (f" [{self.variant}]" if self.variant else "")
        return (f"[b]{escape(sc.title)}[/b]  {escape(name)}: {s.optimizer}, lr {s.lr:g}, "
                f"batch {s.batch_size}, {s.epochs} epochs, layers {c.layers}, "
                f"{'/'.join(dict.fromkeys(c.activations)) or 'no hidden layer'}, "
                f"{c.output} + {c.cost}\n{data_line}")

    def on_mount(self) -> None:
        """Title the panels, start training and the bounded-rate redraw timer."""
        self.query_one("#mnist-digits").border_title = "test digits"
        self.query_one("#mnist-digits").display = self.digits
        self.query_one("#mnist-confusion").border_title = "confusion matrix (test set)"
        self.query_one("#mnist-confusion").display = not self.regression
        self.query_one("#mnist-layers").border_title = "backprop, per layer"
        self.query_one("#mnist-equations").border_title = "the four equations"
        self._redraw_plots()
        self.set_interval(REDRAW_SECONDS, self._refresh_view)
        self.set_interval(PLOT_SECONDS, self._refresh_plots)
        self._start()

    # -- the worker -----------------------------------------------------------------------

    def _start(self) -> None:
        """Begin a fresh run (a new network from the scenario's seed)."""
        self._run += 1
        self._control = Control.new()
        self.state = "loading"
        self.epoch = self.batch = 0
        self.losses, self.epochs, self.summary = [], [], None
        self.confusion = self.predictions = None
        self.layer_stats = []
        self._dirty = self._epoch_dirty = self._plots_dirty = True
        self._refresh_view()
        self._refresh_plots()
        self._worker = self._train(self._run, self._control)

    @work(thread=True, exclusive=True, group="mnist-train")
    def _train(self, run: int, control: Control) -> None:
        """Load the data, train, and post what the screen shows (runs in a thread)."""
        worker = get_current_worker()

        def stopped() -> bool:
            return control.stop.is_set() or worker.is_cancelled

        try:
            post_training(self, run, control, stopped, train)
        except GdlabError as exc:
            self.post_message(self.Finished(run, None, str(exc)))
        except Exception as exc:  # an engine bug: report it on screen, keep the app alive
            self.post_message(self.Finished(run, None, f"{type(exc).__name__}: {exc}"))

    def _stop_worker(self) -> None:
        """Ask the running worker to stop (it checks every reported batch and image chunk)."""
        self._control.stop.set()
        self._control.resume.set()
        if self._worker is not None:
            self._worker.cancel()

    def on_unmount(self) -> None:
        """Stop training when the screen goes away."""
        self._stop_worker()

    # -- messages from the worker ---------------------------------------------------------

    def on_mnist_screen_loaded(self, msg: Loaded) -> None:
        """Say which data is used; show the sample digits."""
        if msg.run != self._run:
            return
        self.data_source = msg.source
        self.batches_per_epoch = math.ceil(msg.n_train / int(self.settings.batch_size or 1))
        colour = "yellow" if msg.subset else "green"
        self.query_one("#mnist-head", Static).update(
            self._head(f"data: [{colour}]{escape(msg.source)}[/]"))
        if msg.images is not None and msg.labels is not None:
            self.query_one(DigitGrid).set_digits(msg.images, msg.labels)
        self.query_one(ProgressBar).update(total=self.batches_per_epoch, progress=0)
        if self.state == "loading":
            self.state = "running" if self._control.resume.is_set() else "paused"
        self._update_status()

    def on_mnist_screen_batch(self, msg: Batch) -> None:
        """Add points to the loss curve; keep the layers' backprop numbers for the next redraw."""
        if msg.run != self._run:
            return
        bpe = max(1, self.batches_per_epoch)
        for rec in msg.records:
            self.losses.append((rec.epoch - 1 + rec.batch / bpe, rec.loss))
        self.epoch, self.batch = msg.records[-1].epoch, msg.records[-1].batch
        self.layer_stats = msg.stats
        self._dirty = self._plots_dirty = True

    def on_mnist_screen_epoch(self, msg: Epoch) -> None:
        """Record the epoch with its test predictions and confusion matrix."""
        if msg.run != self._run:
            return
        self.epochs.append(msg.record)
        self.epoch = msg.record.epoch
        self.batch = self.batches_per_epoch if msg.record.epoch else 0
        self.confusion, self.predictions = msg.confusion, msg.predictions
        if msg.record.layer_stats:
            self.layer_stats = msg.record.layer_stats
        self._dirty = self._epoch_dirty = self._plots_dirty = True

    def on_mnist_screen_finished(self, msg: Finished) -> None:
        """Show how the run ended."""
        if msg.run != self._run:
            return
        self.summary = msg.summary
        if msg.summary is None:
            self.state = "error"
            self.notify(msg.error, title="cannot train", severity="error", timeout=10)
            self.query_one("#mnist-head", Static).update(f"[red]{msg.error}[/red]")
        else:
            self.state = {"epochs": "finished"}.get(msg.summary.stop_reason,
                                                    msg.summary.stop_reason)
        self._dirty = self._plots_dirty = True
        self._refresh_view()
        self._refresh_plots()

    # -- drawing --------------------------------------------------------------------------

    def _update_status(self) -> None:
        """The one-line status: state, epoch, batch, last losses and accuracies."""
        s = self.settings
        colour = {"running": "green", "paused": "yellow", "finished": "bold green",
                  "diverged": "bold red", "error": "bold red"}.get(self.state, "")
        parts = [f"[{colour}]{self.state}[/]" if colour else self.state,
                 f"epoch {self.epoch}/{s.epochs}"]
        if self.batches_per_epoch:
            parts.append(f"batch {self.batch}/{self.batches_per_epoch}")
        if self.losses:
            parts.append(f"batch loss {self.losses[-1][1]:.4f}")
        if self.epochs:
            last = self.epochs[-1]
            if last.test_accuracy is not None:
                parts.append(f"test acc {last.test_accuracy * 100:.2f}%")
            else:
                parts.append(f"test loss {last.test_loss:.4g}")
            if self.show_timings:
                parts.append(f"{last.seconds:.2f} s/epoch")
        if self.summary is not None and self.summary.stop_reason == "diverged":
            parts.append(f"loss NaN/inf at epoch {self.summary.diverged_epoch}, batch "
                         f"{self.summary.diverged_batch}: try a smaller learning rate")
        self.query_one("#mnist-status", Static).update(" · ".join(parts))

    def _refresh_view(self) -> None:
        """Draw what arrived since the last redraw (called by a timer: a bounded rate)."""
        if not self._dirty:
            return
        self._dirty = False
        self._update_status()
        bar = self.query_one(ProgressBar)
        if self.batches_per_epoch:
            bar.update(total=self.batches_per_epoch, progress=self.batch)
        self.query_one("#mnist-layers", Static).update(layer_table(self.layer_stats))
        if self._epoch_dirty:
            self._epoch_dirty = False
            if self.digits:
                self.query_one(DigitGrid).set_predictions(self.predictions)
            confusion = self.query_one("#mnist-confusion", Static)
            confusion.update(confusion_table(self.confusion, self.n_classes or 2))
            confusion.border_title = "confusion matrix (test set" + (
                f", epoch {self.epochs[-1].epoch})" if self.epochs else ")")

    def _refresh_plots(self) -> None:
        """Redraw the plots if new points arrived (called by a slower timer)."""
        if self._plots_dirty:
            self._plots_dirty = False
            self._redraw_plots()

    def _redraw_plots(self) -> None:
        """Clear both plots' data, plot the current curves and refresh."""
        loss_plot = self.query_one("#mnist-loss", PlotextPlot)
        plt = loss_plot.plt
        plt.clear_data()
        plt.title("batch loss")
        plt.xlabel("epoch")
        xs, ys = loss_curve(self.losses, MAX_LOSS_POINTS)
        if xs:
            plt.plot(xs, ys, marker="braille")
            ticks = int_ticks(0, max(xs[-1], 1))
            plt.xticks(ticks, [str(t) for t in ticks])
        loss_plot.refresh()
        acc_plot = self.query_one("#mnist-acc", PlotextPlot)
        plt = acc_plot.plt
        plt.clear_data()
        plt.title("loss per epoch" if self.regression else "accuracy per epoch (%)")
        plt.xlabel("epoch")
        if self.epochs:
            xs = [r.epoch for r in self.epochs]
            lines = {}
            for label, get in (("train", _train_figure), ("test", _test_figure)):
                pts = [(x, get(r)) for x, r in zip(xs, self.epochs, strict=True)]
                lines[label] = [(x, y) for x, y in pts if y is not None and math.isfinite(y)]
            # train and test differ by marker as well as colour; whole epochs on the axis
            draw_series(plt, lines, acc_plot.size.width)
        acc_plot.refresh()

    # -- keys -----------------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        """Pause training at the next reported batch, or resume it."""
        if self.state not in ("running", "paused", "loading"):
            return
        if self._control.resume.is_set():
            self._control.resume.clear()
            if self.state == "running":
                self.state = "paused"
        else:
            self._control.resume.set()
            if self.state == "paused":
                self.state = "running"
        self._update_status()

    @property
    def paused(self) -> bool:
        """True while training is held at a pause."""
        return not self._control.resume.is_set()

    def action_restart(self) -> None:
        """Stop the current run and train a fresh network from the start."""
        self._stop_worker()
        self._start()

    def action_back(self) -> None:
        """Stop training and go back: the screen below, else the app's picker, else quit."""
        self._stop_worker()
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
        """Stop training and quit the app."""
        self._stop_worker()
        self.app.exit()
