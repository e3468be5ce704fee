"""The issue's list of bad input to a network scenario, on the command line: each is one line
naming the file, the table and the key, exit status 2, nothing on stdout, for ``gdlab check``
and for ``gdlab run`` (which must refuse before printing anything)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli import main

NET = """
[scenario]
name = "net"
title = "a small network"

[model]
layers = [2, 4, 1]
activation = "tanh"
output = "sigmoid"
cost = "cross_entropy"
init = "xavier"

[data]
source = "xor"
n = 40

[run]
epochs = 1

[variants.plain]

[variants.wide.model]
layers = [2, 8, 1]
"""

GIVEN = ("model.init=\"given\"", "model.weights=[[[1, 2], [3, 4], [5, 6], [7, 8]], [[1, 2, 3, 4]]]",
         "model.biases=[[0, 0, 0, 0], [0]]")

CASES = [
    # a layer of size 0
    (["model.layers=[2, 0, 1]"], "[model] key 'layers'",
     "expected layer sizes >= 1, got 0 in [2, 0, 1]"),
    # n_in that doesn't match the features
    (["model.layers=[3, 4, 1]"], "[model] key 'layers'",
     "n_in = 3 but [data] gives 2 input features (x1, x2)"),
    (["data.features=[\"x1\", \"x2\", \"x1*x2\"]"], "[model] key 'layers'",
     "n_in = 2 but [data] gives 3 input features (x1, x2, x1*x2)"),
    # an unknown activation, init, output or cost
    (["model.activation=\"softplus\""], "[model] key 'activation'",
     "expected one of 'sigmoid', 'tanh', 'relu', 'linear', got 'softplus'"),
    (["model.init=\"glorot\""], "[model] key 'init'", "expected one of 'normal', 'scaled'"),
    (["model.output=\"relu\""], "[model] key 'output'",
     "expected one of 'sigmoid', 'softmax', 'linear', 'tanh', got 'relu'"),
    (["model.cost=\"hinge\""], "[model] key 'cost'",
     "expected one of 'quadratic', 'cross_entropy', 'mse', got 'hinge'"),
    # an output/cost pair that makes no sense
    (["model.output=\"softmax\"", "model.cost=\"quadratic\""], "[model] keys 'output' and 'cost'",
     "output 'softmax' with cost 'quadratic' is not a pair that makes sense"),
    (["model.output=\"linear\"", "model.cost=\"mse\""], "[model] keys 'output' and 'cost'",
     "the network does regression (linear + mse) but [data] source 'xor' has 2 classes"),
    # given weights of the wrong shape
    ([GIVEN[0], "model.weights=[[[1, 2], [3, 4]], [[1, 2, 3, 4]]]", GIVEN[2]],
     "[model] key 'weights'", "layer 1: expected a 4x2 matrix (4 rows of 2 numbers: n_1 = 4, "
     "n_0 = 2), got a 2x2 matrix"),
    ([GIVEN[0], GIVEN[1], "model.biases=[[0, 0, 0], [0]]"], "[model] key 'biases'",
     "layer 1: expected a vector of 4 numbers (n_1 = 4), got a list of 3 numbers"),
    # a feature expression that isn't allowed
    (["data.features=[\"x1\", \"sum(x2)\"]"], "[data] key 'features'",
     "feature 2: call of 'sum' is not allowed (elementwise functions only"),
    (["data.features=[\"x1\", \"x2.__class__\"]"], "[data] key 'features'", "feature 2:"),
    (["data.features=[\"x1\", \"y\"]"], "[data] key 'features'", "feature 2:"),
    # a train fraction outside (0, 1)
    (["data.train_fraction=1.0"], "[data] key 'train_fraction'",
     "expected a finite number in (0, 1), got 1.0"),
    (["data.train_fraction=0"], "[data] key 'train_fraction'",
     "expected a finite number in (0, 1), got 0"),
    (["data.train_fraction=-0.5"], "[data] key 'train_fraction'", "got -0.5"),
    # the same mistakes in a variant's own table name that table
    (["variants.wide.model.layers=[2, 0, 1]"], "[variants.wide.model] key 'layers'",
     "expected layer sizes >= 1, got 0"),
    (["variants.wide.data.train_fraction=2"], "[variants.wide.data] key 'train_fraction'",
     "got 2"),
]


def user_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, out, err)
    assert err.startswith("gdlab: error: ") and err.count("\n") == 1, err
    return err.strip()


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("overrides,key,message", CASES)
def test_bad_input_is_one_line_naming_the_file_and_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, overrides: list[str],
        key: str, message: str) -> None:
    path = tmp_path / "net.toml"
    path.write_text(NET)
    sets = [arg for o in overrides for arg in ("--set", o)]
    err = user_error(capsys, command, str(path), *sets)
    assert err.startswith(f"gdlab: error: {path}: {key}"), err
    assert message in err, err


CSV = "x1,x2,kind\n0.1,0.2,0\n0.5,0.1,1\n0.9,0.8,2\n0.3,0.3,1\n0.7,0.2,3\n0.2,0.9,0\n"


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_csv_class_the_output_cannot_represent(tmp_path: Path, command: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pts.csv").write_text(CSV)
    path = tmp_path / "pts.toml"
    path.write_text(NET.replace('source = "xor"\nn = 40', 'source = "csv"\nfile = "pts.csv"\n'
                                'label = "kind"'))
    err = user_error(capsys, command, str(path), "--set", "model.layers=[2, 4, 3]",
                     "--set", 'model.output="softmax"')
    assert err == (f"gdlab: error: {path}: [data] key 'label': class 3 (line 6 of pts.csv) "
                   "can't be represented by n_out = 3 outputs (classes 0 to 2)")
    # with four outputs it fits and runs
    assert main(["check", str(path), "--set", "model.layers=[2, 4, 4]",
                 "--set", 'model.output="softmax"']) == 0
