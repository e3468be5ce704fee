"""``gdlab serve``: the app in web browsers, one process per browser, confined to what is shared.

Bound to the loopback address unless ``--public`` says otherwise (and then it prints what that
exposes); at most ``--max-sessions`` browsers at once. Each session runs ``gdlab`` with the
served folders in its environment (tui/served.py), so that it delivers exports as downloads and
reads only the bundled scenarios and the folders named here (engine/confine.py).
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import shlex
import socket
import sys
from pathlib import Path

from engine.errors import GdlabError

MAX_SESSIONS = 20  # the default: what a 2-core machine serves well (docs/benchmarks.md)


def add_arguments(sv: argparse.ArgumentParser) -> None:
    """The options of ``gdlab serve``."""
    sv.add_argument("dirs", nargs="*", type=Path,
                    help="folders of scenarios the browsers may open (read only)")
    sv.add_argument("--host", default="localhost",
                    help="address to bind (default: localhost; any other needs --public)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--public", action="store_true",
                    help="allow an address reachable from other machines (prints what it exposes)")
    sv.add_argument("--max-sessions", type=int, default=MAX_SESSIONS, metavar="N",
                    help=f"refuse browsers beyond N sessions at once (default: {MAX_SESSIONS})")
    sv.add_argument("--save-dir", type=Path, metavar="DIR",
                    help="the folder the new-scenario form saves into (default: it offers the "
                         "file as a download; nothing is written on the server)")


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        raise GdlabError(f"serve --host {host}: cannot resolve this name") from None
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback
                               for i in infos)


def check(args: argparse.Namespace) -> None:
    """Refuse bad options before anything is started; one line each."""
    if not is_loopback(args.host) and not args.public:
        raise GdlabError(f"serve --host {args.host}: not a loopback address, so anyone who can "
                         "reach this machine could use the app; add --public to allow it")
    if not 1 <= args.port <= 65535:
        raise GdlabError(f"serve --port {args.port}: expected a port in [1, 65535]")
    if args.max_sessions < 1:
        raise GdlabError(f"serve --max-sessions {args.max_sessions}: expected at least 1")
    for d in args.dirs:
        if not d.is_dir():
            raise GdlabError(f"{d}: no such folder")
    if args.save_dir is not None:
        if not args.save_dir.is_dir():
            raise GdlabError(f"serve --save-dir {args.save_dir}: no such folder")
        if not os.access(args.save_dir, os.W_OK | os.X_OK):
            raise GdlabError(f"serve --save-dir {args.save_dir}: not writable by this user")


def exposure(args: argparse.Namespace) -> str:
    """What ``--public`` exposes, in the words a teacher needs before starting it."""
    dirs = ", ".join(str(d.resolve()) for d in args.dirs) or "none"
    save = (f"saves new scenarios into {args.save_dir.resolve()} (and nowhere else)"
            if args.save_dir else "writes nothing on this machine (new scenarios are downloads)")
    return "\n".join([
        f"gdlab serve --public: listening on {args.host}, port {args.port}.",
        "Anyone who can reach this port gets a session of the app, without a password and over "
        "plain HTTP (not encrypted):",
        f"  - up to {args.max_sessions} sessions at once, each a process of user "
        f"{getpass.getuser()} using this machine's CPU and memory; more browsers see a "
        "'class is full' page;",
        f"  - they open the bundled scenarios and those in: {dirs} (read only);",
        f"  - exports reach the browser as downloads; the app {save}.",
        "Serve only on a network you trust; Ctrl+C stops the server and every session.",
    ])


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app in browsers through textual-serve (an optional extra)."""
    check(args)
    try:
        from .serve_server import GdlabServer
    except ImportError:
        raise GdlabError("gdlab serve needs textual-serve: pip install 'gdlab[serve]'") from None
    from .served import ENV, ServeConfig

    config = ServeConfig(tuple(d.resolve() for d in args.dirs),
                         args.save_dir.resolve() if args.save_dir else None)
    os.environ[ENV] = config.to_env()  # each session's process inherits it (tui/served.py)
    if args.public:
        print(exposure(args), flush=True)
    banner = (f"gdlab serve: http://{args.host}:{args.port}/ (at most {args.max_sessions} "
              "sessions; Ctrl+C stops it)")
    GdlabServer(f"{shlex.quote(sys.executable)} -m tui.cli", host=args.host, port=args.port,
                max_sessions=args.max_sessions, banner=banner).serve()
    return 0
