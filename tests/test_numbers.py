"""Strict numbers wherever a scenario key enters (engine/validate.py): files, --set, session
scripts. Each class of bad number is one line and exit status 2 on the command line, and no
exception other than gdlab's own ever escapes (hypothesis)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from helpers import GD_SQUARE, TARGET_Z, write
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import validate
from engine.errors import GdlabError, ScenarioError
from engine.run import RUN_KEYS
from engine.scenario import parse_scenario
from tui.cli import main

NETWORK = """
[model]
layers = [784, 10]
[data]
source = "mnist"
[run]
epochs = 1
"""


def one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert rc == 2, (rc, out, err)
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdlab: error: "), err
    return lines[0]


# --- the checks themselves -------------------------------------------------------------------

def test_finite_refuses_booleans_non_finite_and_huge_integers() -> None:
    at = "f.toml: [run] key 'lr'"
    assert validate.finite(3, at) == 3.0 and type(validate.finite(3, at)) is float
    for bad, shown in [(True, "a boolean (true)"), (math.nan, "nan"), (-math.inf, "-inf"),
                       (10**400, "an integer of 401 digits"), ("1", "a string '1'"),
                       (None, "nothing"), ([1], "a list")]:
        with pytest.raises(ScenarioError) as info:
            validate.finite(bad, at)
        assert str(info.value) == f"{at}: expected a finite number, got {shown}"
    with pytest.raises(ScenarioError, match=r"expected a finite number > 0, got 0$"):
        validate.finite(0, at, low=0.0, low_open=True)
    with pytest.raises(ScenarioError, match=r"expected a finite number in \[0, 1\), got 1$"):
        validate.finite(1, at, low=0.0, high=1.0, high_open=True)


def test_integers_and_seeds_have_a_documented_range() -> None:
    at = "f.toml: [run] key 'seed'"
    assert validate.seed(0, at) == 0 and validate.seed(2**32 - 1, at) == 2**32 - 1
    for bad in (-1, 2**32, 1.0, True, "1"):
        with pytest.raises(ScenarioError, match=r"expected an integer in \[0, 4,294,967,295\]"):
            validate.seed(bad, at)
    with pytest.raises(ScenarioError, match="and at most 9,007,199,254,740,992, got an "
                                            "integer of 21 digits"):
        validate.integer(10**20, at, low=0)


def test_booleans_are_toml_booleans_only() -> None:
    at = "f.toml: [run] key 'nesterov'"
    assert validate.boolean(False, at) is False
    for bad, shown in [("false", "a string 'false'"), (0, "an integer (0)"),
                       (1.0, "a number (1.0)")]:
        with pytest.raises(ScenarioError) as info:
            validate.boolean(bad, at)
        assert str(info.value) == f"{at}: expected true or false, got {shown}"


def test_arrays_are_rectangular_finite_and_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    at = "f.toml: [params] key 'w'"
    got = validate.number_array([[1, 2], [3, 4.5]], at)
    assert got.dtype.name == "float64" and got.tolist() == [[1.0, 2.0], [3.0, 4.5]]
    monkeypatch.setattr(validate, "MAX_ARRAY_ITEMS", 5)
    with pytest.raises(ScenarioError, match="more than 5 numbers in one array"):
        validate.number_array([[1, 2, 3], [4, 5, 6]], at)
    deep: list = [1.0]
    for _ in range(validate.MAX_DEPTH):
        deep = [deep]
    with pytest.raises(ScenarioError, match=f"arrays nested more than {validate.MAX_DEPTH} deep"):
        validate.number_array(deep, at)


# --- every class on the command line: exit 2, one line naming the file and the key ---------

@pytest.mark.parametrize("override,frag", [
    ("run.lr=nan", "gd_square.toml: [run] key 'lr': expected a finite number >= 0, got nan"),
    ("run.lr=inf", "[run] key 'lr': expected a finite number >= 0, got inf"),
    ("run.lr=true", "[run] key 'lr': expected a finite number >= 0, got a boolean (true)"),
    ("run.lr=" + "7" * 400, "[run] key 'lr': expected a finite number >= 0, got an integer of "
                            "400 digits"),
    ("run.tolerance=-" + "7" * 400, "[run] key 'tolerance': expected a finite number >= 0, got "
                                    "an integer of 400 digits"),
    ("run.max_iterations=" + "7" * 30, "[run] key 'max_iterations': expected an integer >= 0 "
                                       "and at most"),
    ("run.seed=-1", "[run] key 'seed': expected an integer in [0, 4,294,967,295], got -1"),
    ("params.x=" + "7" * 400, "[params] key 'x': expected a finite number, got an integer of "
                              "400 digits"),
    ("params.x=[1.0, " + "7" * 400 + "]", "[params] key 'x': expected finite numbers in the "
                                          "array, got an integer of 400 digits"),
    ("params.x=[1.0, nan]", "[params] key 'x': expected finite numbers in the array, got nan"),
    ("params.x=[true, 1.0]", "[params] key 'x': expected numbers only in the array, got a "
                             "boolean (true)"),
    ("run.optimizer=\"momentum\"", None),  # valid: the next cases build on it
])
def test_bad_numbers_in_run_and_params(override: str, frag: str | None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    if frag is None:
        assert main(["check", "gd_square", "--set", override]) == 0
        return
    msg = one_line_error(capsys, "run", "gd_square", "--set", override)
    assert frag in msg, msg


@pytest.mark.parametrize("value,shown", [("false", "a string 'false'"),
                                         ("False", "a string 'False'"),
                                         ("0", "an integer (0)")])
def test_a_boolean_key_refuses_anything_but_true_and_false(
        value: str, shown: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--set run.nesterov=False` (not TOML: read as the string 'False') is an error, not true."""
    msg = one_line_error(capsys, "run", "gd_square", "--set", "run.optimizer=momentum",
                         "--set", f'run.nesterov="{value}"' if value == "false" else
                         f"run.nesterov={value}")
    assert msg.endswith(f"[run] key 'nesterov': expected true or false, got {shown}")


