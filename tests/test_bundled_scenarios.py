"""Every bundled scenario loads, runs, and shows what its description promises (real numbers)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import TZ_FIXED_UPDATES, TZ_RECOMPUTED_UPDATES

from engine.runner import Run
from engine.scenario import bundled_scenarios, load_scenario, parse_scenario

GRAPH_SCENARIOS = [p.stem for p in bundled_scenarios() if load_scenario(p).kind == "graph"]


def run(name: str, variant: str | None = None, overrides: list[str] | None = None):
    sc = load_scenario(name, overrides)
    return Run(sc, variant if variant is not None else sc.default_variant()).run_all()


@pytest.mark.parametrize("name", GRAPH_SCENARIOS)
def test_every_variant_runs_to_a_stop(name):
    sc = load_scenario(name)
    for v in [None, *sc.variants]:
        recs, summary = Run(sc, v).run_all()
        assert summary.stop_reason in ("converged", "max_iterations", "epochs")
        assert recs[0].iteration == 0 and recs[-1].step == {}
        assert all(r.step for r in recs[:-1])


def test_target_z_first_step_and_comparison():
    recs, s = run("target_z", "recomputed")
    assert recs[0].values == {"x": 18.0, "y": 9.0, "z": 162.0}
    assert recs[0].factors == {"b": 63.0}
    assert f"{recs[1].params['b']:.6f}" == "3.809524"
    assert (s.stop_reason, s.updates) == ("converged", TZ_RECOMPUTED_UPDATES)
    recs_f, s_f = run("target_z", "fixed")
    assert all(r.factors == {"b": 63.0} for r in recs_f)
    assert (s_f.stop_reason, s_f.updates) == ("converged", TZ_FIXED_UPDATES)


def test_target_z_w_lands_in_one_step():
    recs, s = run("target_z_w", "recomputed")
    assert recs[0].factors == {"w": 18.0}
    assert recs[1].params["w"] == pytest.approx(3 - 12 / 18, abs=1e-15)
    assert recs[1].output == pytest.approx(150.0, abs=1e-12)
    assert s.updates == 1


def test_split_error_first_step_splits_delta():
    recs, _ = run("split_error", "recomputed")
    assert recs[0].step["w"] == pytest.approx(6 / 18, rel=1e-15)
    assert recs[0].step["b"] == pytest.approx(6 / 63, rel=1e-15)


def test_nonlinear_target_recomputed_beats_fixed():
    recs, s = run("nonlinear_target", "recomputed")
    # dc/dx at x = 2: 1/(2 sqrt(log 4)) * 1/4 * 4
    assert recs[0].factors["x"] == pytest.approx(1 / (2 * math.sqrt(math.log(4))), rel=1e-12)
    assert s.stop_reason == "converged" and abs(s.final_output - 2.13) < 1e-3
    _, sf = run("nonlinear_target", "fixed")
    assert sf.stop_reason == "max_iterations" and sf.updates == 20


def test_gd_square_multiplies_by_0_4():
    recs, s = run("gd_square")
    xs = [r.params["x"] for r in recs]
    assert xs[:4] == pytest.approx([1.2, 0.48, 0.192, 0.0768], rel=1e-12)
    assert s.stop_reason == "converged" and s.final_output < 1e-3


def test_gd_two_variables_start_gradients():
    recs, s = run("gd_two_variables")
    assert recs[0].loss == pytest.approx(9 + math.sin(1) ** 2, rel=1e-15)
    assert recs[0].grads["x"] == 6.0
    assert recs[0].grads["y"] == pytest.approx(math.sin(2.0), rel=1e-14)
    assert s.stop_reason == "converged" and s.final_output < 1e-2


def test_learning_rates_behave_as_described():
    sc = load_scenario("learning_rates")
    out = {v: Run(sc, v).run_all() for v in sc.variants}
    recs, s = out["lr_1.0"]  # x -> -x forever
    assert {round(abs(r.params["x"]), 12) for r in recs} == {1.2}
    assert s.stop_reason == "max_iterations"
    signs = [np.sign(r.params["x"]) for r in out["lr_0.8"][0][:4]]
    assert signs == [1, -1, 1, -1]  # zig-zag
    assert out["lr_0.8"][1].stop_reason == "converged"
    assert out["lr_0.4"][1].updates < out["lr_0.8"][1].updates < out["lr_0.1"][1].updates


def test_regression_linear_textbook_gradients_and_fit():
    sc = load_scenario("regression_linear")
    g = sc.build_graph()
    x, y = g.value("x"), g.value("y")
    recs, s = Run(sc, "lr_0.5").run_all()
    err = 0.0 * x + 0.0 - y  # w = b = 0 at the start
    assert recs[0].grads["w"] == pytest.approx(2 * np.mean(err * x), rel=1e-12)
    assert recs[0].grads["b"] == pytest.approx(2 * np.mean(err), rel=1e-12)
    w_ls, b_ls = np.polyfit(x, y, 1)  # least squares: where gradient descent must end
    assert s.final_params["w"] == pytest.approx(w_ls, abs=1e-3)
    assert s.final_params["b"] == pytest.approx(b_ls, abs=1e-3)


def test_regression_linear_minibatch_epochs():
    recs, s = run("regression_linear", "minibatch")
    assert s.stop_reason == "epochs" and s.updates == 20 * 10
    assert [r.batch for r in recs[:11]] == [*range(10), 0]
    assert recs[10].epoch == 1


def test_regression_quadratic_tutorial_point_and_solution():
    recs, s = run("regression_quadratic", "sgd")
    assert s.final_params == pytest.approx({"w1": 0.5, "w2": -1.0, "b": 2.5}, abs=1e-5)


POLY_CHECK = """
[scenario]
name = "poly-check"
[params]
w1 = 1.0
w2 = 2.0
b = 2.0
[data]
x = [1.0]
y = [2.0]
[graph]
y_hat = "w1*x**2 + w2*x + b"
loss = "mean((y_hat - y)**2)"
[run]
rule = "gradient"
output = "loss"
optimizer = "sgd"
lr = 0.01
max_iterations = 1
"""


def test_poly_check_reports_the_start_gradient():
    sc = parse_scenario(POLY_CHECK, "poly-check.toml")
    recs, s = Run(sc).run_all()
    # y_hat = 1 + 2 + 2 = 5, error 3: dL/dw1 = 2*3*1^2, dL/dw2 = 2*3*1, dL/db = 2*3
    assert recs[0].loss == 9.0
    assert recs[0].grads == {"w1": 6.0, "w2": 6.0, "b": 6.0}
    assert recs[0].step == pytest.approx({"w1": 0.06, "w2": 0.06, "b": 0.06})
    assert recs[1].params == pytest.approx({"w1": 0.94, "w2": 1.94, "b": 1.94})
    assert (s.stop_reason, s.updates) == ("max_iterations", 1)


@pytest.mark.parametrize("name", ["rosenbrock", "beale"])
def test_optimizer_surfaces_have_every_optimizer(name):
    sc = load_scenario(name)
    opts = {sc.config(v).optimizer for v in sc.variants}
    assert opts == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}


def test_rosenbrock_adam_reaches_the_minimum():
    _, s = run("rosenbrock", "adam")
    assert s.stop_reason == "converged"
    assert s.final_params == pytest.approx({"x": 1.0, "y": 1.0}, abs=5e-3)


def test_too_large_learning_rate_diverges_with_the_iteration():
    recs, s = run("gd_square", None, ["run.lr=10", "run.max_iterations=1000"])
    assert s.stop_reason == "diverged"
    assert f"at iteration {recs[-1].iteration}" in s.message
    assert all(math.isfinite(r.params["x"]) for r in recs[:-1])


def test_regression_csv_reads_the_file_and_fits_least_squares():
    sc = load_scenario("regression_csv")
    g = sc.build_graph()
    assert len(g.value("x")) == 12 and g.value("x")[0] == 0.5 and g.value("y")[-1] == 93.0
    _, s = Run(sc, "momentum").run_all()
    w_ls, b_ls = np.polyfit(g.value("x"), g.value("y"), 1)
    assert s.final_params["w"] == pytest.approx(w_ls, abs=1e-5)
    assert s.final_params["b"] == pytest.approx(b_ls, abs=1e-4)


def test_gradient_norm_is_finite_while_every_gradient_is():
    # lr = 100: x <- (1 - 200) x, so |x| grows by 199 per step; dJ/dx = 2x passes 1.34e154 (whose
    # square overflows) before J = x^2 does. The norm of one gradient is its magnitude.
    recs, s = run("gd_square", None, ["run.lr=100"])
    huge = [r for r in recs if r.grads and abs(r.grads["x"]) > 1.4e154]
    assert huge, "the run should reach a gradient whose square overflows"
    for r in recs:
        if r.grads is not None:
            assert r.grad_norm == abs(r.grads["x"]) == abs(2 * r.params["x"])
    assert s.stop_reason == "diverged" and "'J' became inf" in s.message
