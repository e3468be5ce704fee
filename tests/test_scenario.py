"""Scenario files: loading, every validation mistake as one clear line naming file and key,
variants, and --set overrides."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import FIXTURES, TARGET_Z, write

from engine.errors import DataError, ExpressionError, ScenarioError
from engine.scenario import (
    BUNDLED_DIR,
    bundled_scenarios,
    find_scenario,
    load_scenario,
    parse_override,
    parse_scenario,
    with_run,
)

BAD = FIXTURES / "bad"


def error_of(path_or_text, overrides=None, source="t.toml") -> str:
    with pytest.raises(ScenarioError) as ei:
        if isinstance(path_or_text, str) and "\n" in path_or_text:
            parse_scenario(path_or_text, source=source, overrides=overrides)
        else:
            load_scenario(path_or_text, overrides)
    msg = str(ei.value)
    assert "\n" not in msg, msg
    assert "Traceback" not in msg
    return msg


# --- the bad fixture files: one message each, naming the file and the key -------------------

BAD_CASES = {
    "syntax_error": ["TOML syntax error", "line 3, column 5"],
    "unknown_table": ["unknown table [plot]", "expected: scenario, params, data, graph, run"],
    "unknown_scenario_key": ["[scenario] unknown key 'author'", "expected: name, title, description"],
    "unknown_run_key": ["[run] unknown key 'learning_rate'", "expected one of: rule, output"],
    "unknown_variant_key": ["[variants.fast] unknown key 'speed'"],
    "wrong_type_run": ["[run] key 'max_iterations': expected an integer >= 0, got a string 'ten'"],
    "wrong_type_param": ["[params] key 'w': expected a number or an array of numbers, got a string"],
    "undefined_name": ["[graph] node 'y': unknown name 'q'", "'2*b + q'"],
    "forbidden": ["[graph] node 'z': call of '__import__' is not allowed", "__import__('os')"],
    "cycle": ["[graph] node '", "cycle between graph nodes (a -> c -> a)"],
    "output_is_param": ["[run] key 'output': 'w' is not a [graph] node (nodes: x, y, z)"],
    "output_missing": ["[run] key 'output': 'zz' is not a [graph] node"],
    "output_not_scalar": ["[run] key 'output': 'z' must be a scalar", "shape (3,)"],
    "train_not_param": ["[run] key 'train': 'x' is not a parameter (parameters: w, b)"],
    "target_missing": ["[run] key 'target' is required by the target rule"],
    "target_key_in_gradient": ["[run] key 'factor' does not apply to the gradient rule"],
    "gradient_key_in_target": ["[run] key 'lr' does not apply to the target rule"],
    "hyper_not_applicable": ["[run] key 'momentum' does not apply to optimizer 'adam'",
                             "it takes: betas, eps, weight_decay"],
    "bad_rule": ["[run] key 'rule': expected 'target' or 'gradient', got 'newton'"],
    "variant_bad_value": ["[variants.sometimes] key 'factor': expected 'fixed' or 'recomputed'"],
    "empty_graph": ["[graph] is empty"],
    "generate_n_zero": ["[data.generate] key 'n': expected an integer >= 1, got 0"],
    "csv_missing_file": ["[data.csv] key 'file': cannot read", "nowhere.csv"],
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_fixture_gives_one_clear_line_naming_file_and_key(name):
    path = BAD / f"{name}.toml"
    msg = error_of(str(path))
    assert msg.startswith(f"{path}: "), msg
    for frag in BAD_CASES[name]:
        assert frag in msg, (frag, msg)


@pytest.mark.parametrize("name,csv,frags", [
    ("csv_missing_column", "good.csv", ["no column 'q' (columns: x, y, label)",
                                        "[data.csv] key 'columns'", "csv_missing_column.toml"]),
    ("csv_ragged", "ragged.csv", ["line 3 has 1 cells, the header has 2"]),
    ("csv_nonnumeric", "nonnumeric.csv", ["line 4, column 'x': 'three' is not a number"]),
])
def test_bad_csv_contents_name_the_csv_file_and_line(name, csv, frags):
    msg = error_of(str(BAD / f"{name}.toml"))
    assert msg.startswith(str(FIXTURES / csv) + ": "), msg
    for frag in frags:
        assert frag in msg


def test_every_bad_fixture_is_covered():
    names = {p.stem for p in BAD.glob("*.toml")}
    assert names == set(BAD_CASES) | {"csv_missing_column", "csv_ragged", "csv_nonnumeric"}


def test_expression_and_data_errors_are_scenario_errors():
    with pytest.raises(ExpressionError):
        load_scenario(BAD / "forbidden.toml")
    with pytest.raises(DataError):
        load_scenario(BAD / "csv_ragged.toml")


# --- files -------------------------------------------------------------------------------

def test_missing_file():
    msg = error_of("no_such_scenario_xyz")
    assert msg.startswith("no_such_scenario_xyz: no such scenario file")
    assert "gdlab list" in msg
    msg = error_of("/tmp/definitely/not/here.toml")
    assert msg.startswith("/tmp/definitely/not/here.toml: no such scenario file")


def test_folder_is_not_a_scenario(tmp_path):
    msg = error_of(str(tmp_path))
    assert msg == f"{tmp_path}: is a folder, not a scenario file"


def test_unreadable_bytes(tmp_path):
    p = tmp_path / "binary.toml"
    p.write_bytes(b"\xff\xfe\x00garbage")
    msg = error_of(str(p))
    assert msg.startswith(f"{p}: cannot read the file")


def test_bundled_names_resolve_and_are_named_by_file_name():
    assert find_scenario("target_z") == BUNDLED_DIR / "target_z.toml"
    assert find_scenario("target_z.toml") == BUNDLED_DIR / "target_z.toml"
    sc = load_scenario("target_z")
    assert sc.source == "target_z.toml" and sc.name == "target_z"
    assert sc.params == {"w": 3.0, "b": 4.0}
    assert list(sc.variants) == ["fixed", "recomputed"]
    names = {p.stem for p in bundled_scenarios()}
    assert {"target_z", "target_z_w", "split_error", "gd_square"} <= names


def test_local_file_wins_over_search_dirs(tmp_path):
    write(tmp_path / "mine.toml", TARGET_Z)
    assert find_scenario("mine", [tmp_path]) == tmp_path / "mine.toml"
    sc = load_scenario("mine", search=[tmp_path])
    assert sc.source == str(tmp_path / "mine.toml")
    assert sc.name == "tz"  # [scenario] name wins over the file name


def test_toml_syntax_error_has_line_and_column():
    msg = error_of("[params]\nw = 3.0\n\n[run\nrule = 1\n")
    assert msg.startswith("t.toml: TOML syntax error")
    assert re.search(r"line 4, column \d+", msg), msg


# --- validation one key at a time ---------------------------------------------------------

def tz(**changes: str) -> str:
    """TARGET_Z with [run] lines replaced/added: key='toml value' (None removes)."""
    lines = TARGET_Z.strip().splitlines()
    out = []
    for line in lines:
        key = line.split("=")[0].strip()
        if key in changes and "[" not in line.split("=")[0]:
            v = changes.pop(key)
            if v is not None:
                out.append(f"{key} = {v}")
            continue
        out.append(line)
    out += [f"{k} = {v}" for k, v in changes.items() if v is not None]
    return "\n".join(out) + "\n"


GRAD = """
[params]
w = 1.0
v = [1.0, 2.0]

