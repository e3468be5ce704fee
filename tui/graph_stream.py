"""``gdlab run`` and ``compare`` of graph scenarios written as the runs go, in constant memory.

Each run keeps only the states not yet written (``Run(keep=False)``: its trace is dropped after
every chunk). CSV and JSONL rows are written straight from the trace's rows (a record is made
only for a state kept whole: the last, a diverged one); a table makes the records of the rows it
prints (``--every N``: every Nth and the last). The bytes are those of tui/report.py's
``to_csv``, ``to_jsonl``, ``table`` and ``compare_table`` (tests/test_golden_outputs.py): a
table's columns are as wide as their widest cell among its first ``TABLE_ROWS`` rows, which
covers every bundled scenario; a longer table keeps those widths (a wider cell later pushes its
line out rather than the run being held to measure it).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, TextIO

from engine.runner import Run
from engine.trace import Layout, Trace, Traces

from . import report
from .table_stream import StreamedTable

CHUNK = 4096  # states taken between writes
TABLE_ROWS = 20_000  # rows a table measures its columns on before it streams


def _outcome(run: Run) -> report.Outcome:
    """The Outcome the report's column and field functions read (records: the trace)."""
    return report.Outcome(run.variant, run.cfg, list(run.graph.params), run.trace,
                          run.summary)  # type: ignore[arg-type]


def _chunks(run: Run) -> Any:
    """(start, stop) of each chunk of new states; the trace is dropped after each is used."""
    while not run.stopped:
        start = len(run.trace)
        run.advance(CHUNK)
        yield start, len(run.trace)
        run.trace.drop()


# --- JSONL ------------------------------------------------------------------------------

def _json_maker(lay: Layout | None, plain_rows: bool) -> Callable[[int, list[float]], dict] | None:
    """A function from (iteration, row) to ``IterationRecord.to_json()`` of a row of floats
    only (None when the layout holds arrays: those rows go through their records)."""
    if lay is None or not plain_rows:
        return None
    if any(s is not None for _, s in lay.params + lay.train):
        return None
    np_, nv, nt = len(lay.params), len(lay.values), len(lay.train)
    pnames, vnames, tnames = [p for p, _ in lay.params], list(lay.values), [p for p, _ in lay.train]
    o = np_ + nv
    if lay.rule == "target":
        def make(i: int, r: list[float]) -> dict:
            return {"iteration": i, "params": dict(zip(pnames, r[:np_], strict=True)),
                    "values": dict(zip(vnames, r[np_:o], strict=True)),
                    "factors": dict(zip(tnames, r[o + 2:o + 2 + nt], strict=True)),
                    "delta": r[o + 1],
                    "step": dict(zip(tnames, r[o + 2 + nt:], strict=True))}
        return make
    g0 = o + 4 + lay.batch

    def make_g(i: int, r: list[float]) -> dict:
        d = {"iteration": i, "params": dict(zip(pnames, r[:np_], strict=True)),
             "values": dict(zip(vnames, r[np_:o], strict=True)),
             "grads": dict(zip(tnames, r[g0:g0 + nt], strict=True)),
             "loss": r[o], "lr": r[o + 2], "grad_norm": r[o + 1], "epoch": int(r[o + 3])}
        if lay.batch:
            d["batch"] = int(r[o + 4])
        d["step"] = dict(zip(tnames, r[g0 + nt:], strict=True))
        return d
    return make_g


def _json_lines(trace: Trace, start: int, stop: int, variant: Any, tagged: bool) -> list[str]:
    make = _json_maker(trace.layout, True)
    dumps, isfinite, first, odd = json.dumps, math.isfinite, trace.first, trace.odd
    lines = []
    for i0, block in trace.blocks(start, stop):
        for i, row in enumerate(block, i0):
            if make is not None and i not in odd and isfinite(sum(row)):
                d = make(first + i, row)  # every number finite: plain() would change none
            else:
                d = trace.record(i).to_json()
            if tagged:
                d = {"variant": variant, **d}
            lines.append(dumps(d, allow_nan=True))
    return lines


def write_jsonl(runs: Sequence[Run], out: TextIO) -> None:
    """``report.to_jsonl`` of the runs, one after another, written as they go."""
    tagged = len(runs) > 1
    for run in runs:
        for start, stop in _chunks(run):
            lines = _json_lines(run.trace, start, stop, run.variant, tagged)
            if lines:
                out.write("\n".join(lines) + "\n")
        out.write(json.dumps(run.summary.to_json(), allow_nan=True) + "\n")  # type: ignore[union-attr]


