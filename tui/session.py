"""App sessions: the list of actions that change a computation, applied to a Run; record and replay.

The app and ``gdlab replay`` share this code, so a replayed script gives the numbers the app
showed. No textual import here. The script format is documented in docs/sessions.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine import kinds
from engine import validate as check
from engine.errors import GdlabError
from engine.limits import MAX_STEP_COUNT
from engine.optim import HYPERPARAMETERS
from engine.records import IterationRecord, StepDetail
from engine.run import HYPER_KEYS, RunConfig
from engine.runner import Run
from engine.scenario import BUNDLED_DIR, Scenario, load_scenario, parse_scenario
from engine.trace import Traces

from .session_results import SessionResults

Record = IterationRecord
ACTIONS = ("open", "scenario", "param", "train", "set", "step", "reset")
#: settings the app edits between steps (other [run] keys stay as the scenario has them)
SETTINGS = ("target", "tolerance", "factor", "optimizer", "lr", "batch_size", "max_iterations",
            "schedule", "step_size", "gamma", *HYPER_KEYS)
INT_SETTINGS = ("batch_size", "max_iterations", "step_size")
STEP_CHUNK = 1 << 16  # a long step action settles its trace this many states at a time


class Session(SessionResults):
    """One scenario being explored: its edits, its Run, every record so far (``records``: the
    runs' compact traces, records made on demand) and the action log."""

    def __init__(self, search: list[Path] | None = None, detail: bool = False,
                 trace: Callable[[], Traces] = Traces) -> None:
        self.search = list(search or [])
        self.detail = detail
        self.actions: list[dict[str, Any]] = []
        self.base: Scenario | None = None  # as loaded
        self.scenario: Scenario | None = None  # with edited starting values
        self.variant: str | None = None
        self.overrides: dict[str, Any] = {}  # [run] keys changed in the app (None: removed)
        self.run: Run | None = None
        self._details: list[StepDetail] = []  # of the newest steps of runs replaced by a setting
        # the states since the last reset: every one in the app (Traces); `gdlab replay`
        # passes them on as they settle (tui/replay.py's StreamedTraces)
        self._trace = trace
        self.records: Traces = trace()
        self.generation = 0  # bumped whenever the Run is replaced (stale worker batches)
        self.lock = threading.RLock()  # held while the Run steps or is replaced

    # --- actions ------------------------------------------------------------------------

    def apply(self, action: dict[str, Any]) -> int:
        """Apply one action (as recorded in a script); return how many states it stepped."""
        if not isinstance(action, dict) or action.get("do") not in ACTIONS:
            raise GdlabError(f"unknown action (expected 'do' = one of {', '.join(ACTIONS)})")
        do = action["do"]
        try:
            if do == "open":
                overrides = action.get("set") or []
                if not isinstance(overrides, list):
                    raise GdlabError(f"action {action!r}: 'set' must be a list of KEY=VALUE")
                self.open(str(action["scenario"]), action.get("variant"),
                          [str(o) for o in overrides])
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
            raise GdlabError(f"'{do}' action: missing key {exc}") from None
        except (TypeError, ValueError) as exc:
            raise GdlabError(f"'{do}' action: {exc}") from None
        return 0

    def _log(self, action: dict[str, Any]) -> None:
        self.actions.append(action)

    def open(self, ref: str, variant: str | None = None,
             overrides: list[str] | None = None) -> Scenario:
        """Load a scenario (a bundled name or a file) with ``--set``-style overrides (a sweep's
        point) and start a fresh Run of ``variant``."""
        sc = load_scenario(ref, overrides, search=self.search)
        ref = _reference(sc, ref)
        self._start(sc, variant)
        self._log({"do": "open", "scenario": ref, **({"variant": self.variant} if self.variant else {}),
                   **({"set": list(overrides)} if overrides else {})})
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
            self.records = self._trace()
            self._details = []
            if kinds.get(sc.kind).steps:
                self._new_run(keep=False)
            else:
                self.run = None

    def set_param(self, name: str, value: float) -> None:
        """Change a parameter's starting value, then reset to the new start."""
        self._need_run()  # a scenario whose kind steps
        sc = self._need()
        if name not in sc.params:
            raise GdlabError(f"'{name}' is not a parameter (parameters: {', '.join(sc.params)})")
        with self.lock:
            self.scenario = replace(sc, params={**sc.params, name: float(value)})
            self._new_run(keep=False)
        self._log({"do": "param", "name": name, "value": float(value)})

    def set_train(self, name: str, on: bool) -> None:
        """Train a parameter or hold it fixed, then reset."""
        self._need_run()  # a scenario whose kind steps
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
        self._need_run()
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
        return how many. The trace settles every ``STEP_CHUNK`` states (a streamed one passes
        them on), so a long step action never holds them all."""
        run = self._need_run()
        taken = 0
        with self.lock:
            while taken < count and not run.stopped:
                before = len(run.trace)
                try:
                    run.advance(min(STEP_CHUNK, count - taken))
                finally:
                    done = len(run.trace) - before
                    taken += done
                    self.commit(done)
                    self.records.settle()
        return taken

    def commit(self, count: int) -> None:
        """Log ``count`` states stepped elsewhere (the app's worker): the Run's trace, which is
        the session's, holds them already.

        Consecutive steps are logged as one action, up to MAX_STEP_COUNT steps each (the most
        a script may ask of one action), so that every script the app writes can be replayed.
        """
        if count <= 0:
            return
        last = self.actions[-1] if self.actions else None
        n = count
        if last is not None and last.get("do") == "step":
            more = min(n, MAX_STEP_COUNT - int(last.get("count", 1)))
            last["count"] = int(last.get("count", 1)) + more
            n -= more
        while n > 0:
            self._log({"do": "step", "count": min(n, MAX_STEP_COUNT)})
            n -= min(n, MAX_STEP_COUNT)

    def reset(self) -> None:
        """Back to the starting values with the current settings; the trace starts again."""
        self._need_run()
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
            self.records = self._trace()
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


def _reference(sc: Scenario, ref: str) -> str:
    """How a script names a scenario: a bundled one by name, any other by its absolute path."""
    if sc.path is not None and sc.path.resolve().parent == BUNDLED_DIR:
        return sc.path.stem
    return str(sc.path.resolve()) if sc.path is not None else ref
