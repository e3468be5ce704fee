"""Files gdlab writes (--out, the app's exports): whole or not at all, modes that follow the
umask, and never a replaced device, FIFO or symlink. Failures are one line and exit status 2."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import pytest

from engine.errors import GdlabError
from tui import output_file
from tui.cli import main
from tui.output_file import write_atomic

ROOT = os.geteuid() == 0


def gdlab(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run gdlab; assert exit status 2 and a single `gdlab: error:` line; return it."""
    rc, out, err = gdlab(capsys, *argv)
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("gdlab: error: ")
    return err.strip()


def target_z_csv() -> str:
    """What `gdlab run target_z --format csv` prints."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["run", "target_z", "--format", "csv"]) == 0
    return out.getvalue()


def only(folder: Path, *names: str) -> None:
    """Assert ``folder`` holds exactly ``names``: no temporary file was left behind."""
    assert sorted(os.listdir(folder)) == sorted(names)


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def device(tmp_path: Path, name: str, minor: int) -> Path:
    """A character device node of the memory driver (1, minor) in tmp_path, or /dev/<name>.

    A private node (as root) keeps a regression from replacing the machine's own /dev/null;
    without root the real device is safe to use: nothing could be renamed over it.
    """
    if not ROOT:
        return Path("/dev") / name
    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except OSError as exc:
        pytest.skip(f"as root, a private {name} node is needed and mknod failed: {exc}")
    return node


# --- modes ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_follows_the_umask(tmp_path: Path, mask: int, mode: int) -> None:
    target = tmp_path / "run.csv"
    with umask(mask):
        write_atomic(target, "a,b\n")
    assert stat.S_IMODE(target.stat().st_mode) == mode == 0o666 & ~mask
    assert target.read_text() == "a,b\n"
    only(tmp_path, "run.csv")


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "run.csv"
    target.write_text("old")
    target.chmod(0o640)
    with umask(0o077):
        write_atomic(target, "new", force=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "new"


def test_cli_out_follows_the_umask(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    with umask(0o022):
        rc, out, err = gdlab(capsys, "run", "target_z", "--format", "csv", "--out", str(target))
    assert rc == 0 and out == "" and err.strip() == f"wrote {target}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_text() == target_z_csv()


# --- what is not a regular file -------------------------------------------------------------

def test_a_symlink_is_written_through_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to("real.csv")
    write_atomic(link, "new", force=True)
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert real.read_text() == "new" and stat.S_IMODE(real.stat().st_mode) == 0o600
    only(tmp_path, "real.csv", "link.csv")


def test_a_chain_of_symlinks_into_another_folder_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "real.csv"
    real.write_text("old")
    (tmp_path / "one").symlink_to(real)
    (tmp_path / "two").symlink_to("one")
    write_atomic(tmp_path / "two", "new", force=True)
    assert (tmp_path / "two").is_symlink() and (tmp_path / "one").is_symlink()
    assert real.read_text() == "new"
    only(tmp_path / "data", "real.csv")
    only(tmp_path, "data", "one", "two")


def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to("later.csv")
    with umask(0o022):
        write_atomic(link, "new")
    assert link.is_symlink() and (tmp_path / "later.csv").read_text() == "new"
    assert stat.S_IMODE((tmp_path / "later.csv").stat().st_mode) == 0o644


def test_cli_out_to_a_symlink_keeps_the_link(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    rc, _, _ = gdlab(capsys, "run", "target_z", "--format", "csv", "--out", str(link), "--force")
    assert rc == 0 and link.is_symlink() and real.read_text() == target_z_csv()


def test_a_fifo_is_written_directly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:  # blocks until the writer opens the FIFO
            received.append(fh.read())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        rc, out, err = gdlab(capsys, "run", "target_z", "--format", "csv", "--out", str(fifo),
                             "--force")
    finally:
        while reader.is_alive():  # still waiting for a writer (gdlab failed before writing)?
            try:  # then this open meets it and the close ends its read; it never blocks
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # ENXIO: no reader has the FIFO open (not yet, or not any more)
                pass
            reader.join(0.01)
    assert rc == 0, err
    assert received == [target_z_csv().encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    only(tmp_path, "pipe")


def test_dev_null_is_written_and_stays_a_device(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    null = device(tmp_path, "null", 3)
    rc, out, err = gdlab(capsys, "run", "target_z", "--out", str(null), "--force")
    assert rc == 0 and out == "" and err.strip() == f"wrote {null}"
    st = os.lstat(null)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    if null.parent == tmp_path:
        only(tmp_path, "null")


def test_a_link_to_stdout_is_written_through_and_kept(tmp_path: Path) -> None:
    """`--out /dev/stdout --force`: /dev/stdout is a symlink to /proc/self/fd/1."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")  # a private /dev/stdout
    code = ("import sys; from tui.cli import main; "
            f"sys.exit(main(['run', 'target_z', '--format', 'csv', '--out', {str(link)!r}, "
            "'--force']))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == target_z_csv()  # into the pipe: written directly, not renamed
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    only(tmp_path, "stdout")


def test_a_full_device_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    full = device(tmp_path, "full", 7)  # every write: ENOSPC
    msg = one_line_error(capsys, "run", "target_z", "--out", str(full), "--force")
    assert msg == f"gdlab: error: {full}: cannot write: {os.strerror(errno.ENOSPC)}"
    assert stat.S_ISCHR(os.lstat(full).st_mode)


@pytest.mark.parametrize("where", ["/proc/version", "/sys/kernel/uevent_seqnum"])
def test_proc_and_sys_files_are_one_line_and_status_2(capsys: pytest.CaptureFixture[str],
                                                       where: str) -> None:
    if not os.path.exists(where):
        pytest.skip(f"{where} does not exist here")
    before = Path(where).read_bytes()
    msg = one_line_error(capsys, "run", "target_z", "--out", where, "--force")
    assert msg.startswith(f"gdlab: error: {where}: cannot write: ")
    assert not any(n.startswith(f".{Path(where).name}.") for n in os.listdir(Path(where).parent))
    if where == "/proc/version":
        assert Path(where).read_bytes() == before


def test_a_missing_folder_a_folder_and_a_proc_folder(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    msg = one_line_error(capsys, "run", "target_z", "--out", str(tmp_path / "no" / "t.csv"))
    assert msg == f"gdlab: error: {tmp_path / 'no' / 't.csv'}: the folder {tmp_path / 'no'} " \
                  "does not exist"
    msg = one_line_error(capsys, "run", "target_z", "--out", str(tmp_path), "--force")
    assert msg == f"gdlab: error: {tmp_path}: is a folder"
    msg = one_line_error(capsys, "run", "target_z", "--out", "/proc/gdlab-test.csv")
    assert msg.startswith("gdlab: error: /proc/gdlab-test.csv: cannot write: ")
    only(tmp_path)


def test_a_socket_is_not_replaced(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(GdlabError, match="is not a regular file"):
            write_atomic(path, "x", force=True)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_a_read_only_folder_is_one_line_and_status_2(tmp_path: Path) -> None:
    """Permission denied. Root ignores modes: as root the write runs without that capability."""
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    prefix: list[str] = []
    if ROOT:
        if shutil.which("setpriv") is None:
            pytest.skip("as root, setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]
    code = ("import sys; from tui.cli import main; "
            f"sys.exit(main(['run', 'target_z', '--out', {str(folder / 't.csv')!r}]))")
    try:
        res = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True,
                             text=True, timeout=120)
    finally:
        folder.chmod(0o755)
    assert res.returncode == 2, res.stderr
    assert res.stderr == f"gdlab: error: {folder / 't.csv'}: cannot write: " \
                         f"{os.strerror(errno.EACCES)}\n"
    assert os.listdir(folder) == []


# --- whole or not at all ----------------------------------------------------------------

@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Make every write that would grow a file past ``limit`` bytes fail (EFBIG), like a full
    disk would: the kernel enforces it, whatever writes the file and however."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)


def test_a_failure_in_the_middle_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "big.csv"
    target.write_text("precious\n")
    big = "0123456789abcde\n" * 65536  # 1 MiB; the file system refuses what passes 64 KiB
    with file_size_limit(65536), pytest.raises(GdlabError) as info:
        write_atomic(target, big, force=True)
    assert str(info.value) == f"{target}: cannot write: {os.strerror(errno.EFBIG)}"
    assert target.read_text() == "precious\n"
    only(tmp_path, "big.csv")
    write_atomic(target, big, force=True)  # and without the limit it is written whole
    assert target.read_text() == big


def test_cli_out_failing_in_the_middle_is_one_line_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "t.jsonl"
    target.write_text("precious\n")

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, resource.RLIM_INFINITY))

    res = subprocess.run([sys.executable, "-m", "tui.cli", "run", "target_z", "--format",
                          "jsonl", "--out", str(target), "--force"],
                         capture_output=True, text=True, timeout=120, preexec_fn=limit)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == f"gdlab: error: {target}: cannot write: {os.strerror(errno.EFBIG)}\n"
    assert target.read_text() == "precious\n"
    only(tmp_path, "t.jsonl")


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_an_os_error_at_any_stage_is_one_line_and_cleans_up(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failing: str) -> None:
    target = tmp_path / "t.csv"
    target.write_text("precious")
    real = getattr(os, failing)
    calls = []

    def fail_after_the_first(*args: object) -> object:
        calls.append(args)
        if failing == "write" and len(calls) == 1:
            return real(*args)  # the first chunk lands in the temporary file...
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # ...then the disk is full

    monkeypatch.setattr(output_file, "WRITE_CHUNK", 1000)
    monkeypatch.setattr(os, failing, fail_after_the_first)
    with pytest.raises(GdlabError) as info:
        write_atomic(target, "x" * 5000, force=True)
    monkeypatch.undo()
    assert str(info.value) == f"{target}: cannot write: {os.strerror(errno.ENOSPC)}"
    assert target.read_text() == "precious"
    only(tmp_path, "t.csv")


def test_an_interrupt_in_the_middle_leaves_no_temporary_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("precious")

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new", force=True)
    monkeypatch.undo()
    assert target.read_text() == "precious"
    only(tmp_path, "t.csv")


def test_a_reader_sees_the_old_file_or_the_new_one_never_a_part(tmp_path: Path) -> None:
    """A reader polling the destination while large exports replace it, again and again."""
    target = tmp_path / "export.jsonl"
    versions = [b"".join(f'{{"version": {v}, "row": {i}}}\n'.encode() for i in range(400_000))
                for v in range(4)]  # about 12 MB each
    target.write_bytes(versions[0])
    seen: list[int] = []
    wrong: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            data = target.read_bytes()
            if data in versions:
                seen.append(versions.index(data))
            else:
                wrong.append(len(data))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for v in (1, 2, 3):
            write_atomic(target, versions[v].decode(), force=True)
    finally:
        done.set()
        reader.join()
    assert wrong == [], f"the reader saw {len(wrong)} partial files (sizes {wrong[:5]}...)"
    assert seen and seen == sorted(seen)  # old, then new versions, in order
    assert target.read_bytes() == versions[3]
    only(tmp_path, "export.jsonl")


# --- every writer uses it ---------------------------------------------------------------------

async def test_the_app_exports_every_kind_through_write_atomic(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    from gates import export, run_view

    from tui.app import GdlabApp

    written: list[str] = []
    real = output_file.write_atomic

    def spy(path: Path, text: str, force: bool = False) -> None:
        written.append(Path(path).name)
        real(path, text, force)

    monkeypatch.setattr(output_file, "write_atomic", spy)
    real_stream = output_file.atomic_output

    @contextlib.contextmanager
    def spy_stream(path: Path, force: bool = False):  # noqa: ANN202 - a trace's rows, streamed
        written.append(Path(path).name)
        with real_stream(path, force) as fh:
            yield fh

    monkeypatch.setattr(output_file, "atomic_output", spy_stream)
    with umask(0o022):
        app = GdlabApp(scenario="target_z")
        async with app.run_test(size=(120, 40)) as pilot:
            await run_view(pilot)
            await pilot.press("s", "s")
            for kind, name in enumerate(["t.csv", "t.jsonl", "t.svg", "t.json"]):
                await export(pilot, kind, tmp_path / name)
    assert written == ["t.csv", "t.jsonl", "t.svg", "t.json"]
    for name in written:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
    only(tmp_path, *written)
