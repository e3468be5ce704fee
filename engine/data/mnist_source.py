"""MNIST as a network's data: 28x28 images of digits, 10 classes.

The images stay uint8 (47 MB for the 60,000 training images instead of 188 MB as float32) with
``input_scale = 1/255``: the network converts a chunk at a time, so scaling belongs to this
source, not to the model. The network runs in float32 here (the data's ``dtype``), twice as fast
as float64 and what MNIST's pixels need. ``path`` (relative to the scenario's folder),
``train_limit`` and ``test_limit`` are those of engine.data.mnist.load_mnist.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import confine
from ..errors import DataError
from ..validate import Table
from .dataset import Dataset
from .idx import COLS, PIXELS, ROWS
from .mnist import load_mnist

KEYS = ("path", "train_limit", "test_limit")


def _options(t: Table, base_dir: Path) -> tuple[Path | None, dict[str, int | None]]:
    folder = None
    if "path" in t:
        p = Path(t.string("path", what="a folder path")).expanduser()
        folder = p if p.is_absolute() else base_dir / p
        confine.check_data_path(folder, base_dir, t.at("path"))
    return folder, {k: t.integer(k, None, low=1) for k in ("train_limit", "test_limit")}


def _named(exc: DataError, folder: Path | None, t: Table) -> DataError:
    """load_mnist's message, after the scenario and the key (or the source) it concerns."""
    where = "key 'path'" if folder is not None else "source 'mnist'"
    return DataError(f"{t.source}: {t.name} {where}: {exc}")


def _dataset(description: str, train_images: np.ndarray, train_labels: np.ndarray,
             test_images: np.ndarray, test_labels: np.ndarray, is_subset: bool) -> Dataset:
    return Dataset("mnist", description, train_images, train_labels.astype(np.intp),
                   test_images, test_labels.astype(np.intp),
                   [f"pixel {i}" for i in range(PIXELS)], 10, input_scale=1.0 / 255.0,
                   dtype="float32", is_subset=is_subset)


def build(t: Table, base_dir: Path, source: str, name: str) -> Dataset:
    """The [data] table of source "mnist": the first of an explicit ``path``, $GDLAB_MNIST_DIR,
    the user cache, or the bundled subset that holds MNIST."""
    folder, limits = _options(t, base_dir)
    try:
        data = load_mnist(folder, **limits)
    except DataError as exc:
        raise _named(exc, folder, t) from None
    return _dataset(f"mnist: {data.source}; {ROWS}x{COLS} images, pixels 0-255 scaled by 1/255.",
                    data.train_images, data.train_labels, data.test_images, data.test_labels,
                    data.is_subset)


def shape_only(t: Table, base_dir: Path, source: str) -> Dataset:
    """The keys checked, no folder searched and no image read: a Dataset without rows, with
    MNIST's shape (784 inputs, 10 classes). Reading a scenario stays cheap; the folder is
    looked for when the data is loaded (``gdlab check``, a run)."""
    _options(t, base_dir)
    none = np.zeros((0, PIXELS), np.uint8)
    return _dataset("mnist (not loaded)", none, np.zeros(0, np.uint8), none,
                    np.zeros(0, np.uint8), False)