# --- CSV --------------------------------------------------------------------------------

def _csv_maker(lay: Layout | None, fields: list[str], own: list[str], variant: str | None
               ) -> Callable[[int, list[float]], list] | None:
    """A function from (iteration, row) to the CSV cells of ``fields`` (``report.csv_row``
    in order; csv writes a float as its repr), None when the layout holds arrays."""
    if lay is None or any(s is not None for _, s in lay.params + lay.train):
        return None
    pos: dict[str, int] = {}
    k = 0
    for p, _ in lay.params:
        pos[p] = k
        k += 1
    for v in lay.values:
        pos.setdefault(v, k)
        k += 1
    if lay.rule == "target":
        pos["delta"] = k + 1
        k += 2
        per = "factor_"
    else:
        pos.update(loss=k, grad_norm=k + 1, lr=k + 2, epoch=k + 3)
        if lay.batch:
            pos["batch"] = k + 4
        k += 4 + lay.batch
        per = "grad_"
    for p, _ in lay.train:
        pos[per + p] = k
        k += 1
    for p, _ in lay.train:
        pos["step_" + p] = k
        k += 1
    blank = k  # the row gets "" appended: absent fields point at it
    ints = {f for f in ("epoch", "batch") if f in pos}
    if any(f not in pos and f not in ("iteration", "variant", "batch") and f in own
           for f in fields):
        return None
    picks = [pos.get(f, blank) for f in fields]
    at_iter = fields.index("iteration")
    at_var = fields.index("variant") if "variant" in fields else -1
    int_at = [j for j, f in enumerate(fields) if f in ints]
    get = itemgetter(*picks) if len(picks) > 1 else (lambda r: (r[picks[0]],))
    name = variant or "run"

    def make(i: int, r: list[float]) -> list:
        r.append("")
        cells = list(get(r))
        cells[at_iter] = i
        if at_var >= 0:
            cells[at_var] = name
        for j in int_at:
            cells[j] = int(cells[j])
        return cells
    return make


def _csv_part(w: Any, o: report.Outcome, trace: Trace, start: int, stop: int,
              make: Callable[[int, list[float]], list] | None, fields: list[str],
              many: bool) -> None:
    odd, first = trace.odd, trace.first
    for i0, block in trace.blocks(start, stop):
        if make is not None and not any(i0 <= k < i0 + len(block) for k in odd):
            w.writerows([make(i, row) for i, row in enumerate(block, first + i0)])
            continue
        rows = []
        for i, row in enumerate(block, i0):
            if make is not None and i not in odd:
                rows.append(make(first + i, row))
                continue
            d = report.csv_row(o, trace.record(i))
            if many:
                d["variant"] = o.variant or "run"
            rows.append([d.get(f, "") for f in fields])
        w.writerows(rows)


def _fields(outcomes: Sequence[report.Outcome]) -> list[str]:
    many = len(outcomes) > 1
    fields = (["variant"] if many else []) + report.csv_fields(outcomes[0])
    for o in outcomes[1:]:
        fields += [f for f in report.csv_fields(o) if f not in fields]
    return fields


def write_csv(runs: Sequence[Run], out: TextIO) -> None:
    """``report.to_csv`` of the runs, written as they go (each run's first state is taken
    first: the header names the node values it has)."""
    for run in runs:
        run.advance(1)
    outcomes = [_outcome(run) for run in runs]
    fields = _fields(outcomes)
    w = csv.writer(out, lineterminator="\n")
    w.writerow(fields)
    for run, o in zip(runs, outcomes, strict=True):
        make = _csv_maker(run.trace.layout, fields, report.csv_fields(o), run.variant)
        start = 0
        while True:
            _csv_part(w, o, run.trace, start, len(run.trace), make, fields, len(runs) > 1)
            run.trace.drop()
            if run.stopped:
                break
            start = len(run.trace)
            run.advance(CHUNK)


# --- finished traces (the app's exports) ----------------------------------------------------

def _parts(records: Sequence[Any]) -> tuple[list[tuple[Trace, int]], list[Any]] | None:
    """The traces that hold ``records`` and how many states of each are in view now, and the
    records after them (None for a plain list of records)."""
    if isinstance(records, Traces):
        return records.held(), list(records.extra)
    return ([(records, len(records))], []) if isinstance(records, Trace) else None


