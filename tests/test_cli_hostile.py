"""The command line under hostile input: one line ``gdlab: error: ...`` naming the limit, exit
status 2, no traceback, in bounded time and memory (the limits are in engine/limits.py)."""

from __future__ import annotations

import gzip
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from test_cli import cli, user_error
from test_mnist_fetch import server  # noqa: F401  (the local mirror fixture)

from engine.data.fetch import DOWNLOAD_MARGIN, FILENAMES, MNIST_SIZES
from engine.errors import ScenarioError
from engine.limits import (
    MAX_ACTIVATIONS,
    MAX_CSV_BYTES,
    MAX_DATA_VALUES,
    MAX_EXPRESSION_NESTING,
    MAX_EXPRESSION_OPERATIONS,
    MAX_GRAPH_VALUES,
    MAX_SCENARIO_BYTES,
)


def scenario(tmp_path: Path, loss: str, extra: str = "", name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'[params]\nw = 0.5\n{extra}[graph]\nJ = "{loss}"\n[run]\nrule = "gradient"\n'
                    'output = "J"\nmax_iterations = 3\n')
    return path


# --- expressions --------------------------------------------------------------------------------

def test_a_sum_at_the_limit_runs(capsys, tmp_path):
    path = scenario(tmp_path, "+".join(["w"] * (MAX_EXPRESSION_OPERATIONS + 1)))
    rc, out, err = cli(capsys, "run", str(path), "--format", "jsonl")
    assert rc == 0 and err == ""
    first = json.loads(out.splitlines()[0])
    assert first["grads"] == {"w": MAX_EXPRESSION_OPERATIONS + 1.0}


@pytest.mark.parametrize("loss,limit", [
    ("+".join(["w"] * (MAX_EXPRESSION_OPERATIONS + 2)),
     f"{MAX_EXPRESSION_OPERATIONS + 1} operators and calls (the limit is "
     f"{MAX_EXPRESSION_OPERATIONS} per expression"),
    ("-" * 20_000 + "w", "expression longer than 10000 characters (the limit; it has 20001)"),
    ("(" * 150 + "w" + ")" * 150, f"brackets nested 150 deep (the limit is "
                                  f"{MAX_EXPRESSION_NESTING})"),
], ids=["operations", "length", "nesting"])
@pytest.mark.parametrize("command", ["run", "check", "compare"])
def test_expressions_past_the_limits(capsys, tmp_path, command, loss, limit):
    path = scenario(tmp_path, loss)
    line = user_error(capsys, command, str(path))
    assert line.startswith(f"gdlab: error: {path}: [graph] node 'J': ") and limit in line, line
    assert len(line) < 400


def test_a_chain_of_five_thousand_nodes(capsys, tmp_path):
    # each node uses the one defined after it: x_k = x_(k+1) + w, x_4999 = w, so x_0 = 5000 w
    nodes = "\n".join(f'x{k} = "x{k + 1} + w"' for k in range(4999)) + '\nx4999 = "w"\n'
    path = tmp_path / "chain.toml"
    path.write_text(f'[params]\nw = 0.5\n[graph]\n{nodes}[run]\nrule = "gradient"\n'
                    'output = "x0"\nmax_iterations = 1\n')
    rc, out, err = cli(capsys, "run", str(path), "--format", "jsonl")
    assert rc == 0, err
    assert json.loads(out.splitlines()[0])["grads"] == {"w": 5000.0}


# --- files that are not files ----------------------------------------------------------------

def test_a_fifo_or_a_device_as_the_scenario(capsys, tmp_path):
    fifo = tmp_path / "s.toml"
    os.mkfifo(fifo)
    assert user_error(capsys, "run", str(fifo)) == \
        f"gdlab: error: {fifo}: not a regular file, so not a scenario file"
    assert "not a regular file" in user_error(capsys, "check", "/dev/zero")


def test_a_scenario_over_the_size_limit(capsys, tmp_path):
    path = tmp_path / "s.toml"
    with open(path, "wb") as fh:
        fh.truncate(MAX_SCENARIO_BYTES + 1)  # sparse: no disk used
    assert user_error(capsys, "run", str(path)) == \
        f"gdlab: error: {path}: larger than {MAX_SCENARIO_BYTES:,} bytes (the limit for a " \
        "scenario file)"


