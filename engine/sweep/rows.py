"""A sweep's rows: one JSON object per run, in grid order; per-point statistics over seeds; the
best point; and reading the rows of an earlier (interrupted) sweep back to resume it.

A row is ``{"scenario", "variant", "metric", "set", "settings", "seed", "value",
"stop_reason", "message", "summary", "timing"}`` (``set``: the sweep's own ``--set``).
Everything except ``timing`` (the point's wall and CPU time) is the same whichever worker ran
it, so two sweeps of one grid give the same rows apart from timing.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GdlabError
from .grid import identity
from .plan import Plan

TIMING_KEY = "timing"


def make_row(plan: Plan, i: int, result: dict[str, Any]) -> dict[str, Any]:
    """The row of run ``plan.points[i]`` from its result."""
    p = plan.points[i]
    return {**plan.header(), "settings": p.settings_dict, "seed": p.seed,
            "value": result.get("value"), "stop_reason": result.get("stop_reason"),
            "message": result.get("message", ""), "summary": result.get("summary"),
            TIMING_KEY: {"seconds": result.get("seconds"),
                         "cpu_seconds": result.get("cpu_seconds")}}


def row_json(row: dict[str, Any]) -> str:
    """One line of JSONL (strict JSON: NaN and infinities never appear, they are null)."""
    return json.dumps(row, allow_nan=False) + "\n"


def without_timing(row: dict[str, Any]) -> dict[str, Any]:
    """The row without its timing: what must not depend on the machine or the worker."""
    return {k: v for k, v in row.items() if k != TIMING_KEY}


def row_ident(row: dict[str, Any]) -> str:
    return identity(row.get("settings") or {}, row.get("seed"))


class InOrder:
    """Results arrive in any order; rows leave in grid order (a finished row waits for the rows
    before it). ``rest()`` hands out the waiting rows when the sweep stops early."""

    def __init__(self, order: list[int]) -> None:
        self.order = order  # the run indices to expect, in grid order
        self.next = 0
        self.waiting: dict[int, dict[str, Any]] = {}

    def add(self, i: int, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Take run ``i``'s row; return the rows that are now next in grid order."""
        self.waiting[i] = row
        out = []
        while self.next < len(self.order) and self.order[self.next] in self.waiting:
            out.append(self.waiting.pop(self.order[self.next]))
            self.next += 1
        return out

    def rest(self) -> list[dict[str, Any]]:
        """The finished rows still waiting, in grid order."""
        out = [self.waiting[i] for i in self.order if i in self.waiting]
        self.waiting.clear()
        return out


@dataclass
class PointStats:
    """One grid point over its seeds: the metric's mean and spread, and how the runs ended."""

    settings: dict[str, Any]
    values: list[float]  # of the runs that gave a value
    runs: int
    stops: dict[str, int]  # stop reason -> runs
    messages: list[str]

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """The population standard deviation of the values (0 for one value)."""
        return statistics.pstdev(self.values) if self.values else None

    @property
    def min(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def max(self) -> float | None:
        return max(self.values) if self.values else None

    @property
    def diverged(self) -> bool:
        """Every run diverged (or failed): the point has no value to draw."""
        return not self.values and bool(self.stops) and \
            all(s in ("diverged", "failed") for s in self.stops)

    @property
    def failed(self) -> bool:
        return self.stops.get("failed", 0) == self.runs

    def stop_text(self) -> str:
        """``converged``, or ``3 converged, 2 diverged`` when the seeds disagree."""
        if len(self.stops) == 1 and self.runs == 1:
            return next(iter(self.stops))
        if len(self.stops) == 1:
            return f"{next(iter(self.stops))} (all {self.runs})"
        return ", ".join(f"{n} {s}" for s, n in self.stops.items())


def point_stats(rows: Iterable[dict[str, Any]]) -> list[PointStats]:
    """Rows grouped by their settings (in the order first seen): one PointStats per point."""
    groups: dict[str, PointStats] = {}
    for r in rows:
        key = json.dumps(r["settings"], sort_keys=True)
        g = groups.get(key)
        if g is None:
            g = groups[key] = PointStats(dict(r["settings"]), [], 0, {}, [])
        g.runs += 1
        stop = r.get("stop_reason") or "failed"
        g.stops[stop] = g.stops.get(stop, 0) + 1
        v = r.get("value")
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            g.values.append(float(v))
        if r.get("message") and r["message"] not in g.messages:
            g.messages.append(r["message"])
    return list(groups.values())


def best_point(stats: list[PointStats], direction: str | None) -> PointStats | None:
    """The point with the best mean ("min" or "max"); the first in grid order on a tie."""
    if direction is None:
        return None
    scored = [s for s in stats if s.mean is not None]
    if not scored:
        return None
    pick = min if direction == "min" else max
    return pick(scored, key=lambda s: s.mean)  # type: ignore[arg-type, return-value]


def read_rows(path: Path, plan: Plan) -> dict[str, dict[str, Any]]:
    """The rows of an earlier run of this sweep in ``path`` (JSONL), by identity.

    A file that does not exist holds no rows. Rows of another scenario, variant, metric or
    ``--set`` are a GdlabError (resuming them would mix two sweeps); rows of settings that are
    not in this grid are kept in the file but ignored.
    """
    path = Path(path)
    if not path.exists():
        return {}
    if not path.is_file():
        raise GdlabError(f"--resume {path}: not a regular file")
    rows: dict[str, dict[str, Any]] = {}
    want = plan.header()
    for n, line in enumerate(_lines(path), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise GdlabError(f"--resume {path}: line {n} is not JSON") from None
        if not isinstance(row, dict) or "settings" not in row:
            raise GdlabError(f"--resume {path}: line {n} is not a sweep row")
        got = {k: row.get(k) for k in want}
        if got != want:
            diff = next(k for k in want if got[k] != want[k])
            raise GdlabError(f"--resume {path}: line {n} is from another sweep ({diff} "
                             f"{got[diff]!r}, this sweep: {want[diff]!r})")
        rows[row_ident(row)] = row
    return rows


def _lines(path: Path) -> Iterator[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GdlabError(f"--resume {path}: cannot read it ({exc})") from None
    for line in text.splitlines():
        if line.strip():
            yield line
