"""Headless views of network records: the epoch table, the compare tables, CSV, JSONL (the
charts are in tui/network_plots.py).

Everything here reads records (``EpochRecord``, ``BatchRecord``, ``NetworkSummary``); nothing
recomputes what training recorded. Which columns a table has comes from the first epoch record:
accuracies for classification, validation figures when there is a validation set, one speed
(||dC/db_l||) per layer.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.records import BatchRecord, EpochRecord, NetworkSummary

from .formatting import fmt, render_table

Column = tuple[str, int, Callable[[EpochRecord], str]]


def _pct(x: float | None) -> str:
    return "" if x is None else ("nan" if not math.isfinite(x) else f"{x * 100:.2f}%")


def _speed(x: float) -> str:
    return f"{x:.3e}" if math.isfinite(x) else fmt(x)


def epoch_columns(first: EpochRecord) -> list[Column]:
    """(header, width, record -> text) of the epoch table; fixed widths, so that rows print as
    epochs finish."""
    cols: list[Column] = [
        ("epoch", 5, lambda r: str(r.epoch)),
        ("train loss", 10, lambda r: fmt(r.train_loss)),
        ("test loss", 10, lambda r: fmt(r.test_loss)),
    ]
    if first.train_accuracy is not None:
        cols += [("train acc", 9, lambda r: _pct(r.train_accuracy)),
                 ("test acc", 8, lambda r: _pct(r.test_accuracy))]
    if first.validation_loss is not None:
        cols.append(("val loss", 10, lambda r: fmt(r.validation_loss)))
        if first.validation_accuracy is not None:
            cols.append(("val acc", 8, lambda r: _pct(r.validation_accuracy)))
    cols += [("seconds", 7, lambda r: f"{r.seconds:.2f}"), ("lr", 9, lambda r: f"{r.lr:.4g}")]
    for i in range(len(first.layer_grad_norm)):
        cols.append((f"speed {i + 1}", 9, lambda r, i=i: _speed(r.layer_grad_norm[i])
                     if i < len(r.layer_grad_norm) else ""))
    return cols


def table_header(cols: Sequence[Column]) -> str:
    """The two header lines of the epoch table (names, then dashes)."""
    names = "  ".join(h.rjust(w) for h, w, _ in cols)
    rules = "  ".join("-" * w for _, w, _ in cols)
    return f"{names}\n{rules}\n"


def table_row(cols: Sequence[Column], rec: EpochRecord) -> str:
    """One line of the epoch table for ``rec``."""
    return "  ".join(f(rec).rjust(w) for _, w, f in cols) + "\n"


def fit_live(cols: Sequence[Column], width: int | None) -> tuple[list[Column], list[Column]]:
    """The columns printed as epochs finish (the first that fit ``width``, the epoch's and the
    losses' at least), and the rest, printed in blocks after training (``rest_table``)."""
    live: list[Column] = []
    used = -2
    for c in cols:
        if width is not None and len(live) >= 3 and used + 2 + c[1] > width:
            break
        live.append(c)
        used += 2 + c[1]
    return live, list(cols[len(live):])


def rest_table(rest: Sequence[Column], recs: Sequence[EpochRecord], width: int | None) -> str:
    """The columns the live table left out, beside the epoch again, in blocks that fit."""
    cols = [("epoch", 5, lambda r: str(r.epoch)), *rest]
    rows = [[f(r) for _, _, f in cols] for r in recs]
    return render_table([h for h, _, _ in cols], rows, width=width) + "\n"


def speed_note(first: EpochRecord, last: EpochRecord | None = None) -> str:
    """What the speed columns are; with two layers or more, how much faster the last layer
    learns than the first, at the first and at the last epoch (Nielsen ch. 5)."""
    if not first.layer_grad_norm:
        return ""
    text = ("speed l = ||dC/db_l|| over the first 1,000 training examples: how fast layer l "
            "learns\n")
    L = len(first.layer_grad_norm)
    if L >= 2:
        for rec in [first] + ([last] if last is not None and last.epoch != first.epoch else []):
            s = rec.layer_grad_norm
            ratio = s[-1] / s[0] if s[0] > 0 else math.inf
            shown = f"{ratio:.3g}" if math.isfinite(ratio) else fmt(ratio)
            text += (f"epoch {rec.epoch}: speed {L} / speed 1 = {shown}: layer {L} learns "
                     f"{shown} times as fast as layer 1\n")
    return text


def summary_line(name: str, s: NetworkSummary) -> str:
    """One line saying how the run ended, e.g. "... stopped: epochs after 30 epochs; test 95.1%"."""
    reason = "interrupted" if s.stop_reason == "stopped" else s.stop_reason
    text = f"{name}: stopped: {reason} after {s.epochs} epoch{'s' if s.epochs != 1 else ''}; "
    if s.final_test_accuracy is not None:
        text += (f"final test accuracy {_pct(s.final_test_accuracy)}, "
                 f"train {_pct(s.final_train_accuracy)}, ")
    text += f"test loss {fmt(s.final_test_loss)}, {s.seconds:.1f} s of training"
    if s.message:
        text += f" ({s.message})"
    return text + "\n"


# --- CSV and JSONL ----------------------------------------------------------------------

def csv_fields(first: EpochRecord) -> list[str]:
    """The CSV header of epoch records: the JSON keys, one layer_grad_norm_l per layer."""
    keys = [k for k in first.to_json() if k != "layer_grad_norm"]
    return keys + [f"layer_grad_norm_{i + 1}" for i in range(len(first.layer_grad_norm))]


def csv_row(rec: EpochRecord, fields: Sequence[str]) -> list[object]:
    """One CSV row: floats at full precision (repr), NaN as ``nan``, absent values empty."""
    d = rec.to_json()
    for i, x in enumerate(rec.layer_grad_norm):
        d[f"layer_grad_norm_{i + 1}"] = x
    row: list[object] = []
    for k in fields:
        x = d.get(k)
        if k in d and x is None:  # a non-finite number, written as null in JSON
            x = getattr(rec, k, None)
        row.append("" if x is None else repr(x) if isinstance(x, float) else x)
    return row


def csv_line(cells: Sequence[object]) -> str:
    """One CSV line, as ``csv_text`` writes it."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def csv_text(runs: Sequence[tuple[str | None, list[EpochRecord]]]) -> str:
    """CSV of the epoch records of one run, or of several (a leading ``variant`` column)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    many = len(runs) > 1
    firsts = [recs[0] for _, recs in runs if recs]
    fields: list[str] = []
    for first in firsts:
        fields += [f for f in csv_fields(first) if f not in fields]
    w.writerow((["variant"] if many else []) + fields)
    for variant, recs in runs:
        for r in recs:
            w.writerow(([variant or "run"] if many else []) + csv_row(r, fields))
    return buf.getvalue()


def json_line(rec: BatchRecord | EpochRecord, variant: str | None = None,
              tagged: bool = False) -> str:
    """One JSONL line of a record (strict JSON); ``tagged``: led by its variant (compare)."""
    d = rec.to_json()
    if tagged:
        d = {"variant": variant, **d}
    return json.dumps(d) + "\n"


def summary_json(s: NetworkSummary) -> str:
    """The JSONL summary line: ``{"summary": {...}}``."""
    return json.dumps(s.to_json()) + "\n"


# --- compare ----------------------------------------------------------------------------

@dataclass
class NetworkOutcome:
    """One variant's training as the views show it: its epoch records and summary, and what the
    engine drew of the trained network for --plot (``engine.models.surface``: the decision
    surface of a 2-D problem, the curve of a 1-D regression)."""

    variant: str | None
    epochs: list[EpochRecord] = field(default_factory=list)
    summary: NetworkSummary | None = None
    surface: Any = None
    curve: Any = None


def _group_columns(first: EpochRecord) -> list[tuple[str, Callable[[EpochRecord], str]]]:
    cols: list[tuple[str, Callable[[EpochRecord], str]]] = [
        ("train loss", lambda r: fmt(r.train_loss)), ("test loss", lambda r: fmt(r.test_loss))]
    if first.test_accuracy is not None:
        cols.append(("test acc", lambda r: _pct(r.test_accuracy)))
    if first.validation_accuracy is not None:
        cols.append(("val acc", lambda r: _pct(r.validation_accuracy)))
    elif first.validation_loss is not None:
        cols.append(("val loss", lambda r: fmt(r.validation_loss)))
    return cols


def compare_table(outcomes: Sequence[NetworkOutcome], every: int = 1,
                  width: int | None = None) -> str:
    """The variants side by side, one row per epoch (every Nth and each variant's last), then
    the summary table; with ``width``, variants that do not fit continue in further blocks."""
    groups: list[tuple[str, int]] = [("", 1)]
    header = ["epoch"]
    per = []
    for o in outcomes:
        cols = _group_columns(o.epochs[0]) if o.epochs else []
        per.append(cols)
        groups.append((f" {o.variant or 'run'} ", len(cols)))
        header += [h for h, _ in cols]
    last = {o.epochs[-1].epoch for o in outcomes if o.epochs}
    n = max((o.epochs[-1].epoch for o in outcomes if o.epochs), default=-1)
    rows = []
    for e in range(n + 1):
        if every > 1 and e % every and e not in last:
            continue
        row = [str(e)]
        for o, cols in zip(outcomes, per, strict=True):
            rec = next((r for r in o.epochs if r.epoch == e), None)
            row += [f(rec) if rec else "" for _, f in cols]
        rows.append(row)
    return render_table(header, rows, groups, width=width) + "\n\n" + \
        summary_table(outcomes, width) + "\n"


def summary_table(outcomes: Sequence[NetworkOutcome], width: int | None = None) -> str:
    """Epochs, stop reason, final losses and accuracies, seconds: one row per variant."""
    done = [o for o in outcomes if o.summary is not None]
    classify = any(o.summary.final_test_accuracy is not None for o in done)  # type: ignore[union-attr]
    validate = any(o.summary.final_validation_loss is not None for o in done)  # type: ignore[union-attr]
    header = ["variant", "epochs", "stop", "train loss", "test loss"]
    header += ["test acc"] if classify else []
    header += ["val loss"] if validate else []
    header += ["seconds"]
    rows = []
    for o in done:
        s = o.summary
        assert s is not None
        row = [o.variant or "run", str(s.epochs), s.stop_reason, fmt(s.final_train_loss),
               fmt(s.final_test_loss)]
        row += [_pct(s.final_test_accuracy)] if classify else []
        row += [fmt(s.final_validation_loss)] if validate else []
        rows.append(row + [f"{s.seconds:.1f}"])
    notes = [f"{o.variant or 'run'}: {o.summary.message}" for o in done
             if o.summary and o.summary.message]
    return render_table(header, rows, left=(0, 2), width=width) + ("\n" + "\n".join(notes) if notes else "")
