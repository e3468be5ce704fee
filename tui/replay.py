"""``gdlab replay``: read a session script within its limits, replay it, print the trace.

The script is checked before anything runs (its size, nesting, actions, keys and step counts,
engine/limits.py). The trace is then printed as the app showed it, record by record: a first
pass replays the script without printing, so that a mistake anywhere in it is reported
before any output (never half a table) and the table's column widths are known; a second
pass prints. A trace short enough to keep (``KEEP`` records) is printed from the first pass
directly, so a usual script runs once, and a script of millions of steps runs in constant
memory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from engine import validate as check
from engine.errors import GdlabError
from engine.files import read_text_limited
from engine.limits import (
    MAX_SCRIPT_ACTIONS,
    MAX_SCRIPT_BYTES,
    MAX_SCRIPT_STEPS,
    MAX_STEP_COUNT,
)
from engine.records import IterationRecord as Record
from engine.trace import Traces

from . import report
from .formatting import output_width
from .scripts import FORMAT_VERSION
from .session import ACTIONS, Session

KEEP = 10_000  # records of the final trace the first pass keeps to print without a second


# --- the script -------------------------------------------------------------------------------

def _text(v: Any, at: str) -> None:
    if not isinstance(v, str):
        raise check.fail(at, "a string", v, wrong_type=True)


def _optional_text(v: Any, at: str) -> None:
    if v is not None:
        _text(v, at)


def _count(v: Any, at: str) -> None:
    check.integer(v, at, low=0, high=MAX_STEP_COUNT)


def _setting(v: Any, at: str) -> None:
    """A setting's value has the shape of a [run] value; the scenario's checks judge the
    number itself when the action runs (``nesterov = "false"`` is refused there)."""
    scalar = (type(None), bool, int, float, str)
    if not (isinstance(v, scalar) or (isinstance(v, list)
                                      and all(isinstance(x, scalar) for x in v))):
        raise check.fail(at, "a number, a string, true or false, null, or a list of numbers",
                         v, wrong_type=True)


#: each action's keys: key -> (required, the check: engine/validate.py's, as a scenario's)
ACTION_KEYS: dict[str, dict[str, tuple[bool, Callable[[Any, str], Any]]]] = {
    "open": {"scenario": (True, _text), "variant": (False, _optional_text)},
    "scenario": {"toml": (True, _text), "variant": (False, _optional_text)},
    "param": {"name": (True, _text), "value": (True, check.finite)},
    "train": {"name": (True, _text), "on": (True, check.boolean)},
    "set": {"key": (True, _text), "value": (False, _setting)},
    "step": {"count": (False, _count)},
    "reset": {},
}


def check_action(action: Any) -> dict[str, Any]:
    """Refuse an action of a script that is not one the app writes: its 'do', its keys, the
    type of each value (checked as a scenario's), and a step count within MAX_STEP_COUNT.
    Returns the action."""
    if not isinstance(action, dict) or action.get("do") not in ACTIONS:
        shown = repr(action)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise GdlabError(f"unknown action {shown} (expected a table whose 'do' is one of "
                         f"{', '.join(ACTIONS)})")
    do = action["do"]
    keys = ACTION_KEYS[do]
    for key, value in action.items():
        if key == "do":
            continue
        if key not in keys:
            expected = ", ".join(keys) or "no other key"
            raise GdlabError(f"'{do}' action: unknown key '{key}' (expected: {expected})")
        keys[key][1](value, f"'{do}' action: key '{key}'")
    for key, (required, _) in keys.items():
        if required and key not in action:
            raise GdlabError(f"'{do}' action: missing key '{key}'")
    return action


def load_script(path: Path) -> list[dict[str, Any]]:
    """Read a replay script (JSON, or TOML with [[actions]]) and check every action (a network
    session's as they are applied); raise GdlabError naming the file, the action and the limit
    if it is malformed."""
    text = read_text_limited(path, MAX_SCRIPT_BYTES, "a session script")
    return parse_script(text, path, toml=Path(path).suffix == ".toml")


def parse_script(text: str, path: str | Path = "<script>", toml: bool = False
                 ) -> list[dict[str, Any]]:
    """The checked actions of a script's text (``path`` names it in messages)."""
    try:
        data = tomllib.loads(text) if toml else json.loads(text)
    except RecursionError:  # deeper than Python's parser goes, so far deeper than the limit
        raise GdlabError(f"{path}: tables or arrays nested more than {check.MAX_DEPTH} deep "
                         "(the limit)") from None
    except ValueError as exc:  # JSONDecodeError, TOMLDecodeError, an integer of 5,000 digits
        raise GdlabError(f"{path}: not a session script ({exc})") from None
    check.check_limits(data, str(path))  # as a scenario file's nesting (engine/validate.py)
    if not isinstance(data, dict) or data.get("gdlab_session") != FORMAT_VERSION:
        raise GdlabError(f"{path}: not a session script (expected gdlab_session = {FORMAT_VERSION})")
    actions = data.get("actions")
    if not isinstance(actions, list) or not actions:
        raise GdlabError(f"{path}: 'actions' must be a non-empty list")
    if len(actions) > MAX_SCRIPT_ACTIONS:
        raise GdlabError(f"{path}: {len(actions):,} actions (the limit is {MAX_SCRIPT_ACTIONS:,} "
                         "in a session script)")
    from .network_session import is_network_script

    if is_network_script(actions):  # its actions are checked as tui/network_session.py applies them
        return actions
    steps = 0
    for i, action in enumerate(actions):
        try:
            check_action(action)
        except GdlabError as exc:
            raise GdlabError(f"{path}: action {i + 1}: {exc}") from None
        if action["do"] == "step":
            steps += int(action.get("count", 1))
            if steps > MAX_SCRIPT_STEPS:
                raise GdlabError(f"{path}: action {i + 1}: the step actions ask for more than "
                                 f"{MAX_SCRIPT_STEPS:,} steps (the limit for a session script)")
    return actions


def replay(actions: list[dict[str, Any]], search: list[Path] | None = None,
           trace: Callable[[], Traces] = Traces) -> Session:
    """Apply every action to a fresh session and return it (``trace``: see Session)."""
    s = Session(search, trace=trace)
    _apply_all(s, actions)
    return s


def _apply_all(s: Session, actions: list[dict[str, Any]]) -> None:
    for i, a in enumerate(actions):
        try:
            s.apply(check_action(a))
        except GdlabError as exc:
            raise GdlabError(f"action {i + 1}: {exc}") from None


# --- the trace, streamed ----------------------------------------------------------------------

class StreamedTraces(Traces):
    """A Session's states since the last reset (the runs' compact traces), passed on instead
    of kept.

    When the session's steps settle, every state held but the newest goes to ``sink`` as its
    record and the traces forget it (the session may still withdraw the newest one: a settings
    change after the run stopped evaluates its final state again). Holds the first record, the
    newest state and a count, nothing more.
    """

    def __init__(self, sink: Callable[[Record], None]) -> None:
        super().__init__()
        self.sink = sink
        self.first: Record | None = None
        self.sent = 0  # states passed on

    def settle(self, last_too: bool = False) -> None:
        held = [(p, n) for p, n in self.held() if n > p.base]
        for k, (part, n) in enumerate(held):
            newest = k == len(held) - 1 and not last_too
            for i in range(part.base, n - 1 if newest else n):
                r = part.record(i)
                if self.sent == 0:
                    self.first = r
                self.sink(r)
                self.sent += 1
            part.drop(keep_last=newest)

    def flush(self) -> None:
        """Pass the newest state on: the replay is over."""
        self.settle(last_too=True)

    def __getitem__(self, i: int) -> Record:  # type: ignore[override]
        if i == 0 and self.first is not None:
            return self.first
        return super().__getitem__(i)


class _Pass:
    """One replay of a script: numbers every trace the session starts, and hands the records
    of trace number ``wanted`` (None: of every trace) to ``take``; ``on_new`` is called when
    such a trace starts."""

    def __init__(self, take: Callable[[Record], None], wanted: int | None = None,
                 on_new: Callable[[], None] = lambda: None) -> None:
        self.take, self.wanted, self.on_new = take, wanted, on_new
        self.generation = 0
        self.trace: StreamedTraces | None = None
        self.session: Session | None = None

    def new_trace(self) -> StreamedTraces:
        self.generation += 1
        wanted = self.wanted is None or self.generation == self.wanted
        self.trace = StreamedTraces(self.take if wanted else lambda r: None)
        if wanted:
            self.on_new()
        return self.trace

    def run(self, actions: list[dict[str, Any]]) -> tuple[Session, StreamedTraces]:
        self.session = Session(trace=self.new_trace)
        _apply_all(self.session, actions)
        assert self.trace is not None
        self.trace.flush()
        return self.session, self.trace


class _Keep:
    """What the first pass keeps of each trace: its records while there are at most ``keep``,
    then only the widest cell of every column (for the second pass's table)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.records: list[Record] | None = []
        self.meter: report.WidthMeter | None = None
        self.run = _Pass(self.take, on_new=self.restart)

    def restart(self) -> None:
        self.records, self.meter = [], None

    def take(self, r: Record) -> None:
        if self.records is None:
            assert self.meter is not None
            self.meter.add(r)
            return
        self.records.append(r)
        if len(self.records) > self.keep:
            assert self.run.session is not None
            self.meter = report.WidthMeter(self.run.session.spec(None, []))
            for k in self.records:
                self.meter.add(k)
            self.records = None


def write_replay(actions: list[dict[str, Any]], fmt: str, out: TextIO, keep: int = KEEP,
                 width: int | None = None) -> None:
    """Replay ``actions`` and write the final trace in ``fmt`` (table, csv, jsonl) to ``out``:
    byte for byte what ``report`` (and so the app's export) writes for the same trace; a
    table wider than ``width`` continues in blocks that fit."""
    first = _Keep(keep)
    s, trace = first.run.run(actions)
    last, summary = s.end(len(trace))  # a paused trace ends on the row of its state
    if first.records is not None:  # short enough: printed from the first pass
        o = s.spec(summary, first.records + ([last] if last is not None else []))
        out.write(report.table(o, width=width) if fmt == "table"
                  else report.to_csv([o]) if fmt == "csv" else report.to_jsonl([o]))
        return
    spec = s.spec(None, [])
    assert first.meter is not None
    if last is not None:
        first.meter.add(last)
    writer = report.TableWriter(out, spec, first.meter.widths, width) if fmt == "table" \
        else report.CsvWriter(out, spec) if fmt == "csv" else report.JsonlWriter(out, spec)
    s2, trace2 = _Pass(writer.add, wanted=first.run.generation).run(actions)
    last, summary = s2.end(len(trace2))
    if last is not None:
        writer.add(last)
    writer.end(summary)


def replay_main(args: argparse.Namespace) -> int:
    """``gdlab replay SCRIPT [--format]``: print the replayed trace as the app showed it."""
    from .network_session import is_network_script, replay_network_main

    actions = load_script(args.script)
    fmt = getattr(args, "format", "table")
    width = output_width(sys.stdout)
    if is_network_script(actions):
        return replay_network_main(actions, fmt, width)
    write_replay(actions, fmt, sys.stdout, width=width)
    return 0
