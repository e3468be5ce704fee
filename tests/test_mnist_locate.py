"""Tests for finding and loading MNIST: search order, errors, limits, bundled subset, full data."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data.mnist import FILES, find_mnist_dir, load_mnist, mnist_cache_dir
from engine.errors import DataError

PUBLISHED_MD5 = {
    "train_images": "6bbc9ace898e44ae57da46a324031adb",
    "train_labels": "a25bea736e30d166cdddb491f175f624",
    "test_images": "2646ac647ad5339dbf082846283269ea",
    "test_labels": "27ae3e4e09519cfbb04c329615203637",
}
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def write_set(folder: Path, n_train: int = 5, n_test: int = 3, gz: bool = False, seed: int = 0):
    """Write a tiny MNIST-shaped set of the four IDX files into `folder`; return its arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 784), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
        blobs = {
            f"{split}_images": struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes(),
            f"{split}_labels": struct.pack(">II", 2049, n) + labels.tobytes(),
        }
        for key, blob in blobs.items():
            name = FILES[key] + (".gz" if gz else "")
            (folder / name).write_bytes(gzip.compress(blob) if gz else blob)
    return arrays


def assert_same(data, arrays) -> None:
    """Assert a loaded MnistData holds exactly the given arrays."""
    for key, expected in arrays.items():
        np.testing.assert_array_equal(getattr(data, key), expected)
        assert getattr(data, key).dtype == np.uint8


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path: Path) -> Path:
    """Unset $GDLAB_MNIST_DIR and point the cache at an empty tmp folder for every test."""
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "gdlab" / "mnist"


def test_explicit_folder(tmp_path: Path) -> None:
    arrays = write_set(tmp_path / "m")
    data = load_mnist(tmp_path / "m")
    assert_same(data, arrays)
    assert not data.is_subset
    assert str(tmp_path / "m") in data.source and "5 train / 3 test" in data.source


def test_gz_and_plain_mixed(tmp_path: Path) -> None:
    arrays = write_set(tmp_path / "m", gz=True)
    (tmp_path / "m" / "t10k-labels-idx1-ubyte.gz").rename(tmp_path / "m" / "x.gz")
    blob = gzip.decompress((tmp_path / "m" / "x.gz").read_bytes())
    (tmp_path / "m" / "t10k-labels-idx1-ubyte").write_bytes(blob)
    assert_same(load_mnist(str(tmp_path / "m")), arrays)


def test_explicit_folder_missing_file_is_an_error(tmp_path: Path, clean_env: Path) -> None:
    write_set(clean_env)  # a complete cache must not be used as a silent fallback
    write_set(tmp_path / "m")
    (tmp_path / "m" / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "m")
    message = str(info.value)
    assert str(tmp_path / "m") in message and "t10k-images-idx3-ubyte" in message
    assert "train-images" not in message and "\n" not in message


def test_explicit_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such folder"):
        find_mnist_dir(tmp_path / "nope")


def test_env_var_used(tmp_path: Path, monkeypatch, clean_env: Path) -> None:
    write_set(clean_env, seed=1)
    arrays = write_set(tmp_path / "env", seed=2)
    monkeypatch.setenv("GDLAB_MNIST_DIR", str(tmp_path / "env"))
    assert find_mnist_dir() == tmp_path / "env"
    assert_same(load_mnist(), arrays)


def test_env_var_with_missing_files_is_an_error(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "env").mkdir()
    monkeypatch.setenv("GDLAB_MNIST_DIR", str(tmp_path / "env"))
    with pytest.raises(DataError) as info:
        load_mnist()
    assert "GDLAB_MNIST_DIR" in str(info.value) and str(tmp_path / "env") in str(info.value)
    assert all(name in str(info.value) for name in FILES.values())


def test_explicit_path_wins_over_env(tmp_path: Path, monkeypatch) -> None:
    write_set(tmp_path / "env", seed=1)
    arrays = write_set(tmp_path / "explicit", seed=2)
    monkeypatch.setenv("GDLAB_MNIST_DIR", str(tmp_path / "env"))
    assert_same(load_mnist(tmp_path / "explicit"), arrays)


def test_cache_folder_from_xdg(clean_env: Path) -> None:
    assert mnist_cache_dir() == clean_env
    arrays = write_set(clean_env, gz=True)
    data = load_mnist()
    assert_same(data, arrays)
    assert str(clean_env) in data.source and not data.is_subset


