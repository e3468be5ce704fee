"""The text the explain panel teaches from, in full: each optimizer's update written out with
its numbers (first step and a later one, weight decay, momentum, Nesterov), its equation, and
the exponential schedule with a step size. Numbers are chosen to be exact in binary where a
line shows them; where a square root or eps makes that impossible, the value is derived here
from the update rule (PyTorch's, see engine/optim.py) and the text compared up to it."""

from __future__ import annotations

import copy
import math

import pytest

from engine.optim import SGD, Adagrad, Adam, RMSprop, make_optimizer, scheduled_lr


def explained(opt, p: float, grads: list[float]) -> list[list[str]]:
    """Step ``opt`` once per gradient from ``p``; each step's explanation (num = repr)."""
    out = []
    for g in grads:
        before = copy.deepcopy(opt.state.get("w", {}))
        new = opt.step("w", p, g)
        out.append(opt.explain("w", p, g, before, opt.state.get("w", {}), p - new))
        p = new
    return out


def split_last(line: str) -> tuple[str, float]:
    """'text = 1.25' -> ('text = ', 1.25)."""
    head, _, value = line.rpartition(" = ")
    return head + " = ", float(value)


# --- SGD ------------------------------------------------------------------------------------

def test_sgd_plain_with_weight_decay():
    # g' = g + wd*p = -2 + 0.5*1 = -1.5; step = lr*g' = 0.5*(-1.5) = -0.75; p = 1.75
    (lines,) = explained(SGD(lr=0.5, weight_decay=0.5), 1.0, [-2.0])
    assert lines == ["g_w <- g + weight_decay*w = -2.0 + 0.5*1.0 = -1.5",
                     "step_w = lr * g_w = 0.5 * (-1.5) = -0.75",
                     "w = 1.0 - (-0.75) = 1.75"]


def test_sgd_momentum_with_dampening_two_steps():
    # step 1: g' = -2 + 0.5*1 = -1.5, v = g' = -1.5, step = 0.5*(-1.5) = -0.75, p = 1.75
    # step 2: g' = -2 + 0.5*1.75 = -1.125, v = 0.5*(-1.5) + 0.75*(-1.125) = -1.59375,
    #         step = 0.5*(-1.59375) = -0.796875, p = 2.546875
    opt = SGD(lr=0.5, momentum=0.5, dampening=0.25, weight_decay=0.5)
    first, second = explained(opt, 1.0, [-2.0, -2.0])
    assert first == ["g_w <- g + weight_decay*w = -2.0 + 0.5*1.0 = -1.5",
                     "v_w = g_w = -1.5   (first step)",
                     "step_w = lr * v_w = 0.5 * (-1.5) = -0.75",
                     "w = 1.0 - (-0.75) = 1.75"]
    assert second == ["g_w <- g + weight_decay*w = -2.0 + 0.5*1.75 = -1.125",
                      "v_w = momentum*v + (1-dampening)*g = 0.5*(-1.5) + 0.75*(-1.125) = -1.59375",
                      "step_w = lr * v_w = 0.5 * (-1.59375) = -0.796875",
                      "w = 1.75 - (-0.796875) = 2.546875"]


def test_sgd_nesterov_two_steps():
    # step 1: v = g = -2, d = g + m*v = -2 + 0.5*(-2) = -3, step = 0.5*(-3) = -1.5, p = 2.5
    # step 2: v = 0.5*(-2) + 1*(-2) = -3, d = -2 + 0.5*(-3) = -3.5, step = -1.75, p = 4.25
    first, second = explained(SGD(lr=0.5, momentum=0.5, nesterov=True), 1.0, [-2.0, -2.0])
    assert first == ["v_w = g_w = -2.0   (first step)",
                     "d_w = g + momentum*v = -2.0 + 0.5*(-2.0) = -3.0",
                     "step_w = lr * d_w = 0.5 * (-3.0) = -1.5",
                     "w = 1.0 - (-1.5) = 2.5"]
    assert second == ["v_w = momentum*v + (1-dampening)*g = 0.5*(-2.0) + 1.0*(-2.0) = -3.0",
                      "d_w = g + momentum*v = -2.0 + 0.5*(-3.0) = -3.5",
                      "step_w = lr * d_w = 0.5 * (-3.5) = -1.75",
                      "w = 2.5 - (-1.75) = 4.25"]


