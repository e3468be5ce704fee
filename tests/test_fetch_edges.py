"""The MNIST download's edges that mutation testing showed untested: the checksum of a plain
(not gzipped) file, a gzip bomb checked without inflating it, reasons in full, and the
User-Agent the mirrors see."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tracemalloc
import urllib.error
from email.message import Message
from pathlib import Path

import pytest

from engine.data import fetch


def test_the_checksum_of_a_plain_file_is_of_its_bytes(tmp_path: Path) -> None:
    f = tmp_path / "plain"
    f.write_bytes(b"\0\0\x08\x01" + bytes(range(200)))
    assert fetch.content_md5(f) == hashlib.md5(f.read_bytes()).hexdigest()
    g = tmp_path / "packed.gz"
    g.write_bytes(gzip.compress(f.read_bytes()))
    assert fetch.content_md5(g) == fetch.content_md5(f)


def test_a_gzip_bomb_is_checked_without_inflating_it(tmp_path: Path) -> None:
    """256 MiB of zeros in a file of a quarter MB: refused after one chunk past the limit."""
    f = tmp_path / "bomb.gz"
    f.write_bytes(gzip.compress(bytes(1 << 20)) * 256)
    tracemalloc.start()
    try:
        with pytest.raises(fetch._TooLarge) as info:
            fetch.content_md5(f, limit=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == "its content is more than 1000 bytes, the size of the file"
    assert peak < 8 * fetch.CHUNK, peak


def test_verified_reasons_in_full(tmp_path: Path) -> None:
    f = tmp_path / "f.gz"
    content = bytes(range(256)) * 64
    packed = gzip.compress(content)
    f.write_bytes(packed)
    md5 = hashlib.md5(content).hexdigest()
    assert fetch._verified(f, md5) == (True, "")
    assert fetch._verified(f, "0" * 32) == \
        (False, f"checksum mismatch (MD5 {md5}, expected {'0' * 32})")
    f.write_bytes(packed[: len(packed) // 2])
    assert fetch._verified(f, md5) == (False, "corrupt gzip data (Compressed file ended before "
                                              "the end-of-stream marker was reached)")


def test_one_line_reasons() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    assert fetch._one_line(urllib.error.URLError(refused)) == "[Errno 111] Connection refused"
    assert fetch._one_line(urllib.error.URLError("no\n  route")) == "no route"
    assert fetch._one_line(EOFError()) == "EOFError"  # no message: the exception's name


class Response(io.BytesIO):
    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.headers = Message()
        self.headers["Content-Length"] = str(len(body))


class Opener:
    """Records the request and answers with ``body``."""

    def __init__(self, body: bytes) -> None:
        self.body, self.requests = body, []

    def open(self, request, timeout):
        self.requests.append((request, timeout))
        return Response(self.body)


def test_mirrors_see_gdlab_s_user_agent_and_the_read_timeout(tmp_path: Path) -> None:
    opener = Opener(b"abc")
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    try:
        fetch._download(opener, "http://mirror/x.gz", fd, "x.gz", None, 7.5, 100, float("inf"))
    finally:
        os.close(fd)
    ((request, timeout),) = opener.requests
    assert request.get_header("User-agent") == "gdlab-mnist-fetch/0.1" == fetch.USER_AGENT
    assert timeout == 7.5
    assert (tmp_path / "out").read_bytes() == b"abc"


class Trickle(Response):
    """A response that sends ``first`` and then fails as a dropped connection does."""

    def __init__(self, first: bytes, exc: OSError) -> None:
        super().__init__(first + b"never sent")
        self.first, self.exc, self.sent = first, exc, False
        del self.headers["Content-Length"]

    def read1(self, n: int = -1) -> bytes:
        if self.sent:
            raise self.exc
        self.sent = True
        return self.first


class OneResponse:
    def __init__(self, response) -> None:
        self.response = response

    def open(self, request, timeout):
        return self.response


def download(tmp_path: Path, opener, cap: int = 100, deadline: float = float("inf"),
             flags: int = os.O_WRONLY | os.O_CREAT) -> bytes:
    fd = os.open(tmp_path / "out", flags)
    try:
        fetch._download(opener, "http://m/x.gz", fd, "x.gz", None, 5.0, cap, deadline)
    finally:
        os.close(fd)
    return (tmp_path / "out").read_bytes()


def mirror_failure(tmp_path: Path, opener, **kw) -> str:
    with pytest.raises(fetch._MirrorFailure) as info:
        download(tmp_path, opener, **kw)
    return str(info.value)


def test_exactly_the_cap_is_accepted(tmp_path: Path) -> None:
    """A file may be its size plus the margin (the cap), announced or not, and no more."""
    assert download(tmp_path, Opener(b"x" * 10), cap=10) == b"x" * 10
    unannounced = Response(b"y" * 10)
    del unannounced.headers["Content-Length"]
    assert download(tmp_path, OneResponse(unannounced), cap=10) == b"y" * 10
    assert mirror_failure(tmp_path, Opener(b"x" * 11), cap=10) == \
        f"announces 11 bytes, more than the file can be (10: its size and {fetch.DOWNLOAD_MARGIN} bytes)"


def test_download_reasons_in_full(tmp_path: Path) -> None:
    reset = ConnectionResetError(104, "Connection reset by peer")
    assert mirror_failure(tmp_path, OneResponse(Trickle(b"abc", reset))) == \
        "connection failed after 3 bytes: [Errno 104] Connection reset by peer"
    assert mirror_failure(tmp_path, Opener(b"abc"), deadline=float("-inf")) == \
        "too slow: 0 bytes in the time allowed for one file (the limit; see DOWNLOAD_DEADLINE)"


def test_a_disk_that_refuses_the_bytes_is_a_disk_failure(tmp_path: Path) -> None:
    (tmp_path / "out").write_bytes(b"")
    with pytest.raises(fetch._DiskFailure) as info:
        download(tmp_path, Opener(b"abc"), flags=os.O_RDONLY)  # write(2) on it: EBADF
    assert str(info.value) == "[Errno 9] Bad file descriptor"


TINY = {name: bytes([i]) * 20 for i, name in enumerate(fetch.FILENAMES)}


class Mirror:
    """A stand-in for urllib's opener: serves TINY under any mirror, recording the URLs."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def open(self, request, timeout):
        self.urls.append(request.full_url)
        return Response(TINY[request.full_url.rsplit("/", 1)[1]])


