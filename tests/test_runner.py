"""The runner: records and summaries of whole runs, stop reasons, mini-batches, JSON shapes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers import GD_SQUARE, TARGET_Z, TZ_FIXED_UPDATES, TZ_RECOMPUTED_UPDATES, tz_iterates

from engine.runner import Run
from engine.scenario import load_scenario, parse_scenario


def scenario(text: str, overrides: list[str] | None = None):
    return parse_scenario(text, source="t.toml", overrides=overrides)


def run(text: str, variant: str | None = None, overrides: list[str] | None = None):
    return Run(scenario(text, overrides), variant).run_all()


# --- the tutorial's numbers ----------------------------------------------------------------

def test_target_z_recomputed_converges_in_three_updates():
    recs, s = Run(load_scenario("target_z"), "recomputed").run_all()
    assert TZ_RECOMPUTED_UPDATES == 3  # Newton's method on 6b^2 + 15b - 144 (tests/helpers.py)
    assert s.stop_reason == "converged" and s.updates == TZ_RECOMPUTED_UPDATES == len(recs) - 1
    assert [r.params["b"] for r in recs] == pytest.approx(tz_iterates(True), rel=1e-14)
    assert s.scenario == "target_z" and s.variant == "recomputed"
    r0, r1 = recs[0], recs[1]
    assert r0.params == {"w": 3.0, "b": 4.0}
    assert r0.values == {"x": 18.0, "y": 9.0, "z": 162.0}
    assert r0.output == 162.0 and r0.delta == 12.0 and r0.factors == {"b": 63.0}
    assert r0.step == {"b": 12.0 / 63.0}
    assert r1.params["b"] == 4.0 - 12.0 / 63.0
    assert r1.params["b"] == pytest.approx(3.809524, abs=5e-7)
    assert r1.output == pytest.approx(22082.0 / 147.0, rel=1e-15)
    assert r1.output == pytest.approx(150.217687, abs=5e-7)
    assert r1.factors["b"] == pytest.approx(60.714286, abs=5e-7)
    assert abs(recs[-1].delta) < 1e-5 and recs[-1].step == {}
    assert abs(recs[-2].delta) >= 1e-5
    assert s.final_params["b"] == recs[-1].params["b"]
    assert s.final_output == recs[-1].output == pytest.approx(150.0, abs=1e-5)
    assert s.final_params["w"] == 3.0


def test_target_z_fixed_factor_stays_63_and_takes_five_updates():
    recs, s = Run(load_scenario("target_z"), "fixed").run_all()
    assert TZ_FIXED_UPDATES == 5  # delta shrinks by about 0.037 a step (tests/helpers.py)
    assert s.stop_reason == "converged" and s.updates == TZ_FIXED_UPDATES == len(recs) - 1
    assert [r.params["b"] for r in recs] == pytest.approx(tz_iterates(False), rel=1e-14)
    assert all(r.factors == {"b": 63.0} for r in recs)
    b = 4.0
    for r in recs[:-1]:  # every step is delta / 63 with the delta of that state
        assert r.step["b"] == r.delta / 63.0
        assert r.params["b"] == b
        b -= r.step["b"]
    assert recs[1].output == pytest.approx(150.217687, abs=5e-7)


def test_default_variant_is_the_first():
    sc = load_scenario("target_z")
    assert sc.default_variant() == "fixed"
    assert Run(sc).variant is None  # a Run without a variant uses the plain [run]
    assert Run(sc).cfg.factor == "recomputed"


def test_target_z_w_lands_in_one_step():
    recs, s = Run(load_scenario("target_z_w"), "recomputed").run_all()
    assert s.updates == 1 and s.stop_reason == "converged"
    assert recs[0].step == {"w": 12.0 / 18.0}
    assert recs[1].params["w"] == pytest.approx(2.333333, abs=5e-7)
    assert recs[1].output == pytest.approx(150.0, abs=1e-12)
    recs_f, s_f = Run(load_scenario("target_z_w"), "fixed").run_all()
    assert s_f.updates == 1 and recs_f[1].params == recs[1].params


def test_split_error_first_step():
    recs, _ = Run(load_scenario("split_error"), "recomputed").run_all()
    assert recs[0].step == {"w": 6.0 / 18.0, "b": 6.0 / 63.0}
    assert recs[1].params == {"w": 3.0 - 6.0 / 18.0, "b": 4.0 - 6.0 / 63.0}


def test_gd_square_multiplies_x_by_0_4():
    recs, s = Run(load_scenario("gd_square")).run_all()
    xs = [r.params["x"] for r in recs]
    assert xs == pytest.approx([1.2, 0.48, 0.192, 0.0768, 0.03072], abs=1e-15)
    assert s.stop_reason == "converged" and s.updates == 4
    assert recs[0].grads == {"x": 2.4} and recs[0].loss == pytest.approx(1.44)
    assert recs[-1].loss < 1e-3 <= recs[-2].loss
    assert [r.epoch for r in recs] == [0, 1, 2, 3, 4]  # full batch: one iteration per epoch
    assert recs[0].lr == 0.3 and recs[0].grad_norm == 2.4


# --- stop reasons --------------------------------------------------------------------------

ZERO = """
[params]
w = 1.0
b = 0.0
[graph]
z = "w*0 + b*b"
[run]
rule = "target"
output = "z"
target = 1.0
train = ["b"]
tolerance = 1e-6
"""


def test_zero_factor_stops_the_run():
    recs, s = run(ZERO)
    assert s.stop_reason == "zero_factor" and s.updates == 0 and len(recs) == 1
    assert recs[0].factors == {"b": 0.0} and recs[0].step == {}
    assert "dz/db is zero" in s.message


def test_zero_factor_of_the_other_parameter():
    _, s = run(ZERO, overrides=['run.train=["w"]'])
    assert s.stop_reason == "zero_factor" and "dz/dw" in s.message


def test_diverged_when_the_loss_overflows_names_the_iteration():
    recs, s = run(GD_SQUARE, overrides=["run.lr=1e200"])
    assert s.stop_reason == "diverged" and s.updates == 1
    assert "'J' became inf" in s.message and s.message.endswith("at iteration 1")
    assert math.isinf(recs[-1].loss) and recs[-1].step == {}


def test_diverged_gradually_names_the_iteration():
    text = GD_SQUARE.replace('J = "x**2"', 'J = "-sqrt(x*x + 1)"').replace("x = 1.2", "x = 1.0")
    text = text.replace("tolerance = 1e-3\n", "")
    # |dJ/dx| < 1, x grows by about lr = 1e152 per step until x*x overflows near 1.34e154
    recs, s = run(text, overrides=["run.lr=1e152", "run.max_iterations=1000"])
    assert s.stop_reason == "diverged"
    assert 130 <= s.updates <= 136
    assert s.message.endswith(f"at iteration {s.updates}")
    assert "'J' became -inf" in s.message and "(first at node 'x*x (in J)')" in s.message
    assert all(math.isfinite(r.loss) for r in recs[:-1])
    assert all(b.params["x"] > a.params["x"] for a, b in zip(recs, recs[1:], strict=False))


def test_diverged_gradually_with_lr_1_5():
    # x <- x - 1.5 * 2x: |x| doubles (nearly) each step until x*x overflows
    recs, s = run(GD_SQUARE, overrides=["run.lr=1.5", "run.max_iterations=5000"])
    x, k = 1.2, 0
    while math.isfinite(x * x):
        x = x - 1.5 * (2.0 * x)
        k += 1
    assert 500 < k < 520
    assert s.stop_reason == "diverged" and k - 1 <= s.updates <= k
    assert s.message.endswith(f"at iteration {s.updates}")
    assert all(abs(b.params["x"]) > abs(a.params["x"]) for a, b in zip(recs, recs[1:], strict=False))


def test_diverged_at_start_from_a_numeric_error():
    text = GD_SQUARE.replace('J = "x**2"', 'J = "exp(x)"').replace("x = 1.2", "x = 1000.0")
    recs, s = run(text)
    assert s.stop_reason == "diverged" and s.updates == 0 and len(recs) == 1
    assert "overflow" in s.message and "node 'J'" in s.message
    assert s.message.endswith("at iteration 0")
    assert math.isnan(s.final_output)


def test_diverged_numeric_error_in_the_middle_of_a_target_run():
    text = """
