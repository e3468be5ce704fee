"""Drawing a Frame on the network screen: the status line, the boundary (or the fitted curve, or
MNIST's digits) and the panel of the tab shown, at bounded rates while the network runs.

Only Frames are drawn (tui/network_frame.py): nothing here reads the network. The boundary is
painted as strips every frame (no layout); text panels are laid out again only when their
height may have changed; plotext charts are built at most every PLOT_SECONDS.
"""

from __future__ import annotations

import time
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import Static, TabbedContent
from textual_plotext import PlotextPlot

from engine.kinds.network import NetworkScenario

from ..network_frame import Frame
from ..network_plots import boundary_arrays
from ..widgets.cell_strips import array_segments
from ..widgets.cells_view import CellsView
from ..widgets.digits import DigitGrid
from ..widgets.mnist_panels import confusion_table
from ..widgets.network_panels import boundary_legend, bp_text, incoming_text, neuron_strips
from ..widgets.network_views import draw_curve, draw_curves, layers_renderable

PLOT_SECONDS = 0.4  # plotext charts at most this often: a build costs milliseconds
PANEL_SECONDS = 0.25  # while running, text panels this often (a Static's update lays out the
#                      whole screen again; the boundary repaints every frame)


class Drawing:
    """The network screen's drawing of Frames (a part of NetworkScreen)."""

    state: str
    frame: Frame | None
    grid: tuple[int, int]
    show_timings: bool
    scenario: NetworkScenario
    _config: Any  # the model in force (after edits)
    starting: bool  # the trainer process is booting (NetworkWorker)
    wants_trainer: bool  # a key asked for training (NetworkKeys)
    query_one: Any
    query: Any
    call_after_refresh: Any

    def _init_drawing(self) -> None:
        self.draws = 0  # frames drawn (the benchmark's redraws)
        self._plotted = 0.0
        self._panels_at = 0.0
        self._legend = ""
        self._digits_set = False
        self._shapes: dict[str, int] = {}  # the text panels' shapes when last laid out

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
        if self.starting and self.wants_trainer:  # a key waits for the process (every redraw)
            t.append(" · starting the trainer…", "dim")
        return t

    def _draw(self, f: Frame) -> None:
        """Draw a Frame: status, boundary (or curve, or digits), the tabs' panels."""
        self.draws += 1
        now = time.monotonic()
        panels = self.state != "running" or now - self._panels_at >= PANEL_SECONDS
        if panels:
            self._panels_at = now
            status = self._status(f)
            self._update("#net-status", status, len(status.plain))
        if f.surface is not None:
            self.query_one("#net-map", CellsView).set_lines(
                array_segments(boundary_arrays(f.surface)))
            legend = boundary_legend(f.surface, f.class_names)
            if legend.plain != self._legend:  # one line high: a repaint, no layout
                self._legend = legend.plain
                self.query_one("#net-legend", Static).update(legend, layout=False)
        tab = self.query_one(TabbedContent).active
        if panels:
            self._draw_tab(f, tab)
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

    def _draw_tab(self, f: Frame, tab: str) -> None:
        """The text panels of the tab shown (the hidden ones are drawn when shown)."""
        if tab == "tab-neurons":
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
        incoming = incoming_text(f.incoming, sel.layer, sel.neuron, f.sizes, f.raw_names)
        self._update("#net-incoming", incoming, incoming.plain.count("\n"))
