"""Read MNIST's IDX files (plain or gzip) into uint8 arrays, refusing anything malformed.

Every check a user's file can fail raises `DataError` with one line naming the file, so a
bad download or a wrong folder is reported clearly instead of as a numpy traceback.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from engine.errors import DataError
from engine.files import open_regular
from engine.limits import MAX_IDX_ITEMS

IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension
ROWS = COLS = 28
PIXELS = ROWS * COLS
IMAGES_HEADER = 16  # magic, count, rows, cols: four big-endian uint32
LABELS_HEADER = 8  # magic, count
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20  # bytes read (and decompressed) at a time

_KIND_OF_MAGIC = {IMAGES_MAGIC: "an image file", LABELS_MAGIC: "a label file"}


def read_idx_bytes(path: str | Path) -> bytes:
    """Return the file's uncompressed content, gunzipping when it starts with the gzip magic.

    At most as many bytes as the largest file gdlab reads (MAX_IDX_ITEMS images): a file that
    inflates beyond that is refused, not decompressed.
    """
    path = Path(path)
    limit = IMAGES_HEADER + MAX_IDX_ITEMS * PIXELS
    with _open(path) as (stream, gzipped):
        data = _read(path, stream, limit + 1)
    if len(data) > limit:
        raise DataError(f"{path}: more than {limit:,}{' uncompressed' if gzipped else ''} bytes "
                        f"(the limit is {MAX_IDX_ITEMS:,} images)")
    return data


@contextlib.contextmanager
def _open(path: Path) -> Iterator[tuple[BinaryIO, bool]]:
    """The file as a stream of its uncompressed bytes, and whether it is gzip-compressed."""
    if path.is_dir():
        raise DataError(f"{path}: is a folder, expected an IDX file")
    if not path.exists():
        raise DataError(f"{path}: file not found")
    fh = open_regular(path, DataError)
    try:
        gzipped = fh.read(2) == GZIP_MAGIC
        fh.seek(0)
        stream: BinaryIO = gzip.GzipFile(fileobj=fh, mode="rb") if gzipped else fh
        yield stream, gzipped
    finally:
        fh.close()


def _read(path: Path, stream: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes of the stream (fewer at its end), read a chunk at a time so that the
    memory taken is what the file holds, not what a header claims; a gzip error as DataError."""
    out = bytearray()
    try:
        while len(out) < n:
            chunk = stream.read(min(CHUNK, n - len(out)))
            if not chunk:
                break
            out += chunk
    except (OSError, EOFError, zlib.error) as exc:
        if not isinstance(stream, gzip.GzipFile):
            raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{path}: corrupt gzip data ({reason})") from None
    return bytes(out)


def _read_idx(path: Path, header: int, magic: int, item: int) -> tuple[bytes, int, bool]:
    """The header and exactly the items it announces: (bytes, count, gzipped).

    The count is checked against MAX_IDX_ITEMS before anything more is read, and never more
    than one byte past the announced size is decompressed: a small .gz that would inflate to
    gigabytes is refused for its trailing bytes, not unpacked into memory.
    """
    with _open(path) as (stream, gzipped):
        head = _read(path, stream, header)
        count = _check_magic(path, head, header, magic)
        if magic == IMAGES_MAGIC:
            rows, cols = struct.unpack_from(">II", head, 8)
            if (rows, cols) != (ROWS, COLS):
                raise DataError(f"{path}: images are {rows}x{cols}, expected {ROWS}x{COLS}")
        what = "images" if magic == IMAGES_MAGIC else "labels"
        if count > MAX_IDX_ITEMS:
            raise DataError(f"{path}: the header announces {count:,} {what} (the limit is "
                            f"{MAX_IDX_ITEMS:,} in one file)")
        expected = header + count * item
        data = head + _read(path, stream, expected - header)
        claim = f"{count} images of {ROWS}x{COLS}" if magic == IMAGES_MAGIC else f"{count} labels"
        if len(data) < expected:
            _check_length(path, data, expected, claim, gzipped)
        if _read(path, stream, 1):  # more than announced (and, for gzip, the CRC checked)
            size = "more than " + str(expected) + " uncompressed" if gzipped else \
                str(os.fstat(stream.fileno()).st_size)
            raise DataError(f"{path}: trailing bytes: header says {claim} ({expected} bytes) but "
                            f"the file holds {size} bytes")
    return data, count, gzipped


