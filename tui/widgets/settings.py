"""The settings panel: the rule's settings, editable between steps."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from engine.optim import OPTIMIZERS
from engine.scenario import RunConfig


def _text(v: Any) -> str:
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


class SettingsPanel(VerticalScroll):
    """Target, tolerance and factor (target rule), or optimizer, lr and batch size (gradient)."""

    class Changed(Message):
        """A setting was changed: ``value`` is the text typed or the choice made."""

        def __init__(self, key: str, value: Any) -> None:
            super().__init__()
            self.key = key
            self.value = value

    def compose(self) -> ComposeResult:
        yield Static("type a value and press enter; the next step uses it", classes="hint")

    async def load(self, cfg: RunConfig) -> None:
        """Rebuild the fields for ``cfg``'s rule."""
        for row in self.query(".setting-row"):
            await row.remove()
        rows: list[Horizontal] = []

        def field(key: str, value: Any, placeholder: str = "") -> None:
            rows.append(Horizontal(Label(key, classes="setting-name"),
                                   Input(_text(value), placeholder=placeholder, id=f"set-{key}",
                                         classes="setting-input", compact=True),
                                   classes="setting-row"))

        def choice(key: str, options: list[str], value: str) -> None:
            rows.append(Horizontal(Label(key, classes="setting-name"),
                                   Select([(o, o) for o in options], value=value,
                                          allow_blank=False, id=f"set-{key}",
                                          classes="setting-select", compact=True),
                                   classes="setting-row"))

        if cfg.rule == "target":
            field("target", cfg.target)
            field("tolerance", cfg.tolerance, "none")
            choice("factor", ["recomputed", "fixed"], cfg.factor)
        else:
            choice("optimizer", list(OPTIMIZERS), cfg.optimizer)
            field("lr", cfg.lr)
            field("batch_size", cfg.batch_size, "full batch")
            field("tolerance", cfg.tolerance, "none")
        field("max_iterations", cfg.max_iterations)
        self._cfg = cfg
        await self.mount_all(rows)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id and event.input.id.startswith("set-"):
            event.stop()
            self.post_message(self.Changed(event.input.id[4:], event.value))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id and event.select.id.startswith("set-"):
            event.stop()
            key = event.select.id[4:]
            if getattr(self._cfg, key, None) != event.value:
                self.post_message(self.Changed(key, event.value))
