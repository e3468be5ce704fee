"""The loss landscape as plain characters, for ``--plot`` into a pipe, a file or under NO_COLOR.

A heat map drawn in colour says nothing without colour, so here the height is a shade of
character (``.`` lowest to ``@`` highest, on a log scale like the coloured map), each path is
its own letter and the start is ``S``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

SHADES = ".:-=+*#%@"  # lowest to highest


def path_letter(k: int) -> str:
    """The letter that draws the ``k``-th path: a, b, c, ..."""
    return chr(ord("a") + k % 26)


def landscape_text(land: Any, paths: dict[str, Sequence[tuple[float, float]]]) -> str:
    """The landscape ``land`` (z[i, j] at (xs[j], ys[i])) with ``paths`` over it, as text lines.

    The top row is the largest y; y labels stand at the top, middle and bottom rows, x labels
    under the first, middle and last columns.
    """
    with np.errstate(all="ignore"):
        lz = np.log10(np.abs(land.z) + 1e-12)
    finite = lz[np.isfinite(lz)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ny, nx = land.z.shape
    grid = [[" "] * nx for _ in range(ny)]
    for i in range(ny):
        for j in range(nx):
            v = lz[i, j]
            if math.isfinite(v):
                t = (v - lo) / (hi - lo) if hi > lo else 0.0
                grid[i][j] = SHADES[min(len(SHADES) - 1, int(t * len(SHADES)))]

    def mark(px: float, py: float, ch: str) -> None:
        if not (math.isfinite(px) and math.isfinite(py)):
            return
        xs, ys = land.xs, land.ys
        j = int(round((px - xs[0]) / (xs[-1] - xs[0]) * (nx - 1))) if nx > 1 else 0
        i = int(round((py - ys[0]) / (ys[-1] - ys[0]) * (ny - 1))) if ny > 1 else 0
        if 0 <= i < ny and 0 <= j < nx:
            grid[i][j] = ch

    for k, path in enumerate(paths.values()):
        for px, py in path[1:]:
            mark(px, py, path_letter(k))
    for path in paths.values():
        if len(path):
            mark(*path[0], "S")
    ylabels = {ny - 1: f"{land.ys[-1]:.4g}", ny // 2: f"{land.ys[ny // 2]:.4g}",
               0: f"{land.ys[0]:.4g}"}
    lw = max(len(t) for t in ylabels.values())
    name_x, name_y = land.names
    lines = [f"landscape of the output over ({name_x}, {name_y}); {name_y} up, {name_x} across"]
    lines.append(" " * lw + " +" + "-" * nx + "+")
    for i in range(ny - 1, -1, -1):
        lines.append(f"{ylabels.get(i, ''):>{lw}} |" + "".join(grid[i]) + "|")
    lines.append(" " * lw + " +" + "-" * nx + "+")
    axis = [" "] * (nx + 2)
    for j in (0, nx // 2, nx - 1):
        label = f"{land.xs[j]:.4g}"
        start = max(0, min(nx + 2 - len(label), j + 1 - len(label) // 2))
        if all(c == " " for c in axis[max(0, start - 1):start + len(label) + 1]):
            axis[start:start + len(label)] = label
    lines.append(" " * (lw + 1) + "".join(axis).rstrip())
    lines.append(" " * (lw + 1) + name_x.center(nx + 2).rstrip())
    legend = ", ".join(f"{path_letter(k)} = {name}" for k, name in enumerate(paths))
    lines.append(f"shade {SHADES[0]} lowest to {SHADES[-1]} highest (log scale); S = start; "
                 + legend)
    return "\n".join(lines)
