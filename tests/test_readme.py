"""Every command block of README.md, run as a person would run it (the shell command, in an empty
folder, against the bundled scenarios), checked against what the README says it prints.

The top example's output is compared byte for byte. Each other command is checked against its
comment ("# six optimizers, the landscape with their paths"). A command that needs the network,
a terminal or the whole suite is listed in SKIPPED with the reason. A command added to the README
fails ``test_every_readme_command_is_checked_or_skipped`` until it is given a check here.

The environment is that of a fresh clone: no GDLAB_MNIST_DIR and an empty cache (the bundled
MNIST subset), NO_COLOR set, COLUMNS fixed; stdout is a pipe.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.scenario import BUNDLED_DIR, bundled_scenarios, load_scenario

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Command:
    """A command of a README block: its text, the README's comment on it, the output shown."""

    text: str
    says: str = ""
    shown: list[str] | None = None  # the lines after a `$ command` (None: none shown)
    block: int = 0


@dataclass
class Result:
    rc: int
    out: str  # escape codes removed (graph charts still colour a pipe on some versions)
    err: str
    cwd: Path
    raw: str = field(repr=False, default="")


def readme_commands() -> list[Command]:
    """The commands of every fenced block: `$ cmd` lines followed by their output, or one command
    per line with `# what it does` after it (indented comment lines continue the previous one)."""
    commands: list[Command] = []
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", README.read_text(encoding="utf-8"),
                        flags=re.M | re.S)
    for i, block in enumerate(blocks):
        lines = block.splitlines()
        if lines and lines[0].startswith("$ "):
            for line in lines:
                if line.startswith("$ "):
                    commands.append(Command(line[2:].strip(), shown=[], block=i))
                else:
                    assert commands[-1].shown is not None
                    commands[-1].shown.append(line)
            continue
        for line in lines:
            if not line.strip():
                continue
            text, _, says = line.partition("  #")
            if not text.strip():
                commands[-1].says += " " + says.strip()
                continue
            commands.append(Command(text.strip(), says.strip(), block=i))
    return commands


def run(command: str, cwd: Path) -> Result:
    """Run ``command`` with bash in ``cwd``, the `gdlab` of this installation first on PATH."""
    env = {k: v for k, v in os.environ.items() if k != "GDLAB_MNIST_DIR"}
    env.update(NO_COLOR="1", COLUMNS="200", XDG_CACHE_HOME=str(cwd / ".cache"),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    res = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=900)  # a hang, not a speed: the slowest takes ~6 s
    return Result(res.returncode, ANSI.sub("", res.stdout), res.stderr, cwd, res.stdout)


# --- what each command prints -----------------------------------------------------------------

def first_cells(out: str) -> list[int]:
    """The leading integer (iteration or epoch) of each row of the first table: the lines after
    its rule of dashes, up to the first that is not a row."""
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if re.fullmatch(r"-+( +-+)+", ln.strip()))
    rows = []
    for line in lines[start + 1:]:
        m = re.match(r"\s*(\d+)  ", line)
        if not m:
            break
        rows.append(int(m.group(1)))
    return rows


def groups(out: str) -> list[str]:
    """The variant names over a compare table's column groups, in order (a table wider than
    $COLUMNS continues in blocks, each with its own line of group titles)."""
    lines = [ln for ln in out.splitlines() if re.match(r"^\s+-{3,} \S+ -{3,}", ln)]
    return [name for line in lines for name in re.findall(r"-+ (\S+) -+", line)]


def summaries(out: str, variants: list[str]) -> dict[str, list[str]]:
    """The summary table's row of each variant (the table whose header starts "variant")."""
    rows = {}
    block = next(b for b in out.split("\n\n") if b.lstrip().startswith("variant "))
    for line in block.splitlines():
        cells = line.split()
        if cells and cells[0] in variants:
            rows[cells[0]] = cells
    return rows


def has_charts(out: str, *titles: str) -> None:
    for title in titles:
        assert title in out, f"no chart {title!r}"


def run_target_z(r: Result) -> None:
    """`gdlab run target_z`: the iteration table of the first variant, one row per iteration."""
    first = load_scenario("target_z").default_variant()
    assert first == "fixed"
    last = r.out.splitlines()[-1]
    assert last.startswith(f"target_z [{first}]: stopped: converged after ")
    updates = int(re.search(r"after (\d+) update", last).group(1))
    assert first_cells(r.out) == list(range(updates + 1))