[params]
b = 2.0
[graph]
z = "log(b)"
[run]
rule = "target"
output = "z"
target = -50.0
tolerance = 1e-9
max_iterations = 50
"""
    recs, s = run(text)
    # b <- b - (log b + 50) * b: b turns negative, log(b) leaves its domain
    assert s.stop_reason == "diverged"
    assert "at node 'z'" in s.message and s.message.endswith(f"at iteration {s.updates}")
    assert recs[-1].params["b"] < 0


def test_max_iterations_bounds_the_run():
    recs, s = run(TARGET_Z, overrides=["run.max_iterations=2", "run.tolerance=1e-300"])
    assert s.stop_reason == "max_iterations" and s.updates == 2 and len(recs) == 3
    assert recs[-1].step == {} and recs[0].step and recs[1].step


def test_max_iterations_zero_evaluates_only_the_start():
    recs, s = run(TARGET_Z, overrides=["run.max_iterations=0"])
    assert s.stop_reason == "max_iterations" and s.updates == 0
    assert len(recs) == 1 and recs[0].output == 162.0 and recs[0].factors == {"b": 63.0}


def test_tolerance_is_checked_before_the_update():
    recs, s = run(TARGET_Z, overrides=["run.target=162.0"])
    assert s.stop_reason == "converged" and s.updates == 0
    assert recs[0].delta == 0.0 and recs[0].step == {}
    assert s.final_params == {"w": 3.0, "b": 4.0}


def test_lr_zero_never_moves_and_reports_gradients():
    recs, s = run(GD_SQUARE, overrides=["run.lr=0", "run.max_iterations=4"])
    assert s.stop_reason == "max_iterations" and s.updates == 4
    assert all(r.params == {"x": 1.2} for r in recs)
    assert all(r.grads == {"x": 2.4} for r in recs)
    assert all(r.step == {"x": 0.0} for r in recs[:-1])


def test_grad_tolerance_stops():
    recs, s = run(GD_SQUARE, overrides=["run.grad_tolerance=0.5"])
    # |grad| = 2.4, 0.96, 0.384 -> stop at iteration 2
    assert s.stop_reason == "converged" and s.updates == 2
    assert recs[-1].grad_norm == pytest.approx(0.384)
    assert "grad_tolerance" in s.message


def test_gradient_rule_without_tolerances_runs_to_max_iterations_past_negative_outputs():
    text = """
