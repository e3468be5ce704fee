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

from ..errors import DataError
from ..table import Table
from .dataset import Dataset
from .idx import COLS, PIXELS, ROWS
from .mnist import load_mnist

KEYS = ("path", "train_limit", "test_limit")


def build(t: Table, base_dir: Path, source: str, name: str) -> Dataset:
    """The [data] table of source "mnist": the first of an explicit ``path``, $GDLAB_MNIST_DIR,
    the user cache, or the bundled subset that holds MNIST."""
    folder = None
    if "path" in t:
        p = Path(t.string("path", what="a folder path")).expanduser()
        folder = p if p.is_absolute() else base_dir / p
    limits = {k: t.integer(k, None, low=1) for k in ("train_limit", "test_limit")}
    try:
        data = load_mnist(folder, **limits)
    except DataError as exc:  # name the scenario and the key, then what load_mnist found
        where = "key 'path'" if folder is not None else "source 'mnist'"
        raise DataError(f"{source}: [data] {where}: {exc}") from None
    return Dataset(
        "mnist", f"mnist: {data.source}; {ROWS}x{COLS} images, pixels 0-255 scaled by 1/255.",
        data.train_images, data.train_labels.astype(np.intp),
        data.test_images, data.test_labels.astype(np.intp),
        [f"pixel {i}" for i in range(PIXELS)], 10, input_scale=1.0 / 255.0, dtype="float32",
    )
