"""A plain-text table written row by row, cut to a width exactly as ``render_table`` cuts it.

Used where a table may be too long to hold: ``gdlab run``/``compare`` (widths measured on the
first rows) and ``gdlab replay`` (widths measured by a first pass, so known from the start).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from typing import IO, TextIO

from .formatting import Block, render_table, table_blocks, table_line


class StreamedTable:
    """Rows held until ``hold`` of them (then widths are fixed and rows stream), then the end.

    With ``widths`` given, they are fixed from the first row and nothing is held. A table wider
    than ``width`` is cut into blocks, as ``render_table`` cuts it: a long one writes each
    block's lines to its own temporary file as the rows come, and the blocks one after another
    at the end (memory stays flat; the output is what it would be at once).
    """

    def __init__(self, out: TextIO, header: list[str],
                 groups: list[tuple[str, int]] | None = None, width: int | None = None,
                 hold: int = 20_000, widths: Sequence[int] | None = None) -> None:
        self.out, self.header, self.groups, self.width = out, header, groups, width
        self.hold = hold
        self.rows: list[list[str]] = []
        self.blocks: list[Block] | None = None
        self.files: list[IO[str]] = []  # one per block when there are several
        if widths is not None:
            self._fix(list(widths))

    def add(self, cells: list[str]) -> None:
        """Write (or hold) one row."""
        if self.blocks is None:
            self.rows.append(cells)
            if len(self.rows) >= self.hold:  # render_table's widths, kept from here on
                self._fix(self._measured())
            return
        if not self.files:
            self.out.write(table_line(cells, self.blocks[0].widths) + "\n")
            return
        for block, f in zip(self.blocks, self.files, strict=True):
            if block.shows(cells):
                f.write(table_line(block.cells(cells), block.widths, block.left) + "\n")

    def _measured(self) -> list[int]:
        return [max(len(h), *(len(r[k]) for r in self.rows)) for k, h in enumerate(self.header)]

    def _fix(self, widths: list[int]) -> None:
        self.blocks = table_blocks(self.header, widths, self.groups, width=self.width)
        rows, self.rows = self.rows, []
        if len(self.blocks) == 1:
            self.out.write(self.blocks[0].head() + "\n")
        else:
            for block in self.blocks:
                f = tempfile.TemporaryFile("w+", encoding="utf-8")
                f.write(block.head() + "\n")
                self.files.append(f)
        for r in rows:
            self.add(r)

    def end(self) -> None:
        """The rows still held (all of them when the table was short: exactly as before), or
        the blocks one after another."""
        if self.blocks is None:
            self.out.write(render_table(self.header, self.rows, self.groups,
                                        width=self.width) + "\n")
        for k, f in enumerate(self.files):
            if k:
                self.out.write("\n")
            f.seek(0)
            shutil.copyfileobj(f, self.out)
            f.close()
        self.rows, self.files = [], []
