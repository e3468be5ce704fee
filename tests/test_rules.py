"""The target rule and the gradient rule, one visit at a time on a compiled graph."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import grad_cfg, target_cfg
from hypothesis import given
from hypothesis import strategies as st

from engine.graph import Graph
from engine.rules import GradientRule, TargetRule, is_finite, make_rule, norm

TZ = {"x": "2*w + 3*b", "y": "2*b + 1", "z": "x * y"}


def tz_graph(w: float = 3.0, b: float = 4.0) -> Graph:
    g = Graph.build({"w": w, "b": b}, {}, TZ, "tz.toml")
    g.forward()
    return g



# --- target rule ----------------------------------------------------------------------------

def test_target_first_visit_takes_delta_over_factor():
    g = tz_graph()
    v = TargetRule(target_cfg()).visit(g, 0)
    assert v.stop is None
    assert v.output == 162.0 and v.delta == 12.0
    assert v.factors == {"b": 63.0}
    assert v.step == {"b": 12.0 / 63.0}
    assert g.value("b") == 4.0 - 12.0 / 63.0
    assert g.value("b") == pytest.approx(3.809524, abs=5e-7)


def test_target_recomputed_factor_changes():
    g = tz_graph()
    rule = TargetRule(target_cfg())
    rule.visit(g, 0)
    g.forward()
    v = rule.visit(g, 1)
    b = 4.0 - 12.0 / 63.0
    # z = (6 + 3b)(2b + 1) = 22082/147; dz/db = 3y + 2x = 3(2b + 1) + 2(6 + 3b) = 12b + 15
    assert v.output == pytest.approx(22082 / 147, rel=1e-15)
    assert v.output == pytest.approx(150.217687, abs=5e-7)
    assert v.factors["b"] == pytest.approx(12 * b + 15, rel=1e-15)
    assert v.factors["b"] == pytest.approx(60.714286, abs=5e-7)
    assert v.step["b"] == pytest.approx((22082 / 147 - 150) / (12 * b + 15), rel=1e-12)


def test_target_fixed_factor_stays_and_reset_forgets_it():
    g = tz_graph()
    rule = TargetRule(target_cfg(factor="fixed"))
    for i in range(3):
        v = rule.visit(g, i)
        g.forward()
        assert v.factors == {"b": 63.0}
    assert rule.fixed == {"b": 63.0}
    g.set_value("b", 3.0)
    g.forward()
    rule.reset()
    assert rule.fixed is None
    assert rule.visit(g, 0).factors == {"b": 51.0}  # 12 * 3 + 15


def test_target_split_equal_between_two_parameters():
    g = tz_graph()
    v = TargetRule(target_cfg(train=("w", "b"))).visit(g, 0)
    assert v.factors == {"w": 18.0, "b": 63.0}
    assert v.step == {"w": 6.0 / 18.0, "b": 6.0 / 63.0}
    assert g.value("w") == 3.0 - 6.0 / 18.0
    assert g.value("b") == 4.0 - 6.0 / 63.0


def test_target_only_w_lands_in_one_step():
    g = tz_graph()
    rule = TargetRule(target_cfg(train=("w",)))
    rule.visit(g, 0)
    assert g.value("w") == pytest.approx(7.0 / 3.0, rel=1e-15)
    g.forward()
    v = rule.visit(g, 1)
    assert v.output == pytest.approx(150.0, abs=1e-12)
    assert v.stop == "converged" and v.step == {}


def test_tolerance_is_checked_before_the_update():
    g = Graph.build({"b": 5.0}, {}, {"z": "b * 30"})
    g.forward()
    v = TargetRule(target_cfg(tolerance=0.5)).visit(g, 0)
    assert v.output == 150.0 and v.delta == 0.0
    assert v.stop == "converged" and v.step == {}
    assert g.value("b") == 5.0
    # |delta| = 0.3 < 0.5: converged without moving
    g.set_value("b", 5.01)
    g.forward()
    v = TargetRule(target_cfg(tolerance=0.5)).visit(g, 0)
    assert v.stop == "converged" and g.value("b") == 5.01
    # no tolerance: a step of 0 is still taken (never "converged")
    g.set_value("b", 5.0)
    g.forward()
    v = TargetRule(target_cfg(tolerance=None)).visit(g, 0)
    assert v.stop is None and v.step == {"b": 0.0}


def test_target_max_iterations_and_limit():
    g = tz_graph()
    v = TargetRule(target_cfg(max_iterations=3)).visit(g, 3)
    assert v.stop == "max_iterations" and v.step == {} and g.value("b") == 4.0
    v = TargetRule(target_cfg()).visit(g, 0, limit="epochs")
    assert v.stop == "epochs" and g.value("b") == 4.0


def test_target_zero_factor_stops_without_dividing():
    g = Graph.build({"w": 1.0, "b": 0.0}, {}, {"z": "w*0 + b*b"})
    g.forward()
    v = TargetRule(target_cfg(train=("b",), target=1.0)).visit(g, 0)
    assert v.stop == "zero_factor"
    assert v.factors == {"b": 0.0}
    assert v.delta == -1.0
    assert "dz/db is zero" in v.message
    assert v.step == {}


def test_target_nonfinite_factor_and_output_diverge():
    g = Graph.build({"b": 0.0}, {}, {"z": "sqrt(b) + 1"})
    g.forward()
    with pytest.raises(ArithmeticError):  # the gradient 0.5/sqrt(0) divides by zero
        TargetRule(target_cfg(target=3.0)).visit(g, 0)
    g = Graph.build({"b": 0.0}, {"d": np.array([0.0])}, {"z": "sum(sqrt(b + d)) + 1"})
    g.forward()
    v = TargetRule(target_cfg(target=3.0)).visit(g, 0)
    assert v.stop == "diverged" and "dz/db is not finite" in v.message
    g = Graph.build({"b": 1e200}, {}, {"z": "b * b"})
    g.forward()
    v = TargetRule(target_cfg(target=3.0)).visit(g, 0)
    assert v.stop == "diverged"
    assert "'z' became inf" in v.message


def test_target_describe():
    assert TargetRule(target_cfg()).describe() == \
        "target rule: drive z to 150 (recomputed factor)"


# --- gradient rule --------------------------------------------------------------------------

def square(x: float = 1.2) -> Graph:
    g = Graph.build({"x": x}, {}, {"J": "x**2"})
    g.forward()
    return g


def test_gradient_first_step_of_gd_square():
    g = square()
    v = GradientRule(grad_cfg()).visit(g, 0)
    assert v.loss == v.output == pytest.approx(1.44, abs=1e-15)
    assert v.grads == {"x": 2.4}
    assert v.grad_norm == 2.4 and v.lr == 0.3
    assert v.step == {"x": pytest.approx(0.72, abs=1e-15)}
    assert g.value("x") == pytest.approx(0.48, abs=1e-15)
    assert v.opt_state is None  # plain SGD keeps no state


def test_gradient_steps_multiply_x_by_one_minus_2lr():
    g = square()
    rule = GradientRule(grad_cfg())
    xs = []
    for i in range(4):
        rule.visit(g, i)
        g.forward()
        xs.append(g.value("x"))
    assert xs == pytest.approx([0.48, 0.192, 0.0768, 0.03072], abs=1e-15)


def test_gradient_grad_norm_over_several_params():
    g = Graph.build({"a": 3.0, "v": np.array([1.0, 2.0])}, {}, {"J": "a*a/2 + l2(v)"})
    g.forward()
    v = GradientRule(grad_cfg(train=("a", "v"), lr=0.0)).visit(g, 0)
    # grads: a = 3, v = [2, 4]; norm = sqrt(9 + 4 + 16)
    assert v.grad_norm == pytest.approx(math.sqrt(29.0), rel=1e-15)
    np.testing.assert_array_equal(v.step["v"], [0.0, 0.0])


def test_gradient_tolerances_stop_before_the_step():
    g = square(0.01)
    v = GradientRule(grad_cfg(tolerance=1e-3)).visit(g, 0)
    assert v.stop == "converged" and v.step == {} and g.value("x") == 0.01
    v = GradientRule(grad_cfg(grad_tolerance=0.05)).visit(g, 0)  # |grad| = 0.02
    assert v.stop == "converged" and "gradient norm 0.02 < grad_tolerance 0.05" in v.message
    v = GradientRule(grad_cfg(grad_tolerance=0.01)).visit(g, 0)
    assert v.stop is None


def test_gradient_negative_loss_is_not_convergence():
    g = Graph.build({"x": -5.0}, {}, {"J": "x"})
    g.forward()
    v = GradientRule(grad_cfg()).visit(g, 0)
    assert v.stop is None and g.value("x") == pytest.approx(-5.3)


def test_gradient_lr_schedule_and_max_iterations():
    rule = GradientRule(grad_cfg(lr=1.0, schedule="step", step_size=2, gamma=0.5))
    assert [rule.lr_at(e) for e in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    g = square()
    v = rule.visit(g, 0, epoch=2)
    assert v.lr == 0.5 and g.value("x") == pytest.approx(1.2 - 0.5 * 2.4)
    v = rule.visit(g, 100)
    assert v.stop == "max_iterations"


def test_gradient_optimizer_state_is_a_copy():
    g = Graph.build({"v": np.array([1.0, -1.0])}, {}, {"J": "l2(v)"})
    g.forward()
    rule = GradientRule(grad_cfg(train=("v",), optimizer="adam", lr=0.1), detail=True)
    v = rule.visit(g, 0)
    np.testing.assert_allclose(g.value("v"), [0.9, -0.9], atol=1e-7)
    state = v.opt_state["v"]
    assert state["t"] == 1
    g.forward()
    rule.visit(g, 1)
    assert state["t"] == 1  # the record's snapshot did not change
    np.testing.assert_allclose(state["exp_avg"], [0.2, -0.2])
    rule.reset()
    assert rule.optimizer.state == {}


def test_gradient_rule_keeps_the_optimizer_state_only_when_asked():
    """Headless runs do not copy the optimizer's state at every step (the app asks for it)."""
    g = Graph.build({"v": np.array([1.0, -1.0])}, {}, {"J": "l2(v)"})
    g.forward()
    v = GradientRule(grad_cfg(train=("v",), optimizer="adam", lr=0.1)).visit(g, 0)
    assert v.opt_state is None and v.opt_before is None and v.optimizer is None
    np.testing.assert_allclose(g.value("v"), [0.9, -0.9], atol=1e-7)  # the same step


