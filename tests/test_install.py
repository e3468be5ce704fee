"""A regular (non-editable) install works: build a wheel, install it into a fresh virtual
environment, and run ``gdlab list`` and ``gdlab run target_z`` from a folder outside the clone."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the gdlab wheel; its dependencies come from this environment's
    site-packages through a .pth line (which runs no other .pth, so not the editable finder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                  str(tmp / "dist"), str(ROOT)], cwd=tmp)
    if build.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend reachable): {build.stderr[-300:]}")
    (wheel,) = (tmp / "dist").glob("gdlab-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp).stdout.strip())
    inst = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                 "--target", str(site), "--no-compile", str(wheel)], cwd=tmp)
    assert inst.returncode == 0, inst.stderr
    (site / "_gdlab_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # the console script, as pip writes it for a wheel
    script = env_dir / "bin" / "gdlab"
    script.write_text(f"#!{py}\nimport sys\nfrom tui.cli import main\nsys.exit(main())\n")
    script.chmod(0o755)
    return env_dir


def test_wheel_holds_the_bundled_scenarios_and_runs_them_outside_the_clone(wheel_venv, tmp_path):
    gdlab = str(wheel_venv / "bin" / "gdlab")
    where = _run([str(wheel_venv / "bin" / "python"), "-c",
                  "import engine, gdlab_scenarios; print(engine.__file__); "
                  "print(gdlab_scenarios.__file__)"], cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout  # the installed copy, not the source tree
    listed = _run([gdlab, "list"], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = {line.split()[0] for line in listed.stdout.splitlines()[2:] if line.strip()}
    bundled = {p.stem for p in (ROOT / "scenarios").glob("*.toml")}
    assert names == bundled
    assert "invalid" not in listed.stdout
    run = _run([gdlab, "run", "target_z"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "converged after 5 updates" in run.stdout  # the first variant: the fixed factor
    csv = _run([gdlab, "run", "regression_csv", "--format", "csv"], cwd=tmp_path)
    assert csv.returncode == 0, csv.stderr  # the CSV a bundled scenario names is shipped too
    mnist = _run([gdlab, "run", "mnist_mlp", "--set", "run.epochs=1",
                  "--set", "data.train_limit=200", "--set", "data.test_limit=50"],
                 cwd=tmp_path)
    assert mnist.returncode == 0, mnist.stderr
