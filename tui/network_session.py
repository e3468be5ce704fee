"""Network sessions: a network scenario being explored, stepped and edited; record and replay.

The network screen and ``gdlab replay`` share this code, so a replayed script gives the numbers
the app showed. A session holds the scenario as loaded, the edits made to it (any [data],
[model] or [run] key; each one starts a fresh run), an ``engine.train.Trainer`` and every
record so far. Actions, as a script records them (docs/sessions.md):

    {"do": "open", "scenario": "spiral", "variant": "playground"}
    {"do": "edit", "changes": {"model.layers": [2, 8, 1]}}   any keys at once; a fresh run
    {"do": "seed", "value": 7}           new initial weights (the model's seed); a fresh run
    {"do": "reset"}                      the same initial weights again; a fresh run
    {"do": "step", "unit": "batch", "count": 25}    or "unit": "epoch"

No textual import here.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import kinds
from engine import validate as check
from engine.errors import GdlabError
from engine.kinds.network import NetworkScenario
from engine.limits import MAX_NETWORK_STEPS
from engine.records import BatchRecord, EpochRecord, NetworkSummary
from engine.scenario import BUNDLED_DIR, load_scenario

from .network_report import NetworkOutcome
from .scripts import script_text

if TYPE_CHECKING:
    from engine.data.dataset import Dataset
    from engine.models.dense import DenseNet
    from engine.train import Trainer

ACTIONS = ("open", "edit", "seed", "reset", "step")
#: the keys the app edits, per table (any of them starts a fresh run)
EDITABLE = {
    "data": ("source", "n", "noise", "train_fraction", "features"),
    "model": ("layers", "activation", "l2", "l1", "seed"),
    "run": ("lr", "batch_size", "optimizer"),
}
POINTS_PER_EPOCH = 100  # batch losses recorded per epoch (at most), for the live curve


class NetworkSession:
    """One network scenario being explored: its edits, its Trainer, its records, its actions."""

    def __init__(self, search: list[Path] | None = None) -> None:
        self.search = list(search or [])
        self.actions: list[dict[str, Any]] = []
        self.base: NetworkScenario | None = None  # as loaded
        self.scenario: NetworkScenario | None = None  # with the edits folded in
        self.variant: str | None = None
        self.edits: dict[str, dict[str, Any]] = {}
        self.trainer: Trainer | None = None
        self.net: DenseNet | None = None
        self.data: Dataset | None = None
        self.epochs: list[EpochRecord] = []
        self.batches: list[BatchRecord] = []
        self.batch_loss: float | None = None  # of the last mini-batch taken
        self.generation = 0  # bumped whenever the run is replaced
        self.lock = threading.RLock()  # held while the run steps or is replaced
        self._loaded: dict[str, Dataset] = {}  # data by [data] table: edits reuse it

    # --- actions ------------------------------------------------------------------------

    def apply(self, action: dict[str, Any]) -> list[Any]:
        """Apply one action (as recorded in a script); return the records it produced."""
        if not isinstance(action, dict) or action.get("do") not in ACTIONS:
            raise GdlabError(f"unknown action {action!r} (expected 'do' = one of "
                             f"{', '.join(ACTIONS)})")
        do = action["do"]
        try:
            if do == "open":
                self.open(str(action["scenario"]), action.get("variant"))
            elif do == "edit":
                changes = action["changes"]
                if not isinstance(changes, dict):
                    raise GdlabError(f"action {action!r}: 'changes' must be a table of "
                                     "'table.key' = value")
                self.edit(changes)
            elif do == "seed":
                self.new_seed(check.integer(action["value"], "'seed' key 'value'", low=0))
            elif do == "reset":
                self.reset()
            else:
                unit = action.get("unit", "batch")
                count = check.integer(action.get("count", 1), "'step' key 'count'", low=0,
                                      high=MAX_NETWORK_STEPS)
                if unit == "batch":
                    return self.step_batches(count)
                if unit == "epoch":
                    out: list[Any] = []
                    for _ in range(count):
                        out += self.step_epoch()
                    return out
                raise GdlabError(f"action {action!r}: 'unit' must be 'batch' or 'epoch'")
        except KeyError as exc:
            raise GdlabError(f"action {action!r}: missing key {exc}") from None
        except (TypeError, ValueError) as exc:
            raise GdlabError(f"action {action!r}: {exc}") from None
        return []

    def _log(self, action: dict[str, Any]) -> None:
        self.actions.append(action)

    def open(self, ref: str, variant: str | None = None) -> NetworkScenario:
        """Load a network scenario (a bundled name or a file) and start a fresh run."""
        sc = load_scenario(ref, search=self.search)
        if not isinstance(sc, NetworkScenario):
            raise GdlabError(f"{sc.source}: a {sc.kind} scenario, not a network scenario")
        self.start(sc, variant)
        self._log({"do": "open", "scenario": reference(sc, ref),
                   **({"variant": self.variant} if self.variant else {})})
        return sc

    def start(self, sc: NetworkScenario, variant: str | None) -> None:
        """Explore ``sc`` (already loaded) from its ``variant`` (default: its first)."""
        if variant is None:
            variant = sc.default_variant()
        sc.check_variant(variant)
        with self.lock:
            self.base, self.variant, self.edits = sc, variant, {}
            self.scenario = self._effective({})
            self._new_run()

    def edit(self, changes: dict[str, Any]) -> None:
        """Change [data], [model] or [run] keys at once ({"model.layers": [2, 8, 1], ...}; None:
        back to the scenario's own value) and start a fresh run. A change the scenario rejects
        raises GdlabError (naming the key) and changes nothing."""
        edits = {t: dict(ks) for t, ks in self.edits.items()}
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            table, _, key = str(name).partition(".")
            if key not in EDITABLE.get(table, ()):
                allowed = "; ".join(f"[{t}] {', '.join(ks)}" for t, ks in EDITABLE.items())
                raise GdlabError(f"'{name}' is not a key the app edits ({allowed})")
            if isinstance(value, tuple):
                value = list(value)
            edits.setdefault(table, {})[key] = value
            clean[f"{table}.{key}"] = value
        if not clean:
            return
        sc = self._effective(edits)  # raises ScenarioError (a GdlabError) on a bad value
        with self.lock:
            self.edits, self.scenario = edits, sc
            self._new_run()
        self._log({"do": "edit", "changes": clean})

    def new_seed(self, seed: int) -> None:
        """New initial weights: the model's seed (and the order of the examples, when [run]
        has no seed of its own) becomes ``seed``; a fresh run."""
        edits = {t: dict(ks) for t, ks in self.edits.items()}
        edits.setdefault("model", {})["seed"] = int(seed)
        sc = self._effective(edits)  # a seed out of range is one clear error
        with self.lock:
            self.edits, self.scenario = edits, sc
            self._new_run()
        self._log({"do": "seed", "value": int(seed)})

    def reset(self) -> None:
        """A fresh run from the same initial weights (the same seed)."""
        self._need()
        with self.lock:
            self._new_run()
        self._log({"do": "reset"})

    def step_batches(self, count: int = 1, halt: Callable[[], bool] | None = None
                     ) -> list[Any]:
        """Take up to ``count`` mini-batches (fewer when training ends or ``halt()``); log and
        return their records."""
        out: list[Any] = []
        taken = 0
        with self.lock:
            trainer = self.prepare()
            for _ in range(count):
                if trainer.finished or (halt is not None and halt()):
                    break
                out += self._took(trainer.step_batch())
                taken += 1
        self._log_step("batch", taken)
        return out

    def step_epoch(self, halt: Callable[[], bool] | None = None) -> list[Any]:
        """Take mini-batches to the end of the epoch (or until ``halt()``); log and return the
        records (a script records a whole epoch as one, an interrupted one as its batches)."""
        with self.lock:
            trainer = self.prepare()
            if trainer.finished:
                return []
            recs, taken = trainer.step_epoch(halt)
            out = self._took(recs)
        if any(isinstance(r, EpochRecord) and r.epoch for r in out):
            self._log_step("epoch", 1)
        else:
            self._log_step("batch", taken)
        return out

    def _log_step(self, unit: str, count: int) -> None:
        """Log ``count`` steps, merged into the last action when it is a step of the same unit,
        at most MAX_NETWORK_STEPS an action (what replay accepts)."""
        while count > 0:
            last = self.actions[-1] if self.actions else None
            if last is not None and last.get("do") == "step" and last.get("unit") == unit \
                    and int(last.get("count", 1)) < MAX_NETWORK_STEPS:
                more = min(count, MAX_NETWORK_STEPS - int(last.get("count", 1)))
                last["count"] = int(last.get("count", 1)) + more
            else:
                more = min(count, MAX_NETWORK_STEPS)
                self._log({"do": "step", "unit": unit, "count": more})
            count -= more

    # --- the run ------------------------------------------------------------------------

    def _need(self) -> NetworkScenario:
        if self.scenario is None or self.base is None:
            raise GdlabError("no scenario is open (start the script with an 'open' action)")
        return self.scenario

    def _effective(self, edits: dict[str, dict[str, Any]]) -> NetworkScenario:
        """The scenario as the app runs it: the variant folded into the tables, the edits over
        them, validated as a whole (a mismatch of layers and data is one clear error)."""
        base = self.base
        assert base is not None
        tables = {}
        for name in ("model", "data", "run"):
            t = base.table(name, self.variant)
            for key, value in edits.get(name, {}).items():
                if value is None:
                    t.pop(key, None)
                else:
                    t[key] = value
            tables[name] = t
        meta = {"path": base.path, "source": base.source, "name": base.name,
                "title": base.title, "description": base.description}
        sc = kinds.get("network").validate(meta, tables, {})
        assert isinstance(sc, NetworkScenario)
        return sc

    def _new_run(self) -> None:
        """Forget the run (the next step or ``prepare`` builds it from the current scenario)."""
        if self.trainer is not None:
            self.trainer.close()
        self.trainer = self.net = self.data = None
        self.epochs, self.batches, self.batch_loss = [], [], None
        self.generation += 1

    def prepare(self) -> Trainer:
        """The run's Trainer, built on first use: the data loaded (once per distinct [data]),
        checked against the layers, a network with the scenario's initial weights, epoch 0's
        record taken. Raises GdlabError for data that cannot be read or do not fit."""
        from engine.kinds.network import _key
        from engine.train import Trainer

        with self.lock:
            if self.trainer is not None:
                return self.trainer
            sc = self._need()
            key = _key(sc.table("data"))
            if key not in self._loaded:
                self._loaded = {key: sc.dataset(None)}  # keep one data set in memory
            data = self._loaded[key]
            sc.check_fit(None, data)
            cfg = sc.config(None)
            batches = math.ceil(len(data.y_train) / int(cfg.batch_size or 1))
            every = min(cfg.report_every, max(1, batches // POINTS_PER_EPOCH))
            cfg = replace(cfg, report_every=every)
            net = sc.build_model(None, data)
            trainer = Trainer(net, cfg, data, scenario=self._need().name, variant=self.variant)
            trainer.detail = True  # BP2 and BP4 of the last batch with the weights it used
            self.trainer, self.net, self.data = trainer, net, data
            self._took(trainer.begin())
            return trainer

    def _took(self, recs: list[Any]) -> list[Any]:
        for r in recs:
            if isinstance(r, EpochRecord):
                self.epochs.append(r)
            elif isinstance(r, BatchRecord):
                self.batches.append(r)
        if self.net is not None and self.net.last_batch() is not None:
            self.batch_loss = self.net.batch_loss()
        return recs

    @property
    def summary(self) -> NetworkSummary | None:
        return self.trainer.summary if self.trainer is not None else None

    @property
    def finished(self) -> bool:
        return self.trainer is not None and self.trainer.finished

    # --- results ------------------------------------------------------------------------

    def outcome(self) -> NetworkOutcome:
        """The epochs so far (and the summary, once training has ended)."""
        return NetworkOutcome(self.variant, list(self.epochs), self.summary)

    def script(self) -> str:
        """The session as a replay script (JSON)."""
        return script_text(self.actions)


def reference(sc: Any, ref: str) -> str:
    """How a script names a scenario: a bundled one by name, any other by its absolute path."""
    if sc.path is not None and sc.path.resolve().parent == BUNDLED_DIR:
        return sc.path.stem
    return str(sc.path.resolve()) if sc.path is not None else ref


def is_network_script(actions: list[dict[str, Any]], search: list[Path] | None = None) -> bool:
    """True when the script's first action opens a network scenario."""
    first = actions[0] if actions else None
    if not isinstance(first, dict) or first.get("do") != "open" or "scenario" not in first:
        return False
    try:
        return load_scenario(str(first["scenario"]), search=search).kind == "network"
    except GdlabError:
        return False  # the graph session's replay reports the error


