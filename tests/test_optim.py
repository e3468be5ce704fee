"""Optimizers against hand-computed steps (PyTorch's update equations), in place on arrays, and
step for step against torch.optim when torch is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.optim import (
    HYPERPARAMETERS,
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    RMSprop,
    make_optimizer,
    scheduled_lr,
)

# --- SGD -----------------------------------------------------------------------------------

def test_sgd_one_step_scalar():
    opt = SGD(lr=0.1)
    p = opt.step("w", 1.0, 0.5)
    assert p == 0.95
    assert type(p) is float
    assert opt.state == {}  # plain SGD keeps no state


def test_sgd_several_steps_are_p_minus_lr_g():
    opt = SGD(lr=0.25)
    p = 2.0
    for g in (4.0, -2.0, 1.0):
        p = opt.step("w", p, g)
    assert p == 2.0 - 0.25 * (4.0 - 2.0 + 1.0)


def test_sgd_momentum_three_steps():
    opt = SGD(lr=0.1, momentum=0.9)
    p = 1.0
    p = opt.step("w", p, 1.0)  # v = 1
    assert p == pytest.approx(0.9, abs=1e-15) and opt.state["w"]["velocity"] == 1.0
    p = opt.step("w", p, 1.0)  # v = 0.9 + 1 = 1.9
    assert opt.state["w"]["velocity"] == pytest.approx(1.9)
    assert p == pytest.approx(0.71, abs=1e-15)
    p = opt.step("w", p, 1.0)  # v = 1.71 + 1 = 2.71
    assert p == pytest.approx(0.439, abs=1e-15)


def test_sgd_dampening_skipped_on_the_first_step():
    opt = SGD(lr=1.0, momentum=0.9, dampening=0.5)
    p = opt.step("w", 0.0, 1.0)  # v = g = 1 (no dampening on the first step, as torch)
    assert p == -1.0
    p = opt.step("w", p, 1.0)  # v = 0.9 * 1 + 0.5 * 1 = 1.4
    assert opt.state["w"]["velocity"] == pytest.approx(1.4)
    assert p == pytest.approx(-2.4)


def test_sgd_nesterov_two_steps():
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True)
    p = opt.step("w", 1.0, 1.0)  # v = 1; g' = 1 + 0.9 * 1 = 1.9
    assert p == pytest.approx(0.81, abs=1e-15)
    p = opt.step("w", p, 1.0)  # v = 1.9; g' = 1 + 0.9 * 1.9 = 2.71
    assert p == pytest.approx(0.539, abs=1e-15)


def test_sgd_weight_decay_adds_wd_times_p():
    opt = SGD(lr=0.1, weight_decay=0.1)
    p = opt.step("w", 2.0, 1.0)  # g' = 1 + 0.1 * 2 = 1.2
    assert p == pytest.approx(1.88, abs=1e-15)


def test_sgd_arrays_in_place_and_state_not_aliased():
    opt = SGD(lr=0.5, momentum=0.5)
    p = np.array([1.0, -2.0])
    g = np.array([2.0, 4.0])
    q = opt.step("w", p, g)
    assert q is p
    np.testing.assert_array_equal(p, [0.0, -4.0])
    v = opt.state["w"]["velocity"]
    assert v is not g
    g[:] = 0.0  # the caller reusing its gradient buffer must not change the velocity
    np.testing.assert_array_equal(v, [2.0, 4.0])
    opt.step("w", p, np.array([2.0, 0.0]))  # v = 0.5 * [2, 4] + [2, 0] = [3, 2]
    np.testing.assert_array_equal(p, [-1.5, -5.0])


def test_reset_forgets_state():
    opt = SGD(lr=0.1, momentum=0.9)
    opt.step("w", 1.0, 1.0)
    opt.reset()
    assert opt.state == {}
    assert opt.step("w", 1.0, 1.0) == pytest.approx(0.9)


# --- Adagrad -------------------------------------------------------------------------------

def test_adagrad_first_step_is_lr_sign():
    opt = Adagrad(lr=0.1)
    p = opt.step("w", 1.0, 2.0)  # s = 4; step = 0.1 * 2 / (2 + 1e-10)
    assert p == pytest.approx(0.9, abs=1e-10)
    assert opt.state["w"] == {"t": 1, "sum": 4.0}


def test_adagrad_lr_decay_two_steps():
    opt = Adagrad(lr=0.1, lr_decay=0.5)
    p = opt.step("w", 1.0, 2.0)
    p = opt.step("w", p, 2.0)  # s = 8, lr_t = 0.1 / (1 + 0.5) ; step = lr_t * 2 / sqrt(8)
    want = 1.0 - 0.1 * 2 / (2 + 1e-10) - (0.1 / 1.5) * 2 / (math.sqrt(8) + 1e-10)
    assert p == pytest.approx(want, abs=1e-15)
    assert 1.0 - 0.1 - (0.1 / 1.5) / math.sqrt(2) == pytest.approx(p, abs=1e-9)


def test_adagrad_initial_accumulator_and_weight_decay():
    opt = Adagrad(lr=1.0, initial_accumulator_value=5.0, weight_decay=0.5)
    p = opt.step("w", 2.0, 1.0)  # g' = 1 + 0.5 * 2 = 2; s = 5 + 4 = 9; step = 2 / 3
    assert p == pytest.approx(2.0 - 2.0 / 3.0, abs=1e-9)


def test_adagrad_arrays_in_place():
    opt = Adagrad(lr=0.1)
    p = np.array([1.0, 1.0])
    q = opt.step("w", p, np.array([3.0, -4.0]))
    assert q is p
    np.testing.assert_allclose(p, [0.9, 1.1], atol=1e-10)
    np.testing.assert_array_equal(opt.state["w"]["sum"], [9.0, 16.0])


# --- RMSprop -------------------------------------------------------------------------------

def test_rmsprop_plain_two_steps():
    opt = RMSprop(lr=0.01)
    p = opt.step("w", 1.0, 2.0)  # v = 0.01 * 4 = 0.04; step = 0.01 * 2 / 0.2 = 0.1
    assert opt.state["w"]["square_avg"] == pytest.approx(0.04)
    assert p == pytest.approx(0.9, abs=1e-8)
    p2 = opt.step("w", p, 2.0)  # v = 0.99 * 0.04 + 0.04 = 0.0796
    assert opt.state["w"]["square_avg"] == pytest.approx(0.0796)
    assert p2 == pytest.approx(p - 0.01 * 2 / (math.sqrt(0.0796) + 1e-8), abs=1e-15)


def test_rmsprop_centered():
    opt = RMSprop(lr=0.01, centered=True)
    p = opt.step("w", 1.0, 2.0)  # m = 0.02, v - m^2 = 0.04 - 0.0004 = 0.0396
    assert opt.state["w"]["grad_avg"] == pytest.approx(0.02)
    assert p == pytest.approx(1.0 - 0.01 * 2 / (math.sqrt(0.0396) + 1e-8), abs=1e-15)


def test_rmsprop_momentum_two_steps():
    opt = RMSprop(lr=0.01, momentum=0.9)
    p = opt.step("w", 1.0, 2.0)  # b = 2 / 0.2 = 10; p -= 0.1
    assert opt.state["w"]["momentum_buffer"] == pytest.approx(10.0)
    assert p == pytest.approx(0.9, abs=1e-6)
    p2 = opt.step("w", p, 2.0)  # b = 0.9 * 10 + 2 / sqrt(0.0796)
    b = 0.9 * 2 / (0.2 + 1e-8) + 2 / (math.sqrt(0.0796) + 1e-8)
    assert opt.state["w"]["momentum_buffer"] == pytest.approx(b, rel=1e-7)
    assert p2 == pytest.approx(p - 0.01 * b, abs=1e-9)


def test_rmsprop_weight_decay_and_arrays_in_place():
    opt = RMSprop(lr=0.1, alpha=0.0, weight_decay=1.0)
    p = np.array([1.0, -1.0])
    # alpha = 0: v = g'^2, step = lr * sign(g'); g' = g + p = [1.5, -0.5]
    q = opt.step("w", p, np.array([0.5, 0.5]))
    assert q is p
    np.testing.assert_allclose(p, [0.9, -0.9], atol=1e-8)


# --- Adam ----------------------------------------------------------------------------------

@pytest.mark.parametrize("g", [3.0, -0.01, 1e4])
def test_adam_first_step_is_lr_times_sign_of_g(g):
    opt = Adam(lr=0.001)
    p = opt.step("w", 1.0, g)
    assert p == pytest.approx(1.0 - 0.001 * math.copysign(1.0, g), abs=1e-8)
    assert opt.state["w"]["t"] == 1
    assert opt.state["w"]["exp_avg"] == pytest.approx(0.1 * g)
    assert opt.state["w"]["exp_avg_sq"] == pytest.approx(0.001 * g * g)


def test_adam_constant_gradient_keeps_stepping_lr():
    opt = Adam(lr=0.01)
    p = 0.0
    for _ in range(5):
        p = opt.step("w", p, 2.0)
    # bias correction makes m_hat = g and v_hat = g^2 for a constant g: every step is lr
    assert p == pytest.approx(-0.05, abs=1e-8)


def test_adam_second_step_by_hand():
    opt = Adam(lr=0.1)
    p = opt.step("w", 0.0, 1.0)
    p = opt.step("w", p, -2.0)
    m = 0.9 * 0.1 + 0.1 * -2.0  # -0.11
    v = 0.999 * 0.001 + 0.001 * 4.0  # 0.004999
    m_hat = m / (1 - 0.9**2)  # -0.578947...
    v_hat = v / (1 - 0.999**2)
    assert m_hat == pytest.approx(-0.5789473684)
    want = -0.1 + 0.1 * 0.5789473684 / math.sqrt(v_hat)
    assert p == pytest.approx(want, abs=1e-8)


def test_adam_weight_decay_is_l2_on_the_gradient():
    opt = Adam(lr=0.1, weight_decay=1.0)
    p = opt.step("w", 2.0, -1.0)  # g' = -1 + 2 = 1 > 0: the step goes down
    assert p == pytest.approx(1.9, abs=1e-7)


def test_adam_arrays_in_place_and_separate_state_per_parameter():
    opt = Adam(lr=0.5)
    p = np.array([0.0, 0.0, 0.0])
    q = opt.step("w", p, np.array([1.0, -3.0, 0.0]))
    assert q is p
    np.testing.assert_allclose(p, [-0.5, 0.5, 0.0], atol=1e-7)
    opt.step("b", 1.0, 1.0)
    assert opt.state["w"]["t"] == 1 and opt.state["b"]["t"] == 1


# --- construction and schedules -------------------------------------------------------------

def test_make_optimizer_defaults():
    m = make_optimizer("momentum", 0.1)
    assert isinstance(m, SGD) and m.momentum == 0.9 and not m.nesterov
    n = make_optimizer("nesterov", 0.1)
    assert n.momentum == 0.9 and n.nesterov
    a = make_optimizer("adam", 0.01, betas=[0.8, 0.9])
    assert isinstance(a, Adam) and a.betas == (0.8, 0.9) and a.lr == 0.01
    assert isinstance(make_optimizer("rmsprop", 0.1, centered=True), RMSprop)
    assert isinstance(make_optimizer("adagrad", 0.1, lr_decay=0.1), Adagrad)
    assert make_optimizer("sgd", 0.3).momentum == 0.0
    assert set(OPTIMIZERS) == set(HYPERPARAMETERS)


def test_make_optimizer_refuses_bad_nesterov():
    with pytest.raises(ValueError, match="nesterov"):
        make_optimizer("sgd", 0.1, nesterov=True)
    with pytest.raises(ValueError, match="nesterov"):
        make_optimizer("nesterov", 0.1, dampening=0.1)


def test_every_declared_hyperparameter_is_accepted():
    values = {"momentum": 0.5, "dampening": 0.0, "nesterov": False, "weight_decay": 0.1,
              "lr_decay": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-6, "alpha": 0.9,
              "centered": True, "betas": [0.9, 0.99]}
    for name, keys in HYPERPARAMETERS.items():
        opt = make_optimizer(name, 0.1, **{k: values[k] for k in keys})
        assert opt.name == OPTIMIZERS[name][0].name
        assert opt.equation()


def test_lr_is_read_at_every_step():
    opt = SGD(lr=0.1)
    p = opt.step("w", 1.0, 1.0)
    opt.lr = 0.5
    assert opt.step("w", p, 1.0) == pytest.approx(0.4)


def test_scheduled_lr():
    assert [scheduled_lr(0.1, e) for e in range(3)] == [0.1, 0.1, 0.1]
    step = [scheduled_lr(0.1, e, "step", step_size=2, gamma=0.5) for e in range(5)]
    assert step == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], abs=1e-17)
    expo = [scheduled_lr(0.1, e, "exponential", gamma=0.5) for e in range(4)]
    assert expo == pytest.approx([0.1, 0.05, 0.025, 0.0125], abs=1e-17)
    assert scheduled_lr(2.0, 3, "step") == pytest.approx(2.0 * 0.1**3)  # step_size 1, gamma 0.1
    with pytest.raises(ValueError, match="unknown schedule"):
        scheduled_lr(0.1, 0, "cosine")


def test_a_schedule_that_overflows_gives_an_infinite_rate_not_an_error():
    """1e300**2 raises OverflowError in Python; the run must diverge cleanly instead."""
    assert scheduled_lr(0.1, 2, "exponential", gamma=1e300) == math.inf
    assert scheduled_lr(0.1, 4, "step", step_size=2, gamma=1e300) == math.inf
    assert scheduled_lr(0.0, 2, "exponential", gamma=1e300) == 0.0


# --- against torch.optim --------------------------------------------------------------------

TORCH_CASES = [
    ("sgd", {}, {}),
    ("sgd", {"momentum": 0.9, "dampening": 0.3}, {"momentum": 0.9, "dampening": 0.3}),
    ("nesterov", {"weight_decay": 0.05}, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("sgd", {"weight_decay": 0.2}, {"weight_decay": 0.2}),
    ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.2, "weight_decay": 0.01},
     {"lr_decay": 0.1, "initial_accumulator_value": 0.2, "weight_decay": 0.01}),
    ("rmsprop", {}, {}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "alpha": 0.9, "weight_decay": 0.1},
     {"centered": True, "momentum": 0.5, "alpha": 0.9, "weight_decay": 0.1}),
    ("adam", {}, {}),
    ("adam", {"betas": [0.8, 0.95], "eps": 1e-6, "weight_decay": 0.1},
     {"betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,ours,theirs", TORCH_CASES)
def test_matches_torch_step_for_step(name, ours, theirs):
    torch = pytest.importorskip("torch")
    lr = 0.05
    a = np.array([1.0, 3.0, 0.5])
    c = np.array([2.0, -1.0, 0.25])
    p0 = np.array([-1.0, 2.0, 4.0])
    cls = {"sgd": torch.optim.SGD, "nesterov": torch.optim.SGD, "adagrad": torch.optim.Adagrad,
           "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}[name]
    tp = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    topt = cls([tp], lr=lr, **theirs)
    at = torch.tensor(a, dtype=torch.float64)
    ct = torch.tensor(c, dtype=torch.float64)

    opt = make_optimizer(name, lr, **ours)
    p = p0.copy()
    s = 0.7  # and a scalar parameter, on the float path
    ts = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    sopt = cls([ts], lr=lr, **theirs)
    for _ in range(25):
        topt.zero_grad()
        (at * (tp - ct) ** 2).sum().backward()
        topt.step()
        p = opt.step("p", p, 2 * a * (p - c))
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)

        sopt.zero_grad()
        ((ts - 0.2) ** 3).backward()
        sopt.step()
        s = opt.step("s", s, 3 * (s - 0.2) ** 2)
        assert type(s) is float
        assert s == pytest.approx(ts.item(), rel=1e-12, abs=1e-14)
