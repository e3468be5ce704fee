"""Download the four MNIST files into the cache, verified by MD5 and written atomically.

Mirrors are tried in order per file; a file only reaches its final name after its
uncompressed content matches the published MD5, so the cache never holds a partial or
corrupt file that `load_mnist` would later pick up. A mirror is given up when it sends more
than the file can be (its known size plus DOWNLOAD_MARGIN), when it falls silent for
DOWNLOAD_READ_TIMEOUT seconds, or when the file takes longer than DOWNLOAD_DEADLINE in all;
an interruption (Ctrl-C, or SIGTERM through the command line) removes the partial file.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import secrets
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path

from engine.data.idx import GZIP_MAGIC
from engine.data.mnist import FILES, mnist_cache_dir
from engine.errors import DataError
from engine.limits import DOWNLOAD_DEADLINE, DOWNLOAD_MARGIN, DOWNLOAD_READ_TIMEOUT

DEFAULT_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
# MD5 of the *uncompressed* original files: the .gz bytes differ between mirrors.
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}
# Size of the *uncompressed* original files: no download of one can be larger (plus the margin).
MNIST_SIZES = {
    "train-images-idx3-ubyte.gz": 16 + 60_000 * 784,
    "train-labels-idx1-ubyte.gz": 8 + 60_000,
    "t10k-images-idx3-ubyte.gz": 16 + 10_000 * 784,
    "t10k-labels-idx1-ubyte.gz": 8 + 10_000,
}
FILENAMES = [f"{name}.gz" for name in FILES.values()]
CHUNK = 64 * 1024
USER_AGENT = "gdlab-mnist-fetch/0.1"

Progress = Callable[[str, int, int | None], None]


class _MirrorFailure(Exception):
    """One mirror could not deliver one file; the message is a short one-line reason."""


class _DiskFailure(Exception):
    """Writing the downloaded bytes failed locally (disk full, permissions), not the mirror."""


def content_md5(path: Path, limit: int | None = None) -> str:
    """Return the MD5 of a file's uncompressed content (gunzipped if it starts with gzip magic).

    With ``limit``, content longer than that many bytes raises _TooLarge after reading at most
    one chunk past it (a gzip bomb is not inflated to the end).
    """
    digest = hashlib.md5(usedforsecurity=False)
    done = 0
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == GZIP_MAGIC
        fh.seek(0)
        stream = gzip.GzipFile(fileobj=fh, mode="rb") if gzipped else fh
        while chunk := stream.read(CHUNK):
            done += len(chunk)
            if limit is not None and done > limit:
                raise _TooLarge(f"its content is more than {limit} bytes, the size of the file")
            digest.update(chunk)
    return digest.hexdigest()


class _TooLarge(Exception):
    """A downloaded file holds more than the file it should be."""


def _verified(path: Path, md5: str, size: int | None = None) -> tuple[bool, str]:
    """Say whether `path`'s uncompressed content has the given MD5, with a reason if not."""
    try:
        actual = content_md5(path, size)
    except (OSError, EOFError, zlib.error) as exc:
        return False, f"corrupt gzip data ({_one_line(exc)})"
    except _TooLarge as exc:
        return False, str(exc)
    if actual != md5:
        return False, f"checksum mismatch (MD5 {actual}, expected {md5})"
    return True, ""


