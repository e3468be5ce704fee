"""Number and table formatting shared by the command line and the app."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def fmt(x: Any, decimals: int = 6) -> str:
    """A number as a person reads it in the tutorials: 6 decimals, scientific when tiny or huge.

    Python rounds correctly, so every printed digit is right: 3.809524, 0.190476, 1.271311e-06.
    Arrays print as their norm: ``|w|=1.234567``.
    """
    if x is None:
        return ""
    if isinstance(x, np.ndarray):
        if x.size == 1:
            return fmt(float(x.reshape(())), decimals)
        return f"|{x.shape}|={fmt(float(np.linalg.norm(x)), decimals)}"
    if isinstance(x, list):
        return fmt(np.asarray(x, dtype=float), decimals)
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    a = abs(x)
    if 1e-4 <= a < 1e9:
        return f"{x:.{decimals}f}"
    return f"{x:.{decimals}e}"


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                 groups: Sequence[tuple[str, int]] | None = None,
                 left: Sequence[int] = ()) -> str:
    """A plain-text table, numbers right-aligned (columns in ``left`` left-aligned, for text),
    with an optional row of column-group titles."""
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    lines = []
    if groups:
        parts, col = [], 0
        for title, span in groups:
            w = sum(widths[col:col + span]) + 2 * (span - 1)
            parts.append(title[:w].center(w, "-") if title else " " * w)
            col += span
        lines.append("  ".join(parts).rstrip())
    lines.append(table_line(header, widths, left))
    lines.append(dash_line(widths))
    lines.extend(table_line(r, widths, left) for r in rows)
    return "\n".join(lines)


def table_line(cells: Sequence[str], widths: Sequence[int], left: Sequence[int] = ()) -> str:
    """One line of a ``render_table`` table: numbers right-aligned, columns in ``left`` not."""
    return "  ".join(c.ljust(w) if k in left else c.rjust(w)
                     for k, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()


def dash_line(widths: Sequence[int]) -> str:
    """The line under a ``render_table`` header."""
    return "  ".join("-" * w for w in widths)