@pytest.mark.parametrize("kind", ["fifo", "device", "huge"])
def test_a_csv_that_is_not_a_readable_file(capsys, tmp_path, kind):
    csv_path = tmp_path / "d.csv"
    if kind == "fifo":
        os.mkfifo(csv_path)
    elif kind == "device":
        csv_path = Path("/dev/zero")
    else:
        with open(csv_path, "wb") as fh:
            fh.write(b"x\n")
            fh.truncate(MAX_CSV_BYTES + 1)  # a header, then a hole of zero bytes
    path = scenario(tmp_path, "mean((w*x)**2)", f'[data.csv]\nfile = "{csv_path}"\n'
                                                 'columns = ["x"]\n')
    line = user_error(capsys, "run", str(path))
    assert line.startswith(f"gdlab: error: {path}: [data.csv] key 'file': cannot read {csv_path}")
    assert ("not a regular file" if kind != "huge" else
            f"larger than {MAX_CSV_BYTES:,} bytes (the limit for a CSV file)") in line


def test_a_csv_delimiter_that_is_not_one_character(capsys, tmp_path):
    (tmp_path / "d.csv").write_text("x\n1\n")
    path = scenario(tmp_path, "mean((w*x)**2)", '[data.csv]\nfile = "d.csv"\ncolumns = ["x"]\n'
                                                'delimiter = ";;"\n')
    assert user_error(capsys, "run", str(path)) == \
        f"gdlab: error: {path}: [data.csv] key 'delimiter': expected one character such as " \
        "\";\", got ';;'"


# --- MNIST files and downloads --------------------------------------------------------------------

def test_an_mnist_folder_holding_a_gzip_bomb(capsys, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    zeros = gzip.compress(bytes(1 << 20))
    for name in FILENAMES:
        images = "images" in name
        head = struct.pack(">IIII", 2051, 3, 28, 28) if images else struct.pack(">II", 2049, 3)
        body = bytes(3 * 784 if images else 3)
        # the training images announce 3 images and inflate to a gibibyte
        tail = zeros * 1024 if name.startswith("train-images") else b""
        (folder / name).write_bytes(gzip.compress(head + body) + tail)
    line = user_error(capsys, "run", "mnist_mlp", "--set", f"data.path='{folder}'",
                      "--set", "run.epochs=1")
    assert "train-images-idx3-ubyte.gz: trailing bytes: header says 3 images of 28x28" in line
    assert "more than 2368 uncompressed bytes" in line


def test_fetch_from_an_endless_mirror_stops_at_the_file_size(capsys, tmp_path, server):  # noqa: F811
    dest = tmp_path / "cache"
    line = user_error(capsys, "data", "fetch", "mnist", "--dest", str(dest),
                      "--mirror", f"{server.base}/endless")
    cap = MNIST_SIZES["train-images-idx3-ubyte.gz"] + DOWNLOAD_MARGIN
    assert f"endless/train-images-idx3-ubyte.gz: sent more than {cap} bytes" in line
    assert os.listdir(dest) == []


def test_names_the_system_refuses(capsys, tmp_path):
    line = user_error(capsys, "run", "x" * 5000)
    assert line == "gdlab: error: " + "x" * 60 + "... (5000 characters): not a scenario file " \
                   "(File name too long)"
    path = scenario(tmp_path, "mean((w*x)**2)", '[data.csv]\nfile = "a\\u0000b.csv"\n'
                                                'columns = ["x"]\n')
    line = user_error(capsys, "run", str(path))  # Python's own words differ from 3.11 to 3.13
    assert line.startswith(f"gdlab: error: {path}: [data.csv] key 'file': not a file name (")
    assert "embedded null" in line and line.count("\n") == 0
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"gdlab_session": 1, "actions": [
        {"do": "open", "scenario": "y" * 5000}]}))
    assert "not a scenario file (File name too long)" in user_error(capsys, "replay", str(script))


def test_csv_rows_are_counted_as_they_are_read(tmp_path, monkeypatch):
    from engine.data import sources
    from engine.errors import DataError

    monkeypatch.setattr(sources, "MAX_ROWS", 5)
    (tmp_path / "d.csv").write_text("x\n" + "1\n" * 6)
    with pytest.raises(DataError, match=r"d.csv: more than 5 rows \(the limit for a CSV file\)"):
        sources.load_data({"csv": {"file": "d.csv", "columns": ["x"]}}, tmp_path, "s.toml")
    (tmp_path / "d.csv").write_text("x\n" + "1\n" * 5)
    out = sources.load_data({"csv": {"file": "d.csv", "columns": ["x"]}}, tmp_path, "s.toml")
    assert out["x"].tolist() == [1.0] * 5


