"""The [model] table: defaults, and one clear line naming the file and the key for each mistake."""

from __future__ import annotations

import pytest

from engine.errors import ScenarioError
from engine.models.config import (
    MAX_HIDDEN_LAYERS,
    MAX_LAYER_SIZE,
    MAX_PARAMETERS,
    dense_config_from_table,
)


def error(table: dict, **kw) -> str:
    with pytest.raises(ScenarioError) as ei:
        dense_config_from_table(table, "net.toml", **kw)
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith("net.toml: [model] ")
    return msg


def test_defaults() -> None:
    c = dense_config_from_table({"layers": [2, 4, 2, 1]}, "net.toml")
    assert c.activations == ["sigmoid", "sigmoid"]
    assert (c.output, c.cost, c.init, c.bias_init, c.seed, c.l2, c.l1, c.dtype) == \
        ("sigmoid", "cross_entropy", "normal", None, 1, 0.0, 0.0, None)
    assert not c.regression and c.n_in == 2 and c.n_out == 1


@pytest.mark.parametrize("table,regression,pair", [
    ({"layers": [2, 3]}, False, ("softmax", "cross_entropy")),
    ({"layers": [2, 1]}, False, ("sigmoid", "cross_entropy")),
    ({"layers": [1, 8, 1]}, True, ("linear", "mse")),
    ({"layers": [2, 1], "output": "tanh"}, False, ("tanh", "quadratic")),
    ({"layers": [2, 1], "output": "linear"}, False, ("linear", "mse")),
    ({"layers": [2, 1], "cost": "mse"}, False, ("linear", "mse")),
    ({"layers": [2, 1], "cost": "quadratic"}, False, ("sigmoid", "quadratic")),
    ({"layers": [2, 3], "cost": "cross_entropy"}, False, ("softmax", "cross_entropy")),
    ({"layers": [2, 3], "output": "sigmoid"}, False, ("sigmoid", "cross_entropy")),
    ({"layers": [2, 1], "output": "sigmoid"}, True, ("sigmoid", "cross_entropy")),
])
def test_output_and_cost_defaults(table: dict, regression: bool, pair: tuple) -> None:
    c = dense_config_from_table(table, "net.toml", regression=regression)
    assert (c.output, c.cost) == pair


def test_activation_per_hidden_layer() -> None:
    c = dense_config_from_table({"layers": [2, 3, 3, 1], "activation": ["relu", "tanh"]}, "n")
    assert c.activations == ["relu", "tanh"]
    assert dense_config_from_table({"layers": [2, 1], "activation": []}, "n").activations == []


