"""The network kind's views: ``gdlab run`` (one row per epoch, epoch 0 first, printed as epochs
finish), ``gdlab compare`` (the variants side by side per epoch and a summary table), CSV,
JSONL, ``--plot`` (loss and accuracy per epoch; the decision boundary of a 2-D problem, the
fitted curve of a 1-D regression), and the app's network screen.

Which data is used, progress bars and warnings go to stderr. Every check a run makes (the
layers against the data's shape) is made before anything is printed. The first Ctrl-C stops
training at the next chunk of examples and still prints everything done so far (exit 130).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, TextIO

from engine.data.dataset import Dataset
from engine.kinds.network import NetworkScenario, NetworkStream, load_checked
from engine.records import BatchRecord, EpochRecord
from engine.scenario import Scenario

from .. import network_report as nr
from .. import output_file
from ..formatting import output_width, wrap_lines
from ..plots import use_color
from ..progress import ProgressBar
from .base import EXIT_INTERRUPTED, Views, chosen_variant, first_interrupt_stops


class _Output:
    """Text to stdout as it comes, or collected for an atomic ``--out`` at the end."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.out = getattr(args, "out", None)
        self.force = getattr(args, "force", False)
        self.stream: TextIO | None = None if self.out else sys.stdout
        self.parts: list[str] = []

    def __call__(self, text: str) -> None:
        if self.stream is None:
            self.parts.append(text)
        else:
            self.stream.write(text)
            self.stream.flush()

    def close(self) -> None:
        if self.out:
            output_file.write_atomic(self.out, "".join(self.parts), force=self.force)
            print(f"wrote {self.out}", file=sys.stderr)


def _describe(sc: NetworkScenario, variant: str | None) -> str:
    """The settings line: optimizer, lr, batch, epochs, layers, activations, output and cost,
    init and regularisation."""
    cfg, m = sc.config(variant), sc.model_config(variant)
    name = sc.name + (f" [{variant}]" if variant else "")
    hidden = "/".join(dict.fromkeys(m.activations)) or "no hidden layer"
    reg = "".join(f", {k} {x:g}" for k, x in (("l2", m.l2), ("l1", m.l1)) if x)
    epochs = f"{cfg.epochs} epoch" + ("s" if cfg.epochs != 1 else "")
    return (f"{name}: {cfg.optimizer}, lr {cfg.lr:g}, batch {cfg.batch_size}, {epochs}, "
            f"layers {m.layers}, {hidden}, {m.output} + {m.cost}, init {m.init}{reg}")


def _drawn(o: nr.NetworkOutcome, stream: NetworkStream, plot: bool) -> None:
    """With --plot, what the engine draws of the trained network: its decision surface over a
    2-D input plane, or its curve along a 1-D regression's input."""
    if not plot:
        return
    from engine.models.surface import decision_surface, fitted_curve, has_curve, has_plane

    from ..network_plots import MAP_COLUMNS, MAP_ROWS

    if has_plane(stream.data):
        o.surface = decision_surface(stream.net, stream.data, MAP_COLUMNS, 2 * MAP_ROWS)
    elif has_curve(stream.data):
        o.curve = fitted_curve(stream.net, stream.data)


def _clear_line(bar: ProgressBar | None) -> None:
    """Wipe a live progress bar's line so a table row can take its place."""
    if bar is not None and bar.live:
        bar.stream.write("\r\033[K")
        bar.stream.flush()


def _train(stream: NetworkStream, label: str, on_record: Any) -> None:
    """Iterate ``stream``, showing a progress bar per epoch on stderr, calling ``on_record``."""
    batches = math.ceil(len(stream.data.X_train) / int(stream.cfg.batch_size or 1))
    bar: ProgressBar | None = None
    for rec in stream:
        if isinstance(rec, BatchRecord):
            if bar is None:
                bar = ProgressBar(f"{label}epoch {rec.epoch}", batches, unit=" batches")
            bar.update(rec.batch)
        else:
            _clear_line(bar)
            bar = None
        on_record(rec)
    _clear_line(bar)