@pytest.mark.parametrize("override,frag", [
    ("model.seed=-1", "[model] key 'seed': expected an integer in [0, 4,294,967,295], got -1"),
    ("model.l2=nan", "[model] key 'l2': expected a finite number >= 0, got nan"),
    ("model.layers=[784, " + "9" * 300 + "]", "[model] key 'layers': expected layer sizes "
                                              "<= 4096, got an integer of 300 digits"),
    ("data.train_limit=true", "[data] key 'train_limit': expected an integer >= 1, got a "
                              "boolean (true)"),
    ("run.report_every=0", "[run] key 'report_every': expected an integer >= 1, got 0"),
    ("run.lr=-1", "[run] key 'lr': expected a finite number >= 0, got -1"),
])
def test_bad_numbers_in_a_network_scenario(tmp_path: Path, override: str, frag: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "net.toml", NETWORK)
    msg = one_line_error(capsys, "run", str(path), "--set", override)
    assert msg.startswith(f"gdlab: error: {path}: ") and frag in msg, msg


def test_nesting_beyond_the_limit_in_a_file(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Deeper than Python's own limit (tomllib's RecursionError), and deeper than ours."""
    deep = write(tmp_path / "deep.toml", GD_SQUARE + "[data]\nq = " + "[" * 600 + "]" * 600
                 + "\n")
    msg = one_line_error(capsys, "run", str(deep))
    assert msg == f"gdlab: error: {deep}: tables or arrays nested more than 16 deep (the limit)"
    nested = write(tmp_path / "nested.toml", GD_SQUARE + "[data]\nq = " + "[" * 20 + "1.0"
                   + "]" * 20 + "\n")
    msg = one_line_error(capsys, "run", str(nested))
    assert msg == f"gdlab: error: {nested}: 'data.q' nests tables or arrays more than 16 deep " \
                  "(the limit)"
    msg = one_line_error(capsys, "run", "gd_square", "--set",
                         "params.x=" + "[" * 40 + "1" + "]" * 40)
    assert "nests tables or arrays more than 16 deep" in msg


def test_an_integer_too_long_for_python_to_read(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "long.toml", GD_SQUARE.replace("x = 1.2", "x = " + "9" * 5000))
    msg = one_line_error(capsys, "check", str(path))
    assert msg.startswith(f"gdlab: error: {path}: a number is too long to read")


def test_inline_data_and_generated_data_are_strict(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    base = '[params]\nw = 1.0\n[graph]\nJ = "mean(w * x)"\n[run]\nrule = "gradient"\n' \
           'output = "J"\n'
    path = write(tmp_path / "d.toml", base + "[data]\nx = [1.0, " + "3" * 400 + "]\n")
    msg = one_line_error(capsys, "run", str(path))
    assert msg.endswith("[data] key 'x': expected finite numbers in the array, got an integer "
                        "of 400 digits")
    path = write(tmp_path / "g.toml", base + '[data.generate]\nn = 3\nseed = -4\n'
                                             'x = "uniform(0, 1)"\n')
    msg = one_line_error(capsys, "run", str(path))
    assert msg.endswith("[data.generate] key 'seed': expected an integer in "
                        "[0, 4,294,967,295], got -4")


def test_a_schedule_whose_factor_overflows_diverges_cleanly(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    rc = main(["run", "regression_linear", "--set", "run.schedule=exponential", "--set",
               "run.gamma=1e300", "--set", "run.batch_size=50"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    assert "stopped: diverged after 5 updates" in out.splitlines()[-1]


# --- session scripts ---------------------------------------------------------------------------

@pytest.mark.parametrize("action,frag", [
    ({"do": "set", "key": "nesterov", "value": "false"},
     "[run] key 'nesterov': expected true or false, got a string 'false'"),
    ({"do": "set", "key": "lr", "value": "0.1"},
     "[run] key 'lr': expected a finite number >= 0, got a string '0.1'"),
    ({"do": "set", "key": "momentum", "value": True},
     "[run] key 'momentum': expected a finite number >= 0, got a boolean (true)"),
    ({"do": "train", "name": "x", "on": "false"},
     "key 'on': expected true or false, got a string 'false'"),
    ({"do": "param", "name": "x", "value": True},
     "key 'value': expected a finite number, got a boolean (true)"),
    ({"do": "param", "name": "x", "value": 1e999},
     "key 'value': expected a finite number, got inf"),
    ({"do": "param", "name": "x", "value": 10**400},
     "key 'value': expected a finite number, got an integer of 401 digits"),
    ({"do": "step", "count": -1}, "key 'count': expected an integer in [0, 10,000,000], got -1"),
    ({"do": "step", "count": "3"},
     "key 'count': expected an integer in [0, 10,000,000], got a string '3'"),
])
def test_session_scripts_are_as_strict(tmp_path: Path, action: dict, frag: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    actions = [{"do": "open", "scenario": "gd_square"},
               {"do": "set", "key": "optimizer", "value": "momentum"}, action]
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"gdlab_session": 1, "actions": actions}))
    msg = one_line_error(capsys, "replay", str(script))
    # an action's own keys are checked before the script runs (the message names the file
    # too); a setting's value when the action runs, as its [run] key is
    assert msg.startswith(("gdlab: error: action 3: ", f"gdlab: error: {script}: action 3: ")) \
        and frag in msg, msg


# --- nothing but gdlab's own errors, whatever the value ------------------------------------------

def toml_value(v: object) -> str:
    """``v`` written as a TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) \
            else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return str(v)


