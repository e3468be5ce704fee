"""A grid of MNIST digits drawn with half blocks, each with its predicted and true label.

One terminal cell shows two pixels stacked: the character ``▀`` in the colour of the upper
pixel on a background of the lower one, so a 28x28 digit takes 28x14 cells (14x7 after a 2x2
average when space is short). Under each digit a label line says ``pred 3 true 5``; a mistake
is drawn in red ink with a red label.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

SIDE = 28  # pixels per side of an MNIST image
GAP = 1  # blank columns between digits
HALF = "▀"
OK_STYLE = Style(color="green")
WRONG_STYLE = Style(color="white", bgcolor="red", bold=True)
PENDING_STYLE = Style(dim=True)

_styles: dict[tuple[int, int, bool], Style] = {}


def _cell_style(upper: int, lower: int, wrong: bool) -> Style:
    """The style of one half-block cell: fg = upper pixel, bg = lower pixel (grey, or red ink)."""
    key = (upper, lower, wrong)
    style = _styles.get(key)
    if style is None:
        def rgb(v: int) -> str:
            return f"rgb({v},{v * 3 // 10},{v * 3 // 10})" if wrong else f"rgb({v},{v},{v})"

        style = _styles[key] = Style(color=rgb(upper), bgcolor=rgb(lower))
    return style


def downsample(image: np.ndarray) -> np.ndarray:
    """Return a (28, 28) uint8 image averaged over 2x2 blocks: (14, 14) uint8."""
    img = image.reshape(SIDE // 2, 2, SIDE // 2, 2).astype(np.uint16)
    return (img.sum(axis=(1, 3)) // 4).astype(np.uint8)


def digit_lines(image: np.ndarray, half: bool = False, wrong: bool = False) -> list[list[Segment]]:
    """Return the half-block rows of one image (784,) or (28, 28): 14 rows of 28 cells, or 7 of 14.

    Each cell is ``▀`` with the upper pixel as foreground and the lower as background colour.
    """
    img = np.asarray(image, dtype=np.uint8).reshape(SIDE, SIDE)
    if half:
        img = downsample(img)
    rows = []
    for r in range(0, img.shape[0], 2):
        upper, lower = img[r].tolist(), img[r + 1].tolist()
        rows.append([Segment(HALF, _cell_style(u, v, wrong))
                     for u, v in zip(upper, lower, strict=True)])
    return rows


def label_text(true: int, pred: int | None) -> str:
    """The line under a digit: ``pred 3 true 5`` (``true 5`` before any prediction)."""
    return f"true {true}" if pred is None else f"pred {pred} true {true}"


def grid_layout(width: int, height: int, count: int) -> tuple[bool, int, int]:
    """Choose (half, columns, rows) for ``count`` digits in width x height cells.

    Full size (28x14 cells + a label line) when at least three digits fit side by side and one
    row fits in height; otherwise half size (14x7 + label).
    """
    def fit(cell_w: int, cell_h: int) -> tuple[int, int]:
        cols = max(0, (width + GAP) // (cell_w + GAP))
        rows = max(0, height // (cell_h + 1))
        return cols, rows

    cols, rows = fit(SIDE, SIDE // 2)
    if cols >= 3 and rows >= 1:
        half = False
    else:
        half = True
        cols, rows = fit(SIDE // 2, SIDE // 4)
    cols = min(cols, count) if count else cols
    rows = min(rows, -(-count // cols)) if cols and count else 0
    return half, cols, rows


class DigitGrid(Widget):
    """Test digits with their true labels and, after an epoch, the network's predictions."""

    DEFAULT_CSS = """
    DigitGrid {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.images = np.zeros((0, SIDE * SIDE), np.uint8)
        self.labels = np.zeros(0, np.int64)
        self.predictions: np.ndarray | None = None
        self._cache: tuple[tuple[int, int], list[Strip]] | None = None

    def set_digits(self, images: np.ndarray, labels: np.ndarray) -> None:
        """Show these images (K, 784) uint8 with true labels (K,); forget earlier predictions."""
        self.images = np.asarray(images, np.uint8)
        self.labels = np.asarray(labels, np.int64)
        self.predictions = None
        self._changed()

    def set_predictions(self, predictions: np.ndarray | None) -> None:
        """Label the digits with predicted labels (K,) (None: not predicted yet)."""
        self.predictions = None if predictions is None else np.asarray(predictions, np.int64)
        self._changed()

    def _changed(self) -> None:
        self._cache = None
        self.refresh()

    @property
    def shown(self) -> int:
        """How many digits fit at the current size."""
        _, cols, rows = grid_layout(self.size.width, self.size.height, len(self.images))
        return min(len(self.images), cols * rows)

    @property
    def mistakes(self) -> int:
        """How many of the shown digits are predicted wrongly."""
        if self.predictions is None:
            return 0
        k = self.shown
        return int(np.count_nonzero(self.predictions[:k] != self.labels[:k]))

    def _build(self, width: int, height: int) -> list[Strip]:
        """All lines of the grid at this size."""
        half, cols, rows = grid_layout(width, height, len(self.images))
        cell_w = SIDE // 2 if half else SIDE
        base = self.rich_style
        strips: list[Strip] = []
        gap = Segment(" " * GAP)
        for r in range(rows):
            idx = range(r * cols, min((r + 1) * cols, len(self.images)))
            blocks, labels = [], []
            for i in idx:
                pred = None if self.predictions is None else int(self.predictions[i])
                true = int(self.labels[i])
                wrong = pred is not None and pred != true
                blocks.append(digit_lines(self.images[i], half=half, wrong=wrong))
                style = PENDING_STYLE if pred is None else WRONG_STYLE if wrong else OK_STYLE
                labels.append(Segment(label_text(true, pred)[:cell_w].center(cell_w), style))
            for line in range(len(blocks[0]) if blocks else 0):
                segs: list[Segment] = []
                for j, block in enumerate(blocks):
                    if j:
                        segs.append(gap)
                    segs.extend(block[line])
                strips.append(Strip(segs).adjust_cell_length(width).apply_style(base))
            segs = []
            for j, lab in enumerate(labels):
                if j:
                    segs.append(gap)
                segs.append(lab)
            strips.append(Strip(segs).adjust_cell_length(width).apply_style(base))
        return strips

    def render_line(self, y: int) -> Strip:
        """One line of the grid (blank below the last row of digits)."""
        size = (self.size.width, self.size.height)
        if self._cache is None or self._cache[0] != size:
            self._cache = (size, self._build(*size))
        lines = self._cache[1]
        return lines[y] if y < len(lines) else Strip.blank(size[0], self.rich_style)
