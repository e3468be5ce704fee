"""Compare a network scenario's variants: each trained to its end in a worker, their decision
boundaries side by side (their curves for MNIST and regressions), and a table of final losses and
accuracies (``gdlab compare``'s summary table)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from engine.errors import GdlabError
from engine.kinds.network import NetworkScenario, NetworkStream, load_checked
from engine.models.surface import decision_surface, has_plane
from engine.records import EpochRecord

from .. import network_report as nr
from ..plots import draw_series
from ..widgets.footer import FitFooter
from ..widgets.network_panels import boundary_lines


class NetworkCompareScreen(Screen):
    """Every variant of a network scenario, trained to its end."""

    HELP_TITLE = "network compare view"
    HELP_ORDER = 55

    BINDINGS = [
        Binding("escape,c", "back", "Back", key_display="esc/c"),
        Binding("e", "export", "Export"),
        Binding("question_mark", "app.show_help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
    ]

    class Progress(Message, namespace="network_compare"):
        """A variant finished an epoch (or all finished: ``done``; or ``error``)."""

        def __init__(self, text: str, done: bool = False, error: str = "") -> None:
            super().__init__()
            self.text, self.done, self.error = text, done, error

    def __init__(self, scenario: NetworkScenario) -> None:
        super().__init__()
        self.scenario = scenario
        self.outcomes: list[nr.NetworkOutcome] = []
        self.done = False

    def compose(self) -> ComposeResult:
        yield Static("training the variants…", id="ncmp-status")
        with VerticalScroll(id="ncmp-body"):
            yield Horizontal(id="ncmp-maps")
            yield PlotextPlot(id="ncmp-curves")
            yield Static("", id="ncmp-table")
        yield FitFooter()

    def on_mount(self) -> None:
        self.query_one("#ncmp-curves", PlotextPlot).plt.theme("clear")
        k = max(1, len(self.scenario.variants))
        cols = max(8, (self.size.width - 2) // k - 2)
        self._train(cols, max(4, min(cols // 2, (self.size.height - 12))))

    @work(thread=True, exclusive=True, group="network-compare")
    def _train(self, cols: int, rows: int) -> None:
        worker = get_current_worker()
        variants: list[str | None] = list(self.scenario.variants) or [None]
        try:
            data = load_checked(self.scenario, variants)
            for v in variants:
                o = nr.NetworkOutcome(v)
                stream = NetworkStream(self.scenario, v, data=data[v],
                                       should_stop=lambda: worker.is_cancelled)
                for rec in stream:
                    if isinstance(rec, EpochRecord):
                        o.epochs.append(rec)
                        if rec.epoch % 10 == 0:
                            self.post_message(self.Progress(
                                f"training {v or 'run'}: epoch {rec.epoch}"))
                if worker.is_cancelled:
                    return
                o.summary = stream.summary
                if has_plane(stream.data):
                    o.surface = decision_surface(stream.net, stream.data, cols, 2 * rows)
                self.outcomes.append(o)
                self.post_message(self.Progress(f"{v or 'run'} done"))
        except GdlabError as exc:
            self.post_message(self.Progress("", True, str(exc)))
            return
        self.post_message(self.Progress("", True))

    async def on_network_compare_progress(self, msg: Progress) -> None:
        status = self.query_one("#ncmp-status", Static)
        if msg.error:
            status.update(Text(f"error: {msg.error}", "bold red"))
            return
        if not msg.done:
            status.update(msg.text)
            return
        self.done = True
        status.update(f"{self.scenario.name}: {len(self.outcomes)} variants trained")
        maps = self.query_one("#ncmp-maps", Horizontal)
        boxes = []
        for o in self.outcomes:
            if o.surface is not None:
                box = Static(Group(*boundary_lines(o.surface)), classes="ncmp-map")
                acc = o.summary.final_test_accuracy if o.summary else None
                box.border_title = (o.variant or "run") + (
                    f" {acc * 100:.1f}%" if acc is not None else "")
                boxes.append(box)
        await maps.mount_all(boxes)
        maps.display = bool(boxes)
        self._curves()
        self.query_one("#ncmp-table", Static).update(Text(nr.summary_table(self.outcomes)))

    def _curves(self) -> None:
        plot = self.query_one("#ncmp-curves", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        acc = any(o.epochs and o.epochs[0].test_accuracy is not None for o in self.outcomes)
        plt.title("test accuracy per epoch (%)" if acc else "test loss per epoch")
        series: dict[str, list[Any]] = {}
        for o in self.outcomes:
            series[o.variant or "run"] = [
                (r.epoch, r.test_accuracy * 100 if acc else r.test_loss) for r in o.epochs
                if (r.test_accuracy if acc else r.test_loss) is not None]
        # each variant its colour and marker; a variant hidden under another says so
        draw_series(plt, {k: v for k, v in series.items() if v}, plot.size.width)
        plot.refresh()

    def action_export(self) -> None:
        """The variants' epochs as `gdlab compare --format csv|jsonl`, or a screenshot."""
        from .export import ExportScreen

        if not self.done:
            self.notify("the variants are still training", severity="warning")
            return

        def csv() -> str:
            return nr.csv_text([(o.variant, o.epochs) for o in self.outcomes])

        def jsonl() -> str:
            return "".join(nr.json_line(r, o.variant, tagged=True) for o in self.outcomes
                           for r in o.epochs) + "".join(
                nr.summary_json(o.summary) for o in self.outcomes if o.summary)

        kinds = {"all variants as CSV": ("_compare.csv", "csv"),
                 "all variants as JSONL": ("_compare.jsonl", "jsonl"),
                 "screenshot (SVG)": ("_compare.svg", "svg")}
        self.app.push_screen(ExportScreen(stem=self.scenario.name, kinds=kinds,
                                          texts={"csv": csv, "jsonl": jsonl}))

    def action_back(self) -> None:
        """Back to the network screen."""
        self.dismiss()
