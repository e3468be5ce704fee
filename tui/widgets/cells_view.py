"""A widget that shows rows of coloured cells (a half-block map) as they are: no layout, no
wrapping, one Strip per row, styles cached by colour pair. The boundary panel redraws this many
times a second; a Static holding rich Text would lay the whole screen out each time."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from ..heatmap import Cell
from .network_panels import cell_style


def cell_segments(row: Sequence[Cell]) -> list[Segment]:
    """One row of cells as Segments, runs of the same colours merged."""
    out: list[Segment] = []
    run: list[str] = []
    style: Style | None = None
    for c in row:
        s = cell_style(c.fg, c.bg)
        if s is not style and run:
            out.append(Segment("".join(run), style))
            run = []
        style = s
        run.append(c.char)
    if run:
        out.append(Segment("".join(run), style))
    return out


class CellsView(Widget):
    """Rows of Segments drawn one per line (cropped to the widget's width)."""

    DEFAULT_CSS = "CellsView { height: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Strip] = []

    def set_lines(self, lines: list[list[Segment]]) -> None:
        """Show ``lines`` (a repaint only: the layout does not change)."""
        self.lines = [Strip(line) for line in lines]
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y < len(self.lines):
            return self.lines[y].crop_extend(0, width, self.rich_style)
        return Strip.blank(width, self.rich_style)
