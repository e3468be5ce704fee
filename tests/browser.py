"""Helpers for the tests (and tools) that drive ``gdlab serve`` in a real browser.

``Served``: ``gdlab serve`` in a process on a free loopback port, ready once the port accepts
connections. ``browser_page``: headless Chromium from Debian's package, through Playwright's
Python API with ``executable_path`` (no browser download), with a script that keeps the text the
terminal received (``window.__text``, escape sequences removed) so that a test can wait for what
the app shows: ``shows(page, pattern)``. ``needs_browser()`` skips, with the reason, where
playwright, textual-serve or Chromium cannot be had. Nothing here waits on time: on the server's
port, on the page's text.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("GDLAB_CHROMIUM", "/usr/bin/chromium")
WAIT_MS = 120_000  # the longest wait for the page to show something (a busy 2-core machine)

# Keeps what the terminal receives over the page's WebSocket as text, escapes removed.
WATCH = r"""
(() => {
  const Native = window.WebSocket;
  window.__text = "";
  const strip = s => s.replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, "")
                      .replace(/\x1b\[[0-9;?<>=]*[ -\/]*[@-~]/g, "")
                      .replace(/\x1b[()=>][0-9A-Za-z]?/g, "");
  function Watched(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    const decoder = new TextDecoder();
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string")
        window.__text = (window.__text + strip(decoder.decode(new Uint8Array(ev.data),
                                                             {stream: true}))).slice(-200000);
    });
    return ws;
  }
  Watched.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Watched[k] = Native[k];
  window.WebSocket = Watched;
})();
"""


def chromium() -> str | None:
    """The Chromium executable to drive, or None."""
    return CHROMIUM if Path(CHROMIUM).is_file() else shutil.which(CHROMIUM)


def needs_browser() -> str:
    """Skip the calling test, with the reason, unless playwright, textual-serve and Chromium
    are installed; returns Chromium's path."""
    pytest.importorskip("playwright.async_api",
                        reason="the browser tests need playwright (pip install -e '.[browser]')")
    pytest.importorskip("textual_serve", reason="gdlab serve needs the serve extra")
    exe = chromium()
    if exe is None:
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium; "
                    "or set GDLAB_CHROMIUM)")
    return exe


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``gdlab serve`` in a process (``python -m tui.cli serve --host 127.0.0.1 --port P``;
    a later --host wins), ready when its port accepts connections; ``stop()`` ends it. Also a
    context manager."""

    def __init__(self, *args: str, home: Path | None = None) -> None:
        """``args``: more options of ``gdlab serve``; ``home``: the server's HOME and working
        folder. ``lines``: what it printed up to its banner ("gdlab serve: http...")."""
        pytest.importorskip("textual_serve", reason="gdlab serve needs the serve extra")
        self.port = free_port()
        env = dict(os.environ, HOME=str(home)) if home else None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=home, env=env)
        self.url = f"http://127.0.0.1:{self.port}/"
        assert self.proc.stdout is not None
        self.lines: list[str] = []
        for line in self.proc.stdout:  # until the banner
            self.lines.append(line)
            if line.startswith("gdlab serve: http"):
                break
        else:
            raise AssertionError("gdlab serve stopped:\n" + "".join(self.lines))
        while True:  # the banner is printed as the server starts: until its port accepts
            if self.proc.poll() is not None:
                raise AssertionError("gdlab serve stopped:\n" + "".join(self.lines))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)  # polling the port: the server has not bound it yet

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@asynccontextmanager
async def browser_page(executable: str, **context: Any) -> AsyncIterator[Any]:
    """A new page of headless Chromium (Debian's, through ``executable_path``) whose terminal
    text is kept in ``window.__text``; ``context``: Playwright's new_context options."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable,
                                          args=["--no-sandbox", "--disable-gpu"])
        try:
            ctx = await browser.new_context(**context)
            await ctx.add_init_script(WATCH)
            yield await ctx.new_page()
        finally:
            await browser.close()


async def shows(page: Any, pattern: str, forget: bool = True) -> str:
    """Wait until the terminal has shown text matching the regular expression ``pattern``;
    return the text received so far, and (``forget``) drop it up to the end of the match, so
    the next wait sees what came after it (text that arrived in the same chunk as this match,
    such as a status drawn in the same frame, is kept)."""
    await page.wait_for_function("(p) => new RegExp(p).test(window.__text)", arg=pattern,
                                 timeout=WAIT_MS)
    # one evaluate: read, and cut at the match's end, with no text arriving in between
    return await page.evaluate(
        """([p, forget]) => {
             const text = window.__text;
             const m = new RegExp(p).exec(text);
             if (forget && m) window.__text = text.slice(m.index + m[0].length);
             return text;
           }""", [pattern, forget])
