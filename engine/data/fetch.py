"""Download the four MNIST files into the cache, verified by MD5 and written atomically.

Mirrors are tried in order per file; a file only reaches its final name after its
uncompressed content matches the published MD5, so the cache never holds a partial or
corrupt file that `load_mnist` would later pick up.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import secrets
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path

from engine.data.idx import GZIP_MAGIC
from engine.data.mnist import FILES, mnist_cache_dir
from engine.errors import DataError

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
FILENAMES = [f"{name}.gz" for name in FILES.values()]
CHUNK = 64 * 1024
USER_AGENT = "gdlab-mnist-fetch/0.1"

Progress = Callable[[str, int, int | None], None]


class _MirrorFailure(Exception):
    """One mirror could not deliver one file; the message is a short one-line reason."""


class _DiskFailure(Exception):
    """Writing the downloaded bytes failed locally (disk full, permissions), not the mirror."""


def content_md5(path: Path) -> str:
    """Return the MD5 of a file's uncompressed content (gunzipped if it starts with gzip magic)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == GZIP_MAGIC
        fh.seek(0)
        stream = gzip.GzipFile(fileobj=fh, mode="rb") if gzipped else fh
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verified(path: Path, md5: str) -> tuple[bool, str]:
    """Say whether `path`'s uncompressed content has the given MD5, with a reason if not."""
    try:
        actual = content_md5(path)
    except (OSError, EOFError, zlib.error) as exc:
        return False, f"corrupt gzip data ({_one_line(exc)})"
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
) -> None:
    """Stream `url` into the open file `fd`, raising _MirrorFailure on any network problem."""
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            if progress:
                progress(name, done, total)
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    reason = f"connection failed after {done} bytes: {_one_line(exc)}"
                    raise _MirrorFailure(reason) from None
                if not chunk:
                    break
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    raise _DiskFailure(_one_line(exc)) from None
                done += len(chunk)
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
) -> None:
    """Try each mirror for one file until a verified copy is in place, else raise DataError."""
    failures = []
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        url += name
        tmp = dest / f".{name}.{secrets.token_hex(4)}.part"
        done = False
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                _download(opener, url, fd, name, progress, timeout)
                os.fsync(fd)
            finally:
                os.close(fd)
            ok, reason = _verified(tmp, md5)
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
    timeout: float = 30.0,
    checksums: dict[str, str] | None = None,
) -> Path:
    """Download the four MNIST .gz files into `dest` (default: the user cache) and return it.

    Files already present with the right content are skipped (progress gets one call with
    done == total for them). `progress(filename, bytes_done, total_or_None)` is called as
    bytes arrive; `checksums` maps each .gz name to the MD5 of its uncompressed content and
    replaces the published MNIST sums (for tests and private mirrors).
    """
    dest = Path(dest).expanduser() if dest is not None else mnist_cache_dir()
    mirrors = list(DEFAULT_MIRRORS if mirrors is None else mirrors)
    sums = MNIST_MD5 if checksums is None else checksums
    missing = [name for name in FILENAMES if name not in sums]
    if missing:
        raise ValueError(f"checksums lacks an entry for {', '.join(missing)}")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{dest}: cannot create the MNIST folder: {_one_line(exc)}") from None
    opener = urllib.request.build_opener()  # built per call so proxy settings are current
    for name in FILENAMES:
        target = dest / name
        if target.is_file() and _verified(target, sums[name])[0]:
            if progress:
                size = target.stat().st_size
                progress(name, size, size)
            continue
        _fetch_file(opener, dest, name, sums[name], mirrors, progress, timeout)
    return dest
