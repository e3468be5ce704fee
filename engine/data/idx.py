"""Read MNIST's IDX files (plain or gzip) into uint8 arrays, refusing anything malformed.

Every check a user's file can fail raises `DataError` with one line naming the file, so a
bad download or a wrong folder is reported clearly instead of as a numpy traceback.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from engine.errors import DataError

IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension
ROWS = COLS = 28
PIXELS = ROWS * COLS
IMAGES_HEADER = 16  # magic, count, rows, cols: four big-endian uint32
LABELS_HEADER = 8  # magic, count
GZIP_MAGIC = b"\x1f\x8b"

_KIND_OF_MAGIC = {IMAGES_MAGIC: "an image file", LABELS_MAGIC: "a label file"}


def read_idx_bytes(path: str | Path) -> bytes:
    """Return the file's uncompressed content, gunzipping when it starts with the gzip magic."""
    return _read(Path(path))[0]


def _read(path: Path) -> tuple[bytes, bool]:
    """Return the file's uncompressed content and whether it was gzip-compressed."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected an IDX file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw, False
    try:
        return gzip.decompress(raw), True
    except (OSError, EOFError, zlib.error) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{path}: corrupt gzip data ({reason})") from None


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
    data, gzipped = _read(Path(path))
    return parse_idx_images(data, path, gzipped=gzipped)


def read_idx_labels(path: str | Path) -> np.ndarray:
    """Read an IDX label file (plain or gzip) as an (N,) uint8 array."""
    data, gzipped = _read(Path(path))
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