[params]
x = 1.0
[graph]
J = "x"
[run]
rule = "gradient"
output = "J"
lr = 0.5
max_iterations = 10
"""
    recs, s = run(text)
    assert s.stop_reason == "max_iterations" and s.updates == 10
    assert [r.loss for r in recs] == pytest.approx([1.0 - 0.5 * i for i in range(11)])
    assert s.final_output == -4.0


def test_epochs_without_batches_count_iterations():
    recs, s = run(GD_SQUARE, overrides=["run.epochs=2", "run.tolerance=1e-300"])
    assert s.stop_reason == "epochs" and s.updates == 2 and len(recs) == 3


def test_stopped_run_refuses_steps_and_reset_replays():
    r = Run(load_scenario("target_z"), "recomputed")
    first, _ = r.run_all()
    with pytest.raises(RuntimeError):
        r.step()
    r.reset()
    assert not r.stopped and r.graph.value("b") == 4.0
    again, s = r.run_all()
    assert [x.to_json() for x in again] == [x.to_json() for x in first]
    r.reset({"w": 3.0, "b": 5.0})
    rec = r.step()
    assert rec.params["b"] == 5.0 and rec.output == 21.0 * 11.0


def test_records_are_copies_of_array_params():
    text = """
[params]
v = [1.0, -2.0]
[graph]
J = "l2(v)"
[run]
rule = "gradient"
output = "J"
optimizer = "momentum"
lr = 0.1
max_iterations = 3
"""
    recs, _ = run(text)
    np.testing.assert_allclose(recs[0].params["v"], [1.0, -2.0])
    np.testing.assert_allclose(recs[1].params["v"], [0.8, -1.6])
    assert recs[0].params["v"] is not recs[1].params["v"]
    r = Run(parse_scenario(text, "t.toml"), detail=True)
    r.step()
    first = r.last_detail
    r.step()
    second = r.last_detail
    assert first is not None and second is not None and (first.iteration, second.iteration) == \
        (0, 1)
    assert first.after["v"]["velocity"] is not second.after["v"]["velocity"]
    # v1 = g0 = 2*[1, -2]; v2 = 0.9*v1 + g1 with g1 = 2*[0.8, -1.6]
    np.testing.assert_allclose(first.after["v"]["velocity"], [2.0, -4.0])
    np.testing.assert_allclose(second.before["v"]["velocity"], [2.0, -4.0])
    np.testing.assert_allclose(second.after["v"]["velocity"], [3.4, -6.8])
    assert list(r.details) == [first, second]  # the two newest steps only
    r.step()
    assert list(r.details) == [second, r.last_detail]


def test_detail_records_node_gradients():
    r = Run(load_scenario("target_z"), "recomputed", detail=True)
    r.step()
    assert r.last_detail.node_grads == {"w": 18.0, "b": 63.0, "x": 9.0, "y": 18.0, "z": 1.0}
    plain = Run(load_scenario("target_z"))
    plain.step()
    assert plain.last_detail is None
    # taken at the recorded state, before the rule moves the parameters: dJ/dx = 2 * 1.2
    r = Run(load_scenario("gd_square"), detail=True)
    rec = r.step()
    assert rec.params == {"x": 1.2}
    assert r.last_detail.node_grads == {"x": 2.4, "J": 1.0}
    assert r.last_detail.optimizer is r.rule.optimizer


# --- mini-batches --------------------------------------------------------------------------

BATCHES = """
[params]
w = 0.0
[data]
x = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]
[graph]
J = "sum(w * x)"
[run]
rule = "gradient"
output = "J"
lr = 0.0
batch_size = 3
epochs = 2
seed = 5
max_iterations = 1000
"""


def _rows(rec) -> list[int]:
    """The rows of a batch, read off dJ/dw = sum of x over the batch (distinct powers of 2)."""
    bits = int(rec.grads["w"])
    return [i for i in range(10) if bits >> i & 1]


def test_mini_batches_cover_every_row_once_per_epoch():
    recs, s = run(BATCHES)
    assert s.stop_reason == "epochs" and s.updates == 8  # 4 batches per epoch (3 + 3 + 3 + 1)
    assert [(r.epoch, r.batch) for r in recs[:8]] == [(e, b) for e in range(2) for b in range(4)]
    for e in range(2):
        batches = [_rows(r) for r in recs[4 * e:4 * e + 4]]
        assert [len(b) for b in batches] == [3, 3, 3, 1]
        assert sorted(i for b in batches for i in b) == list(range(10))
    # the documented order: numpy.random.default_rng(seed), one permutation per epoch
    rng = np.random.default_rng(5)
    for e in range(2):
        perm = rng.permutation(10)
        for k in range(4):
            assert _rows(recs[4 * e + k]) == sorted(perm[3 * k:3 * k + 3])


def test_mini_batches_are_deterministic_and_depend_on_the_seed():
    a, _ = run(BATCHES)
    b, _ = run(BATCHES)
    c, _ = run(BATCHES, overrides=["run.seed=6"])
    assert [_rows(r) for r in a] == [_rows(r) for r in b]
    assert [_rows(r) for r in a] != [_rows(r) for r in c]
    assert [r.to_json() for r in a] == [r.to_json() for r in b]


def test_mini_batches_train_a_regression():
    text = """