SCALARS = st.one_of(st.integers(min_value=-(10**400), max_value=10**400),
                    st.integers(min_value=-5, max_value=5), st.floats(), st.booleans(),
                    st.text(max_size=4))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3),
                   st.lists(st.lists(st.floats(), min_size=2, max_size=2), max_size=2))
NUMERIC_RUN_KEYS = sorted(k for k in RUN_KEYS if k not in ("rule", "output", "train"))


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(NUMERIC_RUN_KEYS), value=VALUES,
       table=st.sampled_from(["graph", "network"]))
def test_any_value_of_any_run_key_is_accepted_or_refused_cleanly(key: str, value: object,
                                                                 table: str) -> None:
    base = (GD_SQUARE.replace('rule = "gradient"', 'rule = "gradient"\noptimizer = "adam"')
            if table == "graph" else NETWORK)
    text = base.replace("[run]\n", f"[run]\n{key} = {toml_value(value)}\n", 1)
    try:
        parse_scenario(text, source="h.toml")
    except ScenarioError as exc:
        assert str(exc).startswith("h.toml: ") and "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(["layers", "l2", "seed", "activation"]), value=VALUES)
def test_any_value_of_a_model_key_is_accepted_or_refused_cleanly(key: str, value: object
                                                                 ) -> None:
    text = NETWORK.replace("layers = [784, 10]\n", "") if key == "layers" else NETWORK
    text = text.replace("[model]\n", f"[model]\n{key} = {toml_value(value)}\n", 1)
    try:
        parse_scenario(text, source="h.toml")
    except ScenarioError as exc:
        assert str(exc).startswith("h.toml: ")


@settings(max_examples=200, deadline=None)
@given(value=VALUES, table=st.sampled_from(["params", "data"]))
def test_any_param_or_inline_data_value_is_accepted_or_refused_cleanly(value: object,
                                                                      table: str) -> None:
    line = f"q = {toml_value(value)}\n"
    text = TARGET_Z.replace("[params]\n", "[params]\n" + line if table == "params" else
                            f"[data]\n{line}[params]\n")
    try:
        parse_scenario(text, source="h.toml")
    except GdlabError as exc:
        assert str(exc).startswith("h.toml: ")
