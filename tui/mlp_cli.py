"""``gdlab run`` for an MLP scenario: train on MNIST headlessly, one table row per epoch.

Output (stdout, or ``--out`` written atomically at the end): a table of epochs printed as they
finish, CSV of the epoch records, or JSONL (batch and epoch records in order, then one summary
line). Which data is used, progress bars and warnings go to stderr. The first Ctrl-C stops
training at the next chunk of images and still prints everything done so far.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from engine.data.mnist import load_mnist
from engine.mlp_scenario import data_options, model_config, train_settings
from engine.mlp_train import BatchRecord, EpochRecord, TrainSummary, train
from engine.scenario import Scenario

from . import report
from .formatting import fmt
from .progress import ProgressBar

EXIT_INTERRUPTED = 130
EPOCH_FIELDS = ("epoch", "train_loss", "train_accuracy", "test_accuracy", "seconds", "lr")
# (header, width, record -> text) of the table; fixed widths so rows print as epochs finish.
TABLE_COLUMNS: tuple[tuple[str, int, Callable[[EpochRecord], str]], ...] = (
    ("epoch", 5, lambda r: str(r.epoch)),
    ("train loss", 10, lambda r: fmt(r.train_loss)),
    ("train acc", 9, lambda r: f"{r.train_accuracy * 100:.2f}%"),
    ("test acc", 8, lambda r: f"{r.test_accuracy * 100:.2f}%"),
    ("seconds", 7, lambda r: f"{r.seconds:.2f}"),
    ("lr", 9, lambda r: f"{r.lr:.4g}"),
)


def table_header() -> str:
    """The two header lines of the epoch table (names, then dashes)."""
    names = "  ".join(h.rjust(w) for h, w, _ in TABLE_COLUMNS)
    rules = "  ".join("-" * w for _, w, _ in TABLE_COLUMNS)
    return f"{names}\n{rules}\n"


def table_row(rec: EpochRecord) -> str:
    """One line of the epoch table for ``rec``."""
    return "  ".join(f(rec).rjust(w) for _, w, f in TABLE_COLUMNS) + "\n"


def summary_line(name: str, s: TrainSummary) -> str:
    """One line saying how the run ended, e.g. "... stopped: epochs after 30 epochs; test 95.1%"."""
    reason = "interrupted" if s.stop_reason == "stopped" else s.stop_reason
    text = (f"{name}: stopped: {reason} after {s.epochs} epoch{'s' if s.epochs != 1 else ''}"
            f"; final test accuracy {s.final_test_accuracy * 100:.2f}%, "
            f"train {s.final_train_accuracy * 100:.2f}%, {s.total_seconds:.1f} s of training")
    if s.stop_reason == "diverged":
        text += (f" (the loss became NaN or infinite at epoch {s.diverged_epoch}, batch "
                 f"{s.diverged_batch}: try a smaller learning rate)")
    return text + "\n"


def csv_text(epochs: list[EpochRecord]) -> str:
    """CSV of the epoch records: EPOCH_FIELDS, floats at full precision."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EPOCH_FIELDS)
    for r in epochs:
        d = r.to_json()
        w.writerow([repr(d[k]) if isinstance(d[k], float) else d[k] for k in EPOCH_FIELDS])
    return buf.getvalue()