def run_target_z_plot(r: Result) -> None:
    """... --variant recomputed --plot: the table, then terminal charts."""
    table, _, charts = r.out.partition("target_z [recomputed]: stopped: converged after 3 updates")
    assert first_cells(table) == [0, 1, 2, 3]
    has_charts(charts, "|delta| per iteration (log scale)", "parameters (recomputed)")


def run_target_z_jsonl(r: Result) -> None:
    """... --set run.tolerance=1e-9 --format jsonl --out trace.jsonl: the file, every number."""
    assert r.out == "" and r.err == "wrote trace.jsonl\n"
    objs = [json.loads(line) for line in (r.cwd / "trace.jsonl").read_text().splitlines()]
    summary, last = objs[-1]["summary"], objs[-2]
    assert summary["stop_reason"] == "converged" and summary["variant"] == "fixed"
    assert abs(last["delta"]) < 1e-9 <= abs(objs[-3]["delta"])  # stopped at the tolerance
    assert [o["iteration"] for o in objs[:-1]] == list(range(len(objs) - 1))


def compare_target_z(r: Result) -> None:
    """`gdlab compare target_z`: fixed vs recomputed factor, side by side."""
    assert groups(r.out) == ["fixed", "recomputed"]
    assert sorted(summaries(r.out, ["fixed", "recomputed"])) == ["fixed", "recomputed"]


def compare_learning_rates(r: Result) -> None:
    """`gdlab compare learning_rates --plot`: four learning rates on J = x^2."""
    sc = load_scenario("learning_rates")
    assert sc.graph == {"J": "x**2"} and len(sc.variants) == 4
    assert groups(r.out) == list(sc.variants)
    assert [sc.config(v).lr for v in sc.variants] == [1.0, 0.8, 0.4, 0.1]
    has_charts(r.out, "loss per iteration", *(f"parameters ({v})" for v in sc.variants))


def compare_rosenbrock(r: Result) -> None:
    """`gdlab compare rosenbrock --every 500 --plot`: six optimizers, the landscape with their
    paths; every 500th iteration and each variant's last."""
    sc = load_scenario("rosenbrock")
    names = list(sc.variants)
    assert len(names) == 6 and groups(r.out) == names
    assert [sc.config(v).optimizer for v in names] == names
    lasts = {int(row[1]) for row in summaries(r.out, names).values()}
    rows = first_cells(r.out)
    assert rows == sorted({i for i in range(max(lasts) + 1) if i % 500 == 0} | lasts)
    has_charts(r.out, "landscape of the output over (x, y)")
    legend = r.out.splitlines()[-1]  # without colour: a letter per path
    assert re.findall(r"\b[a-z] = (\w+)", legend) == names, legend


def epochs_of(scenario: str) -> int:
    """The epochs of a bundled network scenario's first variant."""
    sc = load_scenario(scenario)
    return sc.config(sc.default_variant()).epochs


def run_circle(r: Result) -> None:
    """`gdlab run circle --plot`: a network, one row per epoch from epoch 0, then its loss and
    accuracy curves and its decision boundary."""
    epochs = epochs_of("circle")
    assert first_cells(r.out) == list(range(epochs + 1))
    assert r.out.splitlines()[1].startswith("circle [playground]: ")
    has_charts(r.out, "loss per epoch", "accuracy per epoch", "decision boundary (playground)")


def compare_xor(r: Result) -> None:
    """`gdlab compare xor --plot`: Playground's network, one neuron, one neuron on x1*x2."""
    sc = load_scenario("xor")
    assert groups(r.out) == ["playground", "no_hidden", "x1x2"]
    assert sc.model_config("playground").layers == [2, 4, 2, 1]
    assert sc.model_config("no_hidden").layers == [2, 1]
    assert sc.model_config("x1x2").layers == [1, 1]
    assert sc.table("data", "x1x2")["features"] == ["x1*x2"]
    has_charts(r.out, *(f"decision boundary ({v})" for v in sc.variants))


def run_sin_fit(r: Result) -> None:
    """`gdlab run sin_fit --plot`: a 1-10-1 network fitting a sine: the fitted curve."""
    assert "layers [1, 10, 1]" in r.out.splitlines()[1]
    assert first_cells(r.out) == list(range(epochs_of("sin_fit") + 1))
    has_charts(r.out, "loss per epoch", "fitted curve (tanh_10)")


def run_vanishing_gradient(r: Result) -> None:
    """... --set run.epochs=3: each layer's speed of learning."""
    assert first_cells(r.out) == [0, 1, 2, 3]
    layers = load_scenario("vanishing_gradient").model_config("deep").layers
    header = next(ln for ln in r.out.splitlines() if ln.startswith("epoch "))
    assert header.split()[-2 * (len(layers) - 1):] == [
        w for i in range(1, len(layers)) for w in ("speed", str(i))]
    assert re.search(r"^epoch 3: speed 4 / speed 1 = \S+: layer 4 learns \S+ times as fast as "
                     r"layer 1$", r.out, flags=re.M)