[params]
w = 0.0
b = 0.0
[data.generate]
n = 40
seed = 3
x = "uniform(-1, 1)"
y = "3*x + 2"
[graph]
J = "mse(w*x + b, y)"
[run]
rule = "gradient"
output = "J"
optimizer = "adam"
lr = 0.1
batch_size = 8
epochs = 60
max_iterations = 100000
"""
    recs, s = run(text)
    assert s.stop_reason == "epochs" and s.updates == 60 * 5
    assert s.final_params["w"] == pytest.approx(3.0, abs=0.05)
    assert s.final_params["b"] == pytest.approx(2.0, abs=0.05)


def test_mini_batches_refuse_data_of_different_lengths():
    from engine.errors import ScenarioError

    text = BATCHES.replace("[graph]", "y = [1.0, 2.0]\n[graph]")
    with pytest.raises(ScenarioError, match="batch_size"):
        Run(scenario(text))


# --- JSON shapes ---------------------------------------------------------------------------

def test_target_record_json_keys_and_values():
    recs, s = Run(load_scenario("target_z"), "recomputed").run_all()
    d = recs[1].to_json()
    assert list(d) == ["iteration", "params", "values", "factors", "delta", "step"]
    assert d["params"]["b"] == 4.0 - 12.0 / 63.0
    assert recs[-1].to_json()["step"] == {}
    json.dumps(d)


def test_gradient_record_json_keys():
    recs, _ = run(GD_SQUARE)
    d = recs[0].to_json()
    assert list(d) == ["iteration", "params", "values", "grads", "loss", "lr", "grad_norm",
                       "epoch", "step"]
    assert d["grads"] == {"x": 2.4} and d["step"] == {"x": pytest.approx(0.72)}
    assert recs[-1].to_json()["step"] == {}
    recs, _ = run(BATCHES)
    d = recs[0].to_json()
    assert list(d) == ["iteration", "params", "values", "grads", "loss", "lr", "grad_norm",
                       "epoch", "batch", "step"]


def test_array_values_become_lists_in_json():
    text = """