def test_sgd_equations():
    assert SGD().equation() == "p <- p - lr * g"
    assert SGD(momentum=0.9).equation() == "v <- momentum*v + (1-dampening)*g;  p <- p - lr*v"
    assert SGD(momentum=0.9, nesterov=True).equation() == \
        "v <- momentum*v + (1-dampening)*g;  p <- p - lr*(g + momentum*v)"


@pytest.mark.parametrize("hyper", [{"momentum": 0.0}, {"momentum": 0.9, "dampening": 0.1}])
def test_nesterov_without_momentum_or_with_dampening_is_refused_in_words(hyper):
    with pytest.raises(ValueError) as info:
        make_optimizer("sgd", 0.1, nesterov=True, **hyper)
    assert str(info.value) == "nesterov momentum requires a momentum > 0 and zero dampening"


# --- Adagrad --------------------------------------------------------------------------------

def test_adagrad_two_steps_with_decay_and_weight_decay():
    lr, lr_decay, wd, s0, eps = 0.5, 0.5, 0.5, 1.75, 1e-10
    opt = Adagrad(lr=lr, lr_decay=lr_decay, weight_decay=wd, initial_accumulator_value=s0)
    first, second = explained(opt, 1.0, [-2.0, -2.0])
    # step 1: g' = -1.5, s = 1.75 + 2.25 = 4, lr_t = lr / (1 + 0 * lr_decay) = 0.5
    step1 = 0.5 * -1.5 / (2.0 + eps)
    assert first[:2] == ["g_w <- g + weight_decay*w = -2.0 + 0.5*1.0 = -1.5",
                         "s_w = s + g^2 = 1.75 + (-1.5)^2 = 4.0"]
    head, value = split_last(first[2])
    assert head == "step_w = lr_t * g / (sqrt(s) + eps) = 0.5 * (-1.5) / (2.0 + 1e-10) = "
    assert value == pytest.approx(step1, rel=1e-15)
    # step 2 (t = 2): lr_t = 0.5 / (1 + 0.5) = 1/3, g' = -2 + 0.5 * p1, s = 4 + g'^2
    p1 = 1.0 - step1
    g2 = -2.0 + wd * p1
    s2 = 4.0 + g2 * g2
    assert second[0] == f"g_w <- g + weight_decay*w = -2.0 + 0.5*{p1!r} = {g2!r}"
    assert second[1] == f"s_w = s + g^2 = 4.0 + ({g2!r})^2 = {s2!r}"
    head, value = split_last(second[2])
    assert head == (f"step_w = lr_t * g / (sqrt(s) + eps) = {0.5 / 1.5!r} * ({g2!r}) / "
                    f"({math.sqrt(s2)!r} + 1e-10) = ")
    assert value == pytest.approx((1 / 3) * g2 / (math.sqrt(s2) + eps), rel=1e-15)
    assert second[3].startswith(f"w = {p1!r} - (")


def test_adagrad_equation():
    assert Adagrad().equation() == "s <- s + g^2;  p <- p - lr * g / (sqrt(s) + eps)"


# --- RMSprop --------------------------------------------------------------------------------

def test_rmsprop_first_step_with_momentum():
    # v = 0.5*0 + 0.5*(-2)^2 = 2 (the state starts at 0), d = sqrt(2) + eps,
    # b = 0.5*0 + g/d (the buffer starts at 0), step = lr * b
    (lines,) = explained(RMSprop(lr=0.5, alpha=0.5, momentum=0.5), 1.0, [-2.0])
    d = math.sqrt(2.0) + 1e-8
    assert lines[0] == "v_w = alpha*v + (1-alpha)*g^2 = 0.5*0.0 + 0.5*(-2.0)^2 = 2.0"
    assert lines[1] == f"d_w = sqrt(v) + eps = {d!r}"
    assert lines[2] == f"b_w = momentum*b + g/d = 0.5*0.0 + (-2.0)/{d!r} = {-2.0 / d!r}"
    head, value = split_last(lines[3])
    assert head == f"step_w = lr * b = 0.5 * ({-2.0 / d!r}) = "
    assert value == pytest.approx(0.5 * -2.0 / d, rel=1e-15)


