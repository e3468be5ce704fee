"""Write the README's screenshots (docs/screenshot-{run,compare,network}.svg) and key table.

The run view is target_z after three steps with the graph tab open, at 120x36; the compare view
is target_z's variants side by side, at 140x36; the network screen is spiral's deeper variant
after 40 epochs, at 140x40. ``--keys`` prints the key bindings as the app defines them (the run
view, the compare view, the picker and the network screen), as a Markdown table.

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
from tui.screens.network import NetworkScreen
from tui.screens.picker import PickerScreen
from tui.screens.run import RunScreen

RUN_SIZE = (120, 36)
COMPARE_SIZE = (140, 36)
NETWORK_SIZE = (140, 40)


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


async def shoot_network(out: Path) -> Path:
    """spiral's deeper variant ([2, 8, 8, 8, 8, 1]) after 40 epochs, the neurons' maps open."""
    app = GdlabApp(scenario="spiral")
    async with app.run_test(size=NETWORK_SIZE) as pilot:
        await app.workers.wait_for_complete()
        app.open_scenario("spiral", "deeper")
        while getattr(app.screen, "frame", None) is None \
                or app.screen.session.variant != "deeper":
            await pilot.pause()
        screen = app.screen
        for _ in range(40):
            await pilot.press("S")
        await app.workers.wait_for_complete()
        while screen.frame is None or screen.frame.epoch < 40:
            await pilot.pause()
        screen._plotted = screen._panels_at = 0.0
        screen._draw(screen.frame)
        await pilot.pause()
        return Path(app.save_screenshot(filename="screenshot-network.svg", path=str(out)))


def key_table() -> str:
    """The keys of the run view, the compare view, the picker and the network screen as a Markdown
    table.

    Read from the screens' BINDINGS, as ``?`` help and the command palette are.
    """
    rows = ["| key | view | what it does |", "|---|---|---|"]
    for view, screen in (("run", RunScreen), ("compare", CompareScreen), ("picker", PickerScreen),
                         ("network", NetworkScreen)):
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
    for shoot in (shoot_run, shoot_compare, shoot_network):
        print(asyncio.run(shoot(args.out)))


if __name__ == "__main__":
    main()