def fetch_tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw) -> Mirror:
    mirror = Mirror()
    monkeypatch.setattr(fetch.urllib.request, "build_opener", lambda: mirror)
    sums = {n: hashlib.md5(b).hexdigest() for n, b in TINY.items()}
    fetch.fetch_mnist(tmp_path, checksums=sums, sizes={n: 20 for n in TINY}, **kw)
    return mirror


def test_default_mirrors_and_modes_that_follow_the_umask(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    old = os.umask(0o022)
    try:
        mirror = fetch_tiny(tmp_path, monkeypatch)
    finally:
        os.umask(old)
    assert mirror.urls == [fetch.DEFAULT_MIRRORS[0] + n for n in fetch.FILENAMES]
    for name in fetch.FILENAMES:
        assert (tmp_path / name).read_bytes() == TINY[name]
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644  # 0666 & ~022
    assert sorted(os.listdir(tmp_path)) == sorted(fetch.FILENAMES)


def test_fetch_messages_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(fetch.DataError) as info:
        fetch_tiny(tmp_path, monkeypatch, mirrors=[])
    assert str(info.value) == ("train-images-idx3-ubyte.gz: could not download a valid copy "
                               "from any mirror: no mirrors given")
    with pytest.raises(ValueError) as info:
        fetch.fetch_mnist(tmp_path, checksums={}, mirrors=[])
    assert str(info.value) == "checksums or sizes lack an entry for " + ", ".join(fetch.FILENAMES)
    (tmp_path / "file").write_text("")
    with pytest.raises(fetch.DataError) as info:
        fetch.fetch_mnist(tmp_path / "file" / "mnist", mirrors=[])
    assert str(info.value) == (f"{tmp_path / 'file' / 'mnist'}: cannot create the MNIST folder: "
                               "[Errno 20] Not a directory: "
                               f"'{tmp_path / 'file' / 'mnist'}'")


class Down:
    """An opener for which every mirror is down."""

    def open(self, request, timeout):
        raise urllib.error.URLError(f"{request.full_url.split('/')[2]} is down")


def test_every_mirror_s_reason_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch.urllib.request, "build_opener", Down)
    with pytest.raises(fetch.DataError) as info:
        fetch.fetch_mnist(tmp_path, mirrors=["http://a/", "http://b"], checksums={
            n: "0" * 32 for n in fetch.FILENAMES}, sizes={n: 1 for n in fetch.FILENAMES})
    name = fetch.FILENAMES[0]
    assert str(info.value) == (f"{name}: could not download a valid copy from any mirror: "
                               f"http://a/{name}: a is down; http://b/{name}: b is down")
    assert os.listdir(tmp_path) == []


def test_a_disk_that_fills_up_is_one_line_naming_the_file(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing the download fails (the file-size limit stands in for a full disk): not the
    mirror's fault, so no other mirror is tried, and no partial file is left."""
    import errno
    import resource
    import signal

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (10, hard))
    try:
        with pytest.raises(fetch.DataError) as info:
            fetch_tiny(tmp_path, monkeypatch)  # 20 bytes a file
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    name = fetch.FILENAMES[0]
    assert str(info.value) == f"{tmp_path / name}: cannot write: [Errno {errno.EFBIG}] " \
                              f"{os.strerror(errno.EFBIG)}"
    assert os.listdir(tmp_path) == []
