"""Snapshot tests of the run view and the compare view (pytest-textual-snapshot)."""

from __future__ import annotations

from textual.pilot import Pilot

from tui.app import GdlabApp

SIZE = (120, 40)


def test_run_view_after_three_steps(snap_compare) -> None:  # noqa: ANN001 - the plugin's fixture
    assert snap_compare(GdlabApp(scenario="target_z"), press=["s", "s", "s"], terminal_size=SIZE)


def test_run_view_graph_walkthrough(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="target_z"), press=["s", "b", "b", "b"],
                        terminal_size=SIZE)


def test_compare_view(snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("c")
        await pilot.app.screen.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(GdlabApp(scenario="target_z"), run_before=run_before, terminal_size=SIZE)


def test_run_view_small_terminal(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(GdlabApp(scenario="gd_square"), press=["s", "s"], terminal_size=(80, 24))


def test_compare_view_small_terminal(snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot: Pilot) -> None:
        await pilot.press("c")
        await pilot.app.screen.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(GdlabApp(scenario="target_z"), run_before=run_before, terminal_size=(80, 24))
