"""Checking a sweep against its scenario ([sweep] tables, keys, values, metrics, seeds), and the
one adapter that runs a point of each kind."""

from __future__ import annotations

import pytest

from engine.errors import GdlabError, ScenarioError
from engine.scenario import parse_scenario
from engine.sweep.grid import Axis, Grid, parse_grid_option
from engine.sweep.plan import plan_sweep
from engine.sweep.point import ScenarioSource, check_metric, default_metric, metrics, run_point
from tests.helpers import GD_SQUARE, TARGET_Z, write


def source(tmp_path, text: str, name: str = "s.toml") -> ScenarioSource:
    return ScenarioSource.read(write(tmp_path / name, text))


SWEEP_TABLE = GD_SQUARE + """
[sweep]
metric = "iterations_to:1e-3"
seeds = 2

[sweep.grid]
"run.lr" = "0.1:0.3:0.1"
"params.x" = [1.0, 2.0]
"""


def test_a_sweep_table_is_validated_and_kept_on_the_scenario():
    sc = parse_scenario(SWEEP_TABLE, source="s.toml")
    g = sc.sweep
    assert [a.key for a in g.axes] == ["run.lr", "params.x"]
    assert g.axes[0].values == (0.1, 0.2, 0.3) and g.axes[1].values == (1.0, 2.0)
    assert (g.metric, g.seeds, g.variant) == ("iterations_to:1e-3", 2, None)


@pytest.mark.parametrize("table, says", [
    ('[sweep]\nmetric = "updates"', "[sweep] key 'grid'"),
    ('[sweep]\ngrid = {"run.lr" = "1:0:1"}', "[sweep.grid] key 'run.lr': '1:0:1': STOP"),
    ('[sweep]\ngrid = {"lr" = [1]}', "'lr' is not TABLE.KEY"),
    ('[sweep]\ngrid = {"run.lr" = [0.1]}\nworkers = 2', "[sweep] unknown key 'workers'"),
    ('[sweep]\ngrid = {"run.lr" = [0.1]}\nseeds = 0', "[sweep] key 'seeds'"),
    ('[sweep]\ngrid = {"run.lr" = [0.1]}\nmetric = 3', "[sweep] key 'metric': expected a metric"),
    ('sweep = 3\n', "[sweep] must be a table"),
])
def test_a_bad_sweep_table_is_one_line_naming_the_key(table, says):
    text = table + GD_SQUARE if table.startswith("sweep =") else GD_SQUARE + "\n" + table
    with pytest.raises(ScenarioError, match=says.replace("[", r"\[").replace("]", r"\]")) as e:
        parse_scenario(text, source="s.toml")
    assert "\n" not in str(e.value) and str(e.value).startswith("s.toml: ")


def test_dotted_keys_in_the_grid_table_work_as_well():
    sc = parse_scenario(GD_SQUARE + '\n[sweep.grid]\nrun.lr = [0.1, 0.2]\n', source="s.toml")
    assert sc.sweep.axes == (Axis("run.lr", (0.1, 0.2)),)


def test_metrics_follow_the_rule_and_unknown_ones_are_listed():
    gd = parse_scenario(GD_SQUARE)
    tz = parse_scenario(TARGET_Z)
    assert "final_loss" in metrics(gd) and "final_delta" not in metrics(gd)
    assert "final_delta" in metrics(tz) and "final_loss" not in metrics(tz)
    with pytest.raises(GdlabError, match=r"unknown metric 'final_loss' for a graph scenario "
                                         r"\(available: updates, final_output, final_delta"):
        check_metric(tz, "final_loss")
    with pytest.raises(GdlabError, match="'z' is not a scalar parameter"):
        check_metric(gd, "final:z")
    check_metric(gd, "final:x")
    check_metric(gd, "iterations_to:0.5")
    assert default_metric(gd) == "iterations_to:0.001"
    assert default_metric(tz) == "iterations_to:1e-5"


