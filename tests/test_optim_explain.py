"""Each optimizer writes its update out with the numbers substituted, and the numbers are right."""

from __future__ import annotations

import pytest

from engine.runner import Run
from engine.scenario import parse_scenario

SQUARE = """
[params]
x = 1.5
[graph]
J = "x**2"
[run]
rule = "gradient"
output = "J"
max_iterations = 5
"""


def explained(opt: str, lr: float, extra: str = "", steps: int = 2) -> tuple[list, list[str]]:
    sc = parse_scenario(SQUARE + f'optimizer = "{opt}"\nlr = {lr}\n' + extra, "sq.toml")
    run = Run(sc, detail=True)
    recs = [run.step() for _ in range(steps)]
    r, d = recs[-1], run.last_detail
    assert d is not None and d.iteration == r.iteration
    lines = run.rule.optimizer.explain("x", r.params["x"], r.grads["x"],
                                       (d.before or {}).get("x", {}), (d.after or {}).get("x", {}),
                                       r.step["x"], num=lambda v: f"{v:.6g}")
    return recs, lines


def test_plain_sgd():
    recs, lines = explained("sgd", 0.1)
    # x = 1.5 -> 1.2 (g = 3); at x = 1.2: g = 2.4, step = 0.24
    assert lines == ["step_x = lr * g_x = 0.1 * 2.4 = 0.24", "x = 1.2 - 0.24 = 0.96"]


def test_momentum_first_and_second_step():
    _, first = explained("momentum", 0.1, steps=1)
    assert first[0] == "v_x = g_x = 3   (first step)"
    recs, lines = explained("momentum", 0.1)
    # v1 = 3, x1 = 1.5 - 0.3 = 1.2, g1 = 2.4, v2 = 0.9*3 + 2.4 = 5.1
    assert lines[0] == "v_x = momentum*v + (1-dampening)*g = 0.9*3 + 1*2.4 = 5.1"
    assert lines[1] == "step_x = lr * v_x = 0.1 * 5.1 = 0.51"
    assert lines[2] == "x = 1.2 - 0.51 = 0.69"


def test_sgd_weight_decay_line():
    _, lines = explained("sgd", 0.1, "weight_decay = 0.5\n", steps=1)
    # g' = 3 + 0.5*1.5 = 3.75, step 0.375
    assert lines[0] == "g_x <- g + weight_decay*x = 3 + 0.5*1.5 = 3.75"
    assert lines[1] == "step_x = lr * g_x = 0.1 * 3.75 = 0.375"


def test_adam_first_step_is_lr_times_the_sign():
    _, lines = explained("adam", 0.01, steps=1)
    assert lines[0] == "m_x = b1*m + (1-b1)*g = 0.9*0 + 0.1*3 = 0.3"
    assert lines[1] == "v_x = b2*v + (1-b2)*g^2 = 0.999*0 + 0.001*3^2 = 0.009"
    assert lines[2] == "bias-corrected (t = 1): m/(1-b1^t) = 3, v/(1-b2^t) = 9"
    assert lines[3].endswith("= 0.01")


def test_rmsprop_and_adagrad_lines_use_the_recorded_state():
    _, lines = explained("rmsprop", 0.01, steps=1)
    assert lines[0] == "v_x = alpha*v + (1-alpha)*g^2 = 0.99*0 + 0.01*3^2 = 0.09"
    assert lines[1] == "d_x = sqrt(v) + eps = 0.3"
    _, lines = explained("adagrad", 0.5, steps=1)
    assert lines[0] == "s_x = s + g^2 = 0 + 3^2 = 9"
    assert lines[1] == "step_x = lr_t * g / (sqrt(s) + eps) = 0.5 * 3 / (3 + 1e-10) = 0.5"


@pytest.mark.parametrize("opt", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_last_line_lands_on_the_next_record(opt):
    recs, lines = explained(opt, 0.05, steps=3)
    sc = parse_scenario(SQUARE + f'optimizer = "{opt}"\nlr = 0.05\n', "sq.toml")
    run = Run(sc)
    nxt = [run.step() for _ in range(4)][3]
    assert lines[-1].endswith(f"= {nxt.params['x']:.6g}")