def _one_line(exc: BaseException) -> str:
    """Render an exception as a short single line for the combined mirror error."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    text = " ".join(str(reason).split())
    return text or type(exc).__name__


def _download(
    opener: urllib.request.OpenerDirector,
    url: str,
    fd: int,
    name: str,
    progress: Progress | None,
    timeout: float,
    cap: int,
    deadline: float,
) -> None:
    """Stream `url` into the open file `fd`, raising _MirrorFailure on any network problem.

    At most ``cap`` bytes are accepted, and the download is given up once ``deadline`` (a
    ``time.monotonic()`` value) has passed: each read returns what has arrived (``read1``),
    waiting at most ``timeout`` seconds, so a trickle is noticed within a read.
    """
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > cap:
                raise _MirrorFailure(f"announces {total} bytes, more than the file can be "
                                     f"({cap}: its size and {DOWNLOAD_MARGIN} bytes)")
            done = 0
            if progress:
                progress(name, done, total)
            while True:
                if time.monotonic() > deadline:
                    raise _MirrorFailure(f"too slow: {done} bytes in the time allowed for one "
                                         "file (the limit; see DOWNLOAD_DEADLINE)")
                try:
                    chunk = response.read1(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    reason = f"connection failed after {done} bytes: {_one_line(exc)}"
                    raise _MirrorFailure(reason) from None
                if not chunk:
                    break
                done += len(chunk)
                if done > cap:
                    raise _MirrorFailure(f"sent more than {cap} bytes, more than the file can "
                                         f"be (its size and {DOWNLOAD_MARGIN} bytes): cut off")
                try:  # os.write may write part of a chunk (a disk filling up): the rest
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view):]
                except OSError as exc:
                    raise _DiskFailure(_one_line(exc)) from None
                if progress:
                    progress(name, done, total)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _MirrorFailure(_one_line(exc)) from None
    if total is not None and done != total:
        raise _MirrorFailure(f"connection closed after {done} of {total} bytes")


def _fetch_file(
    opener: urllib.request.OpenerDirector,
    dest: Path,
    name: str,
    md5: str,
    mirrors: list[str],
    progress: Progress | None,
    timeout: float,
    size: int,
    seconds: float,
) -> None:
    """Try each mirror for one file until a verified copy is in place, else raise DataError.

    Each mirror gets ``seconds`` for the file, and may send at most ``size`` (the file's
    uncompressed size) plus DOWNLOAD_MARGIN bytes.
    """
    failures = []
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        url += name
        tmp = dest / f".{name}.{secrets.token_hex(4)}.part"
        done = False
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                _download(opener, url, fd, name, progress, timeout, size + DOWNLOAD_MARGIN,
                          time.monotonic() + seconds)
                os.fsync(fd)
            finally:
                os.close(fd)
            ok, reason = _verified(tmp, md5, size)
            if not ok:
                raise _MirrorFailure(reason)
            os.replace(tmp, dest / name)
            done = True
            return
        except _MirrorFailure as exc:
            failures.append(f"{url}: {exc}")
        except (OSError, _DiskFailure) as exc:
            raise DataError(f"{dest / name}: cannot write: {_one_line(exc)}") from None
        finally:
            if not done:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
    tried = "; ".join(failures) if failures else "no mirrors given"
    raise DataError(f"{name}: could not download a valid copy from any mirror: {tried}")


def fetch_mnist(
    dest: Path | None = None,
    *,
    mirrors: list[str] | None = None,
    progress: Progress | None = None,
    timeout: float = DOWNLOAD_READ_TIMEOUT,
    checksums: dict[str, str] | None = None,
    sizes: dict[str, int] | None = None,
    deadline: float = DOWNLOAD_DEADLINE,
) -> Path:
    """Download the four MNIST .gz files into `dest` (default: the user cache) and return it.

    Files already present with the right content are skipped (progress gets one call with
    done == total for them). `progress(filename, bytes_done, total_or_None)` is called as
    bytes arrive; `checksums` maps each .gz name to the MD5 of its uncompressed content and
    replaces the published MNIST sums (for tests and private mirrors), `sizes` likewise the
    uncompressed sizes. `timeout` is the most seconds one read may wait, `deadline` the most
    one file's download may take from one mirror.
    """
    dest = Path(dest).expanduser() if dest is not None else mnist_cache_dir()
    mirrors = list(DEFAULT_MIRRORS if mirrors is None else mirrors)
    sums = MNIST_MD5 if checksums is None else checksums
    sizes = MNIST_SIZES if sizes is None else sizes
    missing = [name for name in FILENAMES if name not in sums or name not in sizes]
    if missing:
        raise ValueError(f"checksums or sizes lack an entry for {', '.join(missing)}")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{dest}: cannot create the MNIST folder: {_one_line(exc)}") from None
    opener = urllib.request.build_opener()  # built per call so proxy settings are current
    for name in FILENAMES:
        target = dest / name
        if target.is_file() and _verified(target, sums[name], sizes[name])[0]:
            if progress:
                size = target.stat().st_size
                progress(name, size, size)
            continue
        _fetch_file(opener, dest, name, sums[name], mirrors, progress, timeout, sizes[name],
                    deadline)
    return dest
