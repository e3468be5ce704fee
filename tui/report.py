"""Headless views of runner records: tables, CSV, JSONL, and atomic file output.

Everything here reads records; nothing recomputes what the runner already recorded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from engine.records import GraphSummary as Summary
from engine.records import IterationRecord as Record
from engine.run import RunConfig
from engine.runner import Run

from .formatting import fmt, render_table
from .table_stream import StreamedTable


@dataclass
class Outcome:
    """One finished run of a variant: its configuration, records and summary."""

    variant: str | None
    cfg: RunConfig
    params: list[str]
    records: Sequence[Record]  # a Trace (records made on demand) or a list
    summary: Summary

    @classmethod
    def of(cls, run: Run) -> Outcome:
        trace, summary = run.run_all()
        return cls(run.variant, run.cfg, list(run.graph.params), trace, summary)


# --- table ------------------------------------------------------------------------------

def value_specs(o: Outcome, every: bool = False) -> list[tuple[tuple[str, ...], str,
                                                             Callable[[Record], Any], int]]:
    """(key, header, record -> value, rank) of the columns a person reads in the tutorial.

    The rank says what a narrow view gives up first: 0 never (the iteration), 1 the trained
    parameters, the output and the steps, 2 delta and the derivatives, 3 the rest. With
    ``every``, also the columns that a setting changed later in the same trace may add (epoch,
    lr): their widths can then be measured before the settings are final (``gdlab replay``
    streams its table).
    """
    cfg = o.cfg
    out = cfg.output
    cols: list[tuple[tuple[str, ...], str, Callable[[Record], Any], int]] = [
        (("iter",), "iter", lambda r: r.iteration, 0)]
    if cfg.rule == "gradient" and (cfg.batch_size or every):
        cols.append((("epoch",), "epoch", lambda r: r.epoch, 3))
    for p in o.params:
        cols.append((("param", p), p, lambda r, p=p: r.params.get(p), 1 if p in cfg.train else 3))
    if cfg.rule == "target":
        cols.append((("output",), out, lambda r: r.output, 1))
        cols.append((("delta",), "delta", lambda r: r.delta, 2))
        for p in cfg.train:
            cols.append((("slope", p), f"d{out}/d{p}", lambda r, p=p: (r.factors or {}).get(p), 2))
    else:
        cols.append((("output",), out, lambda r: r.loss if r.loss is not None else r.output, 1))
        for p in cfg.train:
            cols.append((("slope", p), f"d{out}/d{p}", lambda r, p=p: (r.grads or {}).get(p), 2))
        cols.append((("|grad|",), "|grad|", lambda r: r.grad_norm, 3))
        if cfg.schedule != "constant" or every:
            cols.append((("lr",), "lr", lambda r: r.lr, 3))
    for p in cfg.train:
        cols.append((("step", p), f"step {p}", lambda r, p=p: r.step.get(p) if r.step else None, 1))
    return cols


def value_columns(o: Outcome) -> list[tuple[str, Callable[[Record], Any], int]]:
    """(header, record -> value, rank) of the columns (``value_specs``)."""
    return [(h, f, rank) for _, h, f, rank in value_specs(o)]


def _text(v: Any) -> str:
    return "" if v is None else str(v) if isinstance(v, int) else fmt(v)


def column_specs(o: Outcome, every: bool = False) -> list[tuple[tuple[str, ...], str,
                                                              Callable[[Record], str]]]:
    """(key, header, record -> text) of each column (``value_specs``, printed by ``fmt``)."""
    return [(k, h, lambda r, f=f: _text(f(r))) for k, h, f, _ in value_specs(o, every)]


def columns(o: Outcome) -> list[tuple[str, Callable[[Record], str]]]:
    """(header, record -> text) for the columns a person reads in the tutorial."""
    return [(h, f) for _, h, f in column_specs(o)]


def stop_line(s: Summary) -> str:
    """One line saying how a run ended."""
    name = f"{s.scenario}" + (f" [{s.variant}]" if s.variant else "")
    text = f"{name}: stopped: {s.stop_reason} after {s.updates} update" \
           f"{'s' if s.updates != 1 else ''}; final output {fmt(s.final_output)}"
    return text + (f" ({s.message})" if s.message else "")


def table(o: Outcome, every: int = 1, width: int | None = None) -> str:
    """The iteration table of one run followed by its stop reason (in blocks that fit ``width``)."""
    cols = columns(o)
    recs = _thin(o.records, every)
    rows = [[f(r) for _, f in cols] for r in recs]
    return render_table([h for h, _ in cols], rows, width=width) + "\n" + stop_line(o.summary) + "\n"


def _thin(recs: Sequence[Record], every: int) -> list[Record]:
    if every <= 1:
        return list(recs)
    keep = [r for r in recs if r.iteration % every == 0]
    if recs and (not keep or keep[-1] is not recs[-1]):
        keep.append(recs[-1])
    return keep


def compare_table(outcomes: Sequence[Outcome], every: int = 1, width: int | None = None) -> str:
    """The variants side by side (one column group each), then a summary per variant.

    With ``width``, the variants that do not fit beside each other continue in further blocks.
    """
    groups: list[tuple[str, int]] = [("", 1)]
    header = ["iter"]
    per: list[list[tuple[str, callable]]] = []
    for o in outcomes:
        cols = [c for c in columns(o)[1:] if c[0] not in _fixed_params(o)]
        per.append(cols)
        groups.append((f" {o.variant or 'run'} ", len(cols)))
        header += [h for h, _ in cols]
    n = max(len(o.records) for o in outcomes)
    lasts = {len(o.records) - 1 for o in outcomes}  # each variant's last row is always shown
    iters = [i for i in range(n) if i % every == 0 or i in lasts]
    rows = []
    for i in iters:
        row = [str(i)]
        for o, cols in zip(outcomes, per, strict=True):
            rec = o.records[i] if i < len(o.records) else None
            row += [f(rec) if rec else "" for _, f in cols]
        rows.append(row)
    out = render_table(header, rows, groups, width=width) + "\n\n" + \
        summary_table(outcomes, width) + "\n"
    return out


def _fixed_params(o: Outcome) -> set[str]:
    """Parameters that no variant trains are the same in every row: left out of compare."""
    return {p for p in o.params if p not in o.cfg.train}


def summary_table(outcomes: Sequence[Outcome], width: int | None = None) -> str:
    """Updates to converge, stop reason, final parameters and output, one row per variant."""
    params = [p for p in outcomes[0].params]
    header = ["variant", "updates", "stop", *params, "final output"]
    rows = []
    for o in outcomes:
        s = o.summary
        rows.append([o.variant or "run", str(s.updates), s.stop_reason,
                     *(fmt(s.final_params.get(p)) for p in params), fmt(s.final_output)])
    lines = render_table(header, rows, width=width)
    notes = [f"{o.variant}: {o.summary.message}" for o in outcomes if o.summary.message]
    return lines + ("\n" + "\n".join(notes) if notes else "")


# --- CSV and JSONL ----------------------------------------------------------------------

def csv_fields(o: Outcome, first: Record | None | bool = True) -> list[str]:
    """CSV header: iteration, parameters, node values, delta/loss, factors/grads, steps.

    The node values are those of the ``first`` record (by default the outcome's first)."""
    if first is True:
        first = o.records[0] if o.records else None
    values = [k for k in (first.values if first else {}) if k not in o.params]
    fields = ["iteration", *o.params, *values]
    if o.cfg.rule == "target":
        fields += ["delta", *(f"factor_{p}" for p in o.cfg.train)]
    else:
        fields += ["loss", *(f"grad_{p}" for p in o.cfg.train), "grad_norm", "lr", "epoch",
                   "batch"]
    fields += [f"step_{p}" for p in o.cfg.train]
    return fields


def _cell(v: object) -> object:
    if v is None:
        return ""
    if hasattr(v, "tolist"):
        return json.dumps(v.tolist())
    return repr(v) if isinstance(v, float) else v


def csv_rows(o: Outcome) -> list[dict[str, object]]:
    """One dict per record, keyed by ``csv_fields``; floats at full precision (repr)."""
    return [csv_row(o, r) for r in o.records]


def csv_row(o: Outcome, r: Record) -> dict[str, object]:
    """One record as a CSV row of ``o``'s fields."""
    d: dict[str, object] = {"iteration": r.iteration}
    d.update({p: _cell(r.params.get(p)) for p in o.params})
    d.update({k: _cell(v) for k, v in r.values.items() if k not in o.params})
    if o.cfg.rule == "target":
        d["delta"] = _cell(r.delta)
        d.update({f"factor_{p}": _cell((r.factors or {}).get(p)) for p in o.cfg.train})
    else:
        d["loss"] = _cell(r.loss)
        d.update({f"grad_{p}": _cell((r.grads or {}).get(p)) for p in o.cfg.train})
        d.update(grad_norm=_cell(r.grad_norm), lr=_cell(r.lr), epoch=_cell(r.epoch),
                 batch=_cell(r.batch))
    d.update({f"step_{p}": _cell(r.step.get(p)) for p in o.cfg.train})
    return d


def to_csv(outcomes: Sequence[Outcome]) -> str:
    """CSV text; with several variants a leading ``variant`` column tells them apart."""
    buf = io.StringIO()
    many = len(outcomes) > 1
    fields = (["variant"] if many else []) + csv_fields(outcomes[0])
    for o in outcomes[1:]:
        fields += [f for f in csv_fields(o) if f not in fields]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for o in outcomes:
        for row in csv_rows(o):
            if many:
                row = {"variant": o.variant or "run", **row}
            w.writerow(row)
    return buf.getvalue()


def to_jsonl(outcomes: Sequence[Outcome]) -> str:
    """One JSON object per record, then one summary line per run (full-precision floats)."""
    many = len(outcomes) > 1
    lines = []
    for o in outcomes:
        for r in o.records:
            d = r.to_json()
            if many:
                d = {"variant": o.variant, **d}
            lines.append(json.dumps(d, allow_nan=True))
        lines.append(json.dumps(o.summary.to_json(), allow_nan=True))
    return "\n".join(lines) + "\n"


# --- one run written record by record (gdlab replay streams its trace) ----------------------

class TableWriter:
    """``table(o, width=width)`` written a row at a time, given every column's width
    beforehand (a table wider than ``width`` continues in blocks, as ``table`` cuts it)."""

    def __init__(self, out: TextIO, o: Outcome, widths: Mapping[tuple[str, ...], int],
                 width: int | None = None) -> None:
        specs = column_specs(o)
        self.out = out
        self.cells = [f for _, _, f in specs]
        self.table = StreamedTable(out, [h for _, h, _ in specs], width=width,
                                   widths=[max(len(h), widths.get(k, 0)) for k, h, _ in specs])

    def add(self, r: Record) -> None:
        self.table.add([f(r) for f in self.cells])

    def end(self, summary: Summary) -> None:
        self.table.end()
        self.out.write(stop_line(summary) + "\n")


class WidthMeter:
    """The widest cell of every column a table of ``o``'s trace may have (``column_specs``
    with ``every``), measured record by record for a ``TableWriter``."""

    def __init__(self, o: Outcome) -> None:
        self.specs = column_specs(o, every=True)
        self.widths: dict[tuple[str, ...], int] = {k: len(h) for k, h, _ in self.specs}

    def add(self, r: Record) -> None:
        w = self.widths
        for k, _, f in self.specs:
            n = len(f(r))
            if n > w[k]:
                w[k] = n


class CsvWriter:
    """``to_csv([o])`` written a row at a time (the header with the first row)."""

    def __init__(self, out: TextIO, o: Outcome) -> None:
        self.out, self.o = out, o
        self.writer: csv.DictWriter | None = None

    def _begin(self, first: Record | None) -> csv.DictWriter:
        self.writer = csv.DictWriter(self.out, fieldnames=csv_fields(self.o, first),
                                     lineterminator="\n")
        self.writer.writeheader()
        return self.writer

    def add(self, r: Record) -> None:
        (self.writer or self._begin(r)).writerow(csv_row(self.o, r))

    def end(self, summary: Summary) -> None:
        if self.writer is None:
            self._begin(None)


class JsonlWriter:
    """``to_jsonl([o])`` written a line at a time."""

    def __init__(self, out: TextIO, o: Outcome) -> None:
        self.out = out

    def add(self, r: Record) -> None:
        self.out.write(json.dumps(r.to_json(), allow_nan=True) + "\n")

    def end(self, summary: Summary) -> None:
        self.out.write(json.dumps(summary.to_json(), allow_nan=True) + "\n")
