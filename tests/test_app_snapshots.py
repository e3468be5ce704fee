"""Snapshot tests of the app's screens (pytest-textual-snapshot), at 120x40 and at 80x24."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from gates import run_view, until
from helpers import compared as compare_drawn
from textual.pilot import Pilot

from tui.app import GdlabApp

SIZE = (120, 40)
SMALL = (80, 24)


def keys(*pressed: str) -> Callable[[Pilot], Awaitable[None]]:
    """Before the screenshot: wait for the run view (the app opens it once started), press."""
    async def run_before(pilot: Pilot) -> None:
        await run_view(pilot)
        await pilot.press(*pressed)

    return run_before


async def compared(pilot: Pilot) -> None:
    """Before the screenshot: open the compare view and wait until its tables and summary are
    drawn (its state), the tabs' underline in place."""
    await run_view(pilot)
    await pilot.press("c")
    await compare_drawn(pilot)
    await pilot.wait_for_scheduled_animations()


def test_run_view_after_three_steps(snap_compare) -> None:  # noqa: ANN001 - the plugin's fixture
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=keys("s", "s", "s"),
                        terminal_size=SIZE)


def test_run_view_graph_walkthrough(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=keys("s", "b", "b", "b"),
                        terminal_size=SIZE)


def test_compare_view(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=compared, terminal_size=SIZE)


def test_run_view_small_terminal(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="gd_square"), run_before=keys("s", "s"), terminal_size=SMALL)


def test_run_view_small_terminal_shows_the_steps_and_the_footer_keys(
        snap_compare) -> None:  # noqa: ANN001
    """80x24, two parameters: the step columns in the table; ? and q in the footer."""
    assert snap_compare(GdlabApp(scenario="gd_two_variables"), run_before=keys("s", "s", "s"),
                        terminal_size=SMALL)


def test_compare_view_small_terminal(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=compared, terminal_size=SMALL)


def test_new_scenario_form_small_terminal(snap_compare,  # noqa: ANN001
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """80x24: every field, the error line and the buttons on the screen."""
    # "save as" shows a path in the current folder: the same on every machine
    monkeypatch.setattr(Path, "cwd", classmethod(lambda cls: Path("/home/student")))

    async def run_before(pilot: Pilot) -> None:
        from tui.screens.new_scenario import NewScenarioScreen
        from tui.screens.picker import PickerScreen

        await until(pilot, lambda: isinstance(pilot.app.screen, PickerScreen), "the picker")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(pilot.app.screen, NewScenarioScreen), "the form")
        pilot.app.screen.query_one("#new-function").value = "x^2 + y^2"
        await pilot.press("ctrl+r")  # refused: the error line says to write **
        await pilot.pause()

    assert snap_compare(GdlabApp(), run_before=run_before, terminal_size=SMALL)


def test_export_dialog_small_terminal(snap_compare, monkeypatch) -> None:  # noqa: ANN001
    """80x24: the chosen format and the unticked overwrite box shown by their marks."""
    monkeypatch.setattr(Path, "cwd", classmethod(lambda cls: Path("/home/student")))
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=keys("s", "e"),
                        terminal_size=SMALL)


def test_sweep_view_heat_map(snap_compare) -> None:  # noqa: ANN001
    """A finished 4 x 3 momentum map: values, crosses for the diverged cells, the best starred."""
    from textual.widgets import Input

    async def run_before(pilot: Pilot) -> None:
        from tests.helpers import open_screen
        from tui.screens.sweep import SweepScreen

        pilot.app.sweep_workers = 1
        screen = await open_screen(pilot, "w", SweepScreen)
        for name, text in (("values1", "0.005,0.02,0.0325,0.05"), ("key2", "run.momentum"),
                           ("values2", "0,0.5,0.7")):
            screen.query_one(f"#sweep-{name}", Input).value = text
        await pilot.press("ctrl+r")
        await screen.workers.wait_for_complete()
        while screen.state in ("starting", "running"):
            await pilot.pause()

    assert snap_compare(GdlabApp(scenario="momentum_map"), run_before=run_before,
                        terminal_size=SIZE)