def _finite(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with NaN and inf (a diverged run) as None, so every line is valid JSON."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in obj.items()}


def _json(obj: dict[str, Any]) -> str:
    """One JSON line of a record."""
    return json.dumps(_finite(obj)) + "\n"


def summary_json(s: TrainSummary, name: str, variant: str | None, data_source: str) -> str:
    """The JSONL summary line: ``{"summary": {...}}`` with the scenario, variant and data used."""
    body = {"scenario": name, "variant": variant, "data": data_source, **s.to_json()}
    return json.dumps({"summary": _finite(body)}) + "\n"


@contextmanager
def _first_interrupt_stops() -> Iterator[Callable[[], bool]]:
    """Yield should_stop(): true after the first Ctrl-C; a second Ctrl-C interrupts at once."""
    hit = [False]

    def handler(signum: int, frame: object) -> None:
        if hit[0]:
            raise KeyboardInterrupt
        hit[0] = True
        print("\ngdlab: stopping after this chunk (Ctrl-C again to abort)", file=sys.stderr)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield lambda: False
        return
    try:
        yield lambda: hit[0]
    finally:
        signal.signal(signal.SIGINT, previous)


def _clear_line(bar: ProgressBar) -> None:
    """Wipe a live progress bar's line so a table row can take its place."""
    if bar.live:
        bar.stream.write("\r\033[K")
        bar.stream.flush()


def run_mlp(sc: Scenario, args: argparse.Namespace) -> int:
    """Train the scenario's network on MNIST and print its epochs; return the exit status.

    0 when training ran (all epochs or diverged, which is reported), 130 when stopped by Ctrl-C.
    """
    variant = args.variant if getattr(args, "variant", None) is not None else sc.default_variant()
    config = model_config(sc)
    settings = train_settings(sc, variant)
    fmt_name = getattr(args, "format", "table")
    out = getattr(args, "out", None)
    every = max(1, getattr(args, "every", 1))
    data = load_mnist(**data_options(sc))
    n_train = len(data.train_images)
    print(f"data: {data.source}", file=sys.stderr)
    name = sc.name + (f" [{variant}]" if variant else "")
    # Stream to stdout as records arrive, or collect for an atomic --out at the end.
    stream: TextIO | None = None if out else sys.stdout
    parts: list[str] = []

    def emit(text: str) -> None:
        if stream is None:
            parts.append(text)
        else:
            stream.write(text)
            stream.flush()

    batches = math.ceil(n_train / settings.batch_size)
    epochs: list[EpochRecord] = []
    summary: TrainSummary | None = None
    if fmt_name == "table":
        emit(f"{sc.title}\n{name}: {settings.optimizer}, lr {settings.lr:g}, "
             f"batch {settings.batch_size}, {settings.epochs} epochs, layers {config.layers}, "
             f"{config.activation}, {config.cost}\n")
        emit(table_header())
    bar: ProgressBar | None = None
    with _first_interrupt_stops() as should_stop:
        for rec in train(config, settings, data, should_stop=should_stop):
            if isinstance(rec, BatchRecord):
                if bar is None:
                    bar = ProgressBar(f"epoch {rec.epoch}", batches, unit=" batches")
                bar.update(rec.batch)
                if fmt_name == "jsonl":
                    emit(_json(rec.to_json()))
            elif isinstance(rec, EpochRecord):
                if bar is not None:
                    _clear_line(bar)
                    bar = None
                epochs.append(rec)
                if fmt_name == "jsonl":
                    emit(_json(rec.to_json()))
                elif fmt_name == "table" and (rec.epoch % every == 0 or rec.epoch == 1
                                              or rec.epoch == settings.epochs):
                    emit(table_row(rec))
            else:
                summary = rec
    if bar is not None:
        _clear_line(bar)
    assert summary is not None  # train() always ends with a summary
    if fmt_name == "jsonl":
        emit(summary_json(summary, sc.name, variant, data.source))
    elif fmt_name == "csv":
        emit(csv_text(epochs))
    else:
        emit(summary_line(name, summary))
    if out:
        report.write_atomic(out, "".join(parts), force=getattr(args, "force", False))
        print(f"wrote {out}", file=sys.stderr)
    if summary.stop_reason == "diverged":
        print(f"gdlab: {name} diverged at epoch {summary.diverged_epoch}, batch "
              f"{summary.diverged_batch}: try a smaller learning rate", file=sys.stderr)
    if getattr(args, "plot", False) and fmt_name == "table" and not out and epochs:
        charts = epoch_charts(epochs)
        if not sys.stdout.isatty():
            import plotext as plt

            charts = plt.uncolorize(charts)
        sys.stdout.write(charts)
    return EXIT_INTERRUPTED if summary.stop_reason == "stopped" else 0


def epoch_charts(epochs: list[EpochRecord], width: int = 80, height: int = 18) -> str:
    """Two plotext charts as text: training loss per epoch, then train/test accuracy per epoch."""
    import plotext as plt

    xs = [r.epoch for r in epochs]
    finite = [(x, r.train_loss) for x, r in zip(xs, epochs, strict=True)
              if math.isfinite(r.train_loss)]
    text = ""
    plt.clear_figure()
    plt.plot_size(width, height)
    plt.theme("clear")
    if finite:
        plt.plot([x for x, _ in finite], [y for _, y in finite], marker="braille",
                 label="train loss")
    plt.title("training loss per epoch")
    plt.xlabel("epoch")
    text += plt.build() + "\n"
    plt.clear_figure()
    plt.plot_size(width, height)
    plt.theme("clear")
    plt.plot(xs, [r.train_accuracy * 100 for r in epochs], marker="braille", label="train %")
    plt.plot(xs, [r.test_accuracy * 100 for r in epochs], marker="braille", label="test %")
    plt.title("accuracy per epoch (%)")
    plt.xlabel("epoch")
    text += plt.build() + "\n"
    plt.clear_figure()
    return text