def run_mnist_mlp_ce(r: Result) -> None:
    """... --set run.epochs=1: a network on MNIST (the bundled subset in a fresh clone)."""
    assert first_cells(r.out) == [0, 1]
    assert r.err.startswith("data: mnist: bundled subset")
    assert "layers [784, 100, 10]" in r.out.splitlines()[1]


def compare_mnist_init(r: Result) -> None:
    """... --set run.epochs=3: large vs scaled initial weights, side by side."""
    assert groups(r.out) == ["large", "scaled"]
    assert first_cells(r.out) == [0, 1, 2, 3]
    described = r.out.splitlines()[1:3]
    assert "init normal" in described[0] and "init scaled" in described[1]


def list_scenarios(r: Result) -> None:
    """`gdlab list`: every bundled scenario."""
    listed = [line.split()[0] for line in r.out.splitlines()[2:]]
    assert listed == [f.stem for f in bundled_scenarios()]


def check_my_scenario(r: Result) -> None:
    """`gdlab check my_scenario.toml`: validate a scenario file (here a copy of target_z)."""
    assert r.out == "ok: my_scenario.toml (target_z: target, 2 variants)\n" and r.err == ""


def sweep_learning_rate_plot(r: Result) -> None:
    """... learning_rate_sweep --plot: steps to converge for 110 learning rates (the values are
    checked against the closed form in tests/test_sweep_bundled.py), and the line."""
    assert "110 runs: " in r.out
    assert "best (lowest iterations_to:1e-6): run.lr = 0.5 -> 1" in r.out
    assert "iterations_to:1e-6 against run.lr" in r.out and "diverged" in r.out


def sweep_five_rates(r: Result) -> None:
    """The sweep shown with its output (compared byte for byte): where it says it runs."""
    assert r.err.startswith("sweeping learning_rate_sweep: run.lr (5) = 5 runs; "
                            "iterations_to:1e-6 on ")


def sweep_gd_square_csv(r: Result) -> None:
    """... --grid run.lr=0.1:1:0.1 --grid params.x=1,2 --seeds 3 --format csv: one row per
    point, the mean and spread over 3 seeds (0: a full-batch run does not use its seed)."""
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [(float(w["run.lr"]), int(w["params.x"])) for w in rows] == \
        [(k / 10, x) for k in range(1, 11) for x in (1, 2)]
    for w in rows:
        lr, x = float(w["run.lr"]), int(w["params.x"])
        ratio = abs(1 - 2 * lr)  # x_{n+1} = (1 - 2 lr) x_n; J_n = x^2 ratio^(2n) <= 1e-3
        n = 1 if ratio == 0 else math.ceil(math.log(1e-3 / x ** 2) / (2 * math.log(ratio))) \
            if ratio < 1 else None
        assert (w["runs"], w["std"]) == ("3", "0" if n is not None else ""), w
        assert w["mean iterations_to:0.001"] == ("" if n is None else str(n)), w


