"""tui/graph_stream.py: a streamed table cut to a narrow width is the table ``report`` renders
at once, block for block, also when it is longer than the rows it measures its columns on."""

from __future__ import annotations

import io

import pytest

from engine.runner import Run
from engine.scenario import load_scenario
from tui import graph_stream, report


def _at_once(name: str, variants: list[str | None], every: int, width: int | None) -> str:
    outcomes = [report.Outcome.of(Run(load_scenario(name), v)) for v in variants]
    if len(outcomes) > 1:
        return report.compare_table(outcomes, every, width)
    return report.table(outcomes[0], every, width)


def _streamed(name: str, variants: list[str | None], every: int, width: int | None) -> str:
    runs = [Run(load_scenario(name), v, keep=False) for v in variants]
    out = io.StringIO()
    if len(runs) > 1:
        graph_stream.write_compare_table(runs, every, out, width)
    else:
        graph_stream.write_table(runs[0], every, out, width)
    return out.getvalue()


def _blocks(text: str) -> list[str]:
    """The table's blocks, without the summary table's (which come last)."""
    return [b for b in text.split("\n\n") if b.strip() and "variant" not in b.split("\n")[0]
            and not b.startswith(("rosenbrock", "beale"))]


def _rows(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """The table's column headers and each row's cells (keyed by iteration), gathered across its
    blocks, without the padding: a streamed table's columns are as wide as their widest cell
    among the rows it measured (so it may be cut into other blocks), not among all rows."""
    header: list[str] = []
    rows: dict[str, list[str]] = {}
    for block in _blocks(text):
        lines = block.splitlines()
        dash = next(k for k, ln in enumerate(lines) if ln.startswith("----  "))
        header += lines[dash - 1].split()[1:]
        for ln in lines[dash + 1:]:
            cells = ln.split()
            rows.setdefault(cells[0], []).extend(cells[1:])
    return header, rows


# all rows held: byte for byte; or the columns fixed on the first 10 rows and the rest
# streamed (into one temporary file per block when the table is cut): the same blocks, rows
# and cells
@pytest.mark.parametrize("width", [None, 200, 100, 60])
@pytest.mark.parametrize("held", [100_000, 10])
def test_a_streamed_compare_table_is_the_table_at_once(monkeypatch, held: int,
                                                       width: int | None) -> None:
    monkeypatch.setattr(graph_stream, "TABLE_ROWS", held)
    sc = load_scenario("beale")
    variants = list(sc.variants)
    expected = _at_once("beale", variants, 50, width)
    got = _streamed("beale", variants, 50, width)
    assert got == expected if held > 1000 else _rows(got) == _rows(expected)
    blocks = _blocks(got)
    assert (len(blocks) == 1) == (width is None) and len(_rows(got)[1]) > 10
    if width is not None and held > 1000:
        assert len(blocks) > 1 and all(len(ln) <= width for b in blocks for ln in b.splitlines())


@pytest.mark.parametrize("held", [100_000, 10])
def test_a_streamed_run_table_wraps_its_columns(monkeypatch, held: int) -> None:
    monkeypatch.setattr(graph_stream, "TABLE_ROWS", held)
    expected = _at_once("rosenbrock", ["adam"], 100, 60)
    got = _streamed("rosenbrock", ["adam"], 100, 60)
    assert got == expected if held > 1000 else _rows(got) == _rows(expected)
    table = got.rstrip("\n").rsplit("\n", 1)[0]
    assert table.count("\n\n") == 1 and len(_rows(table)[1]) > 10
    if held > 1000:
        assert max(len(ln) for ln in table.splitlines()) <= 60
