"""The web server of ``gdlab serve``: textual-serve with a session limit and gdlab's own banner.

Each browser that opens the page gets one app process (a session). Beyond ``max_sessions`` the
page is a short "the class is full" page (HTTP 503), and a websocket that arrives anyway is told
the same in the terminal and closed, so a machine never holds more sessions than it was sized
for. The page's websocket address follows the address the browser used, so a server bound to
every interface (``--public``) works from other machines.
"""

from __future__ import annotations

import html
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

FULL_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>gdlab: the class is full</title>
<style>body {{ background: #0c181f; color: #eee; font: 18px/1.5 monospace; margin: 4em; }}</style>
</head><body>
<h1>gdlab: the class is full</h1>
<p>All {limit} of this gdlab server are in use.</p>
<p>Try again when someone closes theirs: <a href="/" style="color:#8cf">reload this page</a>.</p>
</body></html>
"""


class GdlabServer(Server):
    """textual-serve's server, refusing sessions beyond ``max_sessions``."""

    def __init__(self, command: str, *, host: str, port: int, max_sessions: int,
                 banner: str = "") -> None:
        super().__init__(command, host=host, port=port, title="gdlab")
        self.max_sessions = max_sessions
        self.sessions = 0
        self.banner = banner

    @property
    def full(self) -> bool:
        """Whether every session is in use."""
        return self.sessions >= self.max_sessions

    def _sessions_text(self) -> str:
        return f"{self.max_sessions} session{'s' if self.max_sessions != 1 else ''}"

    async def on_startup(self, app: web.Application) -> None:
        """Print gdlab's banner (not textual-serve's logo and command line)."""
        print(self.banner or f"gdlab serve: http://{self.host}:{self.port}/ (Ctrl+C stops it)",
              flush=True)

    def full_page(self) -> web.Response:
        """The page a browser beyond the limit gets."""
        return web.Response(status=503, content_type="text/html", headers={"Retry-After": "30"},
                            text=FULL_PAGE.format(limit=html.escape(self._sessions_text())))

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        """The app's page, or the "class is full" page."""
        if self.full:
            return self.full_page()
        origin = f"{request.scheme}://{request.host}"
        ws = ("wss:" if request.scheme == "https" else "ws:") + origin.split(":", 1)[1]
        context: dict[str, Any] = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{ws}{request.app.router['websocket'].url_for()}",
            "config": {"static": {"url": f"{origin}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Run a session, or say in the terminal that the class is full."""
        if self.full:
            websocket = web.WebSocketResponse()
            await websocket.prepare(request)
            await websocket.send_bytes(
                f"\r\n  gdlab: the class is full: all {self._sessions_text()} are in use."
                "\r\n  Try again when someone closes theirs.\r\n".encode())
            await websocket.close()
            return websocket
        self.sessions += 1  # before any await: two browsers cannot both take the last place
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1
