"""Cells held as arrays (``tui.heatmap.half_block_arrays``) turned into rich Segments, with no
Python object per cell: runs of equal colours and characters are found with numpy, one Style
per colour pair (cached). The boundary and the neurons' maps are painted from these many times
a second. No textual import (tests read them directly)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style


@lru_cache(maxsize=65536)
def cell_style(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> Style:
    """The rich Style of a cell's colours (cached: parsing colours is slow, pairs repeat)."""
    return Style(color=Color.from_rgb(*fg), bgcolor=Color.from_rgb(*bg))


_STYLES: dict[tuple[int, int], Style] = {}  # packed (fg, bg) -> Style
_MAX_STYLES = 65536


def _packed_style(fg: int, bg: int) -> Style:
    """The Style of colours packed as 0xRRGGBB ints (cached)."""
    style = _STYLES.get((fg, bg))
    if style is None:
        if len(_STYLES) >= _MAX_STYLES:
            _STYLES.clear()
        style = _STYLES[fg, bg] = cell_style((fg >> 16, (fg >> 8) & 255, fg & 255),
                                             (bg >> 16, (bg >> 8) & 255, bg & 255))
    return style


def array_segments(a: dict[str, np.ndarray]) -> list[list[Segment]]:
    """Rows of Segments of cells held as arrays ("chars" (h, w), "fg" and "bg" (h, w, 3) ints):
    consecutive cells of the same character and colours in one Segment."""
    fg = a["fg"].astype(np.int64)
    bg = a["bg"].astype(np.int64)
    fgk = (fg[..., 0] << 16) | (fg[..., 1] << 8) | fg[..., 2]
    bgk = (bg[..., 0] << 16) | (bg[..., 1] << 8) | bg[..., 2]
    chars = a["chars"]
    h, w = chars.shape
    if not w:
        return [[] for _ in range(h)]
    change = np.ones((h, w), bool)
    change[:, 1:] = ((fgk[:, 1:] != fgk[:, :-1]) | (bgk[:, 1:] != bgk[:, :-1])
                     | (chars[:, 1:] != chars[:, :-1]))
    lines = []
    for row_chars, row_fg, row_bg, row_change in zip(chars.tolist(), fgk.tolist(), bgk.tolist(),
                                                    change, strict=True):
        starts = np.flatnonzero(row_change).tolist()
        ends = starts[1:] + [w]
        lines.append([Segment("".join(row_chars[i:j]), _packed_style(row_fg[i], row_bg[i]))
                      for i, j in zip(starts, ends, strict=True)])
    return lines
