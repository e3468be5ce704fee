"""Tests for the IDX reader: round trips of hand-built files and every way a file can be bad."""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data.idx import (
    read_idx_bytes,
    read_idx_images,
    read_idx_labels,
    read_idx_pair,
)
from engine.errors import DataError


def images_bytes(images: np.ndarray, rows: int = 28, cols: int = 28, magic: int = 2051) -> bytes:
    """Hand-encode an IDX image file (big-endian header, then raw pixels)."""
    return struct.pack(">IIII", magic, len(images), rows, cols) + images.astype(np.uint8).tobytes()


def labels_bytes(labels: np.ndarray, magic: int = 2049) -> bytes:
    """Hand-encode an IDX label file."""
    return struct.pack(">II", magic, len(labels)) + labels.astype(np.uint8).tobytes()


@pytest.fixture
def sample() -> tuple[np.ndarray, np.ndarray]:
    """Seven random 28x28 images and labels 0-9."""
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (7, 784), dtype=np.uint8), np.array([0, 9, 3, 3, 5, 1, 7])


def expect_error(path: Path, *words: str) -> str:
    """Read `path` as images expecting a one-line DataError naming the file and `words`."""
    with pytest.raises(DataError) as info:
        read_idx_images(path)
    return check_message(str(info.value), path.name, *words)


def check_message(message: str, *words: str) -> str:
    """Assert a message is a single line containing every word."""
    assert "\n" not in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path: Path, sample, compress: bool) -> None:
    images, labels = sample
    suffix = ".gz" if compress else ""
    encode = gzip.compress if compress else bytes
    (tmp_path / f"img{suffix}").write_bytes(encode(images_bytes(images)))
    (tmp_path / f"lab{suffix}").write_bytes(encode(labels_bytes(labels)))
    got_images, got_labels = read_idx_pair(tmp_path / f"img{suffix}", tmp_path / f"lab{suffix}")
    assert got_images.dtype == np.uint8 and got_images.shape == (7, 784)
    assert got_labels.dtype == np.uint8 and got_labels.shape == (7,)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_images.flags.writeable


def test_gzip_detected_by_magic_not_suffix(tmp_path: Path, sample) -> None:
    images, labels = sample
    (tmp_path / "images-no-suffix").write_bytes(gzip.compress(images_bytes(images)))
    (tmp_path / "labels.gz").write_bytes(labels_bytes(labels))  # plain despite the name
    np.testing.assert_array_equal(read_idx_images(tmp_path / "images-no-suffix"), images)
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "labels.gz"), labels)


def test_zero_images_is_a_valid_empty_file(tmp_path: Path) -> None:
    (tmp_path / "img").write_bytes(images_bytes(np.zeros((0, 784))))
    assert read_idx_images(tmp_path / "img").shape == (0, 784)


def test_labels_file_given_as_images(tmp_path: Path, sample) -> None:
    (tmp_path / "lab").write_bytes(labels_bytes(sample[1]))
    expect_error(tmp_path / "lab", "magic 2051", "found magic 2049", "label file")


def test_images_file_given_as_labels(tmp_path: Path, sample) -> None:
    (tmp_path / "img").write_bytes(images_bytes(sample[0]))
    with pytest.raises(DataError) as info:
        read_idx_labels(tmp_path / "img")
    check_message(str(info.value), "img", "magic 2049", "found magic 2051")


def test_wrong_magic(tmp_path: Path, sample) -> None:
    (tmp_path / "img").write_bytes(images_bytes(sample[0], magic=0x0803_0000))
    expect_error(tmp_path / "img", "not an IDX file")


def test_wrong_dimensions(tmp_path: Path) -> None:
    (tmp_path / "img").write_bytes(images_bytes(np.zeros((2, 28 * 27)), rows=28, cols=27))
    expect_error(tmp_path / "img", "28x27", "expected 28x28")


def test_too_short_for_header(tmp_path: Path) -> None:
    (tmp_path / "img").write_bytes(b"\x00\x00\x08")
    expect_error(tmp_path / "img", "3 bytes", "too short")


@pytest.mark.parametrize("compress", [False, True])
def test_truncated(tmp_path: Path, sample, compress: bool) -> None:
    data = images_bytes(sample[0])[:-100]
    (tmp_path / "img").write_bytes(gzip.compress(data) if compress else data)
    message = expect_error(tmp_path / "img", "truncated", "7 images of 28x28", "5504 bytes")
    assert f"holds {len(data)}" in message
    assert ("uncompressed" in message) == compress


def test_trailing_bytes(tmp_path: Path, sample) -> None:
    (tmp_path / "img").write_bytes(images_bytes(sample[0]) + b"\x00")
    expect_error(tmp_path / "img", "trailing bytes", "5504 bytes", "holds 5505")


