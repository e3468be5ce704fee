"""Optimizers at their edges, from mutation survivors (tools/mutation.py, docs/testing.md):
a parameter that starts at exactly 0, and the explain panel's rate override."""

from __future__ import annotations

import numpy as np
import pytest

from engine.optim import SGD, Adagrad, RMSprop


def test_adagrad_with_a_parameter_at_zero_stays_finite():
    # s = 0 + g^2 = (1, 4); p <- p - lr g / (sqrt(s) + eps) = p - 0.1 * (1, 1) (eps 1e-10 aside)
    opt = Adagrad(lr=0.1)
    p = opt.step("w", np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(p, [-0.1, 0.9], rtol=1e-9)
    np.testing.assert_array_equal(opt.state["w"]["sum"], [1.0, 4.0])


def test_explain_with_a_scheduled_rate_leaves_the_optimizers_own_rate():
    opt = SGD(lr=0.1)
    p = opt.step("w", 3.0, 2.0)  # 3 - 0.1 * 2 = 2.8
    assert p == pytest.approx(2.8, rel=1e-15)
    lines = opt.explain("w", 3.0, 2.0, {}, {}, 0.05, lr=0.025)  # the schedule's rate: 0.025 * 2
    assert opt.lr == 0.1
    assert lines[-1] == "w = 3.0 - 0.05 = 2.95"
    assert any("0.025" in line for line in lines[:-1])


def test_explain_of_a_state_that_does_not_fit_gives_the_step():
    # Adagrad's explanation needs its accumulated sum: without it, only the step is written out
    opt = Adagrad(lr=0.5)
    assert opt.explain("b", 1.0, -4.0, {}, {}, -0.5, lr=0.25) == ["step_b = -0.5",
                                                                "b = 1.0 - (-0.5) = 1.5"]
    assert opt.lr == 0.5


def rmsprop_explained(opt, p: float, g: float) -> tuple[list[str], dict]:
    """Two steps of ``opt`` at gradient ``g``; the second step explained, and its state after."""
    import copy

    p = opt.step("w", p, g)
    before = copy.deepcopy(opt.state["w"])
    new = opt.step("w", p, g)
    return opt.explain("w", p, g, before, opt.state["w"], p - new), before


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_explanation_line_by_line(centered: bool, momentum: float):
    import math

    lr, a, wd, eps, g = 0.1, 0.5, 0.25, 1e-8, -2.0
    opt = RMSprop(lr=lr, alpha=a, centered=centered, momentum=momentum, weight_decay=wd, eps=eps)
    lines, before = rmsprop_explained(opt, 1.0, g)
    after = opt.state["w"]
    p = float(lines[-1].split(" = ")[1].split(" - ")[0])  # the parameter before the second step
    # weight decay: g' = g + wd * p; v = a v + (1 - a) g'^2; m = a m + (1 - a) g'
    g2 = g + wd * p
    v = a * before["square_avg"] + (1 - a) * g2 ** 2
    assert after["square_avg"] == pytest.approx(v, rel=1e-15)
    v = after["square_avg"]
    def o(x: float) -> str:  # a negative operand in parentheses: 0.5*(-1.4), not 0.5*-1.4
        return f"({x!r})" if x < 0 else repr(x)

    want = [f"g_w <- g + weight_decay*w = {g!r} + {o(wd)}*{o(p)} = {g2!r}",
            f"v_w = alpha*v + (1-alpha)*g^2 = {a!r}*{o(before['square_avg'])} + {o(1 - a)}*{o(g2)}^2"
            f" = {v!r}"]
    if centered:
        m = after["grad_avg"]
        assert m == pytest.approx(a * before["grad_avg"] + (1 - a) * g2, rel=1e-15)
        d = math.sqrt(v - m * m) + eps
        want += [f"m_w = alpha*m + (1-alpha)*g = {m!r}", f"d_w = sqrt(v - m^2) + eps = {d!r}"]
    else:
        d = math.sqrt(v) + eps
        want += [f"d_w = sqrt(v) + eps = {d!r}"]
    step = lr * (after["momentum_buffer"] if momentum else g2 / d)  # lr * b, or lr * g / d
    if momentum:
        b = after["momentum_buffer"]
        assert b == pytest.approx(momentum * before["momentum_buffer"] + g2 / d, rel=1e-15)
        want += [f"b_w = momentum*b + g/d = {momentum!r}*{o(before['momentum_buffer'])} + {o(g2)}/{o(d)}"
                 f" = {b!r}"]
    assert lines[:len(want)] == want
    assert lines[-1].startswith(f"w = {p!r} - ")
    assert float(lines[-2].rsplit(" = ", 1)[1]) == pytest.approx(step, rel=1e-12)


def test_rmsprop_with_a_parameter_at_zero_stays_finite():
    # v = (1 - alpha) g^2 = 0.5 * 4 = 2, m = 0.5 * 2 = 1, d = sqrt(2 - 1) + eps = 1 + 1e-8,
    # b = g / d; p <- p - lr * b = 0 - 0.1 * 2 / (1 + 1e-8)
    opt = RMSprop(lr=0.1, alpha=0.5, centered=True, momentum=0.5)
    p = opt.step("w", np.array([0.0]), np.array([2.0]))
    np.testing.assert_allclose(p, [-0.2 / (1 + 1e-8)], rtol=1e-15)


def test_sgd_full_dampening_keeps_only_the_first_gradient():
    # torch's rule: buf = g on the first step, then buf = momentum*buf + (1 - dampening)*g
    for start in (1.0, np.array([1.0, 1.0])):  # floats and arrays take different paths
        opt = SGD(lr=0.1, momentum=0.5, dampening=1.0)
        p = opt.step("w", start, 2.0 * np.ones_like(start))  # buf = 2, p = 1 - 0.2
        p = opt.step("w", p, 2.0 * np.ones_like(start))  # buf = 0.5 * 2 + 0 = 1, p = 0.8 - 0.1
        np.testing.assert_allclose(p, 0.7 * np.ones_like(start), rtol=1e-15)