def test_gradient_nonfinite_loss_diverges_naming_the_node():
    g = Graph.build({"x": 1e200}, {}, {"a": "x * x", "J": "a + 1"})
    g.forward()
    v = GradientRule(grad_cfg()).visit(g, 0)
    assert v.stop == "diverged"
    assert "'J' became inf" in v.message and "(first at node 'a')" in v.message


def test_gradient_nonfinite_gradient_diverges():
    g = Graph.build({"x": 0.0}, {"d": np.array([0.0])}, {"J": "sum(sqrt(x + d))"})
    g.forward()
    v = GradientRule(grad_cfg()).visit(g, 0)
    assert v.stop == "diverged" and v.message == "gradient dJ/dx is not finite"


def test_make_rule_and_describe():
    assert isinstance(make_rule(target_cfg()), TargetRule)
    r = make_rule(grad_cfg(optimizer="adam", lr=0.001))
    assert isinstance(r, GradientRule)
    assert r.describe() == "gradient rule: adam, lr = 0.001"


def test_helpers():
    assert is_finite(1.0) and not is_finite(math.inf)
    assert not is_finite(np.array([1.0, math.nan]))
    assert norm([3.0, 4.0]) == 5.0 and norm([np.array([1.0, 2.0]), 2.0]) == 3.0
    assert norm([]) == 0.0 and norm([0.0, np.zeros(3)]) == 0.0


