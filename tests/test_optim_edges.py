"""Optimizers at their edges, from mutation survivors (tools/mutation.py, docs/testing.md):
a parameter that starts at exactly 0, and the explain panel's rate override."""

from __future__ import annotations

import numpy as np
import pytest

from engine.optim import SGD, Adagrad


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
