"""write_atomic's edges that mutation testing showed untested: refusing to overwrite by
default, every message in full, a path that cannot even be looked at, temporary names that
are taken, the longest file names, and the owner of a replaced file."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
from pathlib import Path

import pytest

from engine.errors import GdlabError
from tui import output_file
from tui.output_file import write_atomic


def test_an_existing_file_is_not_overwritten_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(GdlabError) as info:
        write_atomic(target, "new\n")
    assert str(info.value) == f"{target}: already exists (not overwritten)"
    assert target.read_text() == "old\n"
    write_atomic(target, "new\n", force=True)
    assert target.read_text() == "new\n"


def test_a_path_that_cannot_be_looked_at_is_one_line(tmp_path: Path) -> None:
    """A symlink loop: os.stat fails with ELOOP (not "no such file")."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(GdlabError) as info:
        write_atomic(loop, "x", force=True)
    assert str(info.value) == f"{loop}: cannot write: {os.strerror(errno.ELOOP)}"
    assert os.readlink(loop) == str(loop)


def test_a_socket_message_in_full(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(GdlabError) as info:
            write_atomic(path, "x", force=True)
    assert str(info.value) == (f"{path}: is not a regular file, a character device or a FIFO "
                               "(not replaced)")


def names(*hexes: str):
    """A stand-in for secrets.token_hex that returns ``hexes`` in turn (then the last)."""
    it = iter(hexes)
    last = [hexes[-1]]

    def token_hex(n: int) -> str:
        assert n == 4
        last[0] = next(it, last[0])
        return last[0]
    return token_hex


def test_a_temporary_name_already_taken_is_left_alone(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer's temporary file (same random name) is neither written nor removed: the
    temporary file is created exclusively (O_EXCL), and the next name is tried."""
    target = tmp_path / "out.csv"
    taken = tmp_path / ".out.csv.aaaaaaaa.tmp"
    taken.write_text("someone else's\n")
    monkeypatch.setattr(output_file.secrets, "token_hex", names("aaaaaaaa", "bbbbbbbb"))
    write_atomic(target, "mine\n")
    assert target.read_text() == "mine\n"
    assert taken.read_text() == "someone else's\n"
    assert sorted(os.listdir(tmp_path)) == [".out.csv.aaaaaaaa.tmp", "out.csv"]


def test_no_free_temporary_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capfd: pytest.CaptureFixture[str]) -> None:
    """Every name tried is taken: one line, nothing written, nothing removed, and no file
    descriptor of ours (or anyone's: stdout is descriptor 1) closed on the way out."""
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    (tmp_path / ".out.csv.cccccccc.tmp").write_text("taken\n")
    monkeypatch.setattr(output_file.secrets, "token_hex", names("cccccccc"))
    with pytest.raises(GdlabError) as info:
        write_atomic(target, "new\n", force=True)
    assert str(info.value) == f"{target}: cannot write: no free temporary name in {tmp_path}"
    assert target.read_text() == "old\n"
    assert (tmp_path / ".out.csv.cccccccc.tmp").read_text() == "taken\n"
    os.fstat(1)  # still open
    os.write(1, b"stdout still works\n")
    assert capfd.readouterr().out == "stdout still works\n"


def name_max(folder: Path) -> int:
    return os.pathconf(folder, "PC_NAME_MAX")


@pytest.mark.parametrize("char", ["a", "\u00e9"])  # one byte, two bytes in UTF-8
def test_the_longest_file_name_is_written_and_replaced(tmp_path: Path, char: str) -> None:
    """A name of NAME_MAX bytes (255 on Linux's file systems) is a valid destination; its
    temporary file's name must fit too (a bug: it was the whole name plus 14 bytes)."""
    limit = name_max(tmp_path)
    width = len(char.encode())
    target = tmp_path / (char * (limit // width))
    assert len(os.fsencode(target.name)) > limit - width
    write_atomic(target, "first\n")
    write_atomic(target, "second\n", force=True)
    assert target.read_text() == "second\n"
    with output_file.atomic_output(target, force=True) as fh:  # the streamed writer's too
        fh.write("third\n")
    assert target.read_text() == "third\n"
    assert os.listdir(tmp_path) == [target.name]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_a_replaced_file_keeps_its_owner_where_we_may_set_it(tmp_path: Path) -> None:
    target = tmp_path / "theirs.csv"
    target.write_text("old\n")
    os.chown(target, 12345, 23456)
    write_atomic(target, "new\n", force=True)
    st = os.stat(target)
    assert (st.st_uid, st.st_gid) == (12345, 23456)
    assert target.read_text() == "new\n"


def test_a_name_longer_than_the_file_system_allows_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / ("a" * (name_max(tmp_path) + 1))
    with pytest.raises(GdlabError) as info:
        write_atomic(target, "x")
    assert str(info.value) == f"{target}: cannot write: {os.strerror(errno.ENAMETOOLONG)}"
    assert os.listdir(tmp_path) == []


def test_write_atomic_writes_a_fifo_directly_and_keeps_it(tmp_path: Path) -> None:
    """The app's exports call write_atomic itself (the command line streams through
    atomic_output): a FIFO is written as it is, never replaced by a regular file."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    try:
        write_atomic(fifo, "through the pipe\n", force=True)
    finally:  # if nothing opened the pipe for writing, let the reader's open() return
        if not got:
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=60)
    assert got == ["through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


def private_device(tmp_path: Path, name: str, minor: int) -> Path:
    """A node of the memory driver (1, minor) in tmp_path. Never the machine's /dev/null: a
    mutant (or a regression) that renames over a device would replace it for every process."""
    if os.geteuid() != 0:
        pytest.skip("only root may make a device node (the machine's own are never written)")
    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except OSError as exc:
        pytest.skip(f"mknod failed: {exc}")
    return node


def test_write_atomic_to_character_devices(tmp_path: Path) -> None:
    null = private_device(tmp_path, "null", 3)
    write_atomic(null, "nothing\n", force=True)
    st = os.lstat(null)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    full = private_device(tmp_path, "full", 7)  # every write: ENOSPC
    with pytest.raises(GdlabError) as info:
        write_atomic(full, "x" * 10, force=True)
    assert str(info.value) == f"{full}: cannot write: {os.strerror(errno.ENOSPC)}"
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["full", "null"]


def test_check_destination_refuses_an_existing_file_by_default(tmp_path: Path) -> None:
    target = tmp_path / "t"
    target.write_text("old\n")
    with pytest.raises(GdlabError) as info:
        output_file.check_destination(target)
    assert str(info.value) == f"{target}: already exists (not overwritten)"
    assert output_file.check_destination(target, force=True).st_size == 4
    assert output_file.check_destination(tmp_path / "new") is None
