"""`gdlab data fetch mnist` end to end against a local mirror on 127.0.0.1 (real files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_mnist_fetch import SHARED, server  # noqa: F401  (the local mirror fixture)

from engine.data.fetch import FILENAMES
from engine.data.mnist import load_mnist
from tui.cli import main


def full_set() -> Path:
    env = os.environ.get("GDLAB_MNIST_DIR")
    for folder in ([Path(env)] if env else []) + [SHARED]:
        if all((folder / n).is_file() for n in FILENAMES):
            return folder
    pytest.skip("the full MNIST .gz files are not available (GDLAB_MNIST_DIR or shared/)")


def test_fetch_command_downloads_verifies_and_loads(server, tmp_path, capsys):  # noqa: F811
    folder = full_set()
    server.files = {n: (folder / n).read_bytes() for n in FILENAMES}
    dest = tmp_path / "cache"
    status = main(["data", "fetch", "mnist", "--dest", str(dest),
                   "--mirror", f"{server.base}/good"])
    assert status == 0
    assert "MNIST is ready" in capsys.readouterr().out
    assert sorted(os.listdir(dest)) == sorted(FILENAMES)
    data = load_mnist(dest)
    assert data.train_images.shape == (60000, 784) and data.test_labels.shape == (10000,)
    assert not data.is_subset


def test_fetch_command_refuses_a_corrupt_mirror(server, tmp_path, capsys):  # noqa: F811
    folder = full_set()
    server.files = {n: (folder / n).read_bytes() for n in FILENAMES}
    dest = tmp_path / "cache"
    status = main(["data", "fetch", "mnist", "--dest", str(dest),
                   "--mirror", f"{server.base}/corrupt"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("gdlab: error:") and len(err.strip().splitlines()) == 1
    assert not dest.exists() or os.listdir(dest) == []
