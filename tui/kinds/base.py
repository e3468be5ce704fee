"""What each kind's views provide (``Views``), and the output helpers they share."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.scenario import Scenario

from .. import output_file

if TYPE_CHECKING:
    from textual.screen import Screen

EXIT_INTERRUPTED = 130


class Views:
    """A kind's command-line report and app screen (see tui/kinds/graph.py for an example)."""

    name = ""

    def run(self, sc: Scenario, args: argparse.Namespace) -> int:
        """``gdlab run``: run ``args.variant`` (default: the first) and print it; exit status."""
        raise NotImplementedError  # pragma: no cover

    def compare(self, sc: Scenario, args: argparse.Namespace, variants: list[str | None]) -> int:
        """``gdlab compare``: run ``variants`` and print them side by side; exit status."""
        raise NotImplementedError  # pragma: no cover

    def screen(self, app: Any, sc: Scenario, ref: str | Path, variant: str | None) -> Screen:
        """The app's screen for ``sc`` (imported here, lazily: textual only in the app)."""
        raise NotImplementedError  # pragma: no cover


def chosen_variant(sc: Scenario, args: argparse.Namespace) -> str | None:
    """``--variant``, else the scenario's first variant (None when it has none)."""
    variant = getattr(args, "variant", None)
    if variant is None:
        return sc.default_variant()
    sc.check_variant(variant)
    return variant


def emit(text: str, args: argparse.Namespace) -> None:
    """Write a command's output to ``--out`` (atomically) or to stdout."""
    if getattr(args, "out", None):
        output_file.write_atomic(args.out, text, force=args.force)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


@contextmanager
def first_interrupt_stops() -> Iterator[Callable[[], bool]]:
    """Yield should_stop(): true after the first Ctrl-C; a second Ctrl-C interrupts at once."""
    hit = [False]

    def handler(signum: int, frame: object) -> None:
        if hit[0]:
            raise KeyboardInterrupt
        hit[0] = True
        print("\ngdlab: stopping after this chunk (Ctrl-C again to abort)", file=sys.stderr)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield lambda: False
        return
    try:
        yield lambda: hit[0]
    finally:
        signal.signal(signal.SIGINT, previous)
