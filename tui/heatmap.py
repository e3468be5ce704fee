"""Half-block heat maps: a network's outputs over a plane turned into coloured text cells.

Pure functions of numbers (no textual, no rich), so the command line and the app draw the same
map: ``surface_colours`` gives each grid point an RGB colour, ``half_blocks`` packs two grid
rows into one row of text cells (the upper half block "▀" in the colour of the upper point, its
background the lower one: square pixels in a terminal), ``place_points`` draws the training and
test points over the map, ``to_ansi`` and ``to_plain`` write the cells out.

Colours: each class has a hue (TensorFlow Playground's orange for class 0 and blue for class 1,
then green, purple, ...). With several outputs a point takes the hue of its predicted class,
brighter the surer the network is (the largest output, from 1/k up to 1). With one output the
map diverges from a dark neutral at the threshold to orange (class 0's value) and blue (class
1's). Points are drawn in their class's hue, lightened, with a glyph per set and class: "●" / "○"
(training / test) for class 0, "▲" / "△" for class 1, "■" / "□", "◆" / "◇", ..., so they read
without colour too (``to_plain``: the map as shades, the points as glyphs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

RGB = tuple[int, int, int]

#: class hues, full strength (the points); the map uses them at most MAP_STRENGTH
CLASS_RGB: list[RGB] = [(245, 147, 34), (8, 119, 189), (46, 184, 92), (170, 90, 220),
                        (230, 200, 40), (220, 60, 60), (40, 190, 200), (200, 120, 170)]
CLASS_NAMES = ["orange", "blue", "green", "purple", "yellow", "red", "cyan", "pink"]
NEUTRAL: RGB = (36, 36, 40)  # the map where the network cannot tell
MAP_STRENGTH = 0.45  # the surest region's colour, as a fraction of the class hue
POINT_TINT = 0.3  # points: the class hue mixed this much with white, to stand out on its region
TRAIN_GLYPHS = "●▲■◆★✚"
TEST_GLYPHS = "○△□◇☆✛"
PLAIN_SHADES = " ░▒▓"  # to_plain: class k's region (class 0 blank); beyond 4 classes, digits
UPPER = "▀"
WRONG = "✗"  # a test point the network gets wrong
WRONG_RGB: RGB = (255, 70, 70)


@dataclass
class Cell:
    """One text cell: a character, its colour and its background (RGB)."""

    char: str
    fg: RGB
    bg: RGB
    klass: int = 0  # the class the cell's upper point takes (for to_plain)
    sure: float = 0.0  # how sure the network is there, 0..1 (for to_plain)


def class_rgb(k: int) -> RGB:
    """The hue of class ``k``."""
    return CLASS_RGB[k % len(CLASS_RGB)]


def point_rgb(k: int) -> RGB:
    """The colour of a point of class ``k``: its hue, lightened (POINT_TINT)."""
    return _rgb([c + POINT_TINT * (255 - c) for c in class_rgb(k)])


def _mix(rgb: RGB | np.ndarray, t: np.ndarray) -> np.ndarray:
    """NEUTRAL + t (rgb * MAP_STRENGTH - NEUTRAL), t (...,) in [0, 1] -> (..., 3)."""
    top = np.asarray(rgb, np.float64) * MAP_STRENGTH
    base = np.asarray(NEUTRAL, np.float64)
    return base + np.clip(t, 0.0, 1.0)[..., None] * (top - base)


def classes_and_sureness(outputs: np.ndarray, low: float, high: float,
                         threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(class (ny, nx) ints, sureness (ny, nx) in [0, 1]) of outputs (ny, nx, n_out).

    One output: class 1 above ``threshold``; sureness the distance from it, as a fraction of the
    way to ``high`` (or ``low``). Several: the argmax; sureness (max - 1/k) / (1 - 1/k) of the
    outputs normalised to sum 1 (softmax's are already).
    """
    if outputs.shape[2] == 1:
        v = outputs[..., 0]
        up = v > threshold
        span = np.where(up, high - threshold, threshold - low)
        sure = np.abs(v - threshold) / np.where(span > 0, span, 1.0)
        return up.astype(np.intp), np.clip(np.nan_to_num(sure), 0.0, 1.0)
    k = outputs.shape[2]
    p = np.clip(np.nan_to_num(outputs), 0.0, None)
    total = p.sum(axis=2, keepdims=True)
    p = np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / k)
    top = p.max(axis=2)
    return p.argmax(axis=2), np.clip((top - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)


def surface_colours(classes: np.ndarray, sure: np.ndarray) -> np.ndarray:
    """RGB (ny, nx, 3) floats: each point in its class's hue, as bright as the network is sure
    (a single output's map diverges through NEUTRAL at the threshold)."""
    out = np.empty((*classes.shape, 3))
    for k in np.unique(classes):
        mask = classes == k
        out[mask] = _mix(class_rgb(int(k)), sure[mask])
    return out


def half_blocks(rgb: np.ndarray, classes: np.ndarray, sure: np.ndarray) -> list[list[Cell]]:
    """Rows of text cells, top row first, from grid rows whose row 0 is the bottom of the plane:
    each cell is "▀" with the upper point as its colour and the lower one as its background."""
    ny, nx = rgb.shape[:2]
    ints = np.rint(np.nan_to_num(rgb)).astype(np.int64)
    rows = []
    for top in range(ny - 1, -1, -2):
        bottom = top - 1
        fgs = list(map(tuple, ints[top].tolist()))
        bgs = (list(map(tuple, ints[bottom].tolist())) if bottom >= 0 else [NEUTRAL] * nx)
        ks, ss = classes[top].tolist(), sure[top].tolist()
        rows.append([Cell(UPPER, fg, bg, int(k), float(p))
                     for fg, bg, k, p in zip(fgs, bgs, ks, ss, strict=True)])
    return rows


def _rgb(v: Any) -> RGB:
    return int(round(v[0])), int(round(v[1])), int(round(v[2]))


def glyph(k: int, train: bool) -> str:
    """The glyph of a point of class ``k``: filled for training, hollow for test."""
    glyphs = TRAIN_GLYPHS if train else TEST_GLYPHS
    return glyphs[k % len(glyphs)]


def _cell_of(x: float, y: float, h: int, w: int, x_range: tuple[float, float],
             y_range: tuple[float, float]) -> tuple[int, int] | None:
    """(row, column) of the text cell holding point (x, y); None outside the ranges."""
    (x0, x1), (y0, y1) = x_range, y_range
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return None
    return (min(h - 1, int((y1 - y) / (y1 - y0) * h)), min(w - 1, int((x - x0) / (x1 - x0) * w)))


def place_points(rows: list[list[Cell]], points: np.ndarray, labels: np.ndarray,
                 x_range: tuple[float, float], y_range: tuple[float, float],
                 train: bool) -> int:
    """Draw ``points`` (N, 2) over the cells of ``rows`` (from ``half_blocks``): each in the text
    cell that holds it, as its class's glyph in the class's colour, on the cell's colours
    averaged. Points outside the ranges are left out; returns how many were drawn."""
    h, w = len(rows), len(rows[0]) if rows else 0
    drawn = 0
    for (x, y), k in zip(np.asarray(points, np.float64), np.asarray(labels), strict=True):
        at = _cell_of(x, y, h, w, x_range, y_range)
        if at is None:
            continue
        cell = rows[at[0]][at[1]]
        under = cell.bg if cell.char != UPPER else _rgb(
            (np.asarray(cell.fg) + np.asarray(cell.bg)) / 2)
        rows[at[0]][at[1]] = Cell(glyph(int(k), train), point_rgb(int(k)), under, cell.klass,
                                  cell.sure)
        drawn += 1
    return drawn


def mark_points(rows: list[list[Cell]], points: np.ndarray, x_range: tuple[float, float],
                y_range: tuple[float, float], char: str = WRONG, rgb: RGB = WRONG_RGB) -> int:
    """Draw ``char`` in ``rgb`` at each of ``points`` (N, 2), over whatever the cell holds (the
    test points a network gets wrong); returns how many were drawn."""
    h, w = len(rows), len(rows[0]) if rows else 0
    drawn = 0
    for x, y in np.asarray(points, np.float64).reshape(-1, 2):
        at = _cell_of(x, y, h, w, x_range, y_range)
        if at is not None:
            cell = rows[at[0]][at[1]]
            rows[at[0]][at[1]] = Cell(char, rgb, cell.bg, cell.klass, cell.sure)
            drawn += 1
    return drawn


def to_ansi(rows: Sequence[Sequence[Cell]]) -> list[str]:
    """Each row as a string with 24-bit colour escapes (reset at the end of each line)."""
    lines = []
    for row in rows:
        parts = []
        for c in row:
            parts.append(f"\x1b[38;2;{c.fg[0]};{c.fg[1]};{c.fg[2]}m"
                         f"\x1b[48;2;{c.bg[0]};{c.bg[1]};{c.bg[2]}m{c.char}")
        lines.append("".join(parts) + "\x1b[0m")
    return lines


def to_plain(rows: Sequence[Sequence[Cell]]) -> list[str]:
    """Each row without colour: the region of class k as PLAIN_SHADES[k] (a digit beyond), "·"
    where the network is unsure (sureness below 0.2), the points as their glyphs."""
    lines = []
    for row in rows:
        chars = []
        for c in row:
            if c.char != UPPER:
                chars.append(c.char)
            elif c.sure < 0.2:
                chars.append("·")
            else:
                chars.append(PLAIN_SHADES[c.klass] if c.klass < len(PLAIN_SHADES)
                             else str(c.klass % 10))
        lines.append("".join(chars))
    return lines


def legend(classes: int, colour: bool, names: Sequence[str] | None = None) -> str:
    """One line saying what the glyphs and colours (or shades) mean."""
    parts = []
    for k in range(classes):
        name = names[k] if names is not None and k < len(names) else f"class {k}"
        where = (CLASS_NAMES[k % len(CLASS_NAMES)] if colour else
                 (f"'{PLAIN_SHADES[k]}'" if k < len(PLAIN_SHADES) else f"'{k % 10}'"))
        parts.append(f"{name}: {glyph(k, True)} train {glyph(k, False)} test, region {where}")
    tail = ("brighter = surer" if colour else "'·' = unsure")
    return "; ".join(parts) + f"; {tail}"
