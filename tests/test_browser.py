"""``gdlab serve`` in a real browser: headless Chromium (Debian's package, through Playwright with
``executable_path``) clicks textual-serve's start screen, opens ``spiral`` from the picker, takes
one mini-batch and reads the network screen's status. Skipped, with the reason, where no
Chromium, playwright or textual-serve can be had (tests/browser.py). Every wait is on the text the
page received, never on time.
"""

from __future__ import annotations

import asyncio
import re

from browser import Served, browser_page, needs_browser, shows

from tui.network_session import NetworkSession
from tui.screens.picker import scan


async def _step_spiral(executable: str, url: str) -> str:
    async with browser_page(executable, viewport={"width": 1600, "height": 1000}) as page:
        await page.goto(url + "?delay=1")  # textual-serve's start screen: a Start button
        await page.click("#start")
        await shows(page, "open a scenario")
        await page.focus(".xterm-helper-textarea")
        for _ in range([e.path.stem for e in scan([])].index("spiral")):
            await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        await shows(page, r"decision boundary", forget=False)  # the same frame as the status
        await shows(page, r"paused · epoch 0/")  # the worker has prepared the run: keys are taken
        await page.keyboard.press("s")
        return await shows(page, r"batch 1/\d+ · batch loss \d+\.\d{4}")


def test_a_browser_opens_spiral_and_takes_one_step() -> None:
    executable = needs_browser()
    with Served() as served:
        text = asyncio.run(asyncio.wait_for(_step_spiral(executable, served.url), 300))
    # the same mini-batch taken without the app: the status shows its loss to 4 decimals
    session = NetworkSession()
    session.open("spiral")
    session.prepare()
    session.step_batches(1)
    assert session.batch_loss is not None
    loss = re.search(r"batch 1/(\d+) · batch loss (\d+\.\d{4})", text)
    assert loss is not None
    assert loss.group(2) == f"{session.batch_loss:.4f}"
    assert int(loss.group(1)) == session.trainer.batches_per_epoch
    assert "epoch 1/" in text
