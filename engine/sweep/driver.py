"""One sweep being run: the rows it already has (from a file being resumed), the runs left, and
the rows as they finish. The command line and the app both drive a sweep through this."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from .execute import Backend, execute
from .plan import Plan
from .rows import make_row


class SweepRun:
    """``plan``'s runs, minus those whose rows ``done`` already holds (by identity)."""

    def __init__(self, plan: Plan, done: dict[str, dict[str, Any]] | None = None) -> None:
        self.plan = plan
        done = done or {}
        self.rows: dict[int, dict[str, Any]] = {}
        for i, p in enumerate(plan.points):
            row = done.get(p.ident())
            if row is not None:
                self.rows[i] = row
        self.resumed = len(self.rows)
        self.todo = [i for i in range(len(plan.points)) if i not in self.rows]

    @property
    def total(self) -> int:
        return len(self.plan.points)

    @property
    def finished(self) -> int:
        return len(self.rows)

    def run(self, backend: Backend,
            stop: threading.Event | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Run the runs left on ``backend`` (started); yield (index, row) as each finishes."""
        for i, result in execute(self.plan, self.todo, backend, stop):
            row = make_row(self.plan, i, result)
            self.rows[i] = row
            yield i, row

    def ordered(self) -> list[dict[str, Any]]:
        """Every finished row, in grid order."""
        return [self.rows[i] for i in sorted(self.rows)]
