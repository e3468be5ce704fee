"""The run view's edits: starting values and trained parameters (Params), settings (Settings)."""

from __future__ import annotations

import math
from typing import Any

from engine.errors import GdlabError, describe

from ..session import Session
from ..widgets.params import ParamsPanel
from ..widgets.settings import SettingsPanel, parse_setting


class Edits:
    """Apply what Params and Settings post to the session (a part of RunScreen)."""

    session: Session

    async def _edit(self, change: Any, *args: Any) -> None:
        """Apply an edit from Params or Settings; keys act on the run again afterwards."""
        self.pause()
        try:
            change(*args)
        except Exception as exc:  # a refused edit leaves the run as it was
            self.notify(describe(exc), severity="error", timeout=8)
        await self.resync()
        self.set_focus(None)

    async def on_params_panel_start_changed(self, event: ParamsPanel.StartChanged) -> None:
        """A starting value was typed: reset to the new start."""
        try:
            value = float(event.text)
        except ValueError:
            self.notify(f"{event.name}: '{event.text}' is not a number", severity="error")
            return
        if not math.isfinite(value):
            self.notify(f"{event.name}: expected a finite number", severity="error")
            return
        await self._edit(self.session.set_param, event.name, value)

    async def on_params_panel_train_changed(self, event: ParamsPanel.TrainChanged) -> None:
        """A parameter was ticked to train or untick to hold fixed: reset."""
        if self.session.run is None or (event.name in self.session.run.cfg.train) == event.on:
            return
        await self._edit(self.session.set_train, event.name, event.on)

    async def on_settings_panel_changed(self, event: SettingsPanel.Changed) -> None:
        """A setting was applied: the next step uses it."""
        value = parse_setting(event.key, event.value)
        if isinstance(value, GdlabError):
            self.notify(str(value), severity="error")
            return
        await self._edit(self.session.set, event.key, value)