# --- memory: what a few lines of a scenario may ask for ----------------------------------------

def _column(name: str, n: int, row: bool = False) -> str:
    """A [params] line: an array of n ones as a column (n, 1), or as a row (1, n)."""
    ones = ", ".join(["1.0"] * n)
    return f"{name} = [[{ones}]]\n" if row else f"{name} = [{', '.join(['[1.0]'] * n)}]\n"


def test_a_broadcast_of_two_large_arrays_is_refused_before_it_is_computed(capsys, tmp_path):
    # (n, 1) * (1, n) is n^2 numbers: 10^10 for n = 10^5, from a file of 1 MB
    n = 100_000
    path = scenario(tmp_path, "sum(a*b)", _column("a", n) + _column("b", n, row=True))
    line = user_error(capsys, "run", str(path))
    assert line == (f"gdlab: error: {path}: [graph] node 'a*b (in J)': the graph's values "
                    f"would hold {2 * n + 1 + n * n:,} numbers up to this node ({n * n:,} in "
                    f"it), more than the limit of {MAX_GRAPH_VALUES:,} for a graph: use less "
                    "data or smaller arrays")


def test_the_graph_values_are_counted_as_the_forward_pass_would_make_them(tmp_path):
    import engine.shapes
    from engine.graph import Graph

    # w: 1, x: 1000, then w*x: 1000, (w*x)**2: 1000 (mean adds up in place: 1) -> 3,002
    nodes = {"J": "mean((w*x)**2)"}
    data = {"x": np.ones(1000)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.shapes, "MAX_GRAPH_VALUES", 3_002)
        Graph.build({"w": 0.5}, data, nodes, "s.toml")
        mp.setattr(engine.shapes, "MAX_GRAPH_VALUES", 3_000)
        with pytest.raises(ScenarioError, match=r"node '\(w\*x\)\*\*2 \(in J\)': the graph's "
                                                r"values would hold 3,001 numbers up to this "
                                                r"node \(1,000 in it\)"):
            Graph.build({"w": 0.5}, data, nodes, "s.toml")


@pytest.mark.parametrize("a,b", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                 ((5, 2, 3), (3, 4)), ((5, 1, 2, 3), (7, 3, 4)), ((2, 3), (4, 5)),
                                 ((), (3,))])
def test_matrix_product_shapes_are_numpy_s(a, b):
    from engine.shapes import node_shape

    try:
        want = np.matmul(np.zeros(a), np.zeros(b)).shape
    except ValueError:
        want = None
    assert node_shape("matmul", False, [a, b])[0] == want


def test_generated_data_and_csv_cells_are_counted(capsys, tmp_path, monkeypatch):
    from engine.data import sources
    from engine.errors import DataError

    extra = '[data.generate]\nn = 600000\nx = "uniform(0, 1)"\n' + \
        "".join(f'x{k} = "x + {k}"\n' for k in range(40))
    path = scenario(tmp_path, "mean((w*x)**2)", extra)
    assert user_error(capsys, "run", str(path)) == (
        f"gdlab: error: {path}: [data.generate]: 41 columns of 600,000 points are 24,600,000 "
        f"numbers, more than the limit of {MAX_DATA_VALUES:,} for a scenario's data")
    monkeypatch.setattr(sources, "MAX_DATA_VALUES", 10)
    (tmp_path / "d.csv").write_text("x,y\n" + "1,2\n" * 5)
    with pytest.raises(DataError, match=r"d.csv: more than 10 cells by line 6 \(the limit"):
        sources.load_data({"csv": {"file": "d.csv", "columns": ["x"]}}, tmp_path, "s.toml")


