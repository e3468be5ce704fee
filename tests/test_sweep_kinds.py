"""What a sweep can do with a kind comes from the kind's registration (engine.kinds.base.Kind):
its metrics and which end is best, its default metric, its seed keys, the keys it may sweep and
the probe that reads a metric off its records. The sweep itself never asks for a kind's name:
a kind registered here, in the test, sweeps like the bundled ones."""

from __future__ import annotations

from typing import Any

import pytest

from engine import kinds
from engine.errors import GdlabError
from engine.kinds.base import SECONDS, Metric, Probe
from engine.kinds.graph import GraphKind
from engine.records import EpochRecord, IterationRecord
from engine.scenario import load_scenario
from engine.sweep.driver import SweepRun
from engine.sweep.execute import Serial
from engine.sweep.grid import Grid, parse_grid_option
from engine.sweep.plan import plan_sweep
from engine.sweep.point import ScenarioSource, default_metric, metrics, run_point
from tests.helpers import GD_SQUARE, write


class StepsProbe(Probe):
    """``steps_over:K``: the updates divided by K (a metric only this kind knows)."""

    def __init__(self, metric: str) -> None:
        super().__init__(metric)
        self.iterations = 0

    def see(self, record: Any) -> None:
        if isinstance(record, IterationRecord) and record.step:
            self.iterations += 1

    def extras(self) -> dict[str, Any]:
        return {"steps_seen": self.iterations}

    def value(self, summary: dict[str, Any]) -> Any:
        if self.name == "steps_over":
            return summary["steps_seen"] / float(self.arg)
        return super().value(summary)


class ToyKind(GraphKind):
    """A graph kind under another name, with metrics, a default and seed keys of its own."""

    name = "toy"

    def metrics(self, sc, variant=None):
        return {m.name: m for m in (Metric("updates", "updates", best="max"),
                                    Metric("steps_over", "updates / K", arg="K"), SECONDS)}

    def default_metric(self, sc, variant=None):
        return "updates"

    def seed_keys(self, sc):
        return ("run.seed", "params.x")  # a strange choice, so that it shows in the overrides

    def probe(self, sc, metric):
        return StepsProbe(metric)


KIND = ToyKind()


@pytest.fixture
def toy(monkeypatch, tmp_path) -> ScenarioSource:
    monkeypatch.setitem(kinds.KINDS, "toy", __name__)
    path = write(tmp_path / "toy.toml", '[scenario]\nkind = "toy"\n' + GD_SQUARE)
    return ScenarioSource.read(path)


def test_a_registered_kind_brings_its_own_metrics_default_best_and_seed_keys(toy):
    sc = toy.load()
    assert sc.kind == "toy"
    assert list(metrics(sc)) == ["updates", "steps_over", "seconds"]
    assert default_metric(sc) == "updates"
    plan = plan_sweep(toy, Grid((parse_grid_option("run.lr=0.25,0.5"),), seeds=2))
    assert plan.kind == "toy" and plan.metric == "updates" and plan.best == "max"
    assert plan.run_overrides(plan.points[1]) == ["run.lr=0.25", "run.seed=1", "params.x=1"]
    with pytest.raises(GdlabError, match=r"unknown metric 'final_loss' for a toy scenario "
                                         r"\(available: updates, steps_over:K, seconds\)"):
        plan_sweep(toy, Grid((parse_grid_option("run.lr=0.5"),), metric="final_loss"))
    with pytest.raises(GdlabError, match="expected a number >= 0 after 'steps_over:'"):
        plan_sweep(toy, Grid((parse_grid_option("run.lr=0.5"),), metric="steps_over:x"))


def test_a_registered_kinds_probe_gives_the_value_and_the_summary_extras(toy):
    # lr 0.25: x_{n+1} = 0.5 x_n, J_n = 1.44 * 0.25^n <= 1e-3 first at n = 6 (0.000352)
    plan = plan_sweep(toy, Grid((parse_grid_option("run.lr=0.25,0.5"),), metric="steps_over:2"))
    run = SweepRun(plan)
    with Serial() as backend:
        for _ in run.run(backend):
            pass
    rows = run.ordered()
    assert [r["summary"]["updates"] for r in rows] == [6, 1]  # lr 0.5: x_1 = 0
    assert [r["summary"]["steps_seen"] for r in rows] == [6, 1]
    assert [r["value"] for r in rows] == [3.0, 0.5]


