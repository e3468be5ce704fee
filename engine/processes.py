"""Starting worker processes from a program whose ``sys.stderr`` is not a real file.

Textual replaces ``sys.stderr`` with an object whose ``fileno()`` is -1. multiprocessing passes
that number on when it starts its helper processes (the resource tracker, the forkserver), and
the start fails with "bad value(s) in fds_to_keep": a sweep or a trainer started from the app
would fail at once. While a process starts, the interpreter's own stderr stands in.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def usable_stderr() -> Iterator[None]:
    """``sys.stderr`` is a stream with a real file descriptor inside this block (the
    interpreter's own, if the one in place has none); the one in place is put back after."""
    err = sys.stderr
    try:
        usable = err is not None and err.fileno() >= 0
    except (OSError, ValueError, AttributeError):
        usable = False
    if not usable and sys.__stderr__ is not None:
        sys.stderr = sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = err