def replay_network(actions: list[dict[str, Any]], search: list[Path] | None = None
                   ) -> NetworkSession:
    """Apply every action to a fresh network session and return it."""
    s = NetworkSession(search)
    for i, a in enumerate(actions):
        try:
            s.apply(a)
        except GdlabError as exc:
            raise GdlabError(f"action {i + 1}: {exc}") from None
    return s


def replay_network_main(actions: list[dict[str, Any]], fmt: str,
                        width: int | None = None) -> int:
    """``gdlab replay`` of a network session: the epoch table (or CSV, JSONL) of the run the
    script ends with, as the app showed it; the table's columns that don't fit ``width``
    follow in blocks beside the epoch, as ``gdlab run`` prints them."""
    import sys

    from . import network_report as nr
    from .formatting import wrap_lines

    s = replay_network(actions)
    with s.lock:
        s.prepare()  # a script that never stepped still shows epoch 0
    o = s.outcome()
    name = s._need().name + (f" [{s.variant}]" if s.variant else "")
    if fmt == "csv":
        text = nr.csv_text([(o.variant, o.epochs)])
    elif fmt == "jsonl":
        text = "".join(nr.json_line(r) for r in o.epochs)
        if o.summary is not None:
            text += nr.summary_json(o.summary)
    else:
        cols, rest = nr.fit_live(nr.epoch_columns(o.epochs[0]), width)
        text = nr.table_header(cols) + "".join(nr.table_row(cols, r) for r in o.epochs)
        if rest:
            text += "\n" + nr.rest_table(rest, o.epochs, width)
        trainer = s.trainer
        assert trainer is not None
        if o.summary is not None:
            end = nr.summary_line(name, o.summary)
        else:
            end = (f"{name}: paused at epoch {trainer.epoch}, batch {trainer.batch} of "
                   f"{trainer.batches_per_epoch}\n")
        text += wrap_lines(end, width)
    sys.stdout.write(text)
    return 0
