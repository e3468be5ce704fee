"""A one-line text progress bar for downloads and epochs (no dependency; quiet off a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws ``label [#####.....] 45%  done/total`` in place on a terminal, at most 10 Hz."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None,
                 unit: str = "") -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.done = 0
        self._last = 0.0
        self._closed = False

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if self.live and (now - self._last > 0.1 or (self.total and done >= self.total)):
            self._last = now
            self.stream.write("\r" + self.render())
            self.stream.flush()

    def render(self, width: int = 30) -> str:
        if self.total:
            frac = min(1.0, self.done / self.total)
            fill = int(frac * width)
            return (f"{self.label} [{'#' * fill}{'.' * (width - fill)}] {frac * 100:5.1f}%  "
                    f"{self.done}/{self.total}{self.unit}")
        return f"{self.label} {self.done}{self.unit}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.live:
            self.stream.write("\r" + self.render() + "\n")
            self.stream.flush()
