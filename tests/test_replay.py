"""gdlab replay under hostile scripts: every limit refused in one line, and the streamed trace
byte for byte what the in-memory trace printed, in constant memory."""

from __future__ import annotations

import gc
import io
import json
import os
from pathlib import Path

import pytest
from test_cli import user_error

import tui.session
from engine.errors import GdlabError
from engine.limits import (
    MAX_DEPTH,
    MAX_SCRIPT_ACTIONS,
    MAX_SCRIPT_BYTES,
    MAX_SCRIPT_STEPS,
    MAX_STEP_COUNT,
)
from engine.records import IterationRecord as Record
from tui import report
from tui.replay import StreamedTraces, load_script, replay, write_replay
from tui.session import Session


def script(tmp_path: Path, actions: list, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"gdlab_session": 1, "actions": actions}), encoding="utf-8")
    return path


def in_memory(actions: list, fmt: str) -> str:
    """What gdlab replay printed before it streamed: every record kept, then rendered."""
    o = replay(actions).outcome()
    return report.table(o) if fmt == "table" else report.to_csv([o]) if fmt == "csv" \
        else report.to_jsonl([o])


def streamed(actions: list, fmt: str, keep: int) -> str:
    out = io.StringIO()
    write_replay(actions, fmt, out, keep=keep)
    return out.getvalue()


SCRIPTS = {
    # the settings change after two steps, the stop's row evaluated again after a change
    "target_z": [{"do": "open", "scenario": "target_z", "variant": "fixed"},
                 {"do": "step", "count": 2}, {"do": "set", "key": "factor", "value": "recomputed"},
                 {"do": "step", "count": 40}, {"do": "set", "key": "target", "value": 140.0},
                 {"do": "step", "count": 3}],
    # a reset in the middle (its earlier rows are not printed); a schedule adds the lr column
    "rosenbrock": [{"do": "open", "scenario": "rosenbrock"}, {"do": "step", "count": 30},
                   {"do": "reset"}, {"do": "step", "count": 20},
                   {"do": "set", "key": "schedule", "value": "step"},
                   {"do": "set", "key": "gamma", "value": 0.5}, {"do": "step", "count": 25}],
    # mini-batches switched on later: the epoch column appears for the whole trace
    "regression": [{"do": "open", "scenario": "regression_linear"}, {"do": "step", "count": 7},
                   {"do": "set", "key": "batch_size", "value": 10}, {"do": "step", "count": 30},
                   {"do": "param", "name": next(iter(["w"])), "value": 0.25},
                   {"do": "step", "count": 12}, {"do": "train", "name": "w", "on": False},
                   {"do": "step", "count": 5}],
    # a run stopped by max_iterations, then nothing after it
    "square": [{"do": "open", "scenario": "gd_square"}, {"do": "step", "count": 1000}],
    # no steps at all after the last reset
    "empty": [{"do": "open", "scenario": "target_z"}, {"do": "step", "count": 3},
              {"do": "reset"}],
}


@pytest.mark.parametrize("fmt", ["table", "csv", "jsonl"])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_streamed_trace_is_byte_for_byte_the_kept_one(name, fmt):
    actions = SCRIPTS[name]
    want = in_memory(actions, fmt)
    assert want.endswith("\n")
    # keep=0: every record goes through the two-pass stream; the default keeps short traces
    assert streamed(actions, fmt, keep=0) == want
    assert streamed(actions, fmt, keep=3) == want
    assert streamed(actions, fmt, keep=10_000) == want


def test_a_long_replay_holds_a_few_records_at_a_time(monkeypatch):
    # 20,000 records streamed: every 2,000 the records alive are counted (among all the objects
    # the garbage collector tracks); kept, there would be 20,000 of them
    toml = ('[params]\nx = 1.0\n[graph]\nJ = "x**2"\n[run]\nrule = "gradient"\noutput = "J"\n'
            'lr = 1e-6\nmax_iterations = 1000000\n')
    actions = [{"do": "scenario", "toml": toml}, {"do": "step", "count": 20_000}]
    alive: list[int] = []
    add = report.JsonlWriter.add

    def counting_add(self, r: Record) -> None:
        if r.iteration % 2_000 == 0:
            alive.append(sum(1 for o in gc.get_objects() if type(o) is Record))
        add(self, r)

    monkeypatch.setattr(report.JsonlWriter, "add", counting_add)
    # the session's compact trace settles every STEP_CHUNK states: 1,000 here, so that the
    # 20,000 steps pass through it in 20 chunks; the states it holds are counted at each
    monkeypatch.setattr(tui.session, "STEP_CHUNK", 1_000)
    held: list[int] = []
    settle = StreamedTraces.settle

    def counting_settle(self: StreamedTraces, last_too: bool = False) -> None:
        held.append(sum(n - p.base for p, n in self.held()))
        settle(self, last_too)

    monkeypatch.setattr(StreamedTraces, "settle", counting_settle)
    gc.collect()
    before = sum(1 for o in gc.get_objects() if type(o) is Record)  # left by other tests
    out = io.StringIO()
    write_replay(actions, "jsonl", out, keep=100)
    # 20,000 rows of steps, the row of the state the paused trace reached (iteration 20,000),
    # the summary; rows 0, 2,000, ..., 20,000 counted
    assert out.getvalue().count("\n") == 20_000 + 1 + 1 and len(alive) == 11
    # a record is made only as it is written: a few alive at a time, never a chunk of them
    assert max(alive) - before <= 5, (before, alive)
    # a step action holds at most STEP_CHUNK states (and the newest one before them)
    assert len(held) >= 20 and max(held) <= 1_000 + 1, held