def test_plan_checks_every_value_with_the_scenario_validator(tmp_path):
    src = source(tmp_path, GD_SQUARE)
    with pytest.raises(GdlabError, match="unknown metric 'accuracy' for a graph scenario"):
        plan_sweep(src, Grid((parse_grid_option("run.lr=0.1"),), metric="accuracy"))
    with pytest.raises(GdlabError, match=r"sweep value run.lr=-1: \S*s.toml: \[run\] key 'lr': "
                                         "expected a finite number >= 0, got -1"):
        plan_sweep(src, Grid((parse_grid_option("run.lr=0.1,-1"),)))
    with pytest.raises(GdlabError, match=r"\[run\] unknown key 'lrr'"):
        plan_sweep(src, Grid((parse_grid_option("run.lrr=0.1"),)))
    with pytest.raises(GdlabError, match=r"sweep key params.q: 'q' is not a parameter of \S*s.toml "
                                         r"\(params: x\)"):
        plan_sweep(src, Grid((parse_grid_option("params.q=1,2"),)))
    # the tables a kind has come from its registration: a graph has no [model] nor [variants]
    for key in ("model.seed=1,2", "variants.a.lr=1"):
        table = key.split(".")[0]
        with pytest.raises(GdlabError, match=rf"a graph scenario has no table \[{table}\] "
                                             r"\(tables: params, data, graph, run\)"):
            plan_sweep(src, Grid((parse_grid_option(key),)))
    with pytest.raises(GdlabError, match="given twice"):
        plan_sweep(src, Grid((parse_grid_option("run.lr=1"), parse_grid_option("run.lr=2"))))
    with pytest.raises(GdlabError, match="the grid sweeps the seed"):
        plan_sweep(src, Grid((parse_grid_option("run.seed=1,2"),), seeds=2))
    with pytest.raises(GdlabError, match="nothing to sweep"):
        plan_sweep(src, Grid(()))


def test_plan_lists_each_runs_overrides_base_first_then_point_then_seed(tmp_path):
    src = source(tmp_path, GD_SQUARE)
    plan = plan_sweep(src, Grid((parse_grid_option("run.lr=0.1,0.2"),), seeds=2),
                      ["run.max_iterations=7"])
    assert [plan.run_overrides(p) for p in plan.points] == [
        ["run.max_iterations=7", "run.lr=0.1", "run.seed=0"],
        ["run.max_iterations=7", "run.lr=0.1", "run.seed=1"],
        ["run.max_iterations=7", "run.lr=0.2", "run.seed=0"],
        ["run.max_iterations=7", "run.lr=0.2", "run.seed=1"],
    ]
    single = plan_sweep(src, Grid((parse_grid_option("run.lr=0.1"),)))
    assert single.run_overrides(single.points[0]) == ["run.lr=0.1"]  # its own seed, untouched
    assert single.points[0].seed == 0


def test_run_point_of_a_graph_gives_the_summary_and_derived_metrics(tmp_path):
    src = source(tmp_path, GD_SQUARE)
    # x_n = 1.2 * 0.4^n: J_n = 1.44 * 0.16^n <= 1e-3 first at n = 4 (0.000944)
    r = run_point(src, ["run.tolerance=0", "run.max_iterations=20"], "iterations_to:1e-3")
    assert r["value"] == 4
    assert (r["stop_reason"], r["summary"]["updates"]) == ("max_iterations", 20)
    assert r["summary"]["final_loss"] == pytest.approx(1.44 * 0.16 ** 20, rel=1e-12)
    assert r["seconds"] >= 0 and "seconds" not in r["summary"]
    fx = run_point(src, ["run.max_iterations=3", "run.tolerance=0"], "final:x")
    assert fx["value"] == pytest.approx(1.2 * 0.4 ** 3, rel=1e-15)
    never = run_point(src, ["run.lr=1.0"], "iterations_to:1e-3")  # x = +-1.2 for ever
    assert never["value"] is None and never["stop_reason"] == "max_iterations"


def test_run_point_of_a_target_rule_scenario(tmp_path):
    src = source(tmp_path, TARGET_Z)
    r = run_point(src, [], "final_delta")
    assert r["stop_reason"] == "converged" and abs(r["value"]) < 1e-5
    assert run_point(src, [], "updates")["value"] == 3  # the tutorial's three updates


EPOCHS_TO_FIRST = 0  # epoch 0: the state before training


def test_run_point_of_a_network_uses_the_seed_keys_of_the_kind():
    src = ScenarioSource.read("mnist_batch_lr")
    base = ["run.epochs=1", "data.train_limit=300", "data.test_limit=200"]
    a = run_point(src, [*base, "model.seed=1"], "final_test_accuracy")
    b = run_point(src, [*base, "model.seed=1"], "final_test_accuracy")
    c = run_point(src, [*base, "model.seed=2"], "final_test_accuracy")
    assert a["summary"] == b["summary"] and a["value"] == b["value"]  # deterministic
    assert c["summary"]["final_train_accuracy"] != a["summary"]["final_train_accuracy"]
    assert a["stop_reason"] == "epochs" and 0 <= a["value"] <= 1
    assert a["value"] == a["summary"]["final_test_accuracy"]
    assert "total_seconds" not in a["summary"]
    ep = run_point(src, [*base, "run.epochs=2"], "epochs_to:0.0")
    assert ep["value"] == EPOCHS_TO_FIRST  # the first epoch record has an accuracy >= 0
