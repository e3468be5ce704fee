"""``gdlab serve``: the binding, --public's notice, --max-sessions, and a real browser's download.

The server tests start ``gdlab serve`` as a process (textual-serve, the ``serve`` extra); the
browser test drives Debian's Chromium through Playwright. Each is skipped, with the reason, when
what it needs is not installed. They wait on what the server and the page report, never on time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import main
from tui.serve_command import is_loopback

CHROMIUM = os.environ.get("GDLAB_CHROMIUM", "/usr/bin/chromium")


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

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``gdlab serve`` in a process; its banner line says it is listening."""

    def __init__(self, *args: str, home: Path | None = None) -> None:
        pytest.importorskip("textual_serve", reason="gdlab serve needs the serve extra")
        self.port = free_port()
        env = dict(os.environ, HOME=str(home)) if home else None  # the server's home and cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "serve", "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=home, env=env)
        assert self.proc.stdout is not None
        self.lines: list[str] = []
        for line in self.proc.stdout:  # until the banner: the server is listening
            self.lines.append(line)
            if line.startswith("gdlab serve: http"):
                break
        else:
            raise AssertionError("gdlab serve stopped:\n" + "".join(self.lines))
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


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

WATCH = r"""
(() => {
  const Native = window.WebSocket;
  window.__text = "";
  window.WebSocket = function (url, protocols) {
    const ws = new Native(url, protocols);
    const decoder = new TextDecoder();
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string")
        window.__text = (window.__text + decoder.decode(new Uint8Array(ev.data), {stream: true})
                         .replace(/\x1b\[[0-9;?<>=]*[ -\/]*[@-~]/g, "")).slice(-50000);
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
})();
"""


async def _download_from_a_browser(served: Served) -> tuple[str, str]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(accept_downloads=True)
        await context.add_init_script(WATCH)
        page = await context.new_page()

        async def shows(pattern: str) -> None:  # the terminal's output, as the browser got it
            await page.wait_for_function(f"() => /{pattern}/.test(window.__text)", timeout=90_000)
            await page.evaluate("window.__text = ''")

        await page.goto(served.url)
        await shows("open a scenario")
        await page.focus(".xterm-helper-textarea")
        from tui.screens.picker import scan

        for _ in range([e.path.stem for e in scan([])].index("target_z")):
            await page.keyboard.press("ArrowDown")
        await page.keyboard.press("Enter")
        await shows("no steps yet")
        await page.keyboard.press("s")
        await shows(r"1 records?\b")
        await page.keyboard.press("e")
        await shows("target_z_trace.csv")
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
        await browser.close()
        return name, text


def test_an_export_from_a_browser_arrives_as_a_download(tmp_path: Path) -> None:
    pytest.importorskip("playwright.async_api", reason="the browser test needs playwright")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(f"the browser test needs Chromium at {CHROMIUM} (apt-get install chromium; "
                    "or set GDLAB_CHROMIUM)")
    served = Served("--max-sessions", "2", home=tmp_path)
    try:
        name, text = asyncio.run(_download_from_a_browser(served))
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
