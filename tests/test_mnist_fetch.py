"""Tests for fetch_mnist against local HTTP mirrors on 127.0.0.1: good, corrupt, dropping, dead."""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data import fetch
from engine.data.fetch import FILENAMES, fetch_mnist
from engine.data.mnist import load_mnist, mnist_cache_dir
from engine.errors import DataError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def tiny_mnist() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Build the four files of a tiny MNIST: (uncompressed IDX bytes, gzip bytes) by .gz name."""
    rng = np.random.default_rng(3)
    raw = {}
    for prefix, n in (("train", 40), ("t10k", 12)):
        images = rng.integers(0, 256, (n, 784), dtype=np.uint8).tobytes()
        labels = rng.integers(0, 10, n, dtype=np.uint8).tobytes()
        raw[f"{prefix}-images-idx3-ubyte.gz"] = struct.pack(">IIII", 2051, n, 28, 28) + images
        raw[f"{prefix}-labels-idx1-ubyte.gz"] = struct.pack(">II", 2049, n) + labels
    return raw, {name: gzip.compress(blob) for name, blob in raw.items()}


RAW, GZ = tiny_mnist()
SUMS = {name: hashlib.md5(blob).hexdigest() for name, blob in RAW.items()}

# Socket timeouts. PATIENT is far beyond any answer of the local server, however busy the
# machine: the tests that are not about timing out use it. The slow mirror never answers, so a
# test of timing out gives IMPATIENT, and a good mirror in the same call must answer within it.
PATIENT = 30.0
IMPATIENT = 2.0


class Handler(BaseHTTPRequestHandler):
    """Serves /<behaviour>/<file name> with the behaviour of a good or a broken mirror."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        """Answer one request according to the first path segment."""
        server = self.server
        server.requests.append(self.path)
        _, behaviour, name = self.path.split("/", 2)
        body = server.files.get(name)
        if behaviour == "slow":  # no answer until the test ends (or a minute has passed)
            if not server.release.wait(60):
                server.gave_up.append(self.path)
            return
        if behaviour in ("endless", "trickle", "biglength"):
            self.hostile(behaviour)
            return
        if body is None or behaviour == "missing":
            self.send_error(404)
            return
        if behaviour == "corrupt":  # a valid gzip of the wrong content
            body = gzip.compress(RAW[name][::-1])
        if behaviour == "plain":  # uncompressed bytes under the .gz name
            body = RAW[name]
        self.send_response(200)
        if behaviour != "nolength":
            extra = 1000 if behaviour == "drop" else 0
            self.send_header("Content-Length", str(len(body) + extra))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if behaviour == "drop" else body)
        self.close_connection = True

    def hostile(self, behaviour: str) -> None:
        """A mirror that streams zeros without end, trickles a byte at a time, or announces a
        size no MNIST file has; each stops when the client goes or the test ends."""
        self.send_response(200)
        if behaviour == "trickle":
            self.send_header("Content-Length", "4000")
        if behaviour == "biglength":
            self.send_header("Content-Length", str(6 * 10**9))
        self.end_headers()
        self.server.started.set()
        zeros = bytes(65536)
        try:
            for _ in range(1600 if behaviour == "endless" else 400):  # 100 MB, or 40 s
                if self.server.release.is_set():
                    return
                if behaviour == "trickle":
                    self.wfile.write(b"\0")
                    self.wfile.flush()
                    self.server.release.wait(0.1)
                else:
                    self.wfile.write(zeros)
        except OSError:  # the client hung up: what a good client does with such a mirror
            return

    def log_message(self, *args) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def server(monkeypatch):
    """Run a local mirror on 127.0.0.1 for one test, with proxies disabled; stop it after."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setattr(fetch, "CHUNK", 4096)  # several progress calls even for tiny files
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.files, httpd.requests, httpd.release = dict(GZ), [], threading.Event()
    httpd.gave_up = []  # slow requests the server stopped waiting on (the client never did)
    httpd.started = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(2)