CHECKS: dict[str, Callable[[Result], None]] = {
    "gdlab run target_z": run_target_z,
    "gdlab run target_z --variant recomputed --plot": run_target_z_plot,
    "gdlab run target_z --set run.tolerance=1e-9 --format jsonl --out trace.jsonl":
        run_target_z_jsonl,
    "gdlab compare target_z": compare_target_z,
    "gdlab compare learning_rates --plot": compare_learning_rates,
    "gdlab compare rosenbrock --every 500 --plot": compare_rosenbrock,
    "gdlab run circle --plot": run_circle,
    "gdlab compare xor --plot": compare_xor,
    "gdlab run sin_fit --plot": run_sin_fit,
    "gdlab run vanishing_gradient --set run.epochs=3": run_vanishing_gradient,
    "gdlab run mnist_mlp_ce --set run.epochs=1": run_mnist_mlp_ce,
    "gdlab compare mnist_init --set run.epochs=3": compare_mnist_init,
    "gdlab list": list_scenarios,
    "gdlab check my_scenario.toml": check_my_scenario,
    "gdlab sweep learning_rate_sweep --plot": sweep_learning_rate_plot,
    "gdlab sweep learning_rate_sweep --grid run.lr=0.25,0.5,0.75,1.0,1.1": sweep_five_rates,
    "gdlab sweep gd_square --grid run.lr=0.1:1:0.1 --grid params.x=1,2 --seeds 3 --format csv":
        sweep_gd_square_csv,
}
#: what a command needs in its folder before it runs
PREPARE: dict[str, Callable[[Path], None]] = {
    "gdlab check my_scenario.toml":
        lambda d: shutil.copy(BUNDLED_DIR / "target_z.toml", d / "my_scenario.toml"),
}
SKIPPED = {
    'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && gdlab run '
    "target_z": "creates a virtual environment and installs from the package index (network, "
                "minutes); CI's .ci/run makes exactly this install, and `gdlab run target_z` is "
                "checked in the Use block",
    "python -m pytest": "the test suite this test is part of",
    "gdlab": "the app needs a terminal; tests/test_app_*.py drive it with Textual's pilot",
    "gdlab open target_z": "the app needs a terminal; tests/test_app_run.py opens target_z "
                           "with Textual's pilot",
    "gdlab data fetch mnist": "downloads from the MNIST mirrors (network); tests/"
                              "test_mnist_fetch.py fetches from a local server",
    'pip install -e ".[serve]"': "installs textual-serve from the package index (network); the "
                                 "serve tests skip with that reason without it",
    "gdlab serve": "a web server that runs until Ctrl+C; tests/test_serve_command.py starts it on "
                   "a free port, opens sessions and a real browser against it",
    "gdlab serve --host 0.0.0.0 --public --max-sessions 10 lessons/ --save-dir handed_in/":
        "a public web server that runs until Ctrl+C; tests/test_serve_command.py checks --public's "
        "notice and --max-sessions, tests/test_served_mode.py the folders and --save-dir",
    'pip install -e ".[mutation]"': "installs mutmut from the package index (network)",
    "python tools/mutation.py ops graph": "mutation testing: minutes to hours, not in CI; "
                                          "tests/test_mutation_tool.py checks its mapping",
    "gdlab sweep momentum_map --plot": "the whole 16 x 20 map (320 runs of up to 3,000 "
                                       "iterations): tests/test_sweep_bundled.py runs it and "
                                       "checks every cell against the closed form",
    "dask scheduler": "starts a Dask scheduler that runs until stopped; tests/test_sweep_run.py "
                      "and tests/test_sweep_cli.py start a LocalCluster on 127.0.0.1 instead",
    "OPENBLAS_NUM_THREADS=1 dask worker tcp://HOST:8786 --nthreads 1 --nworkers auto":
        "starts Dask workers for a scheduler on another machine (HOST); the cluster tests use "
        "a LocalCluster's workers",
    "gdlab sweep mnist_batch_lr --cluster tcp://HOST:8786 --plot":
        "needs a Dask scheduler at HOST; tests/test_sweep_cli.py runs --cluster against a "
        "LocalCluster and compares its rows with one worker's",
}


def test_every_readme_command_is_checked_or_skipped() -> None:
    texts = {c.text for c in readme_commands()}
    assert not set(CHECKS) & set(SKIPPED)
    assert texts == set(CHECKS) | set(SKIPPED), (
        f"in the README, not here: {sorted(texts - set(CHECKS) - set(SKIPPED))}; "
        f"here, not in the README: {sorted((set(CHECKS) | set(SKIPPED)) - texts)}")
    assert all(len(reason) > 20 for reason in SKIPPED.values())


SHOWN = ["gdlab compare target_z",
         "gdlab sweep learning_rate_sweep --grid run.lr=0.25,0.5,0.75,1.0,1.1"]


def test_the_examples_shown_with_their_output_are_those_tested() -> None:
    assert [c.text for c in readme_commands() if c.shown is not None] == SHOWN


@pytest.mark.parametrize("command", SHOWN)
def test_the_top_example_prints_what_the_readme_shows(command: str, tmp_path: Path) -> None:
    [shown] = [c for c in readme_commands() if c.text == command and c.shown is not None]
    r = run(command, tmp_path)
    assert r.rc == 0
    assert r.err == "" or command.startswith("gdlab sweep")  # a sweep says what it runs
    assert r.raw == "\n".join(shown.shown) + "\n"  # byte for byte, no escape codes either
    CHECKS[command](r)


@pytest.mark.parametrize("command", [c.text for c in readme_commands()
                                     if c.text in CHECKS and c.shown is None])
def test_readme_command_prints_what_the_readme_says(command: str, tmp_path: Path) -> None:
    if command in PREPARE:
        PREPARE[command](tmp_path)
    r = run(command, tmp_path)
    assert r.rc == 0, r.err
    CHECKS[command](r)