def network_epochs(sc, variant: str | None) -> list[EpochRecord]:
    """A network run's epoch records, straight from its kind's stream."""
    return [r for r in kinds.get("network").stream(sc, variant) if isinstance(r, EpochRecord)]


def test_a_networks_metrics_follow_its_data_and_its_probe_reads_the_epochs():
    small = ["run.epochs=4", "data.n=100"]
    source = ScenarioSource.read("xor")
    sc = source.load(small)
    known = metrics(sc)
    assert {"final_test_accuracy", "best_test_accuracy", "epochs_to"} <= set(known)
    assert "final_validation_loss" not in known  # no validation set
    assert known["final_test_accuracy"].best == "max" and known["final_test_loss"].best == "min"
    assert default_metric(sc) == "final_test_accuracy"
    assert "final_validation_loss" in metrics(source.load([*small, "data.validation=10"]))
    accuracies = [e.test_accuracy for e in network_epochs(sc, None)]
    assert len(accuracies) == 5  # epoch 0 (before training) and four epochs
    r = run_point(source, small, "best_test_accuracy")
    assert r["value"] == max(accuracies) == r["summary"]["best_test_accuracy"]
    target = sorted(accuracies)[2]  # reached first at the epoch where it first appears
    first = next(i for i, a in enumerate(accuracies) if a >= target)
    assert run_point(source, small, f"epochs_to:{target!r}")["value"] == first


def test_a_regression_network_has_no_accuracy_to_sweep():
    sc = load_scenario("sin_fit")
    known = metrics(sc)
    assert "final_test_accuracy" not in known and "epochs_to" not in known
    assert default_metric(sc) == "final_test_loss"
    source = ScenarioSource.read("sin_fit")
    with pytest.raises(GdlabError, match=r"unknown metric 'final_test_accuracy' for a network "
                                         r"scenario \(available: final_test_loss"):
        plan_sweep(source, Grid((parse_grid_option("run.lr=0.01"),),
                                metric="final_test_accuracy"))


def test_a_network_sweeps_model_and_data_keys_and_its_model_seed():
    source = ScenarioSource.read("xor")
    grid = Grid((parse_grid_option("model.activation=tanh,sigmoid"),
                 parse_grid_option("data.noise=0,0.1")), seeds=2)
    plan = plan_sweep(source, grid, ["run.epochs=1"])
    assert plan.seed_keys == ("model.seed",) and plan.points[0].seed == 1  # the model's seed
    assert plan.run_overrides(plan.points[1]) == [
        "run.epochs=1", 'model.activation="tanh"', "data.noise=0", "model.seed=2"]
    with pytest.raises(GdlabError, match=r"a network scenario has no table \[params\] "
                                         r"\(tables: model, data, run\)"):
        plan_sweep(source, Grid((parse_grid_option("params.x=1"),)))
    with pytest.raises(GdlabError, match=r"sweep value model.activation=\"wobbly\": "):
        plan_sweep(source, Grid((parse_grid_option("model.activation=wobbly"),)))


@pytest.mark.parametrize("name, key, values", [
    ("gd_square", "run.lr", [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2]),  # around its own rate, 0.3
    ("target_z", "params.w", [1.5, 2.25, 3, 3.75, 4.5, 5.25, 6]),  # no rate: w = 3, halved..doubled
    ("xor", "run.lr", [0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2]),  # a network's rate, 0.03
])
def test_the_app_form_starts_from_the_axis_the_kind_suggests(name, key, values):
    source = ScenarioSource.read(name)
    sc = source.load()
    k, text = kinds.get(sc.kind).suggested_axis(sc, sc.default_variant())
    plan = plan_sweep(source, Grid((parse_grid_option(f"{k}={text}"),)))  # a sweep that plans
    assert k == key and list(plan.grid.axes[0].values) == values