def dead_url() -> str:
    """Return the URL of a local port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def assert_tiny_set(dest: Path) -> None:
    """Assert `dest` holds exactly the four verified files, no temp files, loadable."""
    assert sorted(os.listdir(dest)) == sorted(FILENAMES)
    for name in FILENAMES:
        assert gzip.decompress((dest / name).read_bytes()) == RAW[name]
    data = load_mnist(dest)
    assert data.train_images.shape == (40, 784) and data.test_labels.shape == (12,)


def test_good_mirror_with_progress(server, tmp_path: Path) -> None:
    calls = []
    dest = fetch_mnist(
        tmp_path / "cache",
        mirrors=[f"{server.base}/good"],  # no trailing slash: added
        checksums=SUMS,
        timeout=PATIENT,
        progress=lambda name, done, total: calls.append((name, done, total)),
    )
    assert dest == tmp_path / "cache"
    assert_tiny_set(dest)
    for name in FILENAMES:
        mine = [(done, total) for n, done, total in calls if n == name]
        dones = [done for done, _ in mine]
        assert dones[0] == 0 and dones[-1] == len(GZ[name])
        assert all(a < b for a, b in zip(dones, dones[1:], strict=False))
        assert {total for _, total in mine} == {len(GZ[name])}
    train_images = [c for c in calls if c[0] == "train-images-idx3-ubyte.gz"]
    assert len(train_images) >= 1 + len(GZ["train-images-idx3-ubyte.gz"]) // 4096


def test_default_destination_is_the_cache(server, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    dest = fetch_mnist(mirrors=[f"{server.base}/good/"], checksums=SUMS, timeout=PATIENT)
    assert dest == mnist_cache_dir() == tmp_path / "xdg" / "gdlab" / "mnist"
    assert_tiny_set(dest)
    data = load_mnist()
    assert not data.is_subset and str(dest) in data.source


@pytest.mark.parametrize("broken", ["corrupt", "drop", "missing", "slow"])
def test_broken_mirror_falls_through_to_next(server, tmp_path: Path, broken: str) -> None:
    mirrors = [f"{server.base}/{broken}/", dead_url(), f"{server.base}/good/"]
    fetch_mnist(tmp_path, mirrors=mirrors, checksums=SUMS,
                timeout=IMPATIENT if broken == "slow" else PATIENT)
    assert_tiny_set(tmp_path)
    assert sorted(server.requests) == sorted(
        [f"/{broken}/{name}" for name in FILENAMES] + [f"/good/{name}" for name in FILENAMES]
    )
    # the slow mirror still holds its requests: the client gave up on them by itself
    assert server.gave_up == []


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("corrupt", "checksum mismatch"),
        ("drop", "connection closed after"),
        ("missing", "HTTP 404"),
        ("slow", "timed out"),
    ],
)
def test_no_good_mirror_is_an_error_and_leaves_nothing(
    server, tmp_path: Path, broken: str, reason: str
) -> None:
    dead = dead_url()
    with pytest.raises(DataError) as info:
        fetch_mnist(
            tmp_path, mirrors=[f"{server.base}/{broken}/", dead], checksums=SUMS,
            timeout=IMPATIENT if broken == "slow" else PATIENT,
        )
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("train-images-idx3-ubyte.gz: ")
    assert f"{server.base}/{broken}/train-images-idx3-ubyte.gz: {reason}" in message
    assert f"{dead}train-images-idx3-ubyte.gz: " in message and "refused" in message
    assert os.listdir(tmp_path) == []  # no final file and no temp file


def test_drop_reports_partial_progress_and_cleans_up(server, tmp_path: Path) -> None:
    calls = []
    with pytest.raises(DataError, match=r"closed after \d+ of \d+ bytes"):
        fetch_mnist(
            tmp_path,
            mirrors=[f"{server.base}/drop/"],
            checksums=SUMS,
            timeout=PATIENT,
            progress=lambda *call: calls.append(call),
        )
    size = len(GZ["train-images-idx3-ubyte.gz"])
    assert calls[-1] == ("train-images-idx3-ubyte.gz", size // 2, size + 1000)
    assert os.listdir(tmp_path) == []


def test_verified_files_are_skipped(server, tmp_path: Path) -> None:
    fetch_mnist(tmp_path, mirrors=[f"{server.base}/good/"], checksums=SUMS, timeout=PATIENT)
    server.requests.clear()
    calls = []
    fetch_mnist(
        tmp_path,
        mirrors=[dead_url()],
        checksums=SUMS,
        timeout=PATIENT,
        progress=lambda *call: calls.append(call),
    )
    assert server.requests == []
    assert calls == [(name, len(GZ[name]), len(GZ[name])) for name in FILENAMES]


def test_corrupt_existing_file_is_replaced(server, tmp_path: Path) -> None:
    fetch_mnist(tmp_path, mirrors=[f"{server.base}/good/"], checksums=SUMS, timeout=PATIENT)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bgarbage")
    server.requests.clear()
    fetch_mnist(tmp_path, mirrors=[f"{server.base}/good/"], checksums=SUMS, timeout=PATIENT)
    assert server.requests == ["/good/t10k-labels-idx1-ubyte.gz"]
    assert_tiny_set(tmp_path)


def test_without_content_length_total_is_none(server, tmp_path: Path) -> None:
    calls = []
    fetch_mnist(
        tmp_path,
        mirrors=[f"{server.base}/nolength/"],
        checksums=SUMS,
        timeout=PATIENT,
        progress=lambda *call: calls.append(call),
    )
    assert_tiny_set(tmp_path)
    assert {total for _, _, total in calls} == {None}


def test_checksums_must_cover_every_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz"):
        fetch_mnist(tmp_path, mirrors=[], checksums={n: "0" for n in FILENAMES[:3]})


def test_published_checksums_accept_the_real_files(server, tmp_path: Path) -> None:
    env = os.environ.get("GDLAB_MNIST_DIR")
    folders = ([Path(env)] if env else []) + [SHARED]
    folder = next((f for f in folders if all((f / n).is_file() for n in FILENAMES)), None)
    if folder is None:
        pytest.skip(f"full MNIST .gz files not found in {' or '.join(map(str, folders))}")
    server.files = {name: (folder / name).read_bytes() for name in FILENAMES}
    fetch_mnist(tmp_path, mirrors=[f"{server.base}/good/"], timeout=PATIENT)  # default checksums
    for name in FILENAMES:
        assert (tmp_path / name).read_bytes() == server.files[name]


# --- hostile mirrors: cut off at the file's size, given up at the deadline, interrupted cleanly -

SIZES = {name: len(blob) for name, blob in RAW.items()}


def test_an_endless_stream_is_cut_off_at_the_size_of_the_file(server, tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        fetch_mnist(tmp_path, mirrors=[f"{server.base}/endless/"], checksums=SUMS, sizes=SIZES,
                    timeout=PATIENT)
    cap = SIZES["train-images-idx3-ubyte.gz"] + fetch.DOWNLOAD_MARGIN
    assert f"endless/train-images-idx3-ubyte.gz: sent more than {cap} bytes" in str(info.value)
    assert os.listdir(tmp_path) == []


def test_the_real_sizes_cut_off_an_endless_stream_too() -> None:
    # what is cut off by default: the uncompressed MNIST files, 47 MB at most, plus the margin
    assert fetch.MNIST_SIZES["train-images-idx3-ubyte.gz"] == 16 + 60_000 * 28 * 28
    assert max(fetch.MNIST_SIZES.values()) + fetch.DOWNLOAD_MARGIN < 48_000_000


def test_a_size_no_mnist_file_has_is_refused_before_reading(server, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"announces 6000000000 bytes, more than the file can be"):
        fetch_mnist(tmp_path, mirrors=[f"{server.base}/biglength/"], checksums=SUMS,
                    timeout=PATIENT)
    assert os.listdir(tmp_path) == []


def test_a_trickling_mirror_is_given_up_at_the_deadline(server, tmp_path: Path) -> None:
    # a byte every 0.1 s for 4,000 bytes would take 400 s: the deadline of 0.5 s cuts it short
    # (the deadline is checked after each read: without it the download would complete)
    with pytest.raises(DataError, match=r"trickle/train-images-idx3-ubyte.gz: too slow: \d+ "
                                         "bytes in the time allowed"):
        fetch_mnist(tmp_path, mirrors=[f"{server.base}/trickle/"], checksums=SUMS,
                    timeout=PATIENT, deadline=0.5)
    assert os.listdir(tmp_path) == []


def test_a_download_that_inflates_past_the_file_is_refused(server, tmp_path: Path) -> None:
    # a valid gzip of 64 KB whose content is 64 MiB of zeros: refused one chunk past the size
    server.files["train-images-idx3-ubyte.gz"] = gzip.compress(bytes(1 << 20)) * 64
    with pytest.raises(DataError) as info:
        fetch_mnist(tmp_path, mirrors=[f"{server.base}/good/"], checksums=SUMS, sizes=SIZES,
                    timeout=PATIENT)
    want = f"its content is more than {SIZES['train-images-idx3-ubyte.gz']} bytes"
    assert want in str(info.value)
    assert os.listdir(tmp_path) == []


def test_sigterm_removes_the_partial_file_and_says_so(server, tmp_path: Path) -> None:
    import signal
    import subprocess

    dest = tmp_path / "cache"
    env = {**os.environ, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(var, None)
    child = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "data", "fetch", "mnist", "--dest", str(dest),
         "--mirror", f"{server.base}/trickle/"],
        cwd=Path(__file__).resolve().parents[1], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the request has arrived: the .part file exists (it is created before the request)
        assert server.started.wait(60), "the download never started"
        assert [p.name for p in dest.iterdir() if p.name.endswith(".part")]
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 128 + signal.SIGTERM, (child.returncode, err)
    assert err == "gdlab: interrupted (SIGTERM)\n"
    assert os.listdir(dest) == []