def test_rmsprop_first_step_plain():
    (lines,) = explained(RMSprop(lr=0.5, alpha=0.5), 1.0, [-2.0])
    d = math.sqrt(2.0) + 1e-8
    head, value = split_last(lines[2])
    assert head == f"step_w = lr * g / d = 0.5 * (-2.0) / {d!r} = "
    assert value == pytest.approx(0.5 * -2.0 / d, rel=1e-15)


def test_rmsprop_equation():
    assert RMSprop().equation() == \
        "v <- alpha*v + (1-alpha)*g^2;  p <- p - lr * g / (sqrt(v) + eps)"


# --- Adam -----------------------------------------------------------------------------------

def test_adam_two_steps_line_by_line():
    lr, b1, b2, eps, wd = 0.5, 0.5, 0.75, 1e-8, 0.5
    opt = Adam(lr=lr, betas=(b1, b2), weight_decay=wd)
    first, second = explained(opt, 1.0, [-2.0, -2.0])
    # step 1: g' = -1.5; m = 0.5*(-1.5) = -0.75; v = 0.25*2.25 = 0.5625;
    # m_hat = -0.75 / (1 - 0.5) = -1.5, v_hat = 0.5625 / (1 - 0.75) = 2.25, sqrt = 1.5
    assert first[:3] == ["g_w <- g + weight_decay*w = -2.0 + 0.5*1.0 = -1.5",
                         "m_w = b1*m + (1-b1)*g = 0.5*0.0 + 0.5*(-1.5) = -0.75",
                         "v_w = b2*v + (1-b2)*g^2 = 0.75*0.0 + 0.25*(-1.5)^2 = 0.5625"]
    assert first[3] == "bias-corrected (t = 1): m/(1-b1^t) = -1.5, v/(1-b2^t) = 2.25"
    step1 = lr * -1.5 / (1.5 + eps)
    head, value = split_last(first[4])
    assert head == "step_w = lr * m_hat / (sqrt(v_hat) + eps) = 0.5 * (-1.5) / (1.5 + 1e-08) = "
    assert value == pytest.approx(step1, rel=1e-15)
    # step 2 (t = 2): the state of step 1 enters each average
    p1 = 1.0 - step1
    g2 = -2.0 + wd * p1
    m = b1 * -0.75 + (1 - b1) * g2
    v = b2 * 0.5625 + (1 - b2) * g2 * g2
    mh, vh = m / (1 - b1**2), v / (1 - b2**2)
    assert second[1] == f"m_w = b1*m + (1-b1)*g = 0.5*(-0.75) + 0.5*({g2!r}) = {m!r}"
    assert second[2] == f"v_w = b2*v + (1-b2)*g^2 = 0.75*0.5625 + 0.25*({g2!r})^2 = {v!r}"
    assert second[3] == f"bias-corrected (t = 2): m/(1-b1^t) = {mh!r}, v/(1-b2^t) = {vh!r}"
    head, value = split_last(second[4])
    assert head == (f"step_w = lr * m_hat / (sqrt(v_hat) + eps) = 0.5 * ({mh!r}) / "
                    f"({math.sqrt(vh)!r} + 1e-08) = ")
    assert value == pytest.approx(lr * mh / (math.sqrt(vh) + eps), rel=1e-14)


def test_adam_equation():
    assert Adam().equation() == ("m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  "
                                 "p <- p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)")


# --- the exponential schedule ignores step_size ---------------------------------------------

@pytest.mark.parametrize("epoch", [0, 1, 2, 3, 4, 7])
def test_exponential_schedule_decays_every_epoch_whatever_the_step_size(epoch):
    """ExponentialLR: lr * gamma^epoch. step_size belongs to the step schedule only (StepLR:
    lr * gamma^(epoch // step_size)); with step_size = 3 the two differ from epoch 1 on."""
    assert scheduled_lr(0.8, epoch, "exponential", step_size=3, gamma=0.5) == 0.8 * 0.5**epoch
    assert scheduled_lr(0.8, epoch, "step", step_size=3, gamma=0.5) == 0.8 * 0.5**(epoch // 3)


def test_exponential_schedule_against_torch():
    torch = pytest.importorskip("torch", reason="torch cross-checks need torch")
    w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([w], lr=0.8)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    for epoch in range(6):
        assert scheduled_lr(0.8, epoch, "exponential", step_size=4, gamma=0.5) == \
            pytest.approx(opt.param_groups[0]["lr"], rel=1e-15)
        opt.step()
        sched.step()
