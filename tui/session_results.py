"""What a session tells the views: the app's edits in words, the title in force, each variant's
configuration for compare, and the trace so far as a report Outcome or a script."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from engine.optim import HYPERPARAMETERS
from engine.records import GraphSummary, IterationRecord
from engine.run import HYPER_KEYS, RunConfig
from engine.scenario import Scenario
from engine.trace import Traces

from . import report
from .scripts import script_text

Record = IterationRecord


class SessionResults:
    """The part of ``Session`` that reads it for the views (it changes nothing; it uses the
    session's ``_need``, ``_need_run`` and ``config``)."""

    actions: list[dict[str, Any]]
    base: Scenario | None
    scenario: Scenario | None
    variant: str | None
    overrides: dict[str, Any]
    records: Traces
    lock: threading.RLock

    # --- what the app changed -----------------------------------------------------------

    def edits(self) -> list[str]:
        """The changes made in the app to the scenario as loaded: "target = 140", "start b = 3"."""
        if self.base is None or self.scenario is None:
            return []
        out = [f"start {p} = {v:g}" for p, v in self.scenario.params.items()
               if np.ndim(v) == 0 and v != self.base.params.get(p)]
        for k, v in self.overrides.items():
            text = "the default" if v is None else ", ".join(map(str, v)) \
                if isinstance(v, list | tuple) else f"{v:g}" if isinstance(v, float) else str(v)
            out.append(f"{k} = {text}")
        return out

    def title(self) -> str:
        """The title of the run in force: the scenario's, unless an edit made it untrue.

        A target-rule title names the target and what is trained ("Drive z to 150 by changing
        b"); after either is edited the title is written from the settings in force.
        """
        sc = self._need()
        cfg, base = self.config(), sc.config(self.variant)
        if cfg.rule == "target" and (cfg.target, cfg.train, cfg.output) != \
                (base.target, base.train, base.output):
            return f"Drive {cfg.output} to {cfg.target:g} by changing {' and '.join(cfg.train)}"
        return sc.title

    def compare_configs(self) -> dict[str, RunConfig]:
        """Each variant's configuration with the app's changes: the edited starts and settings,
        except the keys a variant sets itself (what it compares) and hyperparameters its
        optimizer does not take."""
        sc = self._need()
        out = {}
        for v, tables in sc.variants.items():
            own = tables.get("run", {})
            table = sc.run_table(v)
            mine = {k: x for k, x in self.overrides.items() if k not in own}
            table.update({k: x for k, x in mine.items() if k not in HYPER_KEYS})
            takes = HYPERPARAMETERS.get(str(table.get("optimizer", "sgd")), ())
            table.update({k: x for k, x in mine.items() if k in HYPER_KEYS and k in takes})
            table = {k: x for k, x in table.items() if x is not None}
            out[v] = replace(sc, tables={**sc.tables, "run": table}, variants={}).config(None)
        return out

    # --- results ------------------------------------------------------------------------

    def outcome(self) -> report.Outcome:
        """The trace so far as a report Outcome. A run still going ends as 'paused', on the state
        it reached: that state's row (no step taken from it) ends the trace, and the summary's
        output is that row's, as a run stopped at the same iteration would end."""
        with self.lock:  # the app's worker may be stepping this run
            last, summary = self.end(len(self.records))  # a step from each state so far
            records = self.records.snapshot([last] if last is not None else [])
        return self.spec(summary, records)

    def end(self, updates: int) -> tuple[Record | None, GraphSummary]:
        """How the trace ends after ``updates`` updates: (None, the run's own summary) once it
        has stopped; else ('paused'): the row of the state it reached (Run.peek: no step
        taken) that ends the trace, and a summary whose output is that row's."""
        run = self._need_run()
        if run.summary is not None:
            return None, run.summary
        last = run.peek()
        return last, GraphSummary(
            scenario=run.scenario.name, variant=self.variant, stop_reason="paused",
            updates=updates, final_params=dict(last.params), final_output=last.output)

    def spec(self, summary: GraphSummary | None, records: Sequence[Record]) -> report.Outcome:
        """The Outcome of the run in force with the given summary and records."""
        run = self._need_run()
        return report.Outcome(self.variant, run.cfg, list(run.graph.params), records, summary)

    def as_overrides(self) -> list[str]:
        """The app's edits (starting values, [run] settings) as ``--set`` overrides, so that a
        sweep opened from the run view sweeps what the view shows."""
        from engine.sweep.grid import toml_value

        out = []
        base, sc = self.base, self.scenario
        if base is not None and sc is not None:
            for p, x in sc.params.items():
                if getattr(x, "ndim", 0) == 0 and x != base.params.get(p):
                    out.append(f"params.{p}={toml_value(float(x))}")
        out += [f"run.{k}={toml_value(x)}" for k, x in self.overrides.items() if x is not None]
        return out

    def script(self) -> str:
        """The session as a replay script (JSON)."""
        return script_text(self.actions)
