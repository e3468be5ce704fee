"""[data]: inline arrays, CSV files and seeded generated data."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import FIXTURES

from engine.data.sources import generate, load_data
from engine.errors import DataError, ScenarioError


def data_error(table, base=FIXTURES) -> str:
    with pytest.raises(DataError) as ei:
        load_data(table, base, "s.toml")
    msg = str(ei.value)
    assert "\n" not in msg
    return msg


# --- inline --------------------------------------------------------------------------------

def test_inline_numbers_and_arrays():
    out = load_data({"k": 2, "x": [1, 2, 3], "M": [[1.0, 2.0], [3.0, 4.0]]}, FIXTURES, "s.toml")
    assert out["k"] == 2.0 and type(out["k"]) is float
    assert out["x"].dtype == np.float64 and out["x"].tolist() == [1.0, 2.0, 3.0]
    assert out["M"].shape == (2, 2)


@pytest.mark.parametrize("value,frag", [
    (True, "expected a number or an array of numbers, got a boolean (true)"),
    ("abc", "expected a number or an array of numbers, got a string 'abc'"),
    ([[1.0], [1.0, 2.0]], "expected a rectangular array of numbers"),
    (["a", "b"], "expected numbers only in the array, got a string 'a'"),
    ([1.0, True], "expected numbers only in the array, got a boolean (true)"),
    ([], "the array is empty"),
    ([1.0, float("nan")], "expected finite numbers in the array, got nan"),
    ([1.0, 10**400], "expected finite numbers in the array, got an integer of 401 digits"),
    (10**400, "expected a finite number, got an integer of 401 digits"),
])
def test_inline_mistakes(value, frag):
    msg = data_error({"x": value})
    assert msg.startswith("s.toml: [data] key 'x': ") and frag in msg


# --- CSV -----------------------------------------------------------------------------------

def test_csv_columns_list_and_mapping():
    out = load_data({"csv": {"file": "good.csv", "columns": ["x", "y"]}}, FIXTURES, "s.toml")
    assert out["x"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out["y"].tolist() == [5.0, 7.5, 9.0, 11.25]
    out = load_data({"csv": {"file": "good.csv", "columns": {"inp": "x", "target": "y"}}},
                    FIXTURES, "s.toml")
    assert set(out) == {"inp", "target"} and out["target"][3] == 11.25


def test_csv_absolute_path_delimiter_and_mixed_with_inline(tmp_path):
    out = load_data({"csv": {"file": str(FIXTURES / "semicolon.csv"), "columns": ["a", "b"],
                             "delimiter": ";"}, "k": 3.0}, tmp_path, "s.toml")
    assert out["a"].tolist() == [1.0, 3.0] and out["b"].tolist() == [2.0, 4.0]
    assert out["k"] == 3.0


def test_csv_whitespace_and_trailing_blank_lines(tmp_path):
    (tmp_path / "d.csv").write_text(" x , y \n 1 , 2 \n3,4\n\n\n", encoding="utf-8")
    out = load_data({"csv": {"file": "d.csv", "columns": ["x", "y"]}}, tmp_path, "s.toml")
    assert out["x"].tolist() == [1.0, 3.0] and out["y"].tolist() == [2.0, 4.0]


def test_csv_missing_file():
    msg = data_error({"csv": {"file": "nope.csv", "columns": ["x"]}})
    assert msg.startswith("s.toml: [data.csv] key 'file': cannot read ")
    assert "nope.csv" in msg and "No such file" in msg


def test_csv_missing_column():
    msg = data_error({"csv": {"file": "good.csv", "columns": ["x", "z"]}})
    assert msg == f"{FIXTURES / 'good.csv'}: no column 'z' (columns: x, y, label), asked for " \
                  "by s.toml: [data.csv] key 'columns'"


def test_csv_ragged_rows():
    msg = data_error({"csv": {"file": "ragged.csv", "columns": ["x"]}})
    assert msg == f"{FIXTURES / 'ragged.csv'}: line 3 has 1 cells, the header has 2"


def test_csv_non_numeric_cell_with_its_line():
    msg = data_error({"csv": {"file": "nonnumeric.csv", "columns": ["x", "y"]}})
    assert msg == f"{FIXTURES / 'nonnumeric.csv'}: line 4, column 'x': 'three' is not a number"
    # a non-numeric column that is not asked for is fine
    out = load_data({"csv": {"file": "good.csv", "columns": ["y"]}}, FIXTURES, "s.toml")
    assert list(out) == ["y"]
    msg = data_error({"csv": {"file": "good.csv", "columns": ["label"]}})
    assert "line 2, column 'label': 'a' is not a number" in msg


def test_csv_line_numbers_count_blank_lines(tmp_path):
    (tmp_path / "d.csv").write_text("x,y\n1,2\n\n3,4\nfour,5\n", encoding="utf-8")
    msg = data_error({"csv": {"file": "d.csv", "columns": ["x"]}}, tmp_path)
    assert msg.endswith("line 5, column 'x': 'four' is not a number"), msg
    (tmp_path / "r.csv").write_text("x,y\n\n\n1,2\n3\n", encoding="utf-8")
    msg = data_error({"csv": {"file": "r.csv", "columns": ["x"]}}, tmp_path)
    assert msg.endswith("line 5 has 1 cells, the header has 2"), msg


def test_csv_infinite_value(tmp_path):
    (tmp_path / "d.csv").write_text("x\n1\ninf\n", encoding="utf-8")
    msg = data_error({"csv": {"file": "d.csv", "columns": ["x"]}}, tmp_path)
    assert msg.endswith("line 3, column 'x': 'inf' is not a finite number")


@pytest.mark.parametrize("text,frag", [
    ("", "the CSV file is empty (expected a header row)"),
    ("\n\n", "the CSV file is empty"),
    ("x,y\n", "the CSV file has a header but no data rows"),
])
def test_csv_empty_files(tmp_path, text, frag):
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    msg = data_error({"csv": {"file": "d.csv", "columns": ["x"]}}, tmp_path)
    assert msg.startswith(f"{tmp_path / 'd.csv'}: {frag}")


def test_csv_not_utf8(tmp_path):
    (tmp_path / "d.csv").write_bytes(b"x\n\xff\xfe\n")
    msg = data_error({"csv": {"file": "d.csv", "columns": ["x"]}}, tmp_path)
    assert msg.startswith("s.toml: [data.csv] key 'file': ") and "not a readable CSV file" in msg


@pytest.mark.parametrize("spec,frag", [
    ("good.csv", "[data.csv]: expected a table with 'file' and 'columns'"),
    ({"columns": ["x"]}, "[data.csv] key 'file': expected a path"),
    ({"file": "good.csv"}, "[data.csv] key 'columns': expected a list of column names"),
    ({"file": "good.csv", "columns": []}, "[data.csv] key 'columns'"),
    ({"file": "good.csv", "columns": [1]}, "[data.csv] key 'columns'"),
    ({"file": "good.csv", "columns": ["x"], "sep": ";"}, "[data.csv] unknown key 'sep'"),
])
def test_csv_spec_mistakes(spec, frag):
    msg = data_error({"csv": spec})
    assert msg.startswith("s.toml: ") and frag in msg


def test_mnist_keys_are_refused_in_graph_scenarios():
    for key in ("source", "path", "train_limit", "test_limit", "validation"):
        msg = data_error({key: "mnist"})
        assert msg == f"s.toml: [data] key '{key}' belongs to a network scenario (one with " \
                      "[model])"


# --- generated ------------------------------------------------------------------------------

SPEC = {"n": 50, "seed": 7, "x": "uniform(-1, 1)", "y": "3*x + 2", "noise": 0.1}


def test_generate_is_reproducible_bit_for_bit():
    a = generate(dict(SPEC), "s.toml")
    b = generate(dict(SPEC), "s.toml")
    assert list(a) == ["x", "y"]
    assert a["x"].tobytes() == b["x"].tobytes() and a["y"].tobytes() == b["y"].tobytes()
    # the documented draw: one default_rng(seed), columns in file order, then the noise
    rng = np.random.default_rng(7)
    x = rng.uniform(-1.0, 1.0, 50)
    y = 3 * x + 2 + rng.normal(0.0, 0.1, 50)
    assert a["x"].tobytes() == x.tobytes()
    assert a["y"].tobytes() == y.tobytes()


def test_generate_differs_with_another_seed():
    a = generate(dict(SPEC), "s.toml")
    c = generate({**SPEC, "seed": 8}, "s.toml")
    assert not np.array_equal(a["x"], c["x"])
    assert np.all((c["x"] >= -1) & (c["x"] < 1))


def test_generate_default_seed_and_no_noise():
    a = generate({"n": 5, "x": "linspace(0, 1)", "y": "x * x"}, "s.toml")
    assert a["x"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert a["y"].tolist() == [0.0, 0.0625, 0.25, 0.5625, 1.0]
    b = generate({"n": 4, "x": "normal(0, 1)"}, "s.toml")
    assert b["x"].tobytes() == np.random.default_rng(0).normal(0.0, 1.0, 4).tobytes()


def test_generate_constant_column_and_functions():
    a = generate({"n": 3, "c": "2", "x": "linspace(1, 3)", "y": "log(x) + exp(0)"}, "s.toml")
    assert a["c"].tolist() == [2.0, 2.0, 2.0]
    np.testing.assert_allclose(a["y"], np.log([1.0, 2.0, 3.0]) + 1.0)


@pytest.mark.parametrize("spec,frag", [
    ({"n": 0, "x": "uniform(0, 1)"}, "[data.generate] key 'n': expected an integer >= 1, got 0"),
    ({"n": -5, "x": "uniform(0, 1)"}, "key 'n': expected an integer >= 1, got -5"),
    ({"n": 2.5, "x": "uniform(0, 1)"}, "key 'n': expected an integer >= 1, got a number (2.5)"),
    ({"n": True, "x": "uniform(0, 1)"}, "key 'n': expected an integer >= 1, got a boolean "
                                        "(true)"),
    ({"x": "uniform(0, 1)"}, "key 'n': expected an integer >= 1, got nothing"),
    ({"n": 10**9, "x": "uniform(0, 1)"}, "key 'n': at most"),
    ({"n": 3, "seed": -1, "x": "uniform(0, 1)"}, "key 'seed': expected an integer in "
                                                 "[0, 4,294,967,295], got -1"),
    ({"n": 3, "seed": "a", "x": "uniform(0, 1)"}, "key 'seed': expected an integer in [0, "),
    ({"n": 3, "seed": 2**32, "x": "uniform(0, 1)"}, "key 'seed': expected an integer in [0, "),
    ({"n": 3, "noise": -0.1, "x": "uniform(0, 1)"}, "key 'noise': expected a finite number "
                                                    ">= 0, got -0.1"),
    ({"n": 3, "noise": float("inf"), "x": "uniform(0, 1)"}, "key 'noise': expected a finite "
                                                            "number >= 0, got inf"),
    ({"n": 3, "noise": 10**400, "x": "uniform(0, 1)"}, "key 'noise': expected a finite number"),
    ({"n": 3}, "define at least one column"),
    ({"n": 3, "x": 3.0}, "key 'x': expected an expression string"),
    ({"n": 3, "x": "normal(0, -1)"}, "normal(mean, std) needs std >= 0"),
    ({"n": 3, "x": "log(linspace(-1, 1))"}, "key 'x': 'log(linspace(-1, 1))' gives NaN or infinite"),
    ({"n": 3, "x": "log(0 - 1)"}, "key 'x': cannot compute 'log(0 - 1)' (log of a non-positive"),
    ({"n": 3, "x": "1 / 0"}, "key 'x': cannot compute '1 / 0'"),
])
def test_generate_mistakes(spec, frag):
    with pytest.raises(DataError) as ei:
        generate(spec, "s.toml")
    msg = str(ei.value)
    assert msg.startswith("s.toml: [data.generate]"), msg
    assert frag in msg, (frag, msg)


@pytest.mark.parametrize("text,frag", [
    ("y + 1", "unknown name 'y'"),  # a later column
    ("open('f')", "call of 'open' is not allowed"),
    ("uniform(0)", "uniform() takes 2 arguments, got 1"),
    ("x.__class__", "attribute access not allowed"),
])
def test_generate_expression_mistakes(text, frag):
    with pytest.raises(DataError) as ei:
        generate({"n": 3, "x": "uniform(0, 1)", "z": text, "y": "x"}, "s.toml")
    msg = str(ei.value)
    assert msg.startswith("s.toml: [data.generate] key 'z': ") and frag in msg
    assert isinstance(ei.value, ScenarioError)


def test_generate_through_load_data_in_a_scenario():
    out = load_data({"generate": {"n": 4, "seed": 1, "x": "uniform(0, 1)"}, "k": 1.0}, FIXTURES,
                    "s.toml")
    assert out["x"].shape == (4,) and out["k"] == 1.0
