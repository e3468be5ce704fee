"""The settings panel: the rule's settings, the optimizer's hyperparameters and the schedule."""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from engine.errors import GdlabError
from engine.optim import HYPERPARAMETERS, OPTIMIZERS, SCHEDULES
from engine.run import RunConfig

from ..session import HYPER_KEYS, INT_SETTINGS

BOOL_KEYS = ("nesterov", "centered")


def _text(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ", ".join(_text(x) for x in v)
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


def hyper_values(cfg: RunConfig) -> dict[str, Any]:
    """The optimizer's hyperparameters in force: the scenario's, else the optimizer's defaults."""
    cls, defaults = OPTIMIZERS[cfg.optimizer]
    own = {f.name: f.default for f in dataclasses.fields(cls)}
    return {k: cfg.hyper.get(k, defaults.get(k, own.get(k))) for k in HYPERPARAMETERS[cfg.optimizer]}


class SettingsPanel(VerticalScroll):
    """Target, tolerance and factor (target rule), or optimizer, lr, schedule and hyperparameters."""

    class Changed(Message):
        """A setting was changed: ``value`` is the text typed or the choice made."""

        def __init__(self, key: str, value: Any) -> None:
            super().__init__()
            self.key = key
            self.value = value

    def compose(self) -> ComposeResult:
        yield Static("type a value and press enter (empty: the default); the next step uses it",
                     classes="hint")

    loads = 0  # how many times the fields were loaded (tests wait on it)
    _layout: list[tuple[Any, ...]] | None = None  # the fields shown: (kind, key, options)

    async def load(self, cfg: RunConfig) -> None:
        """Show the fields for ``cfg``'s rule (and optimizer): their values are set in place
        when the same fields are shown (a reset, a new value), else the rows are rebuilt."""
        fields: list[tuple[str, str, Any, Any]] = []  # (kind, key, value, placeholder/options)

        def field(key: str, value: Any, placeholder: str = "") -> None:
            fields.append(("field", key, value, placeholder))

        def choice(key: str, options: list[tuple[str, Any]], value: Any) -> None:
            fields.append(("choice", key, value, tuple(options)))

        if cfg.rule == "target":
            field("target", cfg.target)
            field("tolerance", cfg.tolerance, "none")
            choice("factor", [(o, o) for o in ("recomputed", "fixed")], cfg.factor)
        else:
            choice("optimizer", [(o, o) for o in OPTIMIZERS], cfg.optimizer)
            field("lr", cfg.lr)
            for key, value in hyper_values(cfg).items():
                if key in BOOL_KEYS:
                    choice(key, [("true", True), ("false", False)], bool(value))
                else:
                    field(key, value, "default")
            choice("schedule", [(o, o) for o in SCHEDULES], cfg.schedule)
            if cfg.schedule != "constant":
                field("step_size", cfg.step_size)
                field("gamma", cfg.gamma)
            field("batch_size", cfg.batch_size, "full batch")
            field("tolerance", cfg.tolerance, "none")
        field("max_iterations", cfg.max_iterations)
        self._choices: dict[str, Any] = {key: value for kind, key, value, _ in fields
                                         if kind == "choice"}
        layout = [(kind, key, extra) for kind, key, _, extra in fields]
        if layout == self._layout:
            with self.prevent(Input.Changed, Select.Changed):
                for kind, key, value, _ in fields:
                    if kind == "field":
                        self.query_one(f"#set-{key}", Input).value = _text(value)
                    else:
                        self.query_one(f"#set-{key}", Select).value = value
            self.loads += 1
            return
        for row in self.query(".setting-row"):
            await row.remove()
        rows = [Horizontal(Label(key, classes="setting-name"),
                           Input(_text(value), placeholder=extra, id=f"set-{key}",
                                 classes="setting-input", compact=True)
                           if kind == "field" else
                           Select(list(extra), value=value, allow_blank=False, id=f"set-{key}",
                                  classes="setting-select", compact=True),
                           classes="setting-row")
                for kind, key, value, extra in fields]
        await self.mount_all(rows)
        self._layout = layout
        self.loads += 1

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id and event.input.id.startswith("set-"):
            event.stop()
            self.post_message(self.Changed(event.input.id[4:], event.value))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id and event.select.id.startswith("set-"):
            event.stop()
            key = event.select.id[4:]
            if self._choices.get(key) != event.value:
                self.post_message(self.Changed(key, event.value))


def parse_setting(key: str, text: Any) -> Any:
    """A setting typed in the panel as the value its [run] key takes (or a GdlabError)."""
    if not isinstance(text, str) or key in ("factor", "optimizer", "schedule"):
        return text
    text = text.strip()
    if text == "" and key in ("tolerance", "batch_size", *HYPER_KEYS):
        return None  # no tolerance, full batch, or the optimizer's default
    try:
        if key in INT_SETTINGS:
            return int(text)
        if key == "betas":
            betas = [float(b) for b in text.strip("[]() ").split(",")]
            if len(betas) != 2:
                raise ValueError(text)
            return betas
        return float(text)
    except ValueError:
        kind = ("an integer" if key in INT_SETTINGS else
                "two numbers, e.g. 0.9, 0.999" if key == "betas" else "a number")
        return GdlabError(f"{key}: expected {kind}, got '{text}'")
