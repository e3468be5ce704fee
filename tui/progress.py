"""A one-line text progress bar for downloads, epochs and sweeps (no dependency; quiet off a
terminal), optionally with the items left and an estimate of the time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws ``label [#####.....] 45%  done/total`` in place on a terminal, at most 10 Hz."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None,
                 unit: str = "", eta: bool = False) -> None:
        self.label, self.total, self.unit, self.eta = label, total, unit, eta
        self.started = time.monotonic()
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
            text = (f"{self.label} [{'#' * fill}{'.' * (width - fill)}] {frac * 100:5.1f}%  "
                    f"{self.done}/{self.total}{self.unit}")
            if self.eta:
                text += f", {self.total - self.done} left" + self.time_left()
            return text
        return f"{self.label} {self.done}{self.unit}"

    def time_left(self) -> str:
        """``, ~1:05 left`` from the pace so far (empty before the first item is done)."""
        if not self.done or not self.total or self.done >= self.total:
            return ""
        left = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        m, s = divmod(int(left + 0.5), 60)
        h, m = divmod(m, 60)
        return f", ~{h}:{m:02d}:{s:02d} left" if h else f", ~{m}:{s:02d} left"

    def clear(self) -> None:
        """Wipe the bar's line (so that a row printed to the same terminal takes its place)."""
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def redraw(self) -> None:
        """Draw the bar again (after a row was printed over it)."""
        if self.live and not self._closed:
            self.stream.write("\r" + self.render())
            self.stream.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.live:
            self.stream.write("\r" + self.render() + "\n")
            self.stream.flush()
