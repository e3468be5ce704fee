"""Write the README's screenshots (docs/screenshot-{run,compare,dashboard}.svg) and key table.

The run view is target_z after three steps with the graph tab open, at 120x36; the compare view
is target_z's variants side by side, at 140x36; the dashboard is xor trained, at 120x40.
``--keys`` prints the key bindings as the app defines them (the run view, the compare view, the
picker and the dashboard), as a Markdown table.

Usage, from the repository root:
    python tools/screenshot.py [--out docs] [--keys]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from textual.widgets import TabbedContent

from tui.app import GdlabApp
from tui.screens.compare import CompareScreen
from tui.screens.help import action_doc, bindings, key_text
from tui.screens.mnist import PLOT_SECONDS, MnistScreen
from tui.screens.picker import PickerScreen
from tui.screens.run import RunScreen

RUN_SIZE = (120, 36)
COMPARE_SIZE = (140, 36)
DASHBOARD_SIZE = (120, 40)


async def shoot_run(out: Path) -> Path:
    """target_z after three steps, graph panel open."""
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=RUN_SIZE) as pilot:
        await pilot.press("s", "s", "s")
        app.screen.query_one(TabbedContent).active = "tab-graph"
        await pilot.pause()
        return Path(app.save_screenshot(filename="screenshot-run.svg", path=str(out)))


async def shoot_compare(out: Path) -> Path:
    """target_z's fixed and recomputed variants, run to the stop."""
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=COMPARE_SIZE) as pilot:
        await pilot.press("c")
        screen = app.screen
        await screen.workers.wait_for_complete()
        while screen.state == "running":  # the tables and the summary are drawn
            await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        return Path(app.save_screenshot(filename="screenshot-compare.svg", path=str(out)))


async def shoot_dashboard(out: Path) -> Path:
    """xor's Playground network trained to its last epoch on the dashboard."""
    app = GdlabApp(scenario="xor")
    async with app.run_test(size=DASHBOARD_SIZE) as pilot:
        screen = app.screen
        while getattr(screen, "state", "") not in ("finished", "diverged", "error"):
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause(PLOT_SECONDS + 0.1)  # the plots' last redraw
        return Path(app.save_screenshot(filename="screenshot-dashboard.svg", path=str(out)))


def key_table() -> str:
    """The keys of the run view, the compare view and the picker as a Markdown table.

    Read from the screens' BINDINGS, as ``?`` help and the command palette are.
    """
    rows = ["| key | view | what it does |", "|---|---|---|"]
    for view, screen in (("run", RunScreen), ("compare", CompareScreen), ("picker", PickerScreen),
                         ("dashboard", MnistScreen)):
        for b in bindings(screen):
            doc = action_doc(screen, b.action, GdlabApp) or b.description
            what = (doc[0].lower() + doc[1:].rstrip(".")).replace("|", "\\|")
            rows.append(f"| `{key_text(b)}` | {view} | {what} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    """Write both screenshots (or print the key table)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs"))
    ap.add_argument("--keys", action="store_true", help="print the key table instead")
    args = ap.parse_args()
    if args.keys:
        print(key_table(), end="")
        return
    for shoot in (shoot_run, shoot_compare, shoot_dashboard):
        print(asyncio.run(shoot(args.out)))


if __name__ == "__main__":
    main()
