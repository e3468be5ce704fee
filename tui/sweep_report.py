"""Headless views of a sweep's rows: a table and CSV with one row per grid point (the mean and
spread over seeds when there are several), printed row by row as points finish.

The widths of the table's columns are fixed from the grid before any point runs, so rows can be
printed as they arrive. JSONL (one row per run) is ``engine.sweep.rows.row_json``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from engine.sweep.plan import Plan
from engine.sweep.rows import PointStats, point_stats

from .formatting import fmt
from .sweep_plot import value_label

NUMBER_WIDTH = 12


def number(v: float | None) -> str:
    """A metric value as the table prints it: whole numbers whole, others with 6 decimals."""
    if v is None:
        return "-"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return fmt(v)


class PointTable:
    """The sweep's table: one line per grid point, columns fixed from the plan."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.keys = plan.grid.keys
        self.many = plan.grid.seeds > 1
        self.cols: list[tuple[str, int, Callable[[PointStats], str]]] = []
        for a in plan.grid.axes:
            w = max(len(a.key), *(len(value_label(v)) for v in a.values))
            self.cols.append((a.key, w, lambda s, k=a.key: value_label(s.settings[k])))
        metric = plan.metric
        if self.many:
            self.cols += [
                (f"mean {metric}", max(NUMBER_WIDTH, len(metric) + 5), lambda s: number(s.mean)),
                ("std", NUMBER_WIDTH, lambda s: number(s.std)),
                ("min", NUMBER_WIDTH, lambda s: number(s.min)),
                ("max", NUMBER_WIDTH, lambda s: number(s.max)),
                ("runs", 5, lambda s: f"{len(s.values)}/{s.runs}"),
            ]
        else:
            self.cols.append((metric, max(NUMBER_WIDTH, len(metric)), lambda s: number(s.mean)))

    def header(self) -> str:
        names = "  ".join(h.rjust(w) for h, w, _ in self.cols) + "  stop"
        rules = "  ".join("-" * w for _, w, _ in self.cols) + "  " + "-" * 14
        return f"{names}\n{rules}\n"

    def row(self, s: PointStats) -> str:
        cells = "  ".join(f(s).rjust(w) for _, w, f in self.cols)
        stop = s.stop_text()
        note = "; ".join(s.messages)
        return f"{cells}  {stop.ljust(14) if note else stop}{'  ' + note if note else ''}\n"


def csv_header(plan: Plan) -> list[str]:
    """CSV columns: the swept keys, then the value (or its statistics), stop and message."""
    metric = plan.metric
    if plan.grid.seeds > 1:
        return [*plan.grid.keys, "runs", "values", f"mean {metric}", "std", "min", "max",
                "stop", "message"]
    return [*plan.grid.keys, metric, "stop", "message"]


def csv_cells(plan: Plan, s: PointStats) -> list[Any]:
    """One CSV row: settings as given, numbers at full precision, empty where there is none."""
    def full(v: float | None) -> Any:
        return "" if v is None else (int(v) if float(v).is_integer() and abs(v) < 1e15
                                     else repr(v))

    settings = [s.settings[k] for k in plan.grid.keys]
    tail = [s.stop_text(), "; ".join(s.messages)]
    if plan.grid.seeds > 1:
        return [*settings, s.runs, len(s.values), full(s.mean), full(s.std), full(s.min),
                full(s.max), *tail]
    return [*settings, full(s.mean), *tail]


def csv_line(cells: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


class PointAssembler:
    """Runs arrive in grid order (seeds of a point together); a point is complete when all its
    seeds have arrived. ``flush`` hands out a point cut short (an interrupted sweep)."""

    def __init__(self, seeds: int) -> None:
        self.seeds = seeds
        self.current: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> list[PointStats]:
        out: list[PointStats] = []
        if self.current and self.current[0]["settings"] != row["settings"]:
            out += self.flush()
        self.current.append(row)
        if len(self.current) == self.seeds:
            out += self.flush()
        return out

    def flush(self) -> list[PointStats]:
        rows, self.current = self.current, []
        return point_stats(rows) if rows else []
