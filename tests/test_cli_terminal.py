"""The command line and the terminal: tables fit $COLUMNS, charts colour only a terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest
from test_cli import GDLAB, cli

from engine.runner import Run
from engine.scenario import load_scenario
from tui import report

ESC = "\x1b"


def test_compare_fits_columns_by_wrapping_the_variants(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    rc, out, _ = cli(capsys, "compare", "rosenbrock", "--every", "500")
    assert rc == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    sc = load_scenario("rosenbrock")
    blocks = out.split("\n\n")
    for v in sc.variants:  # every variant has a titled block of its own
        assert any(re.search(rf"-+ {v} -+", b.splitlines()[0]) for b in blocks), v
        # ...whose rows hold the variant's own numbers: its last parameters at full format
        last = report.Outcome.of(Run(sc, v)).records[-1]
        assert report.fmt(last.params["x"]) in out and report.fmt(last.output) in out
    for b in blocks[:-1]:  # each block of the wide table starts with the iteration column
        assert b.splitlines()[1].split()[0] == "iter"


def test_run_table_wraps_its_columns_at_a_narrow_width(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    rc, out, _ = cli(capsys, "run", "rosenbrock", "--every", "5000")
    table, stop = out.rstrip("\n").rsplit("\n", 1)  # the stop line is prose: the terminal wraps it
    assert rc == 0 and stop.startswith("rosenbrock [sgd]: stopped")
    assert max(len(line) for line in table.splitlines()) <= 60
    headers = [b.splitlines()[0].split() for b in table.split("\n\n")]
    assert all(h[0] == "iter" for h in headers)
    names = [c for h in headers for c in h[1:]]  # "step x" is two words: joined back below
    assert " ".join(names) == "x y f df/dx df/dy |grad| step x step y"


def test_a_pipe_gets_the_whole_table_without_columns(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    rc, out, _ = cli(capsys, "compare", "rosenbrock", "--every", "5000")
    assert rc == 0 and "\n\n" in out  # the table, a blank line, the summary: no wrapping
    assert len(out.split("\n\n")) == 2
    assert max(len(line) for line in out.splitlines()) > 500


def _plot(env: dict[str, str], tty: bool, args: list[str] | None = None) -> str:
    """``gdlab compare rosenbrock --plot`` (or ``args``) with stdout into a pipe or into a
    pseudo-terminal."""
    env = {**os.environ, **env}
    env.pop("COLUMNS", None)
    args = [GDLAB, *(args or ["compare", "rosenbrock", "--every", "5000", "--plot"])]
    if not tty:
        p = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
        assert p.returncode == 0, p.stderr
        return p.stdout
    main, child = pty.openpty()
    p = subprocess.Popen(args, stdout=child, stderr=subprocess.PIPE, env=env)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert p.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_plot_colours_a_terminal_only():
    piped = _plot({}, tty=False)
    assert ESC not in piped
    assert "landscape of the output over (x, y)" in piped  # drawn in characters instead
    assert "S = start" in piped and "f = adam" in piped
    coloured = _plot({}, tty=True)
    assert ESC + "[" in coloured
    assert ESC not in _plot({"NO_COLOR": "1"}, tty=True)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_network_plot_honours_no_color_on_a_terminal(tmp_path):
    tiny = ["run", "mnist_mlp", "--set", "run.epochs=1", "--set", "data.train_limit=200",
            "--set", "data.test_limit=100", "--plot"]
    env = {"XDG_CACHE_HOME": str(tmp_path), "GDLAB_MNIST_DIR": ""}  # the bundled subset
    plain = _plot({**env, "NO_COLOR": "1"}, tty=True, args=tiny)
    assert "loss per epoch" in plain and ESC not in plain


def test_network_tables_fit_columns(capsys, monkeypatch):
    """The epoch table prints the columns that fit as epochs finish, the rest after training
    beside the epoch again; compare wraps the variants; prose wraps at spaces."""
    monkeypatch.setenv("COLUMNS", "80")
    rc, out, _ = cli(capsys, "run", "xor", "--set", "run.epochs=3")
    assert rc == 0 and max(len(line) for line in out.splitlines()) <= 80
    assert "3 epochs," in out
    live, rest = out.split("\n\n")
    assert any(line.split()[:3] == ["epoch", "train", "loss"] for line in live.splitlines())
    header = rest.splitlines()[0].split()
    assert header == ["epoch", "speed", "1", "speed", "2", "speed", "3"]
    # the same speeds as the whole table printed into a pipe (no width)
    monkeypatch.delenv("COLUMNS")
    _, whole, _ = cli(capsys, "run", "xor", "--set", "run.epochs=3")
    wide = [line.split() for line in whole.splitlines() if line[:5].strip().isdigit()]
    narrow = [line.split() for line in rest.splitlines()[2:6]]
    assert [w[:1] + w[-3:] for w in wide] == narrow
    monkeypatch.setenv("COLUMNS", "80")
    rc, out, _ = cli(capsys, "compare", "xor", "--set", "run.epochs=1")
    assert rc == 0 and max(len(line) for line in out.splitlines()) <= 80
    assert "1 epoch," in out
    for v in load_scenario("xor").variants:
        assert re.search(rf"-+ {v} -+", out), v


def test_network_compare_plot_tells_variants_apart_without_colour(capsys, monkeypatch):
    """Into a pipe: no escape codes; each variant's test curve has its own marker in the
    legend; the epoch axis has whole-number ticks; nothing wider than the charts' 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    rc, out, _ = cli(capsys, "compare", "xor", "--set", "run.epochs=8", "--plot")
    assert rc == 0 and ESC not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    legend = {}
    for v in load_scenario("xor").variants:
        m = re.search(rf"(\S)\1 {v} test", out)
        assert m, v
        legend[v] = m.group(1)
    assert len(set(legend.values())) == len(legend)
    axis = out.split("loss per epoch", 1)[1].split("epoch", 1)[0].splitlines()[-2].split()
    assert axis == ["0", "2", "4", "6", "8"]


def test_list_fits_columns(capsys, monkeypatch):
    """Narrower than its table, ``gdlab list`` gives each scenario its lines: every name, rule,
    title word and variant is still there."""
    from engine.scenario import bundled_scenarios

    monkeypatch.setenv("COLUMNS", "80")
    rc, out, _ = cli(capsys, "list")
    assert rc == 0 and max(len(line) for line in out.splitlines()) <= 80
    words = out.split()
    for path in bundled_scenarios():
        sc = load_scenario(path)
        assert path.stem in words and f"{sc.label}:" in words
        assert " ".join(sc.title.split()) in " ".join(words)
        assert all(f"{v}," in words or v in words for v in sc.variants)