[data]
x = [1.0, 2.0, 3.0]

[graph]
J = "mean(w * x) ** 2 + l2(v)"

[run]
rule = "gradient"
output = "J"
"""


@pytest.mark.parametrize("extra,frags", [
    ("max_iterations = -1", ["[run] key 'max_iterations': expected an integer >= 0, got -1"]),
    ("max_iterations = 1.5", ["[run] key 'max_iterations': expected an integer >= 0, got a number"]),
    ("max_iterations = true", ["[run] key 'max_iterations'", "got a boolean"]),
    ("tolerance = -1e-3", ["[run] key 'tolerance': expected a finite number >= 0"]),
    ("tolerance = inf", ["[run] key 'tolerance': expected a finite number >= 0"]),
    ("tolerance = nan", ["[run] key 'tolerance'"]),
    ("target = \"150\"", ["[run] key 'target': expected a finite number, got a string '150'"]),
    ("target = 1e400", ["[run] key 'target': expected a finite number, got inf"]),
    ("target = " + "9" * 400, ["[run] key 'target': expected a finite number, got an integer "
                               "of 400 digits"]),
    ("tolerance = true", ["[run] key 'tolerance': expected a finite number >= 0, got a boolean "
                          "(true)"]),
    ("factor = 1", ["[run] key 'factor'", "got an integer"]),
    ("split = \"weighted\"", ["[run] key 'split': expected 'equal'"]),
    ("train = \"b\"", ["[run] key 'train': expected a list of parameter names, got a string"]),
    ("train = []", ["[run] key 'train': train at least one parameter"]),
    ("train = [\"b\", \"b\"]", ["[run] key 'train': a parameter is listed twice"]),
    ("train = [1]", ["[run] key 'train': expected parameter names (strings), got an integer "
                     "(1)"]),
    ("optimizer = \"adam\"", ["[run] key 'optimizer' does not apply to the target rule"]),
    ("momentum = 0.9", ["[run] key 'momentum' does not apply to the target rule"]),
    ("epochs = 3", ["[run] key 'epochs' does not apply to the target rule"]),
    ("rule = \"gradient\"", ["[run] key 'target' does not apply to the gradient rule"]),
])
def test_run_key_mistakes_target(extra, frags):
    key = extra.split("=")[0].strip()
    msg = error_of(tz(**{key: extra.split("=", 1)[1].strip()}))
    assert msg.startswith("t.toml: ")
    for frag in frags:
        assert frag in msg, (frag, msg)


@pytest.mark.parametrize("extra,frags", [
    ("lr = -0.1", ["[run] key 'lr': expected a finite number >= 0, got -0.1"]),
    ("optimizer = \"lbfgs\"", ["[run] key 'optimizer': expected one of 'sgd', 'momentum', "
                               "'nesterov', 'adagrad', 'rmsprop', 'adam', got 'lbfgs'"]),
    ("optimizer = \"adam\"\nmomentum = 0.9", ["key 'momentum' does not apply to optimizer 'adam'"]),
    ("optimizer = \"sgd\"\nbetas = [0.9, 0.99]", ["key 'betas' does not apply to optimizer 'sgd'"]),
    ("optimizer = \"rmsprop\"\nlr_decay = 0.1", ["key 'lr_decay' does not apply to optimizer 'rmsprop'"]),
    ("optimizer = \"adagrad\"\ncentered = true", ["key 'centered' does not apply to optimizer"]),
    ("optimizer = \"adam\"\nbetas = [0.9]", ["key 'betas': expected a list of two numbers in [0, 1)"]),
    ("optimizer = \"adam\"\nbetas = [0.9, 1.0]", ["key 'betas': expected a list of two numbers "
                                               "in [0, 1), got [0.9, 1.0]"]),
    ("optimizer = \"adam\"\nbetas = [0.9, 1e400]", ["key 'betas': expected a list of two "
                                                 "numbers in [0, 1), got [0.9, inf]"]),
    ("optimizer = \"adam\"\neps = 0", ["key 'eps': expected a finite number > 0, got 0"]),
    ("optimizer = \"rmsprop\"\nalpha = 1.5", ["key 'alpha': expected a finite number in [0, 1], "
                                           "got 1.5"]),
    ("nesterov = true", ["key 'nesterov': Nesterov momentum needs momentum > 0 and dampening = 0"]),
    ("optimizer = \"sgd\"\nnesterov = 1", ["key 'nesterov': expected true or false, got an integer"]),
    ("optimizer = \"sgd\"\nnesterov = \"false\"", ["key 'nesterov': expected true or false, "
                                                  "got a string 'false'"]),
    ("optimizer = \"rmsprop\"\ncentered = \"true\"", ["key 'centered': expected true or false"]),
    ("schedule = \"cosine\"", ["key 'schedule': expected one of 'constant', 'step', "
                               "'exponential', got 'cosine'"]),
    ("gamma = 0", ["key 'gamma': expected a finite number > 0, got 0"]),
    ("lr = nan", ["key 'lr': expected a finite number >= 0, got nan"]),
    ("lr = " + "1" * 320, ["key 'lr': expected a finite number >= 0, got an integer of 320 "
                           "digits"]),
    ("seed = -1", ["key 'seed': expected an integer in [0, 4,294,967,295], got -1"]),
    ("seed = 4294967296", ["key 'seed': expected an integer in [0, 4,294,967,295]"]),
    ("max_iterations = 99999999999999999999", ["key 'max_iterations': expected an integer >= 0 "
                                              "and at most 9,007,199,254,740,992"]),
    ("step_size = 0", ["key 'step_size': expected an integer >= 1"]),
    ("batch_size = 0", ["key 'batch_size': expected an integer >= 1"]),
    ("epochs = 0", ["key 'epochs': expected an integer >= 1"]),
    ("seed = 1.5", ["key 'seed': expected an integer"]),
    ("target = 1.0", ["key 'target' does not apply to the gradient rule"]),
    ("split = \"equal\"", ["key 'split' does not apply to the gradient rule"]),
    ("grad_tolerance = -1", ["key 'grad_tolerance': expected a finite number >= 0"]),
    ("output = \"x\"", ["key 'output': 'x' is not a [graph] node"]),
    ("output = 3", ["key 'output': expected the name of a graph node, got an integer"]),
])
def test_run_key_mistakes_gradient(extra, frags):
    text = GRAD + extra + "\n"
    if extra.startswith("output"):
        text = GRAD.replace('output = "J"', extra)
    msg = error_of(text)
    assert msg.startswith("t.toml: [run] key '") or msg.startswith("t.toml: [run] unknown"), msg
    for frag in frags:
        assert frag in msg, (frag, msg)


def test_nesterov_optimizer_with_dampening_is_refused_at_load():
    msg = error_of(GRAD + 'optimizer = "nesterov"\ndampening = 0.5\n')
    assert msg.startswith("t.toml: [run] key ")
    assert "dampening" in msg or "nesterov" in msg


def test_valid_gradient_configuration_with_hyperparameters():
    sc = parse_scenario(GRAD + 'optimizer = "adam"\nbetas = [0.8, 0.9]\nlr = 0.01\n'
                        'schedule = "step"\nstep_size = 2\ngamma = 0.5\nbatch_size = 2\n'
                        'epochs = 3\nseed = 4\n', source="t.toml")
    cfg = sc.config()
    assert cfg.optimizer == "adam" and cfg.hyper == {"betas": [0.8, 0.9]}
    assert (cfg.lr, cfg.schedule, cfg.step_size, cfg.gamma) == (0.01, "step", 2, 0.5)
    assert (cfg.batch_size, cfg.epochs, cfg.seed) == (2, 3, 4)
    assert cfg.train == ("w", "v")  # default: every parameter
    assert cfg.max_iterations == 100 and cfg.tolerance is None
    np.testing.assert_array_equal(sc.params["v"], [1.0, 2.0])


def test_required_keys_and_tables():
    assert error_of(tz(rule=None)) == "t.toml: [run] key 'rule' is required"
    assert error_of(tz(output=None)) == "t.toml: [run] key 'output' is required"
    msg = error_of("[graph]\nz = \"1\"\n[run]\nrule = \"target\"\noutput = \"z\"\ntarget = 1.0\n")
    assert msg == "t.toml: [params] is empty: define at least one parameter"
    msg = error_of("run = 3\n[params]\nw = 1.0\n")
    assert msg == "t.toml: [run] must be a table, got an integer (3)"
    msg = error_of(TARGET_Z + "\n[variants]\nfast = 3\n")
    assert msg == "t.toml: [variants.fast] must be a table of [run] keys"


@pytest.mark.parametrize("text,frags", [
    ("[params]\n\"2w\" = 1.0\n", ["[params] key '2w': a name must be a Python identifier"]),
    ("[params]\n_w = 1.0\n", ["[params] key '_w': a name must be a Python identifier"]),
    ("[params]\nw = true\n", ["[params] key 'w': expected a number or an array of numbers, "
                               "got a boolean"]),
    ("[params]\nw = [[1.0, 2.0], [3.0]]\n", ["[params] key 'w': expected a rectangular array "
                                             "of numbers"]),
    ("[params]\nw = [1.0, true]\n", ["[params] key 'w': expected numbers only in the array, got "
                                     "a boolean (true)"]),
    ("[params]\nw = [1.0, 1e999]\n", ["[params] key 'w': expected finite numbers in the array, "
                                      "got inf"]),
    ("[params]\nw = " + "9" * 400 + "\n", ["[params] key 'w': expected a finite number, got an "
                                           "integer of 400 digits"]),
    ("[params]\nw = [" + "9" * 400 + "]\n", ["[params] key 'w': expected finite numbers in the "
                                             "array, got an integer of 400 digits"]),
    ("[params]\nw = []\n", ["[params] key 'w': the array is empty"]),
    ("[params]\nw = nan\n", ["[params] key 'w': expected a finite number, got nan"]),
    ("[params]\nw = {a = 1}\n", ["[params] key 'w': expected a number or an array of numbers, "
                                 "got a table"]),
    ("[scenario]\ntitle = 3\n[params]\nw = 1.0\n", ["[scenario] key 'title': expected a string"]),
])
def test_params_and_metadata_mistakes(text, frags):
    msg = error_of(text + '[graph]\nz = "w"\n[run]\nrule = "target"\noutput = "z"\ntarget = 1.0\n')
    assert msg.startswith("t.toml: ")
    for frag in frags:
        assert frag in msg, (frag, msg)


def test_graph_mistakes():
    base = '[params]\nw = 1.0\n[run]\nrule = "target"\noutput = "z"\ntarget = 1.0\n[graph]\n'
    assert error_of(base + "z = 3\n") == \
        "t.toml: [graph] node 'z': expected an expression string, got an integer (3)"
    assert "[graph] node 'w' has the name of a param" in error_of(base + 'w = "2"\nz = "w"\n')
    assert "[graph] node 'exp': 'exp' is a function name" in error_of(base + 'exp = "w"\nz = "w"\n')
    msg = error_of(base + 'z = "w.__class__"\n')
    assert msg == "t.toml: [graph] node 'z': attribute access not allowed: 'w.__class__' in " \
                  "'w.__class__'"
    msg = error_of(base + 'z = "lambda: w"\n')
    assert msg.startswith("t.toml: [graph] node 'z': lambdas not allowed")


def test_data_mistakes_name_the_key():
    base = '[params]\nw = 1.0\n[graph]\nJ = "mean(w * x)"\n[run]\nrule = "gradient"\noutput = "J"\n'
    assert error_of(base + '[data]\nx = "abc"\n') == \
        "t.toml: [data] key 'x': expected a number or an array of numbers, got a string 'abc'"
    ragged = error_of(base + "[data]\nx = [[1.0], [2.0, 3.0]]\n")
    assert "[data] key 'x': expected a rectangular array" in ragged
    assert "[data] key 'x': the array is empty" in error_of(base + "[data]\nx = []\n")
    assert "[data] key 'x': expected finite numbers in the array, got inf" in \
        error_of(base + "[data]\nx = [1.0, inf]\n")
    assert "[data] key 'source' belongs to a network scenario" in \
        error_of(base + '[data]\nsource = "mnist"\n')
    assert "[run] key 'batch_size': mini-batches need [data]" in \
        error_of('[params]\nw = 1.0\n[graph]\nJ = "w*w"\n[run]\nrule = "gradient"\noutput = "J"\n'
                 "batch_size = 2\n")
    assert "t.toml: name 'w' is defined twice" in error_of(base + "[data]\nw = 1.0\nx = 2.0\n")


def test_arithmetic_errors_at_the_start_are_left_to_the_run():
    sc = parse_scenario('[params]\nw = -1.0\n[graph]\nz = "log(w)"\n[run]\nrule = "target"\n'
                        'output = "z"\ntarget = 1.0\n', source="t.toml")
    assert sc.graph == {"z": "log(w)"}


def test_shape_mismatch_is_reported_at_load():
    msg = error_of('[params]\na = [1.0, 2.0]\nb = [1.0, 2.0, 3.0]\n[graph]\nz = "sum(a + b)"\n'
                   '[run]\nrule = "gradient"\noutput = "z"\n')
    assert msg.startswith("t.toml: [graph] node 'a + b (in z)': shapes (2,), (3,) do not fit")


# --- variants ------------------------------------------------------------------------------

def test_unknown_variant():
    sc = load_scenario("target_z")
    with pytest.raises(ScenarioError) as ei:
        sc.config("fastest")
    assert str(ei.value) == "target_z.toml: no variant named 'fastest' (variants: fixed, recomputed)"
    with pytest.raises(ScenarioError, match="no variant named 'x' \\(variants: none\\)"):
        load_scenario("gd_square").config("x")


def test_variants_override_run_keys():
    sc = load_scenario("target_z")
    assert sc.config("fixed").factor == "fixed"
    assert sc.config("recomputed").factor == "recomputed"
    assert sc.config(None).factor == "recomputed"
    assert sc.run_table("fixed") == {**sc.run, "factor": "fixed"}
    assert sc.config("fixed", tolerance=0.5).tolerance == 0.5


def test_variant_may_switch_rule_and_is_validated_as_a_whole():
    text = TARGET_Z + '\n[variants.gd]\nrule = "gradient"\nlr = 0.01\n'
    msg = error_of(text)
    assert msg == "t.toml: [variants.gd] key 'target' does not apply to the gradient rule"


# --- --set overrides ---------------------------------------------------------------------

def test_set_run_tolerance():
    sc = load_scenario("target_z", ["run.tolerance=1e-6"])
    assert sc.run["tolerance"] == 1e-6 and sc.config("fixed").tolerance == 1e-6


def test_set_params():
    sc = load_scenario("target_z", ["params.w=2"])
    assert sc.params["w"] == 2.0 and type(sc.params["w"]) is float
    sc = parse_scenario(GRAD, source="t.toml", overrides=["params.v=[3.0, 4.0, 5.0]"])
    np.testing.assert_array_equal(sc.params["v"], [3.0, 4.0, 5.0])


def test_set_variant_key_with_a_bare_word():
    sc = load_scenario("target_z", ["variants.fixed.factor=recomputed"])
    assert sc.variants["fixed"]["run"]["factor"] == "recomputed"
    assert sc.config("fixed").factor == "recomputed"


def test_set_several_and_later_wins():
    sc = load_scenario("target_z", ["run.max_iterations=3", "run.max_iterations=7",
                                    'run.train=["w", "b"]'])
    assert sc.config().max_iterations == 7 and sc.config().train == ("w", "b")


def test_set_adds_graph_nodes_and_checks_them():
    sc = load_scenario("target_z", ['graph.z="x * y + 1"'])
    assert sc.graph["z"] == "x * y + 1"
    msg = error_of("target_z", ['graph.z="x * q"'])
    assert msg.startswith("target_z.toml: [graph] node 'z': unknown name 'q'")


@pytest.mark.parametrize("override,frags", [
    ("run.tolerance", ["--set 'run.tolerance': expected KEY=VALUE"]),
    ("tolerance=1", ["--set 'tolerance=1': the key must name a table and a key"]),
    ("=1", ["the key must name a table and a key"]),
    ("run.=1", ["the key must name a table and a key"]),
    ("run.bogus=1", ["target_z.toml: [run] unknown key 'bogus'"]),
    ("run.tolerance=abc", ["target_z.toml: [run] key 'tolerance': expected a finite number "
                           ">= 0, got a string 'abc'"]),
    ("run.tolerance=-1", ["[run] key 'tolerance': expected a finite number >= 0"]),
    ("run.max_iterations=1.5", ["[run] key 'max_iterations'"]),
    ("params.w=abc", ["[params] key 'w': expected a number or an array of numbers, got a string"]),
    ("variants.fixed.factor=sometimes", ["[variants.fixed] key 'factor': expected 'fixed' or "
                                         "'recomputed'"]),
    ("run.rule.x=1", ["'rule' is not a table"]),
    ("plot.kind=1", ["unknown table [plot]"]),
])
def test_bad_overrides(override, frags):
    msg = error_of("target_z", [override])
    for frag in frags:
        assert frag in msg, (frag, msg)


def test_parse_override_values_are_toml():
    assert parse_override("run.tolerance=1e-6") == {"run": {"tolerance": 1e-6}}
    assert parse_override("run.lr = 0.5") == {"run": {"lr": 0.5}}
    assert parse_override("run.centered=true") == {"run": {"centered": True}}
    assert parse_override("run.optimizer=adam") == {"run": {"optimizer": "adam"}}
    assert parse_override('variants."lr_0.1".lr=0.5') == {"variants": {"lr_0.1": {"lr": 0.5}}}


def test_with_run_changes_and_validates():
    sc = load_scenario("target_z")
    new = with_run(sc, tolerance=0.1)
    assert new.config().tolerance == 0.1 and sc.config().tolerance == 1e-5
    with pytest.raises(ScenarioError, match="unknown key 'speed'"):
        with_run(sc, speed=2)
    with pytest.raises(ScenarioError, match="'lr' does not apply to the target rule"):
        with_run(sc, lr=0.1)


# --- the kind of a scenario -----------------------------------------------------------------

NET = '[model]\nlayers = [784, 10]\n[data]\nsource = "mnist"\n[run]\nepochs = 1\n'


def test_the_kind_follows_the_tables_or_the_scenario_table():
    assert parse_scenario(TARGET_Z, source="t.toml").kind == "graph"
    assert parse_scenario(NET, source="t.toml").kind == "network"  # [model] implies it
    named = parse_scenario('[scenario]\nkind = "network"\n' + NET, source="t.toml")
    assert named.kind == "network" and named.label == "network"
    assert parse_scenario(TARGET_Z.replace('[scenario]\n', '[scenario]\nkind = "graph"\n'),
                          source="t.toml").label == "target"


@pytest.mark.parametrize("text,message", [
    ('[scenario]\nkind = "sweep"\n' + NET,
     "t.toml: [scenario] key 'kind': expected one of 'network', 'graph', got 'sweep'"),
    ('[scenario]\nkind = 1\n' + NET, "t.toml: [scenario] key 'kind': expected a string, got an "
                                     "integer (1)"),
    (TARGET_Z.replace('[scenario]\n', '[scenario]\nkind = "graph"\n') + NET.split("[data]")[0],
     "t.toml: unknown table [model] (expected: scenario, params, data, graph, run, variants, "
     "sweep for a graph scenario; [model] belongs to network scenarios)"),
    ('[scenario]\nkind = "network"\n[run]\nepochs = 1\n',
     "t.toml: [model] is missing: a network scenario needs layers = [n_in, ..., n_out]"),
    (NET + '[params]\nw = 1.0\n', "t.toml: unknown table [params] (expected: scenario, model, "
                                  "data, run, variants, sweep for a network scenario; [params] "
                                  "belongs to graph scenarios)"),
    (NET + '[variants.a]\nrule = "target"\n', "t.toml: [variants.a] unknown key 'rule' "
                                              "(expected one of: report_every, shuffle_seed, "
                                              "patience, optimizer,"),
    (NET + '[variants.a.graph]\nz = "1"\n', "t.toml: [variants.a] unknown key 'graph'"),
])
def test_kind_mistakes(text, message):
    assert error_of(text).startswith(message)


def test_bundled_scenarios_come_in_the_order_of_a_course():
    from engine.bundled import COURSE

    names = [p.stem for p in bundled_scenarios()]
    assert names[0] == "target_z"  # the README's main example
    assert sorted(names) == sorted(COURSE), "place every bundled scenario in bundled.COURSE"
    assert names == list(COURSE)
