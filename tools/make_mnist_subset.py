"""Build engine/data/mnist_subset.npz, the small MNIST bundled so gdlab works offline.

What it takes, exactly: the FIRST 5000 training images/labels and the FIRST 1000 test
images/labels, in file order, of the real MNIST IDX files (train-images-idx3-ubyte,
train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, plain or .gz),
read with gdlab's own IDX reader. It refuses files whose uncompressed MD5 is not the
published one, then writes np.savez_compressed with exactly four uint8 arrays:
train_images (5000, 784), train_labels (5000,), test_images (1000, 784), test_labels (1000,).
The arrays are reproducible; the .npz bytes are not (zip entries carry timestamps).

Usage, from the repository root:
    python tools/make_mnist_subset.py [--source /work/shared/data/mnist] [--out PATH]

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (commonly stated
licence: CC BY-SA 3.0).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = Path("/work/shared/data/mnist")
DEFAULT_OUT = REPO / "engine" / "data" / "mnist_subset.npz"
N_TRAIN, N_TEST = 5000, 1000


def main(argv: list[str] | None = None) -> int:
    """Read the full MNIST from --source, verify it, and write the first 5000/1000 to --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    import numpy as np

    from engine.data.fetch import MNIST_MD5, content_md5
    from engine.data.mnist import find_mnist_dir, load_mnist

    folder = find_mnist_dir(args.source)
    for name, md5 in MNIST_MD5.items():
        path = folder / name if (folder / name).exists() else folder / name.removesuffix(".gz")
        if content_md5(path) != md5:
            raise SystemExit(f"{path}: content MD5 differs from the published {md5}")
    data = load_mnist(folder, train_limit=N_TRAIN, test_limit=N_TEST)
    arrays = {
        "train_images": data.train_images,
        "train_labels": data.train_labels,
        "test_images": data.test_images,
        "test_labels": data.test_labels,
    }
    np.savez_compressed(args.out, **arrays)
    for key, array in arrays.items():
        print(f"{key}: {array.shape} {array.dtype}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) from {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
