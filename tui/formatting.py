"""Number and table formatting shared by the command line and the app."""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from engine.rules import norm


def shape_text(x: np.ndarray) -> str:
    """An array's shape as a person writes it: ``[200]``, ``[30×784]``."""
    return "[" + "×".join(str(d) for d in x.shape) + "]"


def fmt(x: Any, decimals: int = 6) -> str:
    """A number as a person reads it in the tutorials: 6 decimals, scientific when tiny or huge.

    Python rounds correctly, so every printed digit is right: 3.809524, 0.190476, 1.271311e-06.
    Zero has its decimals too (0.000000 beside -2.000000). Arrays print as their shape and
    norm: ``[200] norm 39.266566``.
    """
    if x is None:
        return ""
    if isinstance(x, np.ndarray):
        if x.size == 1:
            return fmt(float(x.reshape(())), decimals)
        return f"{shape_text(x)} norm {fmt(norm([x]), decimals)}"
    if isinstance(x, list):
        return fmt(np.asarray(x, dtype=float), decimals)
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    a = abs(x)
    if a == 0.0 or 1e-4 <= a < 1e9:
        return f"{x if a else 0.0:.{decimals}f}"
    return f"{x:.{decimals}e}"


def fmt_sig(x: Any, sig: int = 6) -> str:
    """A number in ``sig`` significant digits, as short as it reads: 232.868, -0.388498, 1.8e-6.

    The rule of ``%g`` (trailing zeros dropped, scientific below 1e-4 or from 10**sig) with the
    exponent written without padding (``e-6``, ``e154``), so that a column of them stays narrow.
    Integers print as they are; arrays as their shape and norm.
    """
    t = type(x)
    if t is float:  # the table formats many: the common case first
        return _sig_float(x, sig)
    if t is int:
        return str(x)
    if x is None:
        return ""
    if isinstance(x, bool | np.bool_):
        return str(x)
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, np.ndarray | list):
        arr = np.asarray(x, dtype=float)
        if arr.size == 1:
            return fmt_sig(float(arr.reshape(())), sig)
        return f"{shape_text(arr)} norm {fmt_sig(norm([arr]), sig)}"
    return _sig_float(float(x), sig)


def _sig_float(x: float, sig: int) -> str:
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    text = "%.*g" % (sig, x)  # noqa: UP031 - the fastest way to %g with a variable precision
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{'-' if exp[0] == '-' else ''}{exp[1:].lstrip('0') or '0'}"
    return text


# --- plain-text tables ------------------------------------------------------------------

def output_width(stream: TextIO) -> int | None:
    """Columns a table printed to ``stream`` should fit: ``$COLUMNS`` when set, else the width
    of the terminal it writes to; None (no limit) for a pipe or a file."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        if stream.isatty():  # a terminal that reports no size (0) sets no limit
            return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, OSError, ValueError):
        pass
    return None


def wrap_lines(text: str, width: int | None) -> str:
    """Each line of ``text`` longer than ``width`` broken at spaces, continued indented by two."""
    if width is None or width < 20:
        return text
    return "\n".join(textwrap.fill(line, width, subsequent_indent="  ", break_long_words=False,
                                    break_on_hyphens=False) if len(line) > width else line
                      for line in text.split("\n"))


def pack_groups(spans: Sequence[int], widths: Sequence[int], width: int, pinned: int = 1,
                gap: int = 2) -> list[list[int]]:
    """Split column groups into blocks that each fit ``width`` beside the ``pinned`` columns.

    ``spans`` are the number of columns of each group after the pinned ones, ``widths`` every
    column's width. Returns, per block, the indices of the groups it shows. A group wider than
    the width on its own gets a block to itself (the caller splits it into narrower groups).
    """
    base = sum(widths[:pinned]) + gap * max(0, pinned - 1)
    blocks: list[list[int]] = []
    used = base
    col = pinned
    for g, span in enumerate(spans):
        w = sum(widths[col:col + span]) + gap * span
        col += span
        if blocks and used + w <= width:
            blocks[-1].append(g)
            used += w
        else:
            blocks.append([g])
            used = base + w
    return blocks


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                 groups: Sequence[tuple[str, int]] | None = None,
                 left: Sequence[int] = (), width: int | None = None) -> str:
    """A plain-text table, numbers right-aligned (columns in ``left`` left-aligned, for text),
    with an optional row of column-group titles.

    With ``width``, a table wider than that is cut into blocks that fit, one after another: each
    repeats the first column (the iteration), and keeps a group (a variant) together when it
    fits on its own line, else splits it by columns.
    """
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    out = []
    for block in table_blocks(header, widths, groups, left, width):
        kept = [r for r in rows if block.shows(r)]
        out.append(_render(block.header, [block.cells(r) for r in kept], block.widths,
                           block.groups, block.left))
    return "\n\n".join(out)


@dataclass(frozen=True)
class Block:
    """One block of a table cut to a width: which columns it shows, with their titles."""

    cols: list[int]
    header: list[str]
    widths: list[int]
    groups: list[tuple[str, int]] | None
    left: list[int]
    whole: bool  # the table in one block: every row is shown

    def cells(self, row: Sequence[str]) -> list[str]:
        """The row's cells in this block."""
        return [row[c] for c in self.cols]

    def shows(self, row: Sequence[str]) -> bool:
        """A variant that stopped early leaves its rows empty: a row with nothing in this block
        is left out of it."""
        return self.whole or any(row[c] for c in self.cols[1:])

    def head(self) -> str:
        """The block's title lines (group titles, header, dashes)."""
        return _render(self.header, [], self.widths, self.groups, self.left)


