"""The IDX reader's edges that mutation testing of the rewritten (streaming) reader showed
untested: the byte limit at its exact edge, reading in chunks of any size, trailing bytes of a
gzip file, the reasons of a corrupt gzip and of a failing disk in full, and the parsers'
messages when called on bytes."""

from __future__ import annotations

import errno
import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest

from engine.data import idx
from engine.data.idx import (
    parse_idx_images,
    parse_idx_labels,
    read_idx_bytes,
    read_idx_images,
    read_idx_labels,
)
from engine.errors import DataError


def error(call, *args, **kw) -> str:
    with pytest.raises(DataError) as info:
        call(*args, **kw)
    return str(info.value)


def labels_file(labels: list[int], extra: bytes = b"") -> bytes:
    return struct.pack(">II", 2049, len(labels)) + bytes(labels) + extra


def images_file(n: int, extra: bytes = b"") -> bytes:
    pixels = (np.arange(n * 784) % 251).astype(np.uint8).tobytes()
    return struct.pack(">IIII", 2051, n, 28, 28) + pixels + extra


# --- read_idx_bytes' limit: header + MAX_IDX_ITEMS images, made 1 image here (800 bytes) -----

def test_the_byte_limit_at_its_edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idx, "MAX_IDX_ITEMS", 1)
    f = tmp_path / "f"
    f.write_bytes(bytes(800))  # 16 + 1 * 784: exactly the limit
    assert read_idx_bytes(f) == bytes(800)
    f.write_bytes(bytes(801))
    assert error(read_idx_bytes, f) == f"{f}: more than 800 bytes (the limit is 1 images)"
    f.write_bytes(gzip.compress(bytes(801)))
    assert error(read_idx_bytes, f) == \
        f"{f}: more than 800 uncompressed bytes (the limit is 1 images)"


def test_read_idx_bytes_of_a_corrupt_gzip_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "f.gz"
    packed = gzip.compress(bytes(range(256)) * 64)
    f.write_bytes(packed[: len(packed) // 2])
    assert error(read_idx_bytes, f) == (f"{f}: corrupt gzip data (Compressed file ended before "
                                        "the end-of-stream marker was reached)")


# --- reading a chunk at a time gives the same content, whatever the chunk --------------------

@pytest.mark.parametrize("chunk", [1, 3, 784, 1 << 20])
@pytest.mark.parametrize("compress", [False, True])
def test_any_chunk_size_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       chunk: int, compress: bool) -> None:
    monkeypatch.setattr(idx, "CHUNK", chunk)
    pack = gzip.compress if compress else (lambda b: b)
    (tmp_path / "img").write_bytes(pack(images_file(3)))
    (tmp_path / "lab").write_bytes(pack(labels_file([7, 0, 9])))
    images = read_idx_images(tmp_path / "img")
    np.testing.assert_array_equal(images.ravel(), (np.arange(3 * 784) % 251).astype(np.uint8))
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "lab"), [7, 0, 9])
    assert read_idx_bytes(tmp_path / "lab") == labels_file([7, 0, 9])
    # and the checks see the same lengths: one byte short, one byte over
    (tmp_path / "lab").write_bytes(pack(labels_file([7, 0, 9])[:-1]))
    assert ": truncated: header says 3 labels (11 bytes) but the file holds 10" in \
        error(read_idx_labels, tmp_path / "lab")
    (tmp_path / "lab").write_bytes(pack(labels_file([7, 0, 9], b"\1")))
    holds = "more than 11 uncompressed" if compress else "12"
    assert error(read_idx_labels, tmp_path / "lab") == (
        f"{tmp_path / 'lab'}: trailing bytes: header says 3 labels (11 bytes) but the file "
        f"holds {holds} bytes")


def test_a_gzip_file_with_a_few_trailing_bytes(tmp_path: Path) -> None:
    """Beyond the announced size only one byte is decompressed, so the message can only say
    'more than' (the plain file's size is known from the file system)."""
    f = tmp_path / "lab.gz"
    f.write_bytes(gzip.compress(labels_file([1, 2], b"\3\4\5")))
    assert error(read_idx_labels, f) == (f"{f}: trailing bytes: header says 2 labels (10 bytes) "
                                         "but the file holds more than 10 uncompressed bytes")
    f = tmp_path / "lab"
    f.write_bytes(labels_file([1, 2], b"\3\4\5"))
    assert error(read_idx_labels, f) == (f"{f}: trailing bytes: header says 2 labels (10 bytes) "
                                         "but the file holds 13 bytes")


# --- a disk that fails while reading ---------------------------------------------------------

class Failing(io.RawIOBase):
    def __init__(self, exc: OSError) -> None:
        self.exc = exc

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        raise self.exc


def test_a_read_error_is_one_line_with_its_reason() -> None:
    p = Path("disk/f")
    eio = OSError(errno.EIO, "Input/output error")
    assert error(idx._read, p, Failing(eio), 10) == "disk/f: cannot read: Input/output error"
    assert error(idx._read, p, Failing(OSError("no strerror")), 10) == \
        "disk/f: cannot read: no strerror"


# --- the parsers on bytes in memory ----------------------------------------------------------

def test_parser_messages_in_full() -> None:
    assert error(parse_idx_labels, labels_file([1], b"\2"), "mem", gzipped=True) == \
        "mem: trailing bytes: header says 1 labels (9 bytes) but the file holds 10 uncompressed bytes"
    assert error(parse_idx_labels, labels_file([1], b"\2"), "mem") == \
        "mem: trailing bytes: header says 1 labels (9 bytes) but the file holds 10 bytes"
    assert error(parse_idx_labels, struct.pack(">II", 2051, 0), "mem") == \
        "mem: expected an IDX label file (magic 2049) but found magic 2051 (an image file)"
    assert error(parse_idx_images, images_file(1, b"\0"), "mem", gzipped=True) == \
        ("mem: trailing bytes: header says 1 images of 28x28 (800 bytes) but the file holds "
         "801 uncompressed bytes")
    assert error(parse_idx_images, struct.pack(">II", 2049, 0), "mem") == \
        "mem: expected an IDX image file (magic 2051) but found magic 2049 (a label file)"
    # the sizes are unsigned: 2**31 + 28 rows, not a negative number
    assert error(parse_idx_images, struct.pack(">IIII", 2051, 0, 2**31 + 28, 28), "mem") == \
        "mem: images are 2147483676x28, expected 28x28"
    assert error(parse_idx_images, struct.pack(">IIII", 2051, 0, 27, 28), Path("a/b")) == \
        "a/b: images are 27x28, expected 28x28"
