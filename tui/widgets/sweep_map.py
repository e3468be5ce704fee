"""The sweep screen's picture: a heat map over two swept keys, or one bar per value of a single
key, filled in as points finish, with a cursor to pick a point.

Cells are coloured on the command line's scale (``tui.sweep_plot``): the value when it fits,
a cross for a diverged point, a dot for a point without a value, a star on the best point.
Arrow keys move the cursor; enter posts ``Selected`` with the point's settings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from engine.sweep.rows import PointStats

from ..sweep_plot import BEST, Scale, cell_look, short, value_label

PENDING_RGB = (40, 40, 48)


def _key(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True)


def _style(bg: tuple[int, int, int], cursor: bool = False) -> Style:
    ink = "black" if 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] > 140 else "white"
    return Style(color=ink, bgcolor=f"rgb({bg[0]},{bg[1]},{bg[2]})", reverse=cursor,
                 bold=cursor, underline=cursor)


class SweepMap(Widget, can_focus=True):
    """The points of a sweep with one or two keys; ``cursor`` is (column, row) of the grid."""

    DEFAULT_CSS = """
    SweepMap { height: 1fr; width: 1fr; padding: 0 1; }
    SweepMap:focus { background: $boost; }
    """

    BINDINGS = [
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("up", "move(0, 1)", "Up", show=False),
        Binding("down", "move(0, -1)", "Down", show=False),
        Binding("enter", "select", "Open this run"),
    ]

    class Moved(Message):
        """The cursor is on the point with these settings."""

        def __init__(self, settings: dict[str, Any]) -> None:
            super().__init__()
            self.settings = settings

    class Selected(Message):
        """The person chose the point with these settings."""

        def __init__(self, settings: dict[str, Any]) -> None:
            super().__init__()
            self.settings = settings

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys: list[str] = []
        self.values: list[Sequence[Any]] = []
        self.stats: dict[str, PointStats] = {}
        self.best: PointStats | None = None
        self.metric = ""
        self.cursor = (0, 0)

    # --- data ---------------------------------------------------------------------------

    def set_grid(self, keys: list[str], values: list[Sequence[Any]], metric: str) -> None:
        """A new sweep: its first two keys and their values; nothing finished yet."""
        self.keys, self.values, self.metric = keys[:2], [list(v) for v in values[:2]], metric
        self.stats, self.best, self.cursor = {}, None, (0, 0)
        self.refresh()

    def set_points(self, stats: list[PointStats], best: PointStats | None) -> None:
        """The points finished so far (and the best of them)."""
        self.stats = {_key(s.settings): s for s in stats}
        self.best = best
        self.refresh()

    def settings_at(self, col: int, row: int) -> dict[str, Any]:
        """The settings of the grid cell (col, row): col indexes the first key, row the second."""
        out = {self.keys[0]: self.values[0][col]}
        if len(self.keys) > 1:
            out[self.keys[1]] = self.values[1][row]
        return out

    def point_at(self, col: int, row: int) -> PointStats | None:
        if not self.keys:
            return None
        return self.stats.get(_key(self.settings_at(col, row)))

    # --- keys ---------------------------------------------------------------------------

    def action_move(self, dx: int, dy: int) -> None:
        """Move the cursor; with one key, up and down walk the values."""
        if not self.keys:
            return
        col, row = self.cursor
        if len(self.keys) == 1:
            col = min(max(0, col + dx - dy), len(self.values[0]) - 1)
        else:
            col = min(max(0, col + dx), len(self.values[0]) - 1)
            row = min(max(0, row + dy), len(self.values[1]) - 1)
        self.cursor = (col, row)
        self.refresh()
        self.post_message(self.Moved(self.settings_at(col, row)))

    def action_select(self) -> None:
        """Open the point under the cursor."""
        if self.keys:
            self.post_message(self.Selected(self.settings_at(*self.cursor)))

    # --- drawing ------------------------------------------------------------------------

    def render(self) -> Text:
        if not self.keys:
            return Text("choose one or two keys and their values, then start", style="dim")
        scale = Scale([s.mean for s in self.stats.values() if s.mean is not None])
        if len(self.keys) == 1:
            return self._bars(scale)
        return self._heatmap(scale)

    def _window(self, n: int, at: int, room: int) -> range:
        """The slice of ``n`` items that fits ``room`` and shows item ``at``."""
        room = max(1, room)
        start = min(max(0, at - room // 2), max(0, n - room))
        return range(start, min(n, start + room))

    def _heatmap(self, scale: Scale) -> Text:
        xs, ys = self.values
        ylabels = [value_label(y) for y in ys]
        lw = max(len(self.keys[1]), *(len(t) for t in ylabels))
        width = max(10, self.size.width - 2)
        cw = 7 if lw + 1 + 7 * len(xs) <= width else 3
        cols = self._window(len(xs), self.cursor[0], (width - lw - 1) // cw)
        rows = self._window(len(ys), self.cursor[1], max(1, self.size.height - 4))
        text = Text(self.keys[1].rjust(lw) + "\n", style="bold")
        for r in reversed(rows):
            text.append(ylabels[r].rjust(lw) + " ")
            for c in cols:
                s = self.point_at(c, r)
                glyph, rgb = cell_look(s, scale) if s is not None else (" ", PENDING_RGB)
                star = s is not None and s is self.best
                if cw > 3:
                    body = glyph or short(s.mean if s else None, cw - 2)
                    cell = (BEST if star else " ") + body.rjust(cw - 2) + " "
                else:
                    cell = (BEST if star else (glyph if glyph.strip() else " ")) + "  "
                text.append(cell, _style(rgb, (c, r) == self.cursor))
            text.append("\n")
        axis = ""
        for c in cols:
            label = value_label(xs[c])
            at = (c - cols.start) * cw + max(0, (cw - len(label)) // 2)
            if at >= len(axis) + (1 if axis else 0):
                axis = axis.ljust(at) + label
        text.append(" " * (lw + 1) + axis + "\n")
        text.append(" " * (lw + 1) + self.keys[0], style="bold")
        return text

    def _bars(self, scale: Scale) -> Text:
        xs = self.values[0]
        labels = [value_label(x) for x in xs]
        lw = max(len(self.keys[0]), *(len(t) for t in labels))
        vw = 10
        bar_room = max(4, self.size.width - lw - vw - 6)
        text = Text(self.keys[0].rjust(lw) + "  " + self.metric + "\n", style="bold")
        for i in self._window(len(xs), self.cursor[0], max(1, self.size.height - 1)):
            s = self.point_at(i, 0)
            text.append(labels[i].rjust(lw), Style(reverse=i == self.cursor[0], bold=True))
            text.append("  ")
            star = s is not None and s is self.best
            if s is None:
                text.append("…", "dim")
            elif s.mean is None:
                glyph, rgb = cell_look(s, scale)
                text.append(f"{glyph} {s.stop_text()}", _style(rgb))
            else:
                n = max(1, round(scale(s.mean) * bar_room))
                text.append(" " * n, _style(cell_look(s, scale)[1]))
                text.append(f" {short(s.mean, vw)}" + (f" {BEST}" if star else ""))
            text.append("\n")
        return text