@pytest.mark.parametrize("table,frag", [
    ({}, "key 'layers' is missing, e.g. layers = [2, 4, 2, 1]"),
    ({"layers": [2, 0, 1]}, "key 'layers': expected layer sizes >= 1, got 0 in [2, 0, 1]"),
    ({"layers": [2]}, "key 'layers': expected a list [n_in, hidden..., n_out] of at least 2"),
    ({"layers": "2,1"}, "key 'layers': expected a list"),
    ({"layers": [2, 1.5]}, "expected layer sizes >= 1, got 1.5"),
    ({"layers": [2, True]}, "expected layer sizes >= 1, got a boolean (true) in [2, true]"),
    ({"layers": [2, MAX_LAYER_SIZE + 1]}, f"expected layer sizes <= {MAX_LAYER_SIZE}"),
    ({"layers": [2] * (MAX_HIDDEN_LAYERS + 3)}, f"at most {MAX_HIDDEN_LAYERS} hidden layers"),
    ({"layers": [4000, 4000, 4000]}, f"at most {MAX_PARAMETERS:,}"),
    ({"layers": [2, 1], "activation": "softplus"},
     "key 'activation': expected one of 'sigmoid', 'tanh', 'relu', 'linear', got 'softplus'"),
    ({"layers": [2, 3, 1], "activation": ["relu", "tanh"]},
     "key 'activation': expected one name per hidden layer (1), got 2"),
    ({"layers": [2, 3, 1], "activation": ["elu"]}, "expected one of"),
    ({"layers": [2, 3, 1], "activation": 3}, "key 'activation': expected one of"),
    ({"layers": [2, 1], "output": "relu"}, "key 'output': expected one of 'sigmoid', 'softmax'"),
    ({"layers": [2, 1], "cost": "hinge"}, "key 'cost': expected one of 'quadratic'"),
    ({"layers": [2, 3], "output": "softmax", "cost": "quadratic"},
     "keys 'output' and 'cost': output 'softmax' with cost 'quadratic' is not a pair"),
    ({"layers": [2, 1], "output": "linear", "cost": "cross_entropy"},
     "keys 'output' and 'cost': output 'linear' with cost 'cross_entropy'"),
    ({"layers": [2, 1], "output": "tanh", "cost": "mse"}, "keys 'output' and 'cost'"),
    ({"layers": [2, 1], "output": "softmax"}, "key 'layers': a softmax output needs at least 2"),
    ({"layers": [2, 1], "init": "glorot"}, "key 'init': expected one of 'normal', 'scaled'"),
    ({"layers": [2, 1], "bias_init": "zero"}, "key 'bias_init': expected a number, or \"auto\""),
    ({"layers": [2, 1], "bias_init": float("nan")}, "key 'bias_init'"),
    ({"layers": [2, 1], "seed": -1}, "key 'seed': expected an integer in [0, "),
    ({"layers": [2, 1], "seed": 1.0}, "key 'seed': expected an integer"),
    ({"layers": [2, 1], "l2": -0.5}, "key 'l2': expected a finite number >= 0, got -0.5"),
    ({"layers": [2, 1], "l1": float("inf")}, "key 'l1': expected a finite number >= 0, got inf"),
    ({"layers": [2, 1], "l2": True}, "key 'l2': expected a finite number >= 0, got a boolean (true)"),
    ({"layers": [2, 1], "dtype": "float16"}, "key 'dtype': expected 'float64' or 'float32'"),
    ({"layers": [2, 1], "lr": 0.1}, "key 'lr': unknown key (allowed: 'layers', 'activation'"),
    ({"layers": [2, 1], "weight_decay": 0.0}, "key 'weight_decay': not a [model] key: write l2"),
    ({"layers": [2, 1], "weights": [[[1.0, 2.0]]]}, "key 'weights': only with init = \"given\""),
])
def test_mistakes(table: dict, frag: str) -> None:
    assert frag in error(table)


GIVEN = {"layers": [2, 3, 1], "init": "given"}


@pytest.mark.parametrize("extra,frag", [
    ({}, "key 'weights' is missing: init = \"given\" needs one matrix per layer"),
    ({"weights": [[[1, 2], [3, 4], [5, 6]]]},
     "key 'weights': expected 2 matrices (one per layer of [2, 3, 1]), got 1"),
    ({"weights": [[[1, 2, 3], [4, 5, 6]], [[1, 2, 3]]]},
     "key 'weights': layer 1: expected a 3x2 matrix (3 rows of 2 numbers: n_1 = 3, n_0 = 2), "
     "got a 2x3 matrix"),
    ({"weights": [[[1, 2], [3, 4], [5, 6]], [[1], [2], [3]]]},
     "key 'weights': layer 2: expected a 1x3 matrix (1 row of 3 numbers: n_2 = 1, n_1 = 3), "
     "got a 3x1 matrix"),
    ({"weights": [[[1, 2], [3], [5, 6]], [[1, 2, 3]]]}, "layer 1: expected a 3x2 matrix"),
    ({"weights": [[[1, "a"], [3, 4], [5, 6]], [[1, 2, 3]]]}, "got 'a' among the numbers"),
    ({"weights": [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3]]]},
     "key 'biases' is missing: init = \"given\" needs one vector per layer"),
    ({"weights": [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3]]], "biases": [[0, 0, 0]]},
     "key 'biases': expected 2 vectors"),
    ({"weights": [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3]]], "biases": [[0, 0], [0]]},
     "key 'biases': layer 1: expected a vector of 3 numbers (n_1 = 3), got a list of 2 numbers"),
    ({"weights": [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3]]], "biases": [[0, 0, 0], [0]],
      "bias_init": 0.1}, "key 'bias_init': give either biases or bias_init, not both"),
])
def test_given_mistakes(extra: dict, frag: str) -> None:
    assert frag in error({**GIVEN, **extra})


def test_given_accepts_bias_init_alone_and_auto_resets() -> None:
    c = dense_config_from_table({**GIVEN, "weights": [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3]]],
                                 "bias_init": 0.0}, "n")
    assert c.bias_init == 0.0 and c.biases is None
    assert dense_config_from_table({"layers": [2, 1], "bias_init": "auto"}, "n").bias_init is None


def test_not_a_table() -> None:
    with pytest.raises(ScenarioError, match=r"^net.toml: \[model\] must be a table, got a list$"):
        dense_config_from_table([1], "net.toml")
