"""Files gdlab writes (``--out``, the app's exports): whole or not at all, following the
umask, and never replacing what isn't a regular file."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from engine.errors import GdlabError

WRITE_CHUNK = 1 << 20  # bytes per os.write call
TMP_STEM = 200  # bytes of the target's name kept in its temporary file's name


def write_atomic(path: Path, text: str, force: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all; GdlabError (one line) if it can't.

    A regular file is written to a temporary file beside it, flushed to disk and renamed over
    it: a reader sees the old content or the new one, never a part, and a failure leaves the
    old file and no temporary file. A new file's mode follows the umask (0666 & ~umask, as
    any tool's); a replaced file keeps its mode. A symlink is written through: its target
    gets the text and the link stays. A character device or a FIFO (/dev/null, a terminal, a
    named pipe) is written directly. Anything else (a folder, a block device, a socket) is
    never replaced. An existing destination needs ``force``.
    """
    data = text.encode("utf-8")
    path, st = Path(path), check_destination(path, force)
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        _write_directly(path, data)
        return
    _replace(path, Path(os.path.realpath(path)), data, st)


def check_destination(path: Path, force: bool = False) -> os.stat_result | None:
    """What ``write_atomic`` refuses before writing (a folder, an existing file without
    ``force``, what is not a regular file, a character device or a FIFO): GdlabError. The
    destination's status, None for a new file."""
    path = Path(path)
    try:
        st: os.stat_result | None = os.stat(path)  # through symlinks: what gets written
    except FileNotFoundError:
        st = None  # a new file (or a dangling symlink: its target is created)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise GdlabError(f"{path}: is a folder")
        if not force:
            raise GdlabError(f"{path}: already exists (not overwritten)")
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISCHR(st.st_mode)
                or stat.S_ISFIFO(st.st_mode)):
            raise GdlabError(f"{path}: is not a regular file, a character device or a FIFO "
                             "(not replaced)")
    return st


@contextmanager
def atomic_output(path: Path, force: bool = False) -> Iterator[TextIO]:
    """``write_atomic`` for text written a piece at a time (a long run's output): the same
    checks, the same temporary file renamed at the end (a device or a FIFO written directly),
    never the whole text in memory."""
    path, st = Path(path), check_destination(path, force)
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        try:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                yield fh
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        return
    with _replacing(path, Path(os.path.realpath(path)), st) as fd:
        fh = open(fd, "w", encoding="utf-8", newline="", closefd=False)  # noqa: SIM115
        try:
            yield fh
            fh.flush()
        finally:
            fh.close()


def _cannot_write(path: Path, exc: OSError) -> GdlabError:
    return GdlabError(f"{path}: cannot write: {exc.strerror or exc}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view[:WRITE_CHUNK]):]


def _write_directly(path: Path, data: bytes) -> None:
    """Write to a character device or a FIFO as it is: no temporary file, no rename."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _replace(path: Path, target: Path, data: bytes, old: os.stat_result | None) -> None:
    """Write ``data`` to a temporary file beside ``target``, sync it, rename it over ``target``.

    ``path`` is what the user named (for messages); ``target`` the file it leads to; ``old``
    the target's status if it exists (its mode, and its owner where we may set it, are kept).
    """
    with _replacing(path, target, old) as fd:
        _write_all(fd, data)


@contextmanager
def _replacing(path: Path, target: Path, old: os.stat_result | None) -> Iterator[int]:
    """A temporary file beside ``target`` to write (its descriptor), synced and renamed over
    ``target`` when the block ends, removed if it fails (``_replace``'s steps)."""
    parent = target.parent
    if not parent.is_dir():
        raise GdlabError(f"{path}: the folder {parent} does not exist")
    # the temporary name must fit where the target's does (NAME_MAX, 255 bytes): at most
    # TMP_STEM bytes of the target's name, then 14 of our own
    stem = os.fsdecode(os.fsencode(target.name)[:TMP_STEM])
    tmp, fd = None, -1
    try:
        for _ in range(100):
            name = parent / f".{stem}.{secrets.token_hex(4)}.tmp"
            try:  # created with 0666: the kernel applies the umask (and a default ACL)
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            except FileExistsError:
                continue
            tmp = name  # ours to remove
            break
        else:
            raise GdlabError(f"{path}: cannot write: no free temporary name in {parent}")
        if old is not None:
            if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fd, old.st_uid, old.st_gid)
                except OSError:
                    pass  # only root may give a file away: it then belongs to the writer
            os.fchmod(fd, stat.S_IMODE(old.st_mode))
        yield fd
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
    _sync_folder(parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every file system lets a folder be synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