def test_session_steps_are_logged_within_the_per_action_limit(monkeypatch):
    import tui.session

    monkeypatch.setattr(tui.session, "MAX_STEP_COUNT", 5)
    s = Session()
    s.open("rosenbrock")  # 10,000 iterations: it does not stop in 12
    s.step(3)
    s.step(9)  # 3 + 9 = 12 steps: logged as 5, 5, 2
    assert [a.get("count") for a in s.actions if a["do"] == "step"] == [5, 5, 2]
    assert len(s.records) == 12


# --- a script that is not what the app writes: one line, exit status 2 -------------------------

BAD_ACTIONS = [
    ({"do": "step", "count": MAX_STEP_COUNT + 1},
     f"'step' action: key 'count': expected an integer in [0, {MAX_STEP_COUNT:,}], "
     f"got {MAX_STEP_COUNT + 1}"),
    ({"do": "step", "count": 1e300}, "key 'count': expected an integer in [0, 10,000,000], "
                                     "got a number (1e+300)"),
    ({"do": "step", "count": 3.0}, "key 'count': expected an integer in [0, 10,000,000], "
                                   "got a number (3.0)"),
    ({"do": "step", "count": -1}, "key 'count': expected an integer in [0, 10,000,000], got -1"),
    ({"do": "step", "count": "5"}, "key 'count': expected an integer in [0, 10,000,000], "
                                   "got a string '5'"),
    ({"do": "step", "count": True}, "key 'count': expected an integer in [0, 10,000,000], "
                                    "got a boolean (true)"),
    ({"do": "train", "name": "b", "on": "false"},
     "'train' action: key 'on': expected true or false, got a string 'false'"),
    ({"do": "param", "name": "b", "value": 10 ** 400},
     "'param' action: key 'value': expected a finite number, got an integer of 401 digits"),
    ({"do": "param", "name": "b", "value": "4"},
     "key 'value': expected a finite number, got a string '4'"),
    ({"do": "param", "name": "b"}, "'param' action: missing key 'value'"),
    ({"do": "reset", "count": 3}, "'reset' action: unknown key 'count' (expected: "
                                  "no other key)"),
    ({"do": "set", "key": "lr", "value": {"a": 1}}, "'set' action: key 'value': expected a "
                                                    "number, a string, true or false, null, or "
                                                    "a list of numbers, got a table"),
    ({"do": "explode"}, "unknown action {'do': 'explode'}"),
    ([1, 2], "unknown action [1, 2]"),
]


@pytest.mark.parametrize("action,message", BAD_ACTIONS,
                         ids=[str(i) for i in range(len(BAD_ACTIONS))])
def test_bad_actions_are_refused_before_anything_runs(capsys, tmp_path, action, message):
    path = script(tmp_path, [{"do": "open", "scenario": "target_z"}, action])
    line = user_error(capsys, "replay", str(path))
    assert line.startswith(f"gdlab: error: {path}: action 2: "), line
    assert message in line, line
    assert len(line) < 300