class NetworkViews(Views):
    """Epoch tables of network scenarios; the network screen in the app."""

    name = "network"

    def _prepare(self, sc: NetworkScenario, variants: list[str | None]
                 ) -> dict[str | None, Dataset]:
        """Load and check every variant's data, so that every mistake is reported before
        anything is printed; then say which data is used."""
        data = load_checked(sc, variants)
        for d in {id(d): d for d in data.values()}.values():
            print(f"data: {d.description}", file=sys.stderr)
        return data

    def run(self, sc: Scenario, args: argparse.Namespace) -> int:
        assert isinstance(sc, NetworkScenario)
        variant = chosen_variant(sc, args)
        data = self._prepare(sc, [variant])[variant]
        fmt_name = getattr(args, "format", "table")
        every = max(1, getattr(args, "every", 1))
        emit = _Output(args)
        name = sc.name + (f" [{variant}]" if variant else "")
        epochs: list[EpochRecord] = []
        cols: list[nr.Column] = []  # printed as epochs finish
        rest: list[nr.Column] = []  # too wide for the terminal: printed after training
        printed: list[EpochRecord] = []
        width = None if emit.out else output_width(sys.stdout)
        held: list[EpochRecord] = []  # the newest epoch row not printed yet (--every)
        last = sc.config(variant).epochs

        fields: list[str] = []  # CSV: written as epochs end, the header with the first
        plot = getattr(args, "plot", False) and fmt_name == "table" and not emit.out

        def on_record(rec: BatchRecord | EpochRecord) -> None:
            if fmt_name == "jsonl":
                emit(nr.json_line(rec))
            if not isinstance(rec, EpochRecord):
                return
            # held: the first and the newest (the speed note), every one only for --plot
            epochs[1 if len(epochs) > 1 and not plot else len(epochs):] = [rec]
            if fmt_name == "csv":
                if not fields:
                    fields.extend(nr.csv_fields(rec))
                    emit(nr.csv_line(fields))
                emit(nr.csv_line(nr.csv_row(rec, fields)))
            if fmt_name != "table":
                return
            if not cols:
                live, more = nr.fit_live(nr.epoch_columns(rec), width)
                cols.extend(live)
                rest.extend(more)
                emit(nr.table_header(cols))
            held.clear()
            if rec.epoch % every == 0 or rec.epoch == last:
                emit(nr.table_row(cols, rec))
                printed.append(rec)
            else:
                held.append(rec)

        with first_interrupt_stops() as should_stop:
            stream = NetworkStream(sc, variant, data=data, should_stop=should_stop)
            if fmt_name == "table":  # the network is built: every check has passed
                emit(wrap_lines(f"{sc.title}\n{_describe(sc, variant)}\n", width))
            _train(stream, "", on_record)
        summary = stream.summary
        assert summary is not None  # training always ends with a summary
        outcome = nr.NetworkOutcome(variant, epochs, summary)
        _drawn(outcome, stream, plot)
        if fmt_name == "jsonl":
            emit(nr.summary_json(summary))
        elif fmt_name == "csv":
            if not fields:
                emit(nr.csv_text([(variant, [])]))
        else:
            for rec in held:
                emit(nr.table_row(cols, rec))
                printed.append(rec)
            if rest:
                emit("\n" + nr.rest_table(rest, printed, width))
            emit(wrap_lines(nr.summary_line(name, summary), width))
            if epochs:
                emit(wrap_lines(nr.speed_note(epochs[0], epochs[-1]), width))
        emit.close()
        if summary.stop_reason == "diverged":
            print(f"gdlab: {name} diverged at epoch {summary.diverged_epoch}, batch "
                  f"{summary.diverged_batch}: try a smaller learning rate", file=sys.stderr)
        if plot and epochs:
            _print_charts([outcome], data)
        return EXIT_INTERRUPTED if summary.stop_reason == "stopped" else 0

    def compare(self, sc: Scenario, args: argparse.Namespace, variants: list[str | None]) -> int:
        assert isinstance(sc, NetworkScenario)
        data = self._prepare(sc, variants)
        fmt_name = getattr(args, "format", "table")
        emit = _Output(args)
        outcomes: list[nr.NetworkOutcome] = []
        stopped = False
        plot = getattr(args, "plot", False) and fmt_name == "table" and not emit.out
        with first_interrupt_stops() as should_stop:
            for v in variants:
                o = nr.NetworkOutcome(v)
                outcomes.append(o)

                def on_record(rec: BatchRecord | EpochRecord, v: str | None = v,
                              o: nr.NetworkOutcome = o) -> None:
                    if fmt_name == "jsonl":
                        emit(nr.json_line(rec, v, tagged=True))
                    if isinstance(rec, EpochRecord):
                        o.epochs.append(rec)

                stream = NetworkStream(sc, v, data=data[v], should_stop=should_stop)
                _train(stream, f"{v or 'run'}: ", on_record)
                o.summary = stream.summary
                _drawn(o, stream, plot)
                if fmt_name == "jsonl" and o.summary is not None:
                    emit(nr.summary_json(o.summary))
                if o.summary is not None and o.summary.stop_reason == "stopped":
                    stopped = True
                    break
        if fmt_name == "csv":
            emit(nr.csv_text([(o.variant, o.epochs) for o in outcomes]))
        elif fmt_name == "table":
            width = None if emit.out else output_width(sys.stdout)
            emit(wrap_lines(f"{sc.title}\n" + "".join(f"{_describe(sc, o.variant)}\n"
                                                      for o in outcomes), width)
                 + nr.compare_table(outcomes, max(1, getattr(args, "every", 1)), width))
        emit.close()
        if plot:
            _print_charts(outcomes, data[variants[0]])
        return EXIT_INTERRUPTED if stopped else 0

    def screen(self, app: Any, sc: Scenario, ref: str | Path, variant: str | None) -> Any:
        from ..screens.network import NetworkScreen

        assert isinstance(sc, NetworkScenario)
        return NetworkScreen(sc, variant)


def _print_charts(outcomes: list[nr.NetworkOutcome], data: Dataset) -> None:
    """--plot: the charts after the tables, in colour only into a terminal (and not NO_COLOR)."""
    from ..network_plots import network_charts

    sys.stdout.write(network_charts(outcomes, use_color(sys.stdout), data.class_names))
    sys.stdout.flush()


VIEWS = NetworkViews()