def _check_magic(path: Path, data: bytes, header: int, expected: int) -> int:
    """Check the header is present and its magic number is `expected`; return the count."""
    what = "image" if expected == IMAGES_MAGIC else "label"
    too_short = DataError(
        f"{path}: {len(data)} bytes is too short for an IDX {what} header ({header} bytes)"
    )
    if len(data) < 4:
        raise too_short
    (magic,) = struct.unpack_from(">I", data)
    if magic != expected:  # checked first: a swapped file is the likelier mistake
        found = _KIND_OF_MAGIC.get(magic, "not an IDX file")
        raise DataError(
            f"{path}: expected an IDX {what} file (magic {expected}) but found magic {magic}"
            f" ({found})"
        )
    if len(data) < header:
        raise too_short
    (count,) = struct.unpack_from(">I", data, 4)
    return count


def _check_length(path: Path, data: bytes, expected: int, claim: str, gzipped: bool) -> None:
    """Refuse a payload that is shorter (truncated) or longer (trailing bytes) than claimed."""
    if len(data) == expected:
        return
    problem = "truncated" if len(data) < expected else "trailing bytes"
    raise DataError(
        f"{path}: {problem}: header says {claim} ({expected} bytes) but the file holds"
        f" {len(data)}{' uncompressed' if gzipped else ''} bytes"
    )


def parse_idx_images(data: bytes, path: str | Path, *, gzipped: bool = False) -> np.ndarray:
    """Decode uncompressed IDX image bytes to an (N, 784) uint8 array; `path` is for messages."""
    path = Path(path)
    count = _check_magic(path, data, IMAGES_HEADER, IMAGES_MAGIC)
    rows, cols = struct.unpack_from(">II", data, 8)
    if (rows, cols) != (ROWS, COLS):
        raise DataError(f"{path}: images are {rows}x{cols}, expected {ROWS}x{COLS}")
    expected = IMAGES_HEADER + count * PIXELS
    _check_length(path, data, expected, f"{count} images of {rows}x{cols}", gzipped)
    pixels = np.frombuffer(data, dtype=np.uint8, offset=IMAGES_HEADER)
    return pixels.reshape(count, PIXELS).copy()  # a writable array, like the bundled subset's


def parse_idx_labels(data: bytes, path: str | Path, *, gzipped: bool = False) -> np.ndarray:
    """Decode uncompressed IDX label bytes to an (N,) uint8 array of digits 0-9."""
    path = Path(path)
    count = _check_magic(path, data, LABELS_HEADER, LABELS_MAGIC)
    _check_length(path, data, LABELS_HEADER + count, f"{count} labels", gzipped)
    labels = np.frombuffer(data, dtype=np.uint8, offset=LABELS_HEADER).copy()
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise DataError(
            f"{path}: labels must be digits 0-9 but label {bad[0]} is {labels[bad[0]]}"
            f" ({bad.size} out of range)"
        )
    return labels


def read_idx_images(path: str | Path) -> np.ndarray:
    """Read an IDX image file (plain or gzip) as an (N, 784) uint8 array."""
    data, _, gzipped = _read_idx(Path(path), IMAGES_HEADER, IMAGES_MAGIC, PIXELS)
    return parse_idx_images(data, path, gzipped=gzipped)


def read_idx_labels(path: str | Path) -> np.ndarray:
    """Read an IDX label file (plain or gzip) as an (N,) uint8 array."""
    data, _, gzipped = _read_idx(Path(path), LABELS_HEADER, LABELS_MAGIC, 1)
    return parse_idx_labels(data, path, gzipped=gzipped)


def read_idx_pair(
    images_path: str | Path, labels_path: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """Read matching image and label files, refusing a pair whose counts differ."""
    images = read_idx_images(images_path)
    labels = read_idx_labels(labels_path)
    if len(images) != len(labels):
        raise DataError(
            f"{labels_path}: holds {len(labels)} labels but {Path(images_path).name}"
            f" holds {len(images)} images; the counts must match"
        )
    return images, labels
