"""The network screen's keys: stepping and running, edits, reset and new seed, the selected
neuron and example, and the screens opened from it (edit, compare, sweep, export, help)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from textual.widgets import Static, TabbedContent

from engine.errors import GdlabError
from engine.kinds.network import NetworkScenario

from ..network_frame import Frame, Selection, step_selection
from ..network_report import NetworkOutcome
from ..network_session import NetworkSession


class Keys:
    """What the network screen's keys do (a part of NetworkScreen)."""

    session: NetworkSession
    scenario: NetworkScenario
    state: str
    frame: Frame | None
    selection: Selection
    grid: tuple[int, int]
    starting: bool
    #: a key asked for training: while the trainer boots, the status says it is starting
    wants_trainer = False
    _config: Any
    _control: Any
    app: Any
    notify: Callable[..., None]
    query_one: Any
    _queue: Callable[..., None]
    _stop_running: Callable[[], None]
    _drop_jobs: Callable[[], None]
    _status: Callable[[Frame], Any]
    _head: Callable[[], str]
    _kind_of_data: Callable[[Any], None]
    _prepare: Callable[[], None]
    outcome: Callable[[], NetworkOutcome]

    def _start(self, job: str) -> None:
        """Queue a job that trains (a running network is paused first). While the trainer
        process boots, the status says so: the job waits for it, the app does not."""
        if self.state == "error":
            return
        if self.state == "running":
            self._stop_running()
            self.state = "paused"
        if job == "run":
            self.state = "running"
        self._queue(job)
        self.wants_trainer = True  # the status says so while the trainer boots (_status)
        if self.starting and self.frame is not None:
            self.query_one("#net-status", Static).update(self._status(self.frame))

    def action_step_batch(self) -> None:
        """Take one mini-batch (pauses a running network first)."""
        self._start("batch")

    def action_step_epoch(self) -> None:
        """Train to the end of the epoch."""
        self._start("epoch")

    def action_toggle_run(self) -> None:
        """Run continuously, or pause."""
        if self.state == "running":
            self._stop_running()
            self.state = "paused"
            if self.frame is not None:
                self.query_one("#net-status", Static).update(self._status(self.frame))
        elif self.state in ("paused", "loading"):
            self._start("run")

    def _fresh(self, change: Any) -> bool:
        """Stop the worker, apply ``change`` to the session (an edit, reset, new seed), start
        the new run; errors are shown and change nothing."""
        self._stop_running()
        self._drop_jobs()  # steps asked of the old run are not taken by the new one
        try:
            with self.session.lock:
                change()
                action = dict(self.session.actions[-1])
        except GdlabError as exc:
            self.notify(str(exc), title="not changed", severity="error", timeout=10)
            return False
        self.frame = None
        self._config = self.scenario.model_config(None)
        self.query_one("#net-head", Static).update(self._head())
        self._kind_of_data(self.scenario.dataset(None, load=False))
        self._queue("apply", action)  # the trainer takes the same action
        self._prepare()
        return True

    def action_reset(self) -> None:
        """A fresh run from the same initial weights."""
        self._fresh(self.session.reset)

    def action_new_seed(self) -> None:
        """A fresh run from new initial weights (a new seed, recorded in the session)."""
        seed = random.randrange(1, 2**31)
        self._fresh(lambda: self.session.new_seed(seed))

    def apply_edits(self, changes: dict[str, Any]) -> bool:
        """Apply the edit dialog's changes (one recorded edit): a fresh run."""
        return self._fresh(lambda: self.session.edit(changes))

    def action_edit(self) -> None:
        """Open the dialog that edits data, layers, activation, lr, batch, optimizer, λ."""
        from .network_edit import NetworkEditScreen

        self.app.push_screen(NetworkEditScreen(self))

    def action_resize_layer(self, by: int) -> None:
        """Add (+) or remove (-) a neuron in the selected hidden layer: a fresh run."""
        layers = list(self.scenario.model_config(None).layers)
        l = self.selection.layer
        if not 1 <= l < len(layers) - 1:
            self.notify("select a neuron of a hidden layer first (] and [)", severity="warning")
            return
        if layers[l] + by < 1:
            self.notify("a layer keeps at least one neuron (edit the layers with m)",
                        severity="warning")
            return
        layers[l] += by
        self.apply_edits({"model.layers": layers})

    def action_neuron(self, by: int) -> None:
        """Select the next or previous neuron (layer by layer, the output last)."""
        sizes = self.frame.sizes if self.frame else self.scenario.model_config(None).layers
        self.selection = step_selection(self.selection, list(sizes), by)
        self._refresh_selection()

    def action_example(self, by: int) -> None:
        """Explain the next example of the last mini-batch."""
        n = self.frame.batch_n if self.frame is not None else 0
        if n:
            sel = self.selection
            self.selection = Selection(sel.layer, sel.neuron, (sel.example + by) % n)
            self._refresh_selection()

    def _refresh_selection(self) -> None:
        """Redraw with the new selection: a frame taken now when paused, else the next one."""
        self._control.aim(self.selection, self.grid)
        if self.state != "running" and self.frame is not None:
            self._queue("frame")

    def action_compare(self) -> None:
        """The scenario's variants side by side."""
        from .network_compare import NetworkCompareScreen

        sc = self.session.base
        if sc is None or not sc.variants:
            self.notify("this scenario has no variants to compare", severity="warning")
            return
        self.action_pause()
        self.app.push_screen(NetworkCompareScreen(sc))

    def action_pause(self) -> None:
        if self.state == "running":
            self.action_toggle_run()

    def action_export(self) -> None:
        """Export the epochs (CSV, JSONL), a screenshot or the session script."""
        from .. import network_report as nr
        from .export import NETWORK_KINDS, ExportScreen

        def csv() -> str:
            o = self.outcome()
            return nr.csv_text([(o.variant, o.epochs)])

        def jsonl() -> str:
            o = self.outcome()
            text = "".join(nr.json_line(r) for r in o.epochs)
            return text + (nr.summary_json(o.summary) if o.summary is not None else "")

        self.action_pause()
        self.app.push_screen(ExportScreen(
            stem=self.scenario.name, kinds=NETWORK_KINDS,
            texts={"csv": csv, "jsonl": jsonl, "script": self.session.script}))

    def action_help(self) -> None:
        """Every key, this screen's first, and what its panels show."""
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(type(self)))

    def action_tab(self, pane: str) -> None:
        """Open the tab (Confusion: for a classification only)."""
        tabs = self.query_one(TabbedContent)
        if not tabs.get_tab(pane).display:
            self.notify("a regression has no confusion matrix", severity="warning")
            return
        tabs.active = pane

    def action_sweep(self) -> None:
        """Pause a running network and open the sweep screen on this scenario."""
        if self.state == "running":
            self.action_toggle_run()
        action = getattr(self.app, "action_sweep", None)
        if callable(action):
            action()

    def action_back(self) -> None:
        """Stop training and go back: the screen below, else the picker, else quit."""
        self._stop_running()
        app = self.app
        picker = getattr(app, "action_picker", None)
        if len(app.screen_stack) > 2:
            app.pop_screen()
        elif callable(picker):
            app.pop_screen()
            picker()
        else:
            app.exit()

    def action_quit_app(self) -> None:
        """Stop training and quit."""
        self._stop_running()
        self.app.exit()