def test_truncated_labels(tmp_path: Path, sample) -> None:
    (tmp_path / "lab").write_bytes(labels_bytes(sample[1])[:-1])
    with pytest.raises(DataError) as info:
        read_idx_labels(tmp_path / "lab")
    check_message(str(info.value), "lab", "truncated", "7 labels")


def test_label_out_of_range(tmp_path: Path) -> None:
    (tmp_path / "lab").write_bytes(labels_bytes(np.array([1, 2, 10, 200])))
    with pytest.raises(DataError) as info:
        read_idx_labels(tmp_path / "lab")
    check_message(str(info.value), "lab", "0-9", "label 2 is 10", "2 out of range")


def test_count_mismatch(tmp_path: Path, sample) -> None:
    images, labels = sample
    (tmp_path / "img").write_bytes(images_bytes(images))
    (tmp_path / "lab").write_bytes(labels_bytes(labels[:6]))
    with pytest.raises(DataError) as info:
        read_idx_pair(tmp_path / "img", tmp_path / "lab")
    check_message(str(info.value), "lab", "6 labels", "7 images")


@pytest.mark.parametrize("damage", ["flipped", "cut", "garbage"])
def test_corrupt_gzip(tmp_path: Path, sample, damage: str) -> None:
    packed = bytearray(gzip.compress(images_bytes(sample[0])))
    if damage == "flipped":  # deflate data altered: bad block or CRC mismatch
        packed[len(packed) // 2] ^= 0xFF
    elif damage == "cut":  # stream ends before its end marker
        del packed[len(packed) // 2 :]
    else:  # valid gzip magic, nonsense after it
        packed = bytearray(b"\x1f\x8b" + b"nonsense" * 10)
    (tmp_path / "img.gz").write_bytes(bytes(packed))
    expect_error(tmp_path / "img.gz", "corrupt gzip")


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "train-images-idx3-ubyte.gz", "not found")
    with pytest.raises(DataError, match="is a folder"):
        read_idx_bytes(tmp_path)


# --- hostile files: never more memory than the file's announced content ----------------------

def peak_bytes(fn) -> tuple[int, BaseException | None]:
    """The most memory Python allocated while ``fn`` ran, and what it raised."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        raised = None
    except Exception as exc:  # noqa: BLE001 - returned to the test
        raised = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, raised


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path: Path, sample, monkeypatch) -> None:
    # seven images, then 1 GiB of zeros in 1,024 gzip members of 1 MiB each (a 1 MB file)
    zeros = gzip.compress(bytes(1 << 20))
    (tmp_path / "img.gz").write_bytes(gzip.compress(images_bytes(sample[0])) + zeros * 1024)
    peak, raised = peak_bytes(lambda: read_idx_images(tmp_path / "img.gz"))
    assert isinstance(raised, DataError)
    check_message(str(raised), "img.gz", "trailing bytes", "7 images of 28x28 (5504 bytes)",
                  "more than 5504 uncompressed bytes")
    assert peak < 16 << 20, peak  # a few chunks, not the gibibyte
    # the whole content, whatever the header says, is read up to the limit (made small here)
    from engine.data import idx

    monkeypatch.setattr(idx, "MAX_IDX_ITEMS", 1000)
    peak, raised = peak_bytes(lambda: read_idx_bytes(tmp_path / "img.gz"))
    assert isinstance(raised, DataError)
    assert str(raised) == f"{tmp_path / 'img.gz'}: more than 784,016 uncompressed bytes (the " \
                          "limit is 1,000 images)"
    assert peak < 16 << 20, peak


@pytest.mark.parametrize("compress", [False, True])
def test_a_header_claiming_a_million_images_of_a_short_file(tmp_path: Path, compress) -> None:
    from engine.limits import MAX_IDX_ITEMS

    data = struct.pack(">IIII", 2051, MAX_IDX_ITEMS, 28, 28) + bytes(784 * 3)
    (tmp_path / "img").write_bytes(gzip.compress(data) if compress else data)
    peak, raised = peak_bytes(lambda: read_idx_images(tmp_path / "img"))
    assert isinstance(raised, DataError)
    check_message(str(raised), "truncated", f"{MAX_IDX_ITEMS} images", f"holds {len(data)}")
    assert peak < 16 << 20, peak  # memory for what arrived, not for the 784 MB claimed


def test_a_header_announcing_more_images_than_the_limit(tmp_path: Path) -> None:
    (tmp_path / "img").write_bytes(struct.pack(">IIII", 2051, 2**32 - 1, 28, 28))
    expect_error(tmp_path / "img", "announces 4,294,967,295 images", "the limit is 1,000,000")
    (tmp_path / "lab").write_bytes(struct.pack(">II", 2049, 2**31))
    with pytest.raises(DataError, match="announces 2,147,483,648 labels"):
        read_idx_labels(tmp_path / "lab")


def test_a_fifo_or_a_device_is_not_read(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "img")
    expect_error(tmp_path / "img", "not a regular file")
    with pytest.raises(DataError, match="not a regular file"):
        read_idx_images("/dev/zero")
# --- every message in full, and the edges of each check (found by mutation testing) ------------


def error_of(read, path: Path) -> str:
    with pytest.raises(DataError) as info:
        read(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("data", "read", "message"),
    [
        # 4 bytes of the right magic and nothing else: the magic is read, then the header is short
        (struct.pack(">I", 2051), read_idx_images,
         "{p}: 4 bytes is too short for an IDX image header (16 bytes)"),
        (struct.pack(">I", 2049) + b"\0\0\0", read_idx_labels,
         "{p}: 7 bytes is too short for an IDX label header (8 bytes)"),
        # 4 bytes of a wrong magic: the magic is the message, not the length
        (struct.pack(">I", 2049), read_idx_images,
         "{p}: expected an IDX image file (magic 2051) but found magic 2049 (a label file)"),
        (struct.pack(">I", 2051), read_idx_labels,
         "{p}: expected an IDX label file (magic 2049) but found magic 2051 (an image file)"),
        # header fields are unsigned: 0x80000803 is 2147485699, not a negative number
        (struct.pack(">I", 0x8000_0803), read_idx_images,
         "{p}: expected an IDX image file (magic 2051) but found magic 2147485699 (not an IDX file)"),
        (struct.pack(">IIII", 2051, 1000, 28, 28), read_idx_images,
         "{p}: truncated: header says 1000 images of 28x28 (784016 bytes) but the file"
         " holds 16 bytes"),
        (struct.pack(">IIII", 2051, 0, 2**32 - 1, 28), read_idx_images,
         "{p}: images are 4294967295x28, expected 28x28"),
        (struct.pack(">II", 2049, 3) + b"\1\2", read_idx_labels,
         "{p}: truncated: header says 3 labels (11 bytes) but the file holds 10 bytes"),
        (struct.pack(">II", 2049, 1) + b"\1\2", read_idx_labels,
         "{p}: trailing bytes: header says 1 labels (9 bytes) but the file holds 10 bytes"),
        (gzip.compress(struct.pack(">II", 2049, 3) + b"\1\2"), read_idx_labels,
         "{p}: truncated: header says 3 labels (11 bytes) but the file holds 10 uncompressed bytes"),
        (b"", read_idx_images, "{p}: 0 bytes is too short for an IDX image header (16 bytes)"),
    ],
)
def test_messages_in_full(tmp_path: Path, data: bytes, read, message: str) -> None:
    # header sizes: images 4 fields x 4 bytes = 16, labels 2 x 4 = 8; an image is 28*28 = 784 bytes
    (tmp_path / "f").write_bytes(data)
    assert error_of(read, tmp_path / "f") == message.format(p=tmp_path / "f")


def test_length_exactly_as_claimed_is_accepted_one_more_or_less_is_not(tmp_path: Path) -> None:
    body = struct.pack(">II", 2049, 2)
    for extra, problem in [(b"\1", "truncated"), (b"\1\2", None), (b"\1\2\3", "trailing bytes")]:
        (tmp_path / "lab").write_bytes(body + extra)
        if problem is None:
            np.testing.assert_array_equal(read_idx_labels(tmp_path / "lab"), [1, 2])
        else:
            assert error_of(read_idx_labels, tmp_path / "lab").startswith(f"{tmp_path / 'lab'}: {problem}:")


def test_parsers_called_directly_say_nothing_of_compression(sample) -> None:
    from engine.data.idx import parse_idx_images, parse_idx_labels

    short_images = images_bytes(sample[0])[:-1]
    with pytest.raises(DataError, match=r"holds 5503 bytes$"):
        parse_idx_images(short_images, "mem")
    with pytest.raises(DataError, match=r"^mem: truncated: header says 7 labels \(15 bytes\) but"
                                        r" the file holds 14 bytes$"):
        parse_idx_labels(labels_bytes(sample[1])[:-1], "mem")


def test_read_idx_bytes_returns_the_uncompressed_content(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"\0\0\x08\x01abc")
    (tmp_path / "packed").write_bytes(gzip.compress(b"\0\0\x08\x01abc"))
    assert read_idx_bytes(tmp_path / "plain") == read_idx_bytes(tmp_path / "packed") == b"\0\0\x08\x01abc"