FINITE = st.floats(allow_nan=False, allow_infinity=False)


@given(st.lists(FINITE, min_size=1, max_size=6))
def test_norm_of_floats_is_hypot(xs):
    # math.hypot is correctly rounded; the sum of squares (kept where it cannot overflow, for
    # the outputs' last digits) is within a few units in the last place of it
    expected = math.hypot(*xs)
    assert norm(xs) == pytest.approx(expected, rel=4e-16 * len(xs), abs=0.0)
    assert math.isfinite(norm(xs)) == math.isfinite(expected)


@given(st.lists(st.lists(FINITE, min_size=0, max_size=5), min_size=1, max_size=4))
def test_norm_of_arrays_never_overflows_needlessly(parts):
    # the arrays hold the same components as one flat list, whose exact norm math.hypot gives;
    # scaled by the largest magnitude, the norm is finite whenever hypot's is (to rounding)
    flat = [x for p in parts for x in p]
    expected = math.hypot(*flat)
    got = norm([np.array(p, dtype=float) for p in parts])
    if math.isfinite(expected) and expected < 1e308:
        assert math.isfinite(got)
        assert got == pytest.approx(expected, rel=1e-12, abs=0.0)
    assert got >= 0.0


@given(st.floats(min_value=1e154, max_value=1e300), st.floats(min_value=1e-300, max_value=1e-160))
def test_norm_of_huge_and_tiny_components(big, tiny):
    # sum of squares overflows (big**2 > 1.8e308) or underflows (tiny**2 < 5e-324)
    assert norm([np.array([big]), -big]) == pytest.approx(big * math.sqrt(2), rel=1e-15)
    assert norm([np.array([tiny, -tiny])]) == pytest.approx(tiny * math.sqrt(2), rel=1e-15)


def test_norm_propagates_nan_and_inf():
    assert math.isnan(norm([np.array([1.0, math.nan])]))
    assert norm([np.array([1.0, math.inf])]) == math.inf
    assert norm([math.inf, 1.0]) == math.inf
