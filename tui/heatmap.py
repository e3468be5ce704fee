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
SHADES = 16  # sureness drawn in this many steps (Playground quantises its map to 30 shades):
#              neighbouring cells of one shade merge into one run of text, cheap to paint
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
    (rounded to 1/SHADES; a single output's map diverges through NEUTRAL at the threshold)."""
    sure = np.round(np.asarray(sure, np.float64) * SHADES) / SHADES
    out = np.empty((*classes.shape, 3))
    for k in np.unique(classes):
        mask = classes == k
        out[mask] = _mix(class_rgb(int(k)), sure[mask])
    return out


def half_block_arrays(rgb: np.ndarray, classes: np.ndarray, sure: np.ndarray
                      ) -> dict[str, np.ndarray]:
    """The cells of ``half_blocks`` as arrays, top text row first: "fg" and "bg" (h, w, 3) ints
    (the upper and the lower grid point; NEUTRAL below an odd top row), "klass" and "sure"
    (h, w) of the upper point, "chars" (h, w) all UPPER. Vectorised: the app paints these."""
    ny, nx = rgb.shape[:2]
    ints = np.rint(np.nan_to_num(rgb)).astype(np.int64)[::-1]  # row 0: the top of the plane
    if ny % 2:
        ints = np.concatenate([ints, np.broadcast_to(np.asarray(NEUTRAL, np.int64),
                                                     (1, nx, 3))])
    return {"fg": ints[0::2], "bg": ints[1::2], "klass": np.asarray(classes)[::-1][0::2],
            "sure": np.asarray(sure, np.float64)[::-1][0::2],
            "chars": np.full(((ny + 1) // 2, nx), UPPER)}


def cells_of(a: dict[str, np.ndarray]) -> list[list[Cell]]:
    """Rows of Cells from arrays like ``half_block_arrays``'s."""
    rows = []
    for chars, fgs, bgs, ks, ss in zip(a["chars"].tolist(), a["fg"].tolist(), a["bg"].tolist(),
                                       a["klass"].tolist(), a["sure"].tolist(), strict=True):
        rows.append([Cell(c, tuple(fg), tuple(bg), int(k), float(p))  # type: ignore[arg-type]
                     for c, fg, bg, k, p in zip(chars, fgs, bgs, ks, ss, strict=True)])
    return rows


def half_blocks(rgb: np.ndarray, classes: np.ndarray, sure: np.ndarray) -> list[list[Cell]]:
    """Rows of text cells, top row first, from grid rows whose row 0 is the bottom of the plane:
    each cell is "▀" with the upper point as its colour and the lower one as its background."""
    return cells_of(half_block_arrays(rgb, classes, sure))


def _rgb(v: Any) -> RGB:
    return int(round(v[0])), int(round(v[1])), int(round(v[2]))


def glyph(k: int, train: bool) -> str:
    """The glyph of a point of class ``k``: filled for training, hollow for test."""
    glyphs = TRAIN_GLYPHS if train else TEST_GLYPHS
    return glyphs[k % len(glyphs)]


def cell_positions(points: np.ndarray, h: int, w: int, x_range: tuple[float, float],
                   y_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(which points lie inside the ranges (N,) bool, their text rows, their columns) on a map
    of h rows and w columns: the cell holding point (x, y)."""
    (x0, x1), (y0, y1) = x_range, y_range
    p = np.asarray(points, np.float64).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    inside = (x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1)
    x, y = x[inside], y[inside]
    rows = np.minimum(h - 1, ((y1 - y) / (y1 - y0) * h).astype(np.int64))
    cols = np.minimum(w - 1, ((x - x0) / (x1 - x0) * w).astype(np.int64))
    return inside, rows, cols


def place_point_arrays(a: dict[str, np.ndarray], points: np.ndarray, labels: np.ndarray,
                       x_range: tuple[float, float], y_range: tuple[float, float],
                       train: bool) -> int:
    """``place_points`` on arrays like ``half_block_arrays``'s (in place); returns how many
    points were drawn. A cell holding several points shows the last one."""
    h, w = a["chars"].shape
    inside, r, c = cell_positions(points, h, w, x_range, y_range)
    k = np.asarray(labels).reshape(-1)[inside].astype(np.int64)
    drawn = len(k)
    r, c, k = _last_per_cell(r, c, w, k)
    free = a["chars"][r, c] == UPPER  # the background under a point: its cell's two halves
    a["bg"][r[free], c[free]] = np.rint((a["fg"][r[free], c[free]] + a["bg"][r[free], c[free]])
                                        / 2).astype(np.int64)
    glyphs = np.array(list(TRAIN_GLYPHS if train else TEST_GLYPHS))
    tints = np.array([point_rgb(int(j)) for j in range(len(CLASS_RGB))], np.int64)
    a["chars"][r, c] = glyphs[k % len(glyphs)]
    a["fg"][r, c] = tints[k % len(CLASS_RGB)]
    return drawn


def _last_per_cell(r: np.ndarray, c: np.ndarray, w: int, *more: np.ndarray
                   ) -> tuple[np.ndarray, ...]:
    """The points' (rows, columns, ...) with only the last point of each cell kept, in order."""
    flat = r * w + c
    _, first_of_reversed = np.unique(flat[::-1], return_index=True)
    keep = np.sort(len(flat) - 1 - first_of_reversed)
    return (r[keep], c[keep], *(m[keep] for m in more))


def mark_point_arrays(a: dict[str, np.ndarray], points: np.ndarray,
                      x_range: tuple[float, float], y_range: tuple[float, float],
                      char: str = WRONG, rgb: RGB = WRONG_RGB) -> int:
    """``mark_points`` on arrays like ``half_block_arrays``'s (in place)."""
    h, w = a["chars"].shape
    _, r, c = cell_positions(points, h, w, x_range, y_range)
    a["chars"][r, c] = char
    a["fg"][r, c] = rgb
    return len(r)


def place_points(rows: list[list[Cell]], points: np.ndarray, labels: np.ndarray,
                 x_range: tuple[float, float], y_range: tuple[float, float],
                 train: bool) -> int:
    """Draw ``points`` (N, 2) over the cells of ``rows`` (from ``half_blocks``): each in the text
    cell that holds it, as its class's glyph in the class's colour, on the cell's colours
    averaged. Points outside the ranges are left out; returns how many were drawn."""
    h, w = len(rows), len(rows[0]) if rows else 0
    inside, rs, cs = cell_positions(points, h, w, x_range, y_range)
    for r, c, k in zip(rs.tolist(), cs.tolist(), np.asarray(labels).reshape(-1)[inside].tolist(),
                       strict=True):
        cell = rows[r][c]
        under = cell.bg if cell.char != UPPER else _rgb(
            (np.asarray(cell.fg) + np.asarray(cell.bg)) / 2)
        rows[r][c] = Cell(glyph(int(k), train), point_rgb(int(k)), under, cell.klass, cell.sure)
    return len(rs)


def mark_points(rows: list[list[Cell]], points: np.ndarray, x_range: tuple[float, float],
                y_range: tuple[float, float], char: str = WRONG, rgb: RGB = WRONG_RGB) -> int:
    """Draw ``char`` in ``rgb`` at each of ``points`` (N, 2), over whatever the cell holds (the
    test points a network gets wrong); returns how many were drawn."""
    h, w = len(rows), len(rows[0]) if rows else 0
    _, rs, cs = cell_positions(points, h, w, x_range, y_range)
    for r, c in zip(rs.tolist(), cs.tolist(), strict=True):
        cell = rows[r][c]
        rows[r][c] = Cell(char, rgb, cell.bg, cell.klass, cell.sure)
    return len(rs)


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