def test_cache_folder_defaults_to_home(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist_cache_dir() == tmp_path / "home" / ".cache" / "gdlab" / "mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the XDG spec says: ignore it
    assert mnist_cache_dir() == tmp_path / "home" / ".cache" / "gdlab" / "mnist"


def test_incomplete_cache_falls_back_to_subset(clean_env: Path) -> None:
    write_set(clean_env)
    (clean_env / "train-labels-idx1-ubyte").unlink()
    assert find_mnist_dir() is None
    assert load_mnist().is_subset


def test_bundled_subset() -> None:
    assert find_mnist_dir() is None
    data = load_mnist()
    assert data.is_subset
    assert data.train_images.shape == (5000, 784) and data.train_labels.shape == (5000,)
    assert data.test_images.shape == (1000, 784) and data.test_labels.shape == (1000,)
    for key in PUBLISHED_MD5:
        assert getattr(data, key).dtype == np.uint8
    for labels in (data.train_labels, data.test_labels):
        assert labels.max() <= 9 and set(np.unique(labels)) == set(range(10))
    assert data.train_images.max() == 255 and data.train_images.min() == 0
    assert "bundled subset (5000 train / 1000 test images)" in data.source
    assert "gdlab data fetch mnist" in data.source
    assert data.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MNIST's first


def test_limits(tmp_path: Path) -> None:
    arrays = write_set(tmp_path / "m", n_train=5, n_test=3)
    data = load_mnist(tmp_path / "m", train_limit=2, test_limit=1)
    np.testing.assert_array_equal(data.train_images, arrays["train_images"][:2])
    np.testing.assert_array_equal(data.train_labels, arrays["train_labels"][:2])
    np.testing.assert_array_equal(data.test_images, arrays["test_images"][:1])
    np.testing.assert_array_equal(data.test_labels, arrays["test_labels"][:1])
    assert "first 2 train / 1 test" in data.source
    big = load_mnist(tmp_path / "m", train_limit=100)  # more than available: keeps all
    assert len(big.train_images) == 5 and len(big.test_images) == 3
    subset = load_mnist(train_limit=10, test_limit=20)
    assert subset.train_images.shape == (10, 784) and subset.test_labels.shape == (20,)
    assert subset.is_subset


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, "10"])
def test_bad_limits(bad) -> None:
    with pytest.raises(DataError, match="train_limit"):
        load_mnist(train_limit=bad)
    with pytest.raises(DataError, match="test_limit"):
        load_mnist(test_limit=bad)


def test_count_mismatch_in_folder(tmp_path: Path) -> None:
    write_set(tmp_path / "m")
    (tmp_path / "m" / "train-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, 1) + b"\1")
    with pytest.raises(DataError, match="1 labels but train-images-idx3-ubyte holds 5 images"):
        load_mnist(tmp_path / "m")


def full_mnist_dir() -> Path:
    """Return a folder holding the full MNIST ($GDLAB_MNIST_DIR or ../shared), or skip."""
    candidates = [Path(os.environ["GDLAB_MNIST_DIR"])] if os.environ.get("GDLAB_MNIST_DIR") else []
    candidates.append(SHARED)
    for folder in candidates:
        if all(
            (folder / name).is_file() or (folder / f"{name}.gz").is_file()
            for name in FILES.values()
        ):
            return folder
    pytest.skip(f"full MNIST not found in {' or '.join(map(str, candidates))}")


@pytest.fixture(scope="module")
def full_dir() -> Path:
    """The full-MNIST folder, looked up before the autouse fixture clears the env var."""
    return full_mnist_dir()


@pytest.fixture(scope="module")
def full_data(full_dir: Path):
    """The full MNIST, loaded once for the tests that need it."""
    return load_mnist(full_dir)


def test_full_mnist(full_dir: Path, full_data) -> None:
    data = full_data
    assert data.train_images.shape == (60000, 784) and data.test_images.shape == (10000, 784)
    assert data.source == f"full MNIST from {full_dir}" and not data.is_subset
    assert np.bincount(data.test_labels).tolist()[:3] == [980, 1135, 1032]
    for key, name in FILES.items():  # MD5 of the files' uncompressed content
        path = full_dir / name
        blob = (
            path.read_bytes()
            if path.is_file()
            else gzip.decompress((full_dir / f"{name}.gz").read_bytes())
        )
        assert hashlib.md5(blob).hexdigest() == PUBLISHED_MD5[key], name
    for key in ("train", "test"):  # and of the arrays re-encoded: nothing lost by the reader
        images, labels = getattr(data, f"{key}_images"), getattr(data, f"{key}_labels")
        encoded = struct.pack(">IIII", 2051, len(images), 28, 28) + images.tobytes()
        assert hashlib.md5(encoded).hexdigest() == PUBLISHED_MD5[f"{key}_images"]
        encoded = struct.pack(">II", 2049, len(labels)) + labels.tobytes()
        assert hashlib.md5(encoded).hexdigest() == PUBLISHED_MD5[f"{key}_labels"]


def test_subset_is_the_first_examples_of_full_mnist(full_data) -> None:
    subset = load_mnist()
    for split, n in (("train", 5000), ("test", 1000)):
        for kind in ("images", "labels"):
            key = f"{split}_{kind}"
            np.testing.assert_array_equal(getattr(subset, key), getattr(full_data, key)[:n])


def test_a_folder_is_read_once_per_process_until_its_files_change(tmp_path: Path) -> None:
    """A sweep loads the same MNIST for every point: the files are read and checked once (the
    arrays are shared, read-only), and read again when a file changes."""
    arrays = write_set(tmp_path / "m")
    first, again = load_mnist(tmp_path / "m"), load_mnist(tmp_path / "m", train_limit=2)
    assert np.shares_memory(first.train_images, load_mnist(tmp_path / "m").train_images)
    assert not first.train_images.flags.writeable
    with pytest.raises(ValueError):
        first.train_images[0, 0] = 1
    assert again.train_images.flags.writeable and len(again.train_images) == 2  # a copy
    changed = write_set(tmp_path / "m", n_train=4, seed=1)
    assert_same(load_mnist(tmp_path / "m"), changed)
    assert not np.array_equal(arrays["test_images"], changed["test_images"])
