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
