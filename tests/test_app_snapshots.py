"""Snapshot tests of the run view and the compare view (pytest-textual-snapshot)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gates import run_view
from textual.pilot import Pilot

from tui.app import GdlabApp

SIZE = (120, 40)


def keys(*pressed: str) -> Callable[[Pilot], Awaitable[None]]:
    """Before the screenshot: wait for the run view (the app opens it once started), press."""
    async def run_before(pilot: Pilot) -> None:
        await run_view(pilot)
        await pilot.press(*pressed)

    return run_before


async def compared(pilot: Pilot) -> None:
    """Before the screenshot: open the compare view and wait for its variants' worker."""
    await run_view(pilot)
    await pilot.press("c")
    await pilot.app.screen.workers.wait_for_complete()
    await pilot.pause()


def test_run_view_after_three_steps(snap_compare) -> None:  # noqa: ANN001 - the plugin's fixture
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=keys("s", "s", "s"),
                        terminal_size=SIZE)


def test_run_view_graph_walkthrough(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=keys("s", "b", "b", "b"),
                        terminal_size=SIZE)


def test_compare_view(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=compared, terminal_size=SIZE)


def test_run_view_small_terminal(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="gd_square"), run_before=keys("s", "s"),
                        terminal_size=(80, 24))


def test_compare_view_small_terminal(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="target_z"), run_before=compared,
                        terminal_size=(80, 24))


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
