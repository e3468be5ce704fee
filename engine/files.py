"""Open and read the files a person names: regular files only, and never more than a limit.

A FIFO would block the reader for ever, ``/dev/zero`` never ends, and a file of gigabytes
fills the memory: each is refused in one line naming the file and the limit, before or while
it is read (the size on disk is not trusted, it is counted as the bytes arrive).
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import BinaryIO, TextIO

from .errors import GdlabError


def open_regular(path: str | Path, error: type[GdlabError] = GdlabError,
                 name: str | None = None) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file (symlinks followed), else ``error``
    (messages call the file ``name``, by default its path).

    The file is opened without blocking (a FIFO with no writer would wait) and checked on the
    open descriptor, so a file swapped in between cannot slip through.
    """
    name = name or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"{name}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL character in the name
        raise error(f"{name}: not a file name ({exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"{name}: is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise error(f"{name}: not a regular file (a FIFO, a device or a socket is not read)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | Path, limit: int, what: str,
                 error: type[GdlabError] = GdlabError, name: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (``what`` names the limit)."""
    name = name or str(path)
    with open_regular(path, error, name) as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise error(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise error(f"{name}: larger than {limit:,} bytes (the limit for {what})")
    return data


def read_text_limited(path: str | Path, limit: int, what: str,
                      error: type[GdlabError] = GdlabError, name: str | None = None) -> str:
    """``read_limited`` decoded as UTF-8 (a file that is not UTF-8 text is ``error`` too);
    messages call the file ``name`` (default: its path)."""
    data = read_limited(path, limit, what, error, name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{name or path}: cannot read the file (not UTF-8 text: byte {exc.start} "
                    "is not valid)") from None


def open_text_limited(path: str | Path, limit: int, what: str,
                      error: type[GdlabError] = GdlabError, name: str | None = None) -> TextIO:
    """A regular file as UTF-8 text (newlines untranslated, as ``csv`` wants them) that
    raises ``error`` once more than ``limit`` bytes have been read from it."""
    name = name or str(path)
    raw = _Limited(open_regular(path, error, name), limit, f"{name}: larger than {limit:,} "
                   f"bytes (the limit for {what})", error)
    return io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8", newline="")


class _Limited(io.RawIOBase):
    """A byte stream that counts what it reads and refuses to go past a limit."""

    def __init__(self, fh: BinaryIO, limit: int, message: str, error: type[GdlabError]) -> None:
        super().__init__()
        self.fh, self.limit, self.message, self.error = fh, limit, message, error
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        n = self.fh.readinto(buffer) or 0
        self.total += n
        if self.total > self.limit:
            raise self.error(self.message)
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()
