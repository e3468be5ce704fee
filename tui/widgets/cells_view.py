"""A widget that shows rows of coloured cells (a half-block map) as they are: no layout, no
wrapping, one Strip per row, styles cached by colour pair. The boundary panel redraws this many
times a second; a Static holding rich Text would lay the whole screen out each time.

``array_segments`` turns cells held as arrays (``tui.heatmap.half_block_arrays``) into Segments
(tui/widgets/cell_strips.py) without a Python object per cell."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget


class CellsView(Widget):
    """Rows of Segments drawn one per line (cropped to the widget's width)."""

    class Resized(Message):
        """The view's size changed (its owner may draw it again to fit)."""

        def __init__(self, view: CellsView) -> None:
            super().__init__()
            self.view = view

    DEFAULT_CSS = "CellsView { height: 1fr; }"

    def __init__(self, *, id: str | None = None, text: bool = False) -> None:
        """``text``: the lines hold text without colours of its own (the widget's colours
        are put under them); the boundary's cells all have theirs."""
        super().__init__(id=id)
        self.lines: list[Strip] = []
        self.text = text
        self._style: Style | None = None  # the widget's colours, taken once per repaint

    def set_lines(self, lines: list[list[Segment]]) -> None:
        """Show ``lines`` (a repaint only, unless the number of lines changes the height of a
        widget sized to its content)."""
        relayout = len(lines) != len(self.lines) and self.styles.height is not None \
            and self.styles.height.is_auto
        self.lines = [Strip(line) for line in lines]
        self._style: Style | None = None
        self.refresh(layout=relayout)

    def on_resize(self) -> None:
        self.post_message(self.Resized(self))

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        return len(self.lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self._style = self._style or self.rich_style
        if y < len(self.lines):
            line = self.lines[y].apply_style(style) if self.text else self.lines[y]
            return line.crop_extend(0, width, style)
        return Strip.blank(width, style)