def table_blocks(header: Sequence[str], widths: Sequence[int],
                 groups: Sequence[tuple[str, int]] | None = None, left: Sequence[int] = (),
                 width: int | None = None) -> list[Block]:
    """The blocks ``render_table`` cuts a table with these column ``widths`` into (one when it
    fits ``width``, or without a width)."""
    total = sum(widths) + 2 * (len(widths) - 1)
    if width is None or total <= width or len(header) < 3:
        cols = list(range(len(header)))
        return [Block(cols, list(header), list(widths), list(groups) if groups else None,
                      list(left), True)]
    # groups after the pinned first column; with no titles, every column is its own group
    titled = list(groups[1:]) if groups else [("", 1)] * (len(header) - 1)
    units: list[tuple[str, list[int]]] = []
    col = 1
    for title, span in titled:
        cols = list(range(col, col + span))
        col += span
        chunk: list[int] = []
        for c in cols:  # a group wider than the line: its columns on as many lines as it takes
            if chunk and widths[0] + sum(widths[k] + 2 for k in (*chunk, c)) > width:
                units.append((title, chunk))
                chunk = []
            chunk.append(c)
        units.append((title, chunk))
    blocks = pack_groups([len(c) for _, c in units],
                         [widths[0], *(widths[c] for _, cs in units for c in cs)], width)
    out = []
    for block in blocks:
        cols = [0] + [c for g in block for c in units[g][1]]
        sub_groups = [groups[0], *((units[g][0], len(units[g][1])) for g in block)] \
            if groups else None
        out.append(Block(cols, [header[c] for c in cols], [widths[c] for c in cols], sub_groups,
                         [k for k, c in enumerate(cols) if c in left], False))
    return out


def _render(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int],
            groups: Sequence[tuple[str, int]] | None, left: Sequence[int]) -> str:
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


# --- columns that fit a width (the app's iteration table) ---------------------------------

@dataclass(frozen=True)
class Fit:
    """How a table fits its width: digits, columns in view (indices), columns hidden to make
    room, and how many scrollable columns are out of view on the left and on the right."""

    sig: int
    shown: list[int]
    hidden: list[int]
    left: int
    right: int


def fit_columns(widths: dict[int, list[int]], rank: Sequence[int], available: int,
                chosen: set[int] | None = None, offset: int = 0) -> Fit:
    """Fit columns to ``available`` characters; column 0 (the iteration) always shows.

    ``widths[sig][i]`` is column i's width (padding included) with ``sig`` significant digits.
    In order: all ``chosen`` columns (default all) at the most digits that fit; then, unless a
    person chose the columns, without the columns of rank 2 or more, highest rank first (most
    digits that fit); then at the fewest digits, scrolled sideways from the ``offset``-th
    scrollable column, as many as fit (``left`` and ``right`` count those out of view).
    """
    n = len(rank)
    cols = [i for i in range(n) if i == 0 or chosen is None or i in chosen]
    sigs = sorted(widths, reverse=True)

    def total(cs: Sequence[int], sig: int) -> int:
        return sum(widths[sig][i] for i in cs)

    for sig in sigs:
        if total(cols, sig) <= available:
            return Fit(sig, cols, [], 0, 0)
    hidden: list[int] = []
    if chosen is None:
        for i in sorted((i for i in cols if rank[i] >= 2), key=lambda i: (-rank[i], -i)):
            cols.remove(i)
            hidden.append(i)
            fits = [sig for sig in sigs if total(cols, sig) <= available]
            if fits:
                return Fit(fits[0], cols, sorted(hidden), 0, 0)
        cols = [i for i in range(n) if i not in hidden or rank[i] < 3]
        hidden = [i for i in hidden if i not in cols]
    sig = sigs[-1]
    scroll = cols[1:]
    room = available - widths[sig][0] - 4  # the pinned column, and the arrows on the headers
    # the largest offset at which the last columns still fill the width
    last_start, used = len(scroll), 0
    while last_start > 0 and used + widths[sig][scroll[last_start - 1]] <= room:
        last_start -= 1
        used += widths[sig][scroll[last_start]]
    offset = max(0, min(offset, max(0, min(last_start, len(scroll) - 1))))
    shown, used = [0], 0
    for i in scroll[offset:]:
        if used + widths[sig][i] > room and len(shown) > 1:
            break
        shown.append(i)
        used += widths[sig][i]
    return Fit(sig, shown, sorted(hidden), offset, len(scroll) - offset - (len(shown) - 1))
