"""gdlab replay fits its table to the terminal as gdlab run does: the columns that don't fit
continue in blocks beside the iteration (or epoch), and no cell is lost on the way."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tui import report
from tui.cli import main
from tui.replay import replay, write_replay

# a schedule adds the lr column: iter, x, y, J, dJ/dx, dJ/dy, |grad|, lr, step x, step y
ROSENBROCK = [{"do": "open", "scenario": "rosenbrock"}, {"do": "step", "count": 30},
              {"do": "set", "key": "schedule", "value": "step"},
              {"do": "set", "key": "gamma", "value": 0.5}, {"do": "step", "count": 25}]
# xor's network [2, 4, 2, 1]: three layers, so three speed columns (the table is 103 wide)
XOR = [{"do": "open", "scenario": "xor"}, {"do": "step", "unit": "epoch", "count": 3}]


def script(tmp_path: Path, actions: list) -> Path:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"gdlab_session": 1, "actions": actions}), encoding="utf-8")
    return path


def replayed(capsys, monkeypatch, path: Path, columns: int | None) -> str:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["replay", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def rows_by_key(text: str) -> dict[str, dict[str, str]]:
    """Every block's rows put back together: first cell (iteration or epoch) -> header -> cell.
    A block starts at a header line followed by a line of dashes."""
    lines = text.splitlines()
    rows: dict[str, dict[str, str]] = {}
    k = 0
    while k + 1 < len(lines):
        if lines[k + 1].startswith("-") and set(lines[k + 1]) <= {"-", " "}:
            # headers with a space ("train loss", "step x") are split back by the dashes' runs
            spans = [(m, m + len(run)) for m, run in _runs(lines[k + 1])]
            header = [lines[k][a:b].strip() for a, b in spans]
            k += 2
            while k < len(lines) and lines[k].strip() and not lines[k].startswith(
                    tuple("abcdefghijklmnopqrstuvwxyz")):
                cells = [lines[k][a:b].strip() for a, b in spans]
                # an empty cell is left out: a block leaves out a row with nothing in it (the
                # paused trace's last row has no step yet)
                rows.setdefault(cells[0], {}).update(
                    (h, c) for h, c in zip(header, cells, strict=True) if c)
                k += 1
        else:
            k += 1
    return rows


def _runs(dashes: str) -> list[tuple[int, str]]:
    out, start = [], None
    for m, ch in enumerate(dashes + " "):
        if ch == "-" and start is None:
            start = m
        elif ch != "-" and start is not None:
            out.append((start, dashes[start:m]))
            start = None
    return out


@pytest.mark.parametrize("columns", [40, 60, 80])
def test_a_graph_replay_wider_than_the_terminal_continues_in_blocks(
        capsys, monkeypatch, tmp_path, columns):
    path = script(tmp_path, ROSENBROCK)
    whole = replayed(capsys, monkeypatch, path, None)
    assert max(len(x) for x in whole.splitlines()[:-1]) > columns  # one block without a width
    cut = replayed(capsys, monkeypatch, path, columns)
    table_lines = cut.splitlines()[:-1]  # the stop line is text, not a table
    assert all(len(x) <= columns for x in table_lines), max(table_lines, key=len)
    assert cut.count("\n\n") >= 1  # in blocks
    assert cut.splitlines()[-1] == whole.splitlines()[-1]  # the same stop line
    # every cell of every row is in some block, under its header
    assert rows_by_key(cut) == rows_by_key(whole)
    assert len(rows_by_key(whole)) == 56  # rows 0..55: the trace since the start
    # what report.table cuts for the same trace, and the same from the two-pass stream
    o = replay(ROSENBROCK).outcome()
    assert cut == report.table(o, width=columns)
    streamed = io.StringIO()
    write_replay(ROSENBROCK, "table", streamed, keep=0, width=columns)
    assert streamed.getvalue() == cut


def test_a_wide_enough_terminal_changes_nothing(capsys, monkeypatch, tmp_path):
    path = script(tmp_path, ROSENBROCK)
    assert replayed(capsys, monkeypatch, path, 500) == replayed(capsys, monkeypatch, path, None)


def test_csv_and_jsonl_are_never_cut(capsys, monkeypatch, tmp_path):
    path = script(tmp_path, ROSENBROCK)
    monkeypatch.setenv("COLUMNS", "30")
    assert main(["replay", str(path), "--format", "csv"]) == 0
    narrow = capsys.readouterr().out
    monkeypatch.delenv("COLUMNS")
    assert main(["replay", str(path), "--format", "csv"]) == 0
    assert narrow == capsys.readouterr().out and max(map(len, narrow.splitlines())) > 30


def test_a_network_replay_prints_what_fits_then_the_rest_beside_the_epoch(
        capsys, monkeypatch, tmp_path):
    path = script(tmp_path, XOR)
    whole = replayed(capsys, monkeypatch, path, None)
    assert "speed 3" in whole.splitlines()[0] and len(whole.splitlines()[0]) > 60
    cut = replayed(capsys, monkeypatch, path, 60)
    assert all(len(x) <= 60 for x in cut.splitlines()), max(cut.splitlines(), key=len)
    first = cut.splitlines()[0].split()
    assert first[:3] == ["epoch", "train", "loss"] and "speed" not in first
    a, b = rows_by_key(whole), rows_by_key(cut)
    assert sorted(a) == sorted(b) == ["0", "1", "2", "3"]
    for epoch in a:  # every column of every epoch, once; seconds are this run's own clock
        assert set(a[epoch]) == set(b[epoch])
        assert {k: v for k, v in a[epoch].items() if k != "seconds"} == \
            {k: v for k, v in b[epoch].items() if k != "seconds"}
    assert cut.endswith("xor [playground]: paused at epoch 3, batch 25 of 25\n")
