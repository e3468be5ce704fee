"""Synchronising pilot tests with the app's own state: a gate in a worker's run, and
a wait for a condition the app reaches. Nothing here depends on how fast the machine is.

A test that needs a worker at a known point holds it at a gate (the worker blocks until the
test lets it go on), then checks what the app shows. ``until`` lets the app's event
loop run until a condition holds; its deadline only guards against a hang (a broken app), it
is never what the test waits for.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

HANG_SECONDS = 120.0  # a wait this long means the app is stuck, however busy the machine


async def until(pilot: Pilot | None, cond: Callable[[], Any], what: str = "the condition") -> None:
    """Let the app run (its messages, its workers) until ``cond()`` holds; then, with a pilot,
    let the screen handle what was posted to it before (a worker's messages, say)."""
    end = time.monotonic() + HANG_SECONDS
    while not cond():
        assert time.monotonic() < end, f"{what} did not happen: the app seems stuck"
        if pilot is not None:
            await pilot.pause()
        await asyncio.sleep(0.005)  # hand the loop to the app between checks
    if pilot is not None:
        await pilot.pause()


class BatchGate:
    """A RunScreen.batch_hook that holds the run once ``hold_at`` records are committed.

    The worker then waits in the hook (outside the session's lock, so pausing still works)
    until the test calls ``open``: a run longer than ``hold_at`` cannot end before that.
    """

    def __init__(self, hold_at: int) -> None:
        self.hold_at = hold_at
        self.committed = 0
        self.waiting = False
        self._open = threading.Event()

    def __call__(self, batch: list[Any]) -> None:
        self.committed += len(batch)
        if self.committed >= self.hold_at:
            self.waiting = True
            self._open.wait()
            self.waiting = False

    def open(self) -> None:
        """Let the run go on (to its end, or to the pause the app asked for)."""
        self._open.set()


# --- the run view: shown, and settled after an edit -----------------------------------------

def _settings_shown(screen: Any, old: set[Any]) -> bool:
    """True once the run view's settings fields are all new (not in ``old``) and mounted."""
    from textual.widgets import Select

    from tui.widgets.settings import SettingsPanel

    panels = screen.query(SettingsPanel)
    if not panels:
        return False
    panel = panels.first()
    rows = list(panel.query(".setting-row"))
    return bool(rows) and not old.intersection(rows) and all(r.is_mounted for r in rows) \
        and all(s.is_mounted and s.value is not Select.NULL for s in panel.query(Select))


async def run_view(pilot: Pilot) -> Any:
    """Wait until the app shows a run view whose panels are filled; return that screen.

    The app opens a scenario after it has started (and the picker's choice after a message):
    keys pressed before that would reach another screen.
    """
    from tui.screens.run import RunScreen

    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, RunScreen)
                and _settings_shown(app.screen, set()), "the run view")
    return app.screen


async def edit(pilot: Pilot, act: Callable[[], Any]) -> None:
    """Do ``act``: a change of a start value, a setting or a trained flag. The run view answers
    it (accepted or refused) by loading its panels again (settings last); wait until that load
    is done and its fields are shown."""
    from tui.widgets.settings import SettingsPanel

    screen = pilot.app.screen
    panel = screen.query_one(SettingsPanel)
    loads = panel.loads
    result = act()
    if asyncio.iscoroutine(result):
        await result
    await until(pilot, lambda: panel.loads > loads and _settings_shown(screen, set()),
                "the edit shown")


async def export(pilot: Pilot, kind: int, path: Any) -> None:
    """Export through the dialog (e): choose the ``kind``-th radio button, type ``path``, press
    enter; wait until the file is written and the dialog has closed."""
    from textual.widgets import Input, RadioSet

    from tui.screens.export import ExportScreen

    app = pilot.app
    await pilot.press("e")
    screen = app.screen
    assert isinstance(screen, ExportScreen)
    want = list(screen.kinds.values())[kind][1]
    list(screen.query_one(RadioSet).query("RadioButton"))[kind].value = True
    await until(pilot, lambda: screen.kind == want, "the kind chosen")  # it sets a default path
    field = screen.query_one("#export-path", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")
    await until(pilot, lambda: app.screen is not screen and path.exists(), f"{path} written")