def export_csv(outcomes: Sequence[report.Outcome], out: TextIO) -> None:
    """``report.to_csv`` of finished outcomes, written from their traces' rows (the states
    held when it starts: a trace still growing is cut there)."""
    fields = _fields(outcomes)
    many = len(outcomes) > 1
    w = csv.writer(out, lineterminator="\n")
    w.writerow(fields)
    for o in outcomes:
        parts = _parts(o.records)
        if parts is None:
            for r in o.records:
                d = report.csv_row(o, r)
                if many:
                    d["variant"] = o.variant or "run"
                w.writerow([d.get(f, "") for f in fields])
            continue
        own = report.csv_fields(o)
        for t, stop in parts[0]:
            make = _csv_maker(t.layout, fields, own, o.variant)
            for start in range(t.base, stop, CHUNK):
                _csv_part(w, o, t, start, min(stop, start + CHUNK), make, fields, many)
        for r in parts[1]:
            d = report.csv_row(o, r)
            if many:
                d["variant"] = o.variant or "run"
            w.writerow([d.get(f, "") for f in fields])


def export_jsonl(outcomes: Sequence[report.Outcome], out: TextIO) -> None:
    """``report.to_jsonl`` of finished outcomes, written from their traces' rows."""
    tagged = len(outcomes) > 1
    for o in outcomes:
        parts = _parts(o.records)
        for t, stop in parts[0] if parts else ():
            for start in range(t.base, stop, CHUNK):
                lines = _json_lines(t, start, min(stop, start + CHUNK), o.variant, tagged)
                out.write("\n".join(lines) + "\n")
        for r in o.records if parts is None else parts[1]:
            d = r.to_json()
            out.write(json.dumps({"variant": o.variant, **d} if tagged else d,
                                 allow_nan=True) + "\n")
        out.write(json.dumps(o.summary.to_json(), allow_nan=True) + "\n")


# --- tables -----------------------------------------------------------------------------

def write_table(run: Run, every: int, out: TextIO, width: int | None = None) -> None:
    """``report.table`` of one run (in blocks that fit ``width``), written as it goes."""
    cols = report.columns(_outcome(run))
    funcs = [f for _, f in cols]
    t = StreamedTable(out, [h for h, _ in cols], width=width, hold=TABLE_ROWS)
    for start, stop in _chunks(run):
        trace = run.trace
        first = trace.first
        for i in range(start, stop):
            if (first + i) % every == 0 or (run.stopped and i == stop - 1):
                r = trace.record(i)
                t.add([f(r) for f in funcs])
    t.end()
    out.write(report.stop_line(run.summary) + "\n")  # type: ignore[arg-type]


def write_compare_table(runs: Sequence[Run], every: int, out: TextIO,
                        width: int | None = None) -> None:
    """``report.compare_table`` of the runs (variants that don't fit beside each other in
    further blocks of ``width``), stepped side by side and written as they go."""
    per = []
    groups: list[tuple[str, int]] = [("", 1)]
    header = ["iter"]
    for run in runs:
        o = _outcome(run)
        cols = [c for c in report.columns(o)[1:] if c[0] not in report._fixed_params(o)]  # noqa: SLF001
        per.append([f for _, f in cols])
        groups.append((f" {o.variant or 'run'} ", len(cols)))
        header += [h for h, _ in cols]
    t = StreamedTable(out, header, groups, width, hold=TABLE_ROWS)
    done = 0  # rows written or passed over
    while True:
        for run in runs:
            if not run.stopped:
                run.advance(CHUNK)
        finished = all(run.stopped for run in runs)
        n = max(len(run.trace) for run in runs)
        ready = n if finished else min(len(r.trace) for r in runs if not r.stopped)
        lasts = {len(r.trace) - 1 for r in runs if r.stopped}  # each variant's last row
        for i in range(done, ready):
            if i % every and i not in lasts:
                continue
            row = [str(i)]
            for run, funcs in zip(runs, per, strict=True):
                rec = run.trace.record(i) if i < len(run.trace) else None
                row += [f(rec) if rec else "" for f in funcs]
            t.add(row)
        done = ready
        for run in runs:
            run.trace.drop()
        if finished:
            break
    t.end()
    out.write("\n" + report.summary_table(
        [_outcome(run) for run in runs], width) + "\n")  # type: ignore[arg-type]
