"""Find and load MNIST: an explicit folder, $GDLAB_MNIST_DIR, the user cache, or the bundled subset.

The search order lets a lab run offline out of the box (bundled subset) while a fetched or
shared full copy is picked up automatically; a folder the user names explicitly must hold
the files, so a typo is reported instead of silently training on the subset.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from engine.data.idx import PIXELS, read_idx_pair
from engine.errors import DataError

ENV_VAR = "GDLAB_MNIST_DIR"
SUBSET_NAME = "mnist_subset.npz"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
FULL_TRAIN, FULL_TEST = 60000, 10000
FETCH_HINT = "run `gdlab data fetch mnist` for the full set"


@dataclass(frozen=True, eq=False)
class MnistData:
    """The four MNIST arrays (images (N, 784) uint8, labels (N,) uint8) and where they came from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    is_subset: bool


def mnist_cache_dir() -> Path:
    """Return the per-user cache folder for MNIST: $XDG_CACHE_HOME/gdlab/mnist or ~/.cache/…."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "gdlab" / "mnist"


def _find_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Map each MNIST file to its path in `folder` (plain preferred over .gz); list the missing."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for key, name in FILES.items():
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            missing.append(f"{name}[.gz]")
    return found, missing


def _required_dir(folder: Path, origin: str) -> Path:
    """Return `folder` if it holds all four files, else raise naming the folder and the gaps."""
    if not folder.is_dir():
        raise DataError(f"{folder} ({origin}): no such folder; expected the four MNIST IDX files")
    _, missing = _find_files(folder)
    if missing:
        raise DataError(f"{folder} ({origin}): missing MNIST file(s) {', '.join(missing)}")
    return folder


def find_mnist_dir(path: str | Path | None = None) -> Path | None:
    """Return the folder holding the full MNIST files, or None when only the bundled subset is left.

    An explicit `path` or a set $GDLAB_MNIST_DIR must hold all four files (else DataError);
    the user cache folder is used only when complete.
    """
    if path is not None:
        return _required_dir(Path(path).expanduser(), "the folder given")
    env = os.environ.get(ENV_VAR, "")
    if env:
        return _required_dir(Path(env).expanduser(), f"from ${ENV_VAR}")
    cache = mnist_cache_dir()
    if cache.is_dir() and not _find_files(cache)[1]:
        return cache
    return None


def _check_limit(name: str, limit: int | None) -> None:
    """Refuse a limit that is not a whole number >= 1."""
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 1:
        raise DataError(f"MNIST {name}: expected a whole number >= 1, got {limit!r}")


def _load_subset() -> dict[str, np.ndarray]:
    """Load the bundled subset's four arrays from the package data."""
    resource = resources.files("engine.data").joinpath(SUBSET_NAME)
    try:
        with resources.as_file(resource) as file, np.load(file, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in FILES}
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(
            f"{SUBSET_NAME}: the bundled MNIST subset is missing or damaged ({exc}); "
            f"reinstall gdlab or {FETCH_HINT}"
        ) from None
    return arrays


def _check_shapes(arrays: dict[str, np.ndarray], where: str) -> None:
    """Refuse empty sets and arrays of the wrong dtype or shape (guards the bundled file too)."""
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        ok = (
            images.dtype == np.uint8
            and labels.dtype == np.uint8
            and images.ndim == 2
            and images.shape[1] == PIXELS
            and labels.shape == (len(images),)
        )
        if not ok:
            raise DataError(
                f"{where}: {split} arrays have shapes {images.shape} {images.dtype} and"
                f" {labels.shape} {labels.dtype}; expected (N, {PIXELS}) and (N,) uint8"
            )
        if len(images) == 0:
            raise DataError(f"{where}: the {split} set holds no images")


@functools.lru_cache(maxsize=2)
def _read_folder(folder: str, stamp: tuple[tuple[str, int, int], ...]) -> dict[str, np.ndarray]:
    """The four arrays of an MNIST folder, read and checked once per process for files of the
    same name, time and size (``stamp``): a sweep runs many points on the same data. The arrays
    are read-only, so that no caller can change what the next one reads."""
    files = {k: Path(name) for k, (name, _, _) in zip(FILES, stamp, strict=True)}
    arrays = {}
    for split in ("train", "test"):
        images, labels = read_idx_pair(files[f"{split}_images"], files[f"{split}_labels"])
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    _check_shapes(arrays, folder)
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


def load_mnist(
    path: str | Path | None = None,
    *,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> MnistData:
    """Load MNIST from the first place that has it (see `find_mnist_dir`), else the bundled subset.

    `train_limit` / `test_limit` keep only the first N examples (N >= 1; a limit above the
    number available keeps them all).
    """
    _check_limit("train_limit", train_limit)
    _check_limit("test_limit", test_limit)
    folder = find_mnist_dir(path)
    if folder is None:
        arrays = _load_subset()
        _check_shapes(arrays, SUBSET_NAME)
        n_train, n_test = len(arrays["train_images"]), len(arrays["test_images"])
        source = f"bundled subset ({n_train} train / {n_test} test images)"
    else:
        files, _ = _find_files(folder)
        stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size)
                      for f in (files[k] for k in FILES))
        arrays = dict(_read_folder(str(folder), stamp))
        n_train, n_test = len(arrays["train_images"]), len(arrays["test_images"])
        if (n_train, n_test) == (FULL_TRAIN, FULL_TEST):
            source = f"full MNIST from {folder}"
        else:
            source = f"MNIST from {folder} ({n_train} train / {n_test} test images)"
    for split, limit in (("train", train_limit), ("test", test_limit)):
        if limit is not None and limit < len(arrays[f"{split}_images"]):
            for kind in ("images", "labels"):
                arrays[f"{split}_{kind}"] = arrays[f"{split}_{kind}"][:limit].copy()
    if train_limit is not None or test_limit is not None:
        source += (
            f", using the first {len(arrays['train_images'])} train"
            f" / {len(arrays['test_images'])} test images"
        )
    if folder is None:
        source += f" — {FETCH_HINT}"
    return MnistData(**arrays, source=source, is_subset=folder is None)
