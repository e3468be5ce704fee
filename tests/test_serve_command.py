"""``gdlab serve``: the binding, --public's notice, --max-sessions, and a real browser's download.

The server tests start ``gdlab serve`` as a process (textual-serve, the ``serve`` extra); the
browser test drives Debian's Chromium through Playwright. Each is skipped, with the reason, when
what it needs is not installed. They wait on what the server and the page report, never on time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from browser import Served, browser_page, needs_browser, shows

from tui.cli import main
from tui.serve_command import is_loopback


def test_binding_beyond_the_loopback_needs_public(capsys: pytest.CaptureFixture[str]) -> None:
    for host in ("0.0.0.0", "::", "192.0.2.7"):
        assert main(["serve", "--host", host]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"gdlab: error: serve --host {host}: ")
        assert "--public" in err


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.0.2.7", "10.0.0.1"))


def test_bad_options_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, words in ((["--max-sessions", "0"], "at least 1"),
                        ([str(tmp_path / "nowhere")], "no such folder"),
                        (["--save-dir", str(tmp_path / "nowhere")], "no such folder")):
        assert main(["serve", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err


# --- a running server --------------------------------------------------------------------------

def test_public_prints_what_it_exposes(tmp_path: Path) -> None:
    served = Served("--host", "0.0.0.0", "--public", "--max-sessions", "7", str(tmp_path))
    try:
        notice = "".join(served.lines)
    finally:
        served.stop()
    assert "--public" in notice and "without a password" in notice
    assert "up to 7 sessions" in notice and str(tmp_path.resolve()) in notice
    assert "nothing on this machine" in notice


async def _sessions_beyond_the_limit(served: Served) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(served.url) as r:
            assert r.status == 200
        first = await http.ws_connect(served.url + "ws?width=80&height=24")
        await first.receive()  # the app's first output: the session runs
        async with http.get(served.url) as r:
            page = await r.text()
            assert r.status == 503 and "the class is full" in page and "All 1 session" in page
        second = await http.ws_connect(served.url + "ws")
        message = await second.receive()
        assert b"the class is full" in message.data
        assert (await second.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await first.close()
        while True:  # the place is free again once the server has ended the session
            async with http.get(served.url) as r:
                if r.status == 200:
                    break
            await asyncio.sleep(0.05)


def test_max_sessions_refuses_the_next_browser_with_a_clear_page() -> None:
    served = Served("--max-sessions", "1")
    try:
        asyncio.run(asyncio.wait_for(_sessions_beyond_the_limit(served), 120))
    finally:
        served.stop()


# --- a real browser ----------------------------------------------------------------------------

async def _download_from_a_browser(served: Served, executable: str) -> tuple[str, str]:
    async with browser_page(executable, accept_downloads=True) as page:
        context = page.context

        await page.goto(served.url)
        await shows(page, "open a scenario")
        await page.focus(".xterm-helper-textarea")
        from tui.screens.picker import scan

        for _ in range([e.path.stem for e in scan([])].index("target_z")):
            await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        await shows(page, "no steps yet")
        await page.keyboard.press("s")
        await shows(page, r"1 records?\b")
        await page.keyboard.press("e")
        await shows(page, "target_z_trace.csv")
        downloaded: asyncio.Future = asyncio.get_running_loop().create_future()
        # textual-serve opens the download's URL in a new page, which starts the download
        def done(d: object) -> None:
            if not downloaded.done():
                downloaded.set_result(d)

        page.on("download", done)  # Chromium reports it on the opener or on the new page
        context.on("page", lambda new: new.on("download", done))
        await page.keyboard.press("Tab")  # from the formats to the file name
        await page.keyboard.press("Enter")
        download = await asyncio.wait_for(downloaded, 90)
        text = Path(await download.path()).read_text(encoding="utf-8")
        name = download.suggested_filename
        return name, text


def test_an_export_from_a_browser_arrives_as_a_download(tmp_path: Path) -> None:
    executable = needs_browser()
    served = Served("--max-sessions", "2", home=tmp_path)
    try:
        name, text = asyncio.run(_download_from_a_browser(served, executable))
    finally:
        served.stop()
    # the trace of one step of target_z, as `gdlab run target_z --format csv` prints one step
    from engine.scenario import load_scenario
    from tui import report
    from tui.session import Session

    session = Session()
    session.open("target_z")
    session.step(1)
    assert name == "target_z_trace.csv"
    assert text == report.to_csv([session.outcome()])
    assert list(tmp_path.iterdir()) == []  # nothing written in the server's folder or home
    assert load_scenario("target_z")  # (the bundled scenario the page opened)
