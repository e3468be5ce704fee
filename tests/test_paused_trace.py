"""A paused trace ends on the state it reached: its row (no step taken from it) and a summary
whose output belongs to its parameters, in `gdlab replay` and in the app's export alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import MINI_BATCH_LINE, same_records, write

from tui import report
from tui.cli import main
from tui.session import Session

W = 3.0
B1 = 4.0 - 12.0 / 63.0  # b after target_z's first step: b - delta / (dz/db) = 4 - 12/63


def z_at(w: float, b: float) -> float:
    """target_z's output: z = x*y with x = 2w + 3b, y = 2b + 1."""
    return (2 * w + 3 * b) * (2 * b + 1)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    out, _ = capsys.readouterr()
    return out


def one_step_script(tmp_path: Path) -> Path:
    """The issue's s.toml: open target_z, one step."""
    return write(tmp_path / "s.toml", """
        gdlab_session = 1

        [[actions]]
        do = "open"
        scenario = "target_z"

        [[actions]]
        do = "step"
        count = 1
        """)


# --- a paused trace ends on the state it reached ---------------------------------------------

def test_paused_replay_prints_the_row_it_reached(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    lines = cli(capsys, "replay", str(one_step_script(tmp_path))).splitlines()
    rows = [line.split() for line in lines[2:-1]]
    assert [r[0] for r in rows] == ["0", "1"]
    assert rows[1][1:4] == [f"{W:.6f}", f"{B1:.6f}", f"{z_at(W, B1):.6f}"]  # 150.217687
    assert len(rows[1]) == 6  # no step column: no step was taken from the state reached
    assert lines[-1] == (f"target_z [fixed]: stopped: paused after 1 update; "
                         f"final output {z_at(W, B1):.6f}")


def test_paused_summary_output_belongs_to_its_parameters(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    lines = cli(capsys, "replay", str(one_step_script(tmp_path)), "--format", "jsonl")
    objs = [json.loads(line) for line in lines.splitlines()]
    summary = objs[-1]["summary"]
    assert summary["stop_reason"] == "paused" and summary["updates"] == 1
    assert summary["final_params"] == {"w": W, "b": pytest.approx(B1, rel=1e-15)}
    assert summary["final_output"] == pytest.approx(z_at(W, B1), rel=1e-14)
    assert objs[-2]["params"] == summary["final_params"]
    assert objs[-2]["values"]["z"] == summary["final_output"]


def test_paused_trace_is_the_run_stopped_at_the_same_iteration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One step paused and `run --set run.max_iterations=1` reach the same state: the same
    records, and summaries that differ only in why they ended."""
    paused = cli(capsys, "replay", str(one_step_script(tmp_path)), "--format", "jsonl")
    ran = cli(capsys, "run", "target_z", "--set", "run.max_iterations=1", "--format", "jsonl")
    p, r = paused.splitlines(), ran.splitlines()
    assert p[:-1] == r[:-1]
    ps, rs = json.loads(p[-1])["summary"], json.loads(r[-1])["summary"]
    assert (ps.pop("stop_reason"), rs.pop("stop_reason")) == ("paused", "max_iterations")
    assert ps == rs


def test_the_apps_export_of_a_paused_session_is_the_replay(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The app exports ``report.to_jsonl([session.outcome()])`` (tui/screens/export.py)."""
    s = Session()
    s.open("target_z")
    s.step(1)
    exported = report.to_jsonl([s.outcome()])
    path = tmp_path / "session.json"
    path.write_text(s.script())
    assert exported == cli(capsys, "replay", str(path), "--format", "jsonl")
    assert [r.iteration for r in s.records] == [0]  # the trace itself is unchanged


def test_a_session_opened_and_not_stepped_ends_on_its_start() -> None:
    s = Session()
    s.open("target_z")
    o = s.outcome()
    assert [r.iteration for r in o.records] == [0] and o.records[0].step == {}
    assert o.summary.updates == 0 and o.summary.final_output == z_at(W, 4.0) == 162.0


@pytest.mark.parametrize("first", [2, 3, 4])  # mid-epoch, at an epoch's start, mid-epoch
def test_looking_at_a_paused_trace_changes_nothing(tmp_path: Path, first: int) -> None:
    """The paused trace's last row is evaluated without a step, without drawing the next
    epoch's order of rows: the steps after it are those of a session never looked at."""
    path = write(tmp_path / "mini.toml", MINI_BATCH_LINE)
    looked, plain = Session(), Session()
    looked.open(str(path))
    plain.open(str(path))
    looked.step(first)
    last = looked.outcome().records[-1]
    looked.step(8 - first)
    plain.step(8)
    same_records(looked.records, plain.records)
    assert last.to_json() == {**plain.records[first].to_json(), "step": {}}