[params]
v = [1.0, -2.0]
[graph]
J = "l2(v)"
[run]
rule = "gradient"
output = "J"
lr = 0.25
max_iterations = 1
"""
    recs, s = run(text)
    d = recs[0].to_json()
    assert d["params"] == {"v": [1.0, -2.0]}
    assert d["grads"] == {"v": [2.0, -4.0]}
    assert d["step"] == {"v": [0.5, -1.0]}
    assert s.to_json()["summary"]["final_params"] == {"v": [0.5, -1.0]}


def test_summary_json_keys():
    _, s = Run(load_scenario("target_z"), "fixed").run_all()
    d = s.to_json()
    assert list(d) == ["summary"]
    assert list(d["summary"]) == ["scenario", "variant", "stop_reason", "updates",
                                  "final_params", "final_output", "message"]
    assert d["summary"]["updates"] == TZ_FIXED_UPDATES and d["summary"]["variant"] == "fixed"
    assert d["summary"]["stop_reason"] == "converged"


def test_diverged_target_record_keeps_the_target_keys():
    text = TARGET_Z.replace("w = 3.0", "w = 1000.0").replace('x = "2*w + 3*b"', 'x = "exp(w)"')
    recs, s = run(text)
    assert s.stop_reason == "diverged"
    assert set(recs[-1].to_json()) == {"iteration", "params", "values", "factors", "delta", "step"}
