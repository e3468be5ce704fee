"""The ``gdlab`` command line: headless run, compare, sweep, list, check, data fetch; the app
otherwise.

Headless commands import no textual (start-up time); plotext is imported only for ``--plot``.
A person's mistake is one line on stderr and exit status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

# One BLAS thread: for gdlab's matrix sizes two threads gain at most 10-20% on an idle
# two-core machine and lose 5-8x when another process wants a core (docs/benchmarks.md).
# It must be set before numpy is first imported; an explicit setting in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from engine.errors import GdlabError, describe  # noqa: E402  (after the BLAS setting above)

EXIT_USER_ERROR = 2
EXIT_BUG = 1


class _Parser(argparse.ArgumentParser):
    """argparse with gdlab's one-line error: ``gdlab: error: ...``, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"gdlab: error: {self.prog}: {message} "
                                   f"(see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="gdlab",
        description="A terminal laboratory for gradient descent and backpropagation. "
                    "Without a command, opens the app.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    # every command takes --debug after its name too (SUPPRESS: one given before is kept)
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks for errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(parent: argparse._SubParsersAction, name: str, **kw: str
            ) -> argparse.ArgumentParser:
        return parent.add_parser(name, parents=[debug], **kw)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("scenario", help="a scenario file, or the name of a bundled one")
        sp.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a key, e.g. run.tolerance=1e-6")
        sp.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
        sp.add_argument("--plot", action="store_true", help="draw terminal charts after the table")
        sp.add_argument("--out", type=Path, help="write the output to FILE (atomically)")
        sp.add_argument("--force", action="store_true", help="overwrite --out if it exists")
        sp.add_argument("--every", type=int, default=1, metavar="N",
                        help="table: show every Nth iteration (and the last)")

    run = add(sub, "run", help="run a scenario and print its iteration table")
    common(run)
    run.add_argument("--variant", help="the variant to run (default: the first)")

    cmp_ = add(sub, "compare", help="run a scenario's variants side by side")
    common(cmp_)
    cmp_.add_argument("--variants", help="comma-separated variants (default: all)")

    from .sweep_cli import add_parser as add_sweep

    add_sweep(sub, parents=[debug])

    lst = add(sub, "list", help="list bundled scenarios and those in the given folders")
    lst.add_argument("dirs", nargs="*", type=Path)

    chk = add(sub, "check", help="validate scenario files")
    chk.add_argument("scenarios", nargs="+")
    chk.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    op = add(sub, "open", help="open a scenario in the app")
    op.add_argument("scenario", nargs="?")
    op.add_argument("dirs", nargs="*", type=Path, help="folders of scenarios for the picker")

    rp = add(sub, "replay", help="replay a recorded app session headlessly")
    rp.add_argument("script", type=Path)
    rp.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")

    data = add(sub, "data", help="datasets")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION")
    fetch = add(dsub, "fetch", help="download a dataset into the cache")
    fetch.add_argument("dataset", choices=("mnist",))
    fetch.add_argument("--dest", type=Path, help="folder (default: the user cache)")
    fetch.add_argument("--mirror", action="append", metavar="URL",
                       help="download from this mirror (repeatable; default: the usual public "
                            "mirrors, in turn)")

    from .serve_command import add_arguments as serve_arguments

    serve_arguments(add(sub, "serve", help="serve the app to web browsers, e.g. a class "
                                           "(needs gdlab[serve])"))
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gdlab`` console script; returns the exit status.

    A person's mistake (GdlabError) is one line and status 2. Ctrl-C, and SIGTERM for the
    headless commands, stop the work as an interruption does: files being written are
    removed, and the status is 128 + the signal's number. Anything else is a bug in gdlab:
    one line naming it and status 1 (``--debug`` shows the traceback).
    """
    args = _parser().parse_args(argv)
    headless = args.command not in (None, "open", "serve")
    previous = _on_sigterm(_interrupt) if headless else None
    try:
        return _dispatch(args)
    except GdlabError as exc:
        if args.debug:
            raise
        print(f"gdlab: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as exc:
        signum = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        print(f"gdlab: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        sys.stderr.close()  # output piped into `head`: not an error
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(f"gdlab: error: {describe(exc)}", file=sys.stderr)
        return EXIT_BUG
    finally:
        if previous is not None:
            _on_sigterm(previous)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM handled as Ctrl-C: the running command unwinds (its ``finally`` clauses remove
    partial files) instead of dying where it stands."""
    raise KeyboardInterrupt(signum)


def _on_sigterm(handler: object) -> object | None:
    """Install a SIGTERM handler (main thread only); return the one it replaces."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd in ("run", "compare"):
        from .commands import cmd_compare, cmd_run

        return cmd_run(args) if cmd == "run" else cmd_compare(args)
    if cmd == "sweep":
        from .sweep_cli import cmd_sweep

        return cmd_sweep(args)
    if cmd == "list":
        from .commands import cmd_list

        return cmd_list(args)
    if cmd == "check":
        from .commands import cmd_check

        return cmd_check(args)
    if cmd == "data":
        from .commands import cmd_data

        return cmd_data(args)
    if cmd == "replay":
        from .commands import cmd_replay

        return cmd_replay(args)
    if cmd == "serve":
        from .serve_command import cmd_serve

        return cmd_serve(args)
    from .commands import cmd_open

    return cmd_open(getattr(args, "scenario", None), getattr(args, "dirs", []))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