@pytest.mark.parametrize("command", ["run", "check"])
def test_a_mini_batch_too_wide_for_memory(capsys, tmp_path, monkeypatch, command):
    # MNIST's bundled subset (5,000 training images), through three layers of 4,096 units: a
    # batch of 60,000 is the whole training set, 5,000 rows
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    layers = [784, 4096, 1, 4096, 1, 4096, 10]
    units = sum(layers)
    fits = MAX_ACTIVATIONS // units
    for batch, rows in ((60_000, 5_000), (fits + 1, fits + 1)):
        line = user_error(capsys, command, "mnist_mlp", "--set", f"model.layers={layers}",
                          "--set", f"run.batch_size={batch}")
        assert line == (
            f"gdlab: error: mnist_mlp.toml: [variants.lr_3] key 'batch_size': mini-batches of "
            f"{rows:,} examples through {units:,} units hold {rows * units:,} activations, "
            f"more than the limit of {MAX_ACTIVATIONS:,} (use at most {fits:,} examples per "
            "batch)")
    if command == "check":  # the largest batch that fits passes
        rc, out, err = cli(capsys, "check", "mnist_mlp", "--set", f"model.layers={layers}",
                           "--set", f"run.batch_size={fits}")
        assert (rc, err) == (0, ""), err


# --- found by the campaign --------------------------------------------------------------------

@pytest.mark.parametrize("train,got", [('["x", ["x"]]', "expected parameter names (strings), "
                                                       "got a list"),
                                       ('"x"', "expected a list of parameter names, got a "
                                               "string 'x'")])
def test_train_must_be_a_list_of_names(capsys, train, got):
    assert user_error(capsys, "run", "gd_square", "--set", f"run.train={train}") == \
        f"gdlab: error: gd_square.toml: [run] key 'train': {got}"


NETWORK_ACTIONS = "open, edit, seed, reset, step"  # tui/network_session.py
WIDE = [784, 4096, 1, 4096, 1, 4096, 10]


@pytest.mark.parametrize("action,message", [
    ({"do": "param", "name": "q", "value": 1.0},
     f"unknown action {{'do': 'param', 'name': 'q', 'value': 1.0}} (expected 'do' = one of "
     f"{NETWORK_ACTIONS})"),
    ({"do": "set", "key": "lr", "value": 0.1},
     f"unknown action {{'do': 'set', 'key': 'lr', 'value': 0.1}} (expected 'do' = one of "
     f"{NETWORK_ACTIONS})"),
    ({"do": "step", "count": 10**11},
     "'step' key 'count': expected an integer in [0, 1,000,000], got 100000000000"),
    ({"do": "step", "count": 1e400},
     "'step' key 'count': expected an integer in [0, 1,000,000], got a number (inf)"),
    ({"do": "step", "unit": "x"}, "action {'do': 'step', 'unit': 'x'}: 'unit' must be 'batch' "
                                  "or 'epoch'"),
    ({"do": "seed", "value": -1}, "'seed' key 'value': expected an integer >= 0, got -1"),
    ({"do": "seed", "value": 2**40}, f"mnist_mlp.toml: [model] key 'seed': expected an integer "
                                     f"in [0, {2**32 - 1:,}], got {2**40}"),
    ({"do": "edit", "changes": [1]}, "action {'do': 'edit', 'changes': [1]}: 'changes' must be "
                                     "a table of 'table.key' = value"),
    ({"do": "edit", "changes": {"model.layers": [784, 99999, 10]}},
     "mnist_mlp.toml: [model] key 'layers': expected layer sizes <= 4096, got 99999 in "
     "[784, 99999, 10]"),
    ({"do": "open", "scenario": "target_z"},
     "target_z.toml: a graph scenario, not a network scenario"),
])
def test_a_hostile_action_on_a_network_session(capsys, tmp_path, monkeypatch, action, message):
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"gdlab_session": 1, "actions": [
        {"do": "open", "scenario": "mnist_mlp"}, action]}))
    assert user_error(capsys, "replay", str(script)) == f"gdlab: error: action 2: {message}"


def test_a_network_session_refuses_a_mini_batch_too_wide_for_memory(capsys, tmp_path,
                                                                    monkeypatch):
    # the bundled subset's 5,000 training images in one batch: refused when the run is built
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"gdlab_session": 1, "actions": [
        {"do": "open", "scenario": "mnist_mlp"},
        {"do": "edit", "changes": {"run.batch_size": 60_000, "model.layers": WIDE}},
        {"do": "step", "count": 1}]}))
    units = sum(WIDE)
    assert user_error(capsys, "replay", str(script)) == (
        f"gdlab: error: action 3: mnist_mlp.toml: [run] key 'batch_size': mini-batches of "
        f"5,000 examples through {units:,} units hold {5_000 * units:,} activations, more than "
        f"the limit of {MAX_ACTIVATIONS:,} (use at most {MAX_ACTIVATIONS // units:,} examples "
        "per batch)")
