"""The parameters panel: each parameter's current value, its starting value and whether it trains."""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Label, Static

from ..formatting import fmt
from .toggles import StateCheckbox


class ParamsPanel(VerticalScroll):
    """One row per parameter: name, current value, editable start value, trained checkbox."""

    class StartChanged(Message):
        """A new starting value was typed for a parameter."""

        def __init__(self, name: str, text: str) -> None:
            super().__init__()
            self.name = name
            self.text = text

    class TrainChanged(Message):
        """A parameter's trained checkbox was toggled."""

        def __init__(self, name: str, on: bool) -> None:
            super().__init__()
            self.name = name
            self.on = on

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._names: list[str] = []
        self._layout: list[tuple[str, bool]] | None = None  # the rows shown: (name, scalar)

    def compose(self) -> ComposeResult:
        yield Static("start values: type and press enter; space ticks a parameter to train it "
                     "(▐X▌ trained, ▐ ▌ fixed)", classes="hint")

    loads = 0  # how many times the rows were built (tests wait on it)

    async def load(self, start: dict[str, Any], train: tuple[str, ...]) -> None:
        """Show the rows for these parameters: values set in place when the same parameters
        are shown (a reset, an edit), else the rows are rebuilt."""
        layout = [(p, np.ndim(v) == 0) for p, v in start.items()]
        if layout == self._layout:
            with self.prevent(Input.Changed, Checkbox.Changed):
                for i, (p, v) in enumerate(start.items()):
                    self.query_one(f"#start-{i}", Input).value = \
                        fmt(v) if np.ndim(v) else repr(float(v))
                    box = self.query_one(f"#train-{i}", StateCheckbox)
                    box.value = p in train
                    box.label = "trained" if p in train else "fixed"
            self.loads += 1
            return
        for row in self.query(".param-row"):
            await row.remove()
        self._names = list(start)
        rows = []
        for i, (p, v) in enumerate(start.items()):
            scalar = np.ndim(v) == 0
            rows.append(Horizontal(
                Label(p, classes="param-name"),
                Input(fmt(v) if not scalar else repr(float(v)), id=f"start-{i}",
                      classes="param-start", disabled=not scalar, compact=True),
                StateCheckbox("trained" if p in train else "fixed", p in train,
                              id=f"train-{i}", classes="param-train", compact=True),
                Static("", id=f"now-{i}", classes="param-now"),
                classes="param-row",
            ))
        await self.mount_all(rows)
        self._layout = layout
        self.loads += 1

    def show_current(self, params: dict[str, Any]) -> None:
        """Show the parameters' current values."""
        for i, p in enumerate(self._names):
            for w in self.query(f"#now-{i}"):
                w.update(f"now {fmt(params.get(p))}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id and event.input.id.startswith("start-"):
            event.stop()
            self.post_message(self.StartChanged(self._names[int(event.input.id[6:])],
                                                event.value))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id and event.checkbox.id.startswith("train-"):
            event.stop()
            event.checkbox.label = "trained" if event.value else "fixed"
            self.post_message(self.TrainChanged(self._names[int(event.checkbox.id[6:])],
                                                event.value))
