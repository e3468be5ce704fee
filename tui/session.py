"""App sessions: the list of actions that change a computation, applied to a Run; record and replay.

The app and ``gdlab replay`` share this code, so a replayed script gives the numbers the app
showed. No textual import here. The script format is documented in docs/sessions.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine import kinds
from engine import validate as check
from engine.errors import GdlabError
from engine.optim import HYPERPARAMETERS
from engine.records import GraphSummary, IterationRecord, StepDetail
from engine.run import HYPER_KEYS, RunConfig
from engine.runner import Run
from engine.scenario import BUNDLED_DIR, Scenario, load_scenario, parse_scenario
from engine.trace import Traces

from . import report
from .scripts import FORMAT_VERSION, script_text

Record = IterationRecord
ACTIONS = ("open", "scenario", "param", "train", "set", "step", "reset")
#: settings the app edits between steps (other [run] keys stay as the scenario has them)
SETTINGS = ("target", "tolerance", "factor", "optimizer", "lr", "batch_size", "max_iterations",
            "schedule", "step_size", "gamma", *HYPER_KEYS)
INT_SETTINGS = ("batch_size", "max_iterations", "step_size")


class Session:
    """One scenario being explored: its edits, its Run, every record so far (``records``: the
    runs' compact traces, records made on demand) and the action log."""

    def __init__(self, search: list[Path] | None = None, detail: bool = False) -> None:
        self.search = list(search or [])
        self.detail = detail
        self.actions: list[dict[str, Any]] = []
        self.base: Scenario | None = None  # as loaded
        self.scenario: Scenario | None = None  # with edited starting values
        self.variant: str | None = None
        self.overrides: dict[str, Any] = {}  # [run] keys changed in the app (None: removed)
        self.run: Run | None = None
        self.records = Traces()
        self._details: list[StepDetail] = []  # of the newest steps of runs replaced by a setting
        self.generation = 0  # bumped whenever the Run is replaced (stale worker batches)
        self.lock = threading.RLock()  # held while the Run steps or is replaced

    # --- actions ------------------------------------------------------------------------

    def apply(self, action: dict[str, Any]) -> int:
        """Apply one action (as recorded in a script); return how many states it stepped."""
        if not isinstance(action, dict) or action.get("do") not in ACTIONS:
            raise GdlabError(f"unknown action {action!r} (expected 'do' = one of {', '.join(ACTIONS)})")
        do = action["do"]
        try:
            if do == "open":
                self.open(str(action["scenario"]), action.get("variant"))
            elif do == "scenario":
                self.open_text(str(action["toml"]), action.get("variant"))
            elif do == "param":
                self.set_param(str(action["name"]),
                               check.finite(action["value"], f"{do!r} key 'value'"))
            elif do == "train":
                self.set_train(str(action["name"]),
                               check.boolean(action["on"], f"{do!r} key 'on'"))
            elif do == "set":
                self.set(str(action["key"]), action.get("value"))
            elif do == "step":
                return self.step(check.integer(action.get("count", 1),
                                               f"{do!r} key 'count'", low=0))
            elif do == "reset":
                self.reset()
        except KeyError as exc:
            raise GdlabError(f"action {action!r}: missing key {exc}") from None
        except (TypeError, ValueError) as exc:
            raise GdlabError(f"action {action!r}: {exc}") from None
        return 0

    def _log(self, action: dict[str, Any]) -> None:
        self.actions.append(action)

    def open(self, ref: str, variant: str | None = None) -> Scenario:
        """Load a scenario (a bundled name or a file) and start a fresh Run of ``variant``."""
        sc = load_scenario(ref, search=self.search)
        ref = _reference(sc, ref)
        self._start(sc, variant)
        self._log({"do": "open", "scenario": ref, **({"variant": self.variant} if self.variant else {})})
        return sc

    def open_text(self, toml: str, variant: str | None = None) -> Scenario:
        """Start from scenario TOML text (the new-scenario form, before it is saved)."""
        sc = parse_scenario(toml, source="<new scenario>")
        self._start(sc, variant)
        self._log({"do": "scenario", "toml": toml, **({"variant": self.variant} if self.variant else {})})
        return sc

    def _start(self, sc: Scenario, variant: str | None) -> None:
        if variant is None:
            variant = sc.default_variant()
        sc.check_variant(variant)
        with self.lock:
            self.base = self.scenario = sc
            self.variant = variant
            self.overrides = {}
            self.records = Traces()
            self._details = []
            if kinds.get(sc.kind).steps:
                self._new_run(keep=False)
            else:
                self.run = None

    def set_param(self, name: str, value: float) -> None:
        """Change a parameter's starting value, then reset to the new start."""
        sc = self._need()
        if name not in sc.params:
            raise GdlabError(f"'{name}' is not a parameter (parameters: {', '.join(sc.params)})")
        with self.lock:
            self.scenario = replace(sc, params={**sc.params, name: float(value)})
            self._new_run(keep=False)
        self._log({"do": "param", "name": name, "value": float(value)})

    def set_train(self, name: str, on: bool) -> None:
        """Train a parameter or hold it fixed, then reset."""
        sc = self._need()
        if name not in sc.params:
            raise GdlabError(f"'{name}' is not a parameter (parameters: {', '.join(sc.params)})")
        train = [p for p in self.config().train if p != name]
        if on:
            train = [p for p in sc.params if p in train or p == name]
        if not train:
            raise GdlabError("train at least one parameter")
        self._change({"train": train}, keep=False)
        self._log({"do": "train", "name": name, "on": bool(on)})

    def set(self, key: str, value: Any) -> None:
        """Change a [run] setting between steps, keeping the current parameter values."""
        if key not in SETTINGS:
            raise GdlabError(f"'{key}' is not a setting the app changes ({', '.join(SETTINGS)})")
        if isinstance(value, float) and key in INT_SETTINGS and value.is_integer():
            value = int(value)
        if isinstance(value, tuple):
            value = list(value)  # betas as a TOML/JSON list
        changes: dict[str, Any] = {key: value}
        if key == "optimizer":  # hyperparameters of the old optimizer may not apply to the new
            for k in self._table():
                if k in HYPER_KEYS and k not in HYPERPARAMETERS.get(str(value), ()):
                    changes[k] = None
        self._change(changes, keep=True)
        self._log({"do": "set", "key": key, "value": value})

    def _change(self, changes: dict[str, Any], keep: bool) -> None:
        old = dict(self.overrides)
        self.overrides.update(changes)
        try:
            self.config()
        except GdlabError:
            self.overrides = old
            raise
        with self.lock:
            self._new_run(keep=keep)

    def step(self, count: int = 1) -> int:
        """Take up to ``count`` states (fewer if the run stops) into the trace; log them and
        return how many."""
        run = self._need_run()
        with self.lock:
            before = len(run.trace)
            try:
                run.advance(max(0, count))
            finally:
                self.commit(len(run.trace) - before)
        return len(run.trace) - before

    def commit(self, count: int) -> None:
        """Log ``count`` states stepped elsewhere (the app's worker): the Run's trace, which is
        the session's, holds them already."""
        if count <= 0:
            return
        last = self.actions[-1] if self.actions else None
        if last is not None and last.get("do") == "step":
            last["count"] = int(last.get("count", 1)) + count
        else:
            self._log({"do": "step", "count": count})

    def reset(self) -> None:
        """Back to the starting values with the current settings; the trace starts again."""
        self._need()
        with self.lock:
            self._new_run(keep=False)
        self._log({"do": "reset"})

    # --- the Run ------------------------------------------------------------------------

    def _need(self) -> Scenario:
        if self.scenario is None:
            raise GdlabError("no scenario is open (start the script with an 'open' action)")
        return self.scenario

    def _need_run(self) -> Run:
        sc = self._need()
        if self.run is None:
            raise GdlabError(f"{sc.source}: {sc.kind} scenarios are not stepped in a session")
        return self.run

    def _table(self) -> dict[str, Any]:
        sc = self._need()
        table = {**sc.run_table(self.variant), **self.overrides}
        return {k: v for k, v in table.items() if v is not None}

    def effective(self) -> Scenario:
        """The scenario with edited starting values and settings folded into its [run]."""
        sc = self._need()
        new = replace(sc, tables={**sc.tables, "run": self._table()}, variants={})
        new.config(None)
        return new

    def config(self) -> RunConfig:
        """The RunConfig in force (scenario, variant, then the app's changes)."""
        return self.effective().config(None)

    def _new_run(self, keep: bool) -> None:
        """Replace the Run; with ``keep`` continue from the current values and iteration."""
        sc = self.effective()
        cfg = sc.config(None)
        old = self.run
        run = Run(sc, self.variant, config=cfg, detail=self.detail)
        run.scenario = self._need()  # the summary names the scenario as loaded
        if keep and old is not None:
            self._details = [*old.details, *self._details][:4]
            if old.stopped and len(old.trace):
                self.records.pop()  # the final state is evaluated again under the new settings
            run.continue_from(old)  # its values, iteration and epoch count
            first = self.records[0] if self.records else None
            if cfg.factor == "fixed" and first is not None and first.factors \
                    and set(first.factors) == set(cfg.train):
                run.rule.fixed = dict(first.factors)  # the factor of the run's starting point
            if cfg.rule == "gradient" and old.cfg.rule == "gradient" \
                    and old.cfg.optimizer == cfg.optimizer:
                run.rule.optimizer.state = old.rule.optimizer.state
        else:
            self.records = Traces()
            self._details = []
        self.records.extend(run.trace)
        self.run = run
        self.generation += 1

    def step_detail(self, rec: Record | None) -> StepDetail | None:
        """What explains the step of ``rec`` (one of the newest): the optimizer that took it and
        its state around it; None when the run did not keep it."""
        if rec is None or self.run is None:
            return None
        run, older = self.run, self._details  # the worker may replace both: read them once
        for d in [*reversed(run.details), *older]:
            if d.iteration == rec.iteration:
                return d
        return None

    # --- results ------------------------------------------------------------------------

    def outcome(self) -> report.Outcome:
        """The trace so far as a report Outcome. A run still going ends as 'paused', on the state
        it reached: that state's row (no step taken from it) ends the trace, and the summary's
        output is that row's, as a run stopped at the same iteration would end."""
        run = self._need_run()
        with self.lock:  # the app's worker may be stepping this run
            summary = run.summary
            extra = []
            if summary is None:
                last = run.peek()
                extra.append(last)
                summary = GraphSummary(
                    scenario=run.scenario.name, variant=self.variant, stop_reason="paused",
                    updates=len(self.records),  # a paused run took a step from each state
                    final_params=dict(last.params), final_output=last.output,
                )
            records = self.records.snapshot(extra)
        return report.Outcome(self.variant, run.cfg, list(run.graph.params), records, summary)

    def script(self) -> str:
        """The session as a replay script (JSON)."""
        return script_text(self.actions)


def _reference(sc: Scenario, ref: str) -> str:
    """How a script names a scenario: a bundled one by name, any other by its absolute path."""
    if sc.path is not None and sc.path.resolve().parent == BUNDLED_DIR:
        return sc.path.stem
    return str(sc.path.resolve()) if sc.path is not None else ref


def load_script(path: Path) -> list[dict[str, Any]]:
    """Read a replay script (JSON, or TOML with [[actions]]); raise GdlabError if malformed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GdlabError(f"{path}: cannot read the script ({exc})") from None
    try:
        data = tomllib.loads(text) if Path(path).suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GdlabError(f"{path}: not a session script ({exc})") from None
    if not isinstance(data, dict) or data.get("gdlab_session") != FORMAT_VERSION:
        raise GdlabError(f"{path}: not a session script (expected gdlab_session = {FORMAT_VERSION})")
    actions = data.get("actions")
    if not isinstance(actions, list) or not actions:
        raise GdlabError(f"{path}: 'actions' must be a non-empty list")
    return actions


def replay(actions: list[dict[str, Any]], search: list[Path] | None = None) -> Session:
    """Apply every action to a fresh session and return it."""
    s = Session(search)
    for i, a in enumerate(actions):
        try:
            s.apply(a)
        except GdlabError as exc:
            raise GdlabError(f"action {i + 1}: {exc}") from None
    return s


def replay_main(args: argparse.Namespace) -> int:
    """``gdlab replay SCRIPT [--format]``: print the replayed trace as the app showed it."""
    from .graph_stream import export_csv, export_jsonl, export_table

    actions = load_script(args.script)
    fmt = getattr(args, "format", "table")
    from .network_session import is_network_script

    if is_network_script(actions):
        from .network_session import replay_network_main

        return replay_network_main(actions, fmt)
    s = replay(actions)
    o = s.outcome()
    if fmt == "csv":
        export_csv([o], sys.stdout)
    elif fmt == "jsonl":
        export_jsonl([o], sys.stdout)
    else:
        export_table(o, sys.stdout)
    return 0
