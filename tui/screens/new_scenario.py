"""The new-scenario form: a function of one or two parameters, a rule and optimizer; explore, save."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, Select, Static

from engine.errors import GdlabError
from engine.optim import OPTIMIZERS
from engine.scenario import parse_scenario

from .. import served
from ..widgets.footer import FitFooter


def parse_starts(text: str) -> dict[str, float]:
    """``"x = 1.5, y = 0.5"`` -> {"x": 1.5, "y": 0.5}; GdlabError when malformed."""
    out: dict[str, float] = {}
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise GdlabError(f"starting values: expected NAME = NUMBER, got '{part.strip()}'")
        name, value = (s.strip() for s in part.split("=", 1))
        try:
            out[name] = float(value)
        except ValueError:
            raise GdlabError(f"starting values: '{value}' is not a number") from None
    if not 1 <= len(out) <= 2:
        raise GdlabError("starting values: give one or two parameters, e.g. x = 1.5, y = 0.5")
    return out


def scenario_toml(name: str, function: str, starts: dict[str, float], rule: str, lr: float,
                  target: float, tolerance: float | None, max_iterations: int,
                  optimizer: str = "sgd") -> str:
    """The scenario file for the form's fields (checked by parsing it)."""
    q = json.dumps
    lines = ["[scenario]", f"name = {q(name)}", f"title = {q(f'{rule} on f = {function}')}",
             f"description = {q('Made with the new-scenario form of the gdlab app.')}", "",
             "[params]", *(f"{p} = {v!r}" for p, v in starts.items()), "",
             "[graph]", f"f = {q(function)}", "", "[run]", f"rule = {q(rule)}", 'output = "f"',
             f"max_iterations = {max_iterations}"]
    if tolerance is not None:
        lines.append(f"tolerance = {tolerance!r}")
    if rule == "gradient":
        lines += [f"optimizer = {q(optimizer)}", f"lr = {lr!r}"]
    else:
        lines += [f"target = {target!r}", 'factor = "recomputed"']
    text = "\n".join(lines) + "\n"
    parse_scenario(text, source="<new scenario>")
    return text


class NewScenarioScreen(Screen):
    """Type a function, its starting values and a rule; explore it at once or save it."""

    HELP_TITLE = "new-scenario form"
    HELP_ORDER = 40

    BINDINGS = [
        Binding("ctrl+r", "explore", "Explore"),
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "back", "Back"),
    ]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]  # tall screens space the rows

    def __init__(self) -> None:
        super().__init__()
        self._auto_path = ""  # "save as" follows the name until edited (set in compose)

    def _path_for(self, name: str) -> str:
        """The file a scenario called ``name`` is saved as: a full path, a file name served."""
        return served.default_target(self.app, f"{name or 'my_function'}.toml")

    def compose(self) -> ComposeResult:
        self._auto_path = self._path_for("my_function")
        yield Header()
        with VerticalScroll(id="new-form"):
            yield Static("enter explores, ctrl+s saves, esc goes back; powers: x**2",
                         classes="hint")
            for key, label, value in (
                ("name", "name", "my_function"),
                ("function", "f =", "x**2 + sin(y)**2"),
                ("starts", "start", "x = 1.5, y = 0.5"),
            ):
                yield Horizontal(Label(label, classes="form-label"),
                                 Input(value, id=f"new-{key}", compact=True), classes="form-row")
            yield Horizontal(Label("rule", classes="form-label"),
                             Select([("gradient descent", "gradient"), ("drive f to a target",
                                                                        "target")],
                                    value="gradient", allow_blank=False, id="new-rule",
                                    compact=True), classes="form-row")
            yield Horizontal(Label("optimizer", classes="form-label"),
                             Select([(o, o) for o in OPTIMIZERS], value="sgd", allow_blank=False,
                                    id="new-optimizer", compact=True), classes="form-row")
            for key, label, value in (("lr", "lr", "0.1"), ("target", "target", "0"),
                                      ("tolerance", "tolerance", "1e-6"),
                                      ("max_iterations", "max iter.", "200"),
                                      ("path", "save as", self._auto_path)):
                yield Horizontal(Label(label, classes="form-label"),
                                 Input(value, id=f"new-{key}", compact=True), classes="form-row")
            yield Static("", id="new-error", markup=False)
            with Horizontal(id="new-buttons"):
                yield Button("Explore", id="new-explore", variant="primary", compact=True)
                yield Button("Save", id="new-save", compact=True)
                yield Button("Back", id="new-back", compact=True)
        yield FitFooter()

    def on_mount(self) -> None:
        self.title = "new scenario"
        cfg = served.config(self.app)
        if served.is_served(self.app) and (cfg is None or cfg.save_dir is None):
            self.query_one("#new-save", Button).label = "Download"
        self.query_one("#new-function", Input).focus()

    def _value(self, key: str) -> str:
        return self.query_one(f"#new-{key}", Input).value.strip()

    def on_input_changed(self, event: Input.Changed) -> None:
        """"save as" follows the name until a path is typed there."""
        path = self.query_one("#new-path", Input)
        if event.input.id == "new-name" and path.value == self._auto_path:
            self._auto_path = self._path_for(event.value.strip())
            path.value = self._auto_path

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_explore()

    def toml(self) -> str:
        """The scenario file of the form, or a GdlabError naming the bad field."""
        try:
            lr = float(self._value("lr") or 0.1)
            target = float(self._value("target") or 0)
            tol = self._value("tolerance")
            max_it = int(self._value("max_iterations") or 100)
        except ValueError as exc:
            raise GdlabError(f"a number field: {exc}") from None
        rule = str(self.query_one("#new-rule", Select).value)
        return scenario_toml(self._value("name") or "my_function", self._value("function"),
                             parse_starts(self._value("starts")), rule, lr, target,
                             float(tol) if tol else None, max_it,
                             str(self.query_one("#new-optimizer", Select).value))

    def _error(self, text: str) -> None:
        error = self.query_one("#new-error", Static)
        error.update(text)
        if text:
            self.call_after_refresh(error.scroll_visible, animate=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "new-explore":
            self.action_explore()
        elif event.button.id == "new-save":
            self.run_worker(self.action_save(), exclusive=True, group="new-save")
        else:
            self.action_back()

    def action_explore(self) -> None:
        """Open the form's scenario in the run view."""
        try:
            text = self.toml()
        except GdlabError as exc:
            self._error(str(exc))
            return
        self.app.open_text(text)

    async def action_save(self) -> None:
        """Write the form's scenario file (atomically; the picker lists it from now on); served,
        into --save-dir or as a download (tui/served.py)."""
        try:
            text = self.toml()
            message, path = served.save_scenario(self.app, self._value("path"), text)
        except (GdlabError, OSError) as exc:
            self._error(str(exc))
            return
        self._error("")
        remember = getattr(self.app, "remember", None)
        if path is not None and remember is not None:
            await remember(path)
        self.notify(f"{message}; the picker (o) lists it" if path is not None else message)

    def action_back(self) -> None:
        """Back to the previous screen."""
        self.dismiss()