def test_json_infinity_and_nan_are_not_numbers(capsys, tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"gdlab_session": 1, "actions": [{"do": "open", "scenario": "target_z"}, '
                    '{"do": "param", "name": "b", "value": NaN}, '
                    '{"do": "step", "count": Infinity}]}')
    assert "'param' action: key 'value': expected a finite number, got nan" in \
        user_error(capsys, "replay", str(path))


def test_step_counts_over_the_script_limit(capsys, tmp_path):
    n = MAX_SCRIPT_STEPS // MAX_STEP_COUNT + 1
    path = script(tmp_path, [{"do": "open", "scenario": "gd_square"}]
                  + [{"do": "step", "count": MAX_STEP_COUNT}] * n)
    line = user_error(capsys, "replay", str(path))
    assert line == f"gdlab: error: {path}: action {n + 1}: the step actions ask for more than " \
                   f"{MAX_SCRIPT_STEPS:,} steps (the limit for a session script)"


def test_too_many_actions(capsys, tmp_path):
    path = script(tmp_path, [{"do": "reset"}] * (MAX_SCRIPT_ACTIONS + 1))
    assert user_error(capsys, "replay", str(path)) == \
        f"gdlab: error: {path}: {MAX_SCRIPT_ACTIONS + 1:,} actions (the limit is " \
        f"{MAX_SCRIPT_ACTIONS:,} in a session script)"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_nesting_beyond_the_limit(capsys, tmp_path, depth):
    # just past the limit (the scenario files' limit: 'actions' is a list in the top table,
    # depth 1), and far deeper than Python's own parser can go
    path = tmp_path / "s.json"
    path.write_text('{"gdlab_session": 1, "actions": ' + "[" * depth + "]" * depth + "}")
    line = user_error(capsys, "replay", str(path))
    assert line == (f"gdlab: error: {path}: 'actions' nests tables or arrays more than "
                    f"{MAX_DEPTH} deep (the limit)" if depth < 1000 else
                    f"gdlab: error: {path}: tables or arrays nested more than {MAX_DEPTH} deep "
                    "(the limit)")


def test_toml_nesting_beyond_the_limit(capsys, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("gdlab_session = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    assert f"nested more than {MAX_DEPTH} deep" in user_error(capsys, "replay", str(path))


def test_a_script_at_the_nesting_limit_is_read(tmp_path):
    note = 0.5
    for _ in range(MAX_DEPTH):  # inside the script's own table: the limit exactly
        note = [note]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"gdlab_session": 1, "note": note,
                                "actions": [{"do": "open", "scenario": "gd_square"}]}))
    assert load_script(path) == [{"do": "open", "scenario": "gd_square"}]
    path.write_text(json.dumps({"gdlab_session": 1, "note": [note],
                                "actions": [{"do": "open", "scenario": "gd_square"}]}))
    with pytest.raises(GdlabError, match="'note' nests tables or arrays more than"):
        load_script(path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(capsys, tmp_path):
    fifo = tmp_path / "s.json"
    os.mkfifo(fifo)
    assert user_error(capsys, "replay", str(fifo)) == \
        f"gdlab: error: {fifo}: not a regular file (a FIFO, a device or a socket is not read)"


def test_dev_zero_is_refused(capsys):
    assert "not a regular file" in user_error(capsys, "replay", "/dev/zero")


def test_a_script_over_the_size_limit(capsys, tmp_path):
    path = tmp_path / "s.json"
    with open(path, "wb") as fh:  # sparse: no disk is used for the hole
        fh.truncate(MAX_SCRIPT_BYTES + 1)
    assert user_error(capsys, "replay", str(path)) == \
        f"gdlab: error: {path}: larger than {MAX_SCRIPT_BYTES:,} bytes (the limit for a " \
        "session script)"


def test_a_huge_integer_in_a_script_is_not_a_script(capsys, tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"gdlab_session": 1, "actions": [{"do": "step", "count": ' + "9" * 5000
                    + "}]}")
    assert "not a session script" in user_error(capsys, "replay", str(path))


def test_a_good_script_still_replays_through_the_command_line(capsys, tmp_path):
    path = script(tmp_path, SCRIPTS["target_z"])
    assert main_out(capsys, "replay", str(path)) == in_memory(SCRIPTS["target_z"], "table")
    toml = tmp_path / "s.toml"
    toml.write_text('gdlab_session = 1\n[[actions]]\ndo = "open"\nscenario = "target_z"\n'
                    '[[actions]]\ndo = "step"\ncount = 3\n')
    # the header, the rows of 3 steps, and the row of the state the paused trace reached
    assert main_out(capsys, "replay", str(toml), "--format", "csv").count("\n") == 1 + 3 + 1


def main_out(capsys, *argv: str) -> str:
    from tui.cli import main

    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_a_scenario_action_past_the_expression_limit(capsys, tmp_path):
    from engine.limits import MAX_EXPRESSION_OPERATIONS

    long_sum = "+".join(["w"] * (MAX_EXPRESSION_OPERATIONS + 2))
    toml = f'[params]\nw = 1.0\n[graph]\nJ = "{long_sum}"\n[run]\nrule = "gradient"\noutput = "J"\n'
    path = script(tmp_path, [{"do": "scenario", "toml": toml}, {"do": "step", "count": 2}])
    line = user_error(capsys, "replay", str(path))
    assert line.startswith("gdlab: error: action 1: <new scenario>: [graph] node 'J': "
                           f"{MAX_EXPRESSION_OPERATIONS + 1} operators and calls (the limit is "), line
