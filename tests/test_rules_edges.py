"""The rules' edges that mutation testing showed untested: the norm's two formulas and where
each applies, messages in full, the strict tolerances, the step of an array parameter, and the
optimizer state the app's explain panel reads."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import grad_cfg, target_cfg
from hypothesis import given
from hypothesis import strategies as st

from engine.graph import Graph
from engine.rules import GradientRule, TargetRule, is_finite, make_rule, norm


def graph(params, data, nodes) -> Graph:
    g = Graph.build(params, data, nodes)
    g.forward()
    return g


# --- is_finite and norm ---------------------------------------------------------------------

def test_is_finite_of_arrays():
    assert is_finite(np.array([1.0, -2.0, 0.0]))
    assert is_finite(np.zeros((2, 3)))
    assert not is_finite(np.array([1.0, -math.inf]))
    assert is_finite(np.array([]))  # nothing is not finite


# A case where the two formulas differ in the last digit: sqrt(sum x^2) = 11.487163954554545,
# math.hypot (correctly rounded) = 11.487163954554543.
IN_RANGE = [1.3436424411240122, 8.474337369372327, 7.6377461897661405]
# and one below 1 (sum of squares 0.3666...): 0.6054933649561993 against 0.6054933649561994
SMALL = [0.3607700161703913, 0.11438111063522632, 0.47263534777696115]


def test_norm_keeps_the_plain_sum_of_squares_where_it_cannot_overflow():
    """The outputs' last digits stay those of sqrt(sum x_i^2) (the docstring's promise), for
    floats and arrays, above and below 1."""
    for xs in (IN_RANGE, SMALL):
        plain = math.sqrt(sum(x * x for x in xs))
        assert plain != math.hypot(*xs)  # the example tells the two formulas apart
        assert norm(xs) == plain
        assert norm([np.array(xs)]) == plain
        assert norm([np.array(xs[:2]), xs[2]]) == plain


# Beyond the range of the squares: floats take math.hypot (correctly rounded), arrays are
# scaled by the largest magnitude m: m * sqrt(sum (x_i/m)^2). For these components the two
# differ in the last digit (hypot: 1.1977806724237585e201, scaled: ...587e201).
BIG = [5.872712255141469e200, 9.452342465006595e200, 4.430838139193912e200]


def test_norm_of_huge_floats_is_exactly_hypot_and_of_arrays_the_scaled_sum():
    m = max(BIG)
    scaled = m * math.sqrt(sum((x / m) ** 2 for x in BIG))
    assert scaled != math.hypot(*BIG)
    assert norm(BIG) == math.hypot(*BIG)
    assert norm([np.array(BIG)]) == scaled


@given(st.lists(st.floats(min_value=-1e100, max_value=1e100), min_size=1, max_size=6))
def test_norm_is_the_plain_formula_in_range(xs):
    sq = sum(x * x for x in xs)
    if 1e-290 < sq < math.inf:
        assert norm(xs) == math.sqrt(sq)
        assert norm([np.array(xs)]) == math.sqrt(float(np.sum(np.square(np.array(xs)))))


def test_norm_never_warns_on_overflow_or_underflow():
    """Squares that overflow or underflow are expected (then the norm is rescaled): no
    RuntimeWarning reaches the terminal, whatever numpy's error state outside."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert norm([np.array([1e200, 1e200])]) == pytest.approx(math.sqrt(2) * 1e200, rel=1e-15)
    with np.errstate(all="raise"):
        assert norm([np.array([1e200])]) == 1e200
        assert norm([np.array([1e-200, 1e-200])]) == pytest.approx(math.sqrt(2) * 1e-200,
                                                                    rel=1e-15)


def test_norm_with_a_nan_is_nan_even_beside_zeros_or_infinities():
    # a NaN gradient must not pass for a norm of 0 (it would meet any grad_tolerance)
    assert math.isnan(norm([np.zeros(2), np.array([math.nan])]))
    assert math.isnan(norm([np.array([math.inf]), np.array([math.nan])]))
    assert math.isnan(norm([0.0, math.nan]))


def test_norm_of_empty_arrays_is_zero():
    assert norm([np.array([])]) == 0.0
    assert norm([np.array([]), np.zeros(0)]) == 0.0


# --- messages in full -----------------------------------------------------------------------

def test_diverged_output_that_is_itself_the_first_nonfinite_node():
    """The message names the first non-finite node only when it is another node."""
    g = graph({"b": 1e200}, {}, {"z": "b * b"})
    v = TargetRule(target_cfg(target=3.0)).visit(g, 0)
    assert v.stop == "diverged" and v.output == math.inf
    assert v.message == "output 'z' became inf"
    g = graph({"x": 1e200}, {}, {"J": "x * x"})
    v = GradientRule(grad_cfg()).visit(g, 0)
    assert v.stop == "diverged" and v.output == math.inf and v.loss == math.inf
    assert v.message == "'J' became inf"


def test_target_diverged_names_the_first_nonfinite_node():
    g = graph({"b": 1e200}, {}, {"a": "b * b", "z": "a + 1"})
    v = TargetRule(target_cfg(target=3.0)).visit(g, 0)
    assert v.message == "output 'z' became inf (first at node 'a')"


def test_gradient_norm_overflow_with_finite_gradients():
    """Each gradient is 1.5e308 (finite); their norm, 1.5e308 * sqrt(2), is not."""
    g = graph({"a": 0.0, "b": 0.0}, {"c": np.array(1.5e308)}, {"J": "a*c + b*c"})
    v = GradientRule(grad_cfg(train=("a", "b"))).visit(g, 0)
    assert v.grads == {"a": 1.5e308, "b": 1.5e308}
    assert v.grad_norm == math.inf
    assert v.stop == "diverged"
    assert v.message == "the gradient norm overflowed (every gradient is finite but huge)"
    assert g.value("a") == 0.0 and g.value("b") == 0.0


# --- tolerances are strict ("below it", docs/scenarios.md) -----------------------------------

def test_target_tolerance_is_strict():
    g = graph({"b": 5.0}, {}, {"z": "b * 30"})  # z = 150, target 150.5: |delta| = 0.5
    v = TargetRule(target_cfg(target=150.5, tolerance=0.5)).visit(g, 0)
    assert v.delta == -0.5 and v.stop is None
    assert v.step == {"b": -0.5 / 30}


def test_gradient_tolerances_are_strict():
    g = graph({"x": 0.5}, {}, {"J": "x**2"})  # J = 0.25, dJ/dx = 1, both exact
    v = GradientRule(grad_cfg(tolerance=0.25)).visit(g, 0)
    assert v.loss == 0.25 and v.stop is None
    g = graph({"x": 0.5}, {}, {"J": "x**2"})
    v = GradientRule(grad_cfg(grad_tolerance=1.0)).visit(g, 0)
    assert v.grad_norm == 1.0 and v.stop is None
    assert g.value("x") == 0.5 - 0.3 * 1.0


# --- what the gradient rule steps -----------------------------------------------------------

def test_gradient_rule_steps_only_the_trained_parameters():
    g = graph({"x": 1.0, "y": 2.0}, {}, {"J": "x*x + 10*y"})
    v = GradientRule(grad_cfg()).visit(g, 0)
    assert v.grads == {"x": 2.0}  # not dJ/dy = 10
    assert v.grad_norm == 2.0
    assert g.value("y") == 2.0


def test_gradient_rule_step_of_an_array_parameter():
    """v.step is what the parameter moved by, although the optimizer updates arrays in place."""
    g = graph({"x": np.array([1.0, -2.0])}, {}, {"J": "l2(x)"})  # l2(x) = sum x^2: grad 2x
    v = GradientRule(grad_cfg(lr=0.125)).visit(g, 0)
    np.testing.assert_array_equal(v.step["x"], [0.25, -0.5])
    np.testing.assert_array_equal(g.value("x"), [0.75, -1.5])


def test_gradient_rule_uses_the_optimizers_hyperparameters():
    """SGD with momentum 0.5 on J = x^2 from x = 1, lr = 0.1: g = 2x;
    b1 = g1 = 2, x1 = 1 - 0.2 = 0.8; g2 = 1.6, b2 = 0.5 * 2 + 1.6 = 2.6, x2 = 0.8 - 0.26 = 0.54
    (without momentum x2 would be 0.8 - 0.16 = 0.64)."""
    g = graph({"x": 1.0}, {}, {"J": "x**2"})
    rule = GradientRule(grad_cfg(lr=0.1, optimizer="sgd", hyper={"momentum": 0.5}))
    rule.visit(g, 0)
    g.forward()
    rule.visit(g, 1)
    assert g.value("x") == pytest.approx(0.54, abs=1e-15)


def test_first_visit_is_at_epoch_zero():
    """Without an epoch the learning rate is the schedule's first: lr, not lr * gamma."""
    rule = GradientRule(grad_cfg(lr=1.0, schedule="step", step_size=1, gamma=0.5))
    g = graph({"x": 1.2}, {}, {"J": "x**2"})
    v = rule.visit(g, 0)
    assert v.lr == 1.0 and g.value("x") == pytest.approx(1.2 - 2.4)


# --- the state the explain panel reads (detail=True) ----------------------------------------

def test_detail_keeps_the_state_before_and_after_each_step():
    g = graph({"v": np.array([1.0, -1.0])}, {}, {"J": "l2(v)"})
    rule = GradientRule(grad_cfg(train=("v",), optimizer="adam", lr=0.1), detail=True)
    v1 = rule.visit(g, 0)
    assert v1.opt_before is None  # no state before the first step
    assert v1.opt_state["v"]["t"] == 1
    assert v1.optimizer is rule.optimizer
    g.forward()
    v2 = rule.visit(g, 1)
    assert v2.opt_before["v"]["t"] == 1 and v2.opt_state["v"]["t"] == 2
    # Adam's first average: (1 - beta1) * g1 with g1 = 2v = [2, -2]
    np.testing.assert_array_equal(v2.opt_before["v"]["exp_avg"], [(1 - 0.9) * 2, (1 - 0.9) * -2])


def test_detail_with_a_stateless_optimizer_has_no_state():
    g = graph({"x": 1.2}, {}, {"J": "x**2"})
    v = GradientRule(grad_cfg(), detail=True).visit(g, 0)
    assert v.opt_state is None and v.opt_before is None
    assert v.optimizer is not None and v.optimizer.name == "sgd"


def test_make_rule_passes_the_configuration_and_detail():
    cfg = target_cfg()
    r = make_rule(cfg)
    assert isinstance(r, TargetRule) and r.cfg is cfg
    cfg = grad_cfg(optimizer="adam")
    assert make_rule(cfg).detail is False and make_rule(cfg).cfg is cfg
    assert make_rule(cfg, detail=True).detail is True
    assert make_rule(cfg, True).detail is True
