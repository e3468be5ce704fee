"""The runner's other ways through a run: a paused row (``peek``), a run stopped from outside
(``should_stop``, on the fast loop and on ``step``), a run continued under new settings, the
check of mini-batch shapes, and the app's StepDetails when ``advance`` takes many states.

gd_square is J = x^2 from x = 1.2 with lr = 0.3: each step multiplies x by 1 - 2 * 0.3 = 0.4.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import GD_SQUARE, MISFIT

from engine.errors import ScenarioError
from engine.runner import Run
from engine.scenario import load_scenario, parse_scenario


def scenario(text: str, overrides: list[str] | None = None):  # noqa: ANN201
    return parse_scenario(text, source="t.toml", overrides=overrides)


def x_after(k: int, lr: float = 0.3, x0: float = 1.2) -> float:
    """x after k steps of x <- x - lr * 2x, rounded as the run rounds each step (a recorded
    step is old x - new x, as rounded: the runner records what the parameter moved by)."""
    x = x0
    for _ in range(k):
        x = x - lr * (2.0 * x)
    return x


# --- peek: the row a paused trace ends on -------------------------------------------------

def test_peek_is_the_current_state_without_a_step_and_changes_nothing() -> None:
    r = Run(load_scenario("gd_square"))
    r.step()
    r.step()
    before = len(r.trace)
    rec = r.peek()
    x = x_after(2)
    assert rec.iteration == 2 and rec.params == {"x": x} and rec.step == {}
    assert rec.loss == x * x and rec.grads == {"x": 2.0 * x} and rec.grad_norm == 2.0 * x
    assert rec.lr == 0.3 and rec.epoch == 2 and rec.values == {"J": x * x}
    assert len(r.trace) == before and r.iteration == 2 and not r.stopped
    nxt = r.step()  # the same state, now with its step
    assert nxt.iteration == 2 and nxt.params == rec.params and nxt.step == {"x": x - x_after(3)}
    assert nxt.loss == rec.loss


def test_peek_of_a_stopped_run_is_its_final_record() -> None:
    r = Run(load_scenario("gd_square"))
    trace, s = r.run_all()
    assert s.stop_reason == "converged"
    rec = r.peek()
    assert rec.to_json() == trace[len(trace) - 1].to_json()
    assert r.stopped and len(r.trace) == len(trace)


def test_peek_leaves_the_fixed_factor_to_the_next_step() -> None:
    # target_z's fixed variant takes dz/db at its first step. A peek before it must not fix it:
    # here w moves to 4 after the peek, so dz/db = 3y + 2x = 3*9 + 2*(2*4 + 3*4) = 67, not 63
    r = Run(load_scenario("target_z"), "fixed")
    assert r.peek().factors == {"b": 63.0}
    r.graph.set_value("w", 4.0)
    assert r.step().factors == {"b": 67.0}
    assert r.step().factors == {"b": 67.0}  # and fixed from then on
    # a peek after the first step leaves the factor fixed (b has moved: recomputed, dz/db
    # would no longer be 67)
    assert r.peek().factors == {"b": 67.0} and r.step().factors == {"b": 67.0}


def test_peek_before_any_step_is_the_start() -> None:
    r = Run(load_scenario("target_z"), "recomputed")
    rec = r.peek()
    assert rec.iteration == 0 and rec.params == {"w": 3.0, "b": 4.0} and rec.output == 162.0
    assert rec.delta == 12.0 and rec.factors == {"b": 63.0} and rec.step == {}
    assert r.last is None and len(r.trace) == 0


# --- should_stop: the next state is the last ----------------------------------------------

def counting(stop_at: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) >= stop_at

    return calls, should_stop


@pytest.mark.parametrize("detail", [False, True])
def test_should_stop_makes_the_state_it_answers_at_the_last(detail: bool) -> None:
    # asked once per state before its step: the third answer (yes) is at iteration 2
    sc = scenario(GD_SQUARE, ["run.tolerance=0"])
    _, stop = counting(3)
    r = Run(sc, should_stop=stop, detail=detail)  # type: ignore[arg-type]
    trace, s = r.run_all()
    assert s.stop_reason == "stopped" and s.updates == 2 and len(trace) == 3
    assert [trace[i].params["x"] for i in range(3)] == [1.2, x_after(1), x_after(2)]
    assert trace[2].step == {} and trace[1].step == {"x": x_after(1) - x_after(2)}
    assert s.final_params == {"x": x_after(2)}
    # the same run stepped one state at a time stops at the same state
    _, stop = counting(3)
    stepped = Run(sc, should_stop=stop)  # type: ignore[arg-type]
    recs = [stepped.step() for _ in range(3)]
    assert stepped.stopped and stepped.summary.stop_reason == "stopped"
    assert [x.to_json() for x in recs] == [trace[i].to_json() for i in range(3)]


def test_should_stop_after_many_fast_states() -> None:
    sc = scenario(GD_SQUARE, ["run.tolerance=0", "run.lr=0.001", "run.max_iterations=100000"])
    _, stop = counting(1000)
    r = Run(sc, should_stop=stop)  # type: ignore[arg-type]
    trace, s = r.run_all()
    assert r._fast_plan  # noqa: SLF001 - the fast loop took the states
    assert s.stop_reason == "stopped" and s.updates == 999 and len(trace) == 1000
    assert trace[999].params["x"] == x_after(999, 0.001) and trace[999].step == {}


# --- continued runs ------------------------------------------------------------------------

def test_a_continued_run_goes_on_from_the_old_values_iteration_and_epoch() -> None:
    sc = load_scenario("gd_square")
    a = Run(sc)
    assert a.advance(3) == 3
    b = Run(sc, config=dataclasses.replace(sc.config(None), lr=0.1))
    b.continue_from(a)
    assert b.iteration == 3 and b.trace.first == 3
    b.advance(2)
    x3 = x_after(3)
    first, second = b.trace[0], b.trace[1]  # positions in b's trace
    assert first.iteration == 3 and first.epoch == 3 and first.params == {"x": x3}
    assert first.lr == 0.1 and first.step == {"x": x3 - (x3 - 0.1 * (2.0 * x3))}
    assert second.iteration == 4 and second.epoch == 4
    assert second.params == {"x": x3 - 0.1 * (2.0 * x3)}
    assert a.graph.value("x") == x3  # the old run is left as it was


def test_resume_at_numbers_the_next_state() -> None:
    r = Run(load_scenario("gd_square"))
    r.resume_at(7)
    rec = r.step()
    assert rec.iteration == 7 and r.iteration == 8 and rec.params == {"x": 1.2}
    assert r.trace.first == 7 and r.trace[0].iteration == 7


def test_reset_forgets_the_stop_and_the_details() -> None:
    sc = scenario(GD_SQUARE, ["run.tolerance=0"])
    _, stop = counting(2)
    r = Run(sc, should_stop=stop, detail=True)  # type: ignore[arg-type]
    r.run_all()
    assert r.summary.stop_reason == "stopped" and r.details
    r.should_stop = None
    r.reset()
    assert r.details == () and r.last_detail is None and r.iteration == 0
    assert len(r.trace) == 0 and r.last is None
    trace, s = r.run_all()
    assert s.stop_reason == "max_iterations" and s.updates == 100


# --- the app's StepDetails -----------------------------------------------------------------

def test_advance_with_detail_steps_the_newest_two_states_whole() -> None:
    sc = scenario(GD_SQUARE, ["run.tolerance=0"])
    r = Run(sc, detail=True)
    assert r.advance(10) == 10
    assert [d.iteration for d in r.details] == [8, 9]
    assert r.last_detail.node_grads == {"x": 2.0 * x_after(9), "J": 1.0}
    assert r.last_detail.optimizer is r.rule.optimizer
    plain = Run(sc)
    plain.advance(10)
    assert [plain.trace[i].to_json() for i in range(10)] == \
        [r.trace[i].to_json() for i in range(10)]
    assert plain.details == ()


def test_records_yields_every_state_once() -> None:
    sc = scenario(GD_SQUARE, ["run.tolerance=0", "run.max_iterations=600"])
    got = list(Run(sc).records())
    assert [x.iteration for x in got] == list(range(601))
    assert got[-1].step == {} and got[600].params == {"x": x_after(600)}


# --- check_batches: mini-batch shapes are checked before the run --------------------------

@pytest.mark.parametrize(("size", "rows"), [(2, "2 rows"), (3, "1 row")])
def test_check_batches_names_the_mini_batch_and_puts_the_data_back(size: int, rows: str) -> None:
    # p @ y is a dot product of 4 entries: a batch of fewer rows does not fit. 4 rows in
    # batches of 3: the short last batch (1 row) is checked first
    r = Run(scenario(MISFIT.replace('"sum((p - y)**2)"', '"p @ y"'),
                     [f"run.batch_size={size}"]))
    with pytest.raises(ScenarioError) as e:
        r.check_batches()
    assert str(e.value).startswith("t.toml: [graph] node 'J': ")
    assert str(e.value).endswith(f", in a mini-batch of {rows} (batch_size = {size})")
    np.testing.assert_array_equal(r.graph.value("y"), [1.0, 2.0, 3.0, 4.0])
    assert r._batches.rows is None  # noqa: SLF001
    assert Run(scenario(MISFIT.replace('"sum((p - y)**2)"', '"p @ y"'))).step().output == 30.0


def test_a_step_on_a_mini_batch_that_does_not_fit_says_as_check_batches() -> None:
    r = Run(scenario(MISFIT, ["run.batch_size=2"]))
    with pytest.raises(ScenarioError) as e:
        r.check_batches()
    assert str(e.value) == (
        "t.toml: [graph] node 'p - y (in J)': shapes (4,), (2,) do not fit together "
        "(operands could not be broadcast together with shapes (4,) (2,) ), in a mini-batch "
        "of 2 rows (batch_size = 2)")
    with pytest.raises(ScenarioError) as again:
        r.step()
    assert str(again.value) == str(e.value)


def test_check_batches_leaves_numbers_to_the_run() -> None:
    text = MISFIT.replace("p = [1.0, 2.0, 3.0, 4.0]", "p = -1.0").replace(
        'J = "sum((p - y)**2)"', 'J = "sum(log(p) * y)"')
    r = Run(scenario(text, ["run.batch_size=2"]))
    r.check_batches()  # log(-1) is the run's business: no error here
    np.testing.assert_array_equal(r.graph.value("y"), [1.0, 2.0, 3.0, 4.0])
    trace, s = r.run_all()
    assert s.stop_reason == "diverged" and s.updates == 0 and len(trace) == 1


def test_a_full_batch_that_does_not_fit_is_refused_without_a_mini_batch() -> None:
    with pytest.raises(ScenarioError) as e:
        Run(scenario(MISFIT.replace("p = [1.0, 2.0, 3.0, 4.0]", "p = [1.0, 2.0, 3.0]"))).step()
    assert "mini-batch" not in str(e.value) and "shapes (3,), (4,)" in str(e.value)


# --- the fast loop: which states take step(), and what it hands over ----------------------

def count_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the iteration of every state that goes through ``Run.step``."""
    seen: list[int] = []
    plain = Run.step

    def step(self: Run):  # noqa: ANN202
        seen.append(self.iteration)
        return plain(self)

    monkeypatch.setattr(Run, "step", step)
    return seen


def test_only_the_first_and_the_last_state_go_through_step(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the first state fixes the trace's layout, the last is recorded whole; the fast loop takes
    # the rest (issue 13). After reset() the fast loop is taken again.
    seen = count_steps(monkeypatch)
    r = Run(scenario(GD_SQUARE, ["run.tolerance=0", "run.max_iterations=300"]))
    trace, s = r.run_all()
    assert s.stop_reason == "max_iterations" and len(trace) == 301 and seen == [0, 300]
    seen.clear()
    r.reset()
    r.run_all()
    assert seen == [0, 300]
    seen.clear()
    r.reset()
    assert r.advance(10) == 10 and r.advance(10) == 10 and r.advance(5) == 5
    assert r.advance(1) == 1
    assert seen == [0] and len(r.trace) == 26 and r.iteration == 26
    r.resume_at(50)  # a continued run: its first state fixes the new trace's layout
    assert r.advance(10) == 10 and seen == [0, 50] and r.iteration == 60


@pytest.mark.parametrize(("key", "value"), [("tolerance", 0.25), ("grad_tolerance", 1.0)])
def test_a_tolerance_met_exactly_does_not_stop_the_fast_loop(
        monkeypatch: pytest.MonkeyPatch, key: str, value: float) -> None:
    # x = 1, lr = 0.25: x halves each step, J = x^2 = 1, 0.25, 0.0625 and |dJ/dx| = 2, 1, 0.5.
    # Both tolerances are strict: at iteration 1 J = 0.25 and |grad| = 1 meet them exactly
    # and the run goes on; iteration 2 is the first below, and step() takes only that one
    seen = count_steps(monkeypatch)
    text = GD_SQUARE.replace("x = 1.2", "x = 1.0").replace("tolerance = 1e-3\n", "")
    trace, s = Run(scenario(text, ["run.lr=0.25", f"run.{key}={value}"])).run_all()
    assert s.stop_reason == "converged" and s.updates == 2
    assert [trace[i].loss for i in range(3)] == [1.0, 0.25, 0.0625]
    assert [trace[i].grad_norm for i in range(3)] == [2.0, 1.0, 0.5]
    assert seen == [0, 2]


@pytest.mark.parametrize(("graph", "x", "message"), [
    ("log(x)", "1.0", "log of a non-positive number at node 'J' at iteration 1"),
    ("sqrt(x)", "1.0", "gradient: division by zero at node 'J' at iteration 1"),
])
def test_a_state_the_fast_loop_cannot_compute_is_recorded_by_step(
        monkeypatch: pytest.MonkeyPatch, graph: str, x: str, message: str) -> None:
    # lr = 2: x1 = 1 - 2 * dJ/dx(1) = 1 - 2 = -1 for log (outside its domain), 1 - 2 * 0.5 = 0
    # for sqrt (whose derivative 1 / (2 sqrt x) divides by zero there)
    seen = count_steps(monkeypatch)
    text = GD_SQUARE.replace('J = "x**2"', f'J = "{graph}"').replace("x = 1.2", f"x = {x}")
    trace, s = Run(scenario(text.replace("tolerance = 1e-3\n", ""), ["run.lr=2.0"])).run_all()
    assert s.stop_reason == "diverged" and s.updates == 1 and s.message == message
    assert seen == [0, 1] and trace[1].step == {}


def test_should_stop_answered_once_still_ends_the_run() -> None:
    # an answer is an answer: a should_stop that says yes once (here the third time it is
    # asked) ends the run there, and it is asked once per state
    calls: list[int] = []

    def once() -> bool:
        calls.append(1)
        return len(calls) == 3

    r = Run(scenario(GD_SQUARE, ["run.tolerance=0"]), should_stop=once)
    trace, s = r.run_all()
    assert s.stop_reason == "stopped" and s.updates == 2 and len(calls) == 3


def test_the_summary_times_the_run() -> None:
    import time

    t0 = time.perf_counter()
    r = Run(load_scenario("gd_square"))
    _, s = r.run_all()
    assert 0.0 < s.seconds <= time.perf_counter() - t0


def test_a_stopped_run_says_so_when_stepped() -> None:
    r = Run(load_scenario("gd_square"))
    r.run_all()
    with pytest.raises(RuntimeError, match=r"^the run has stopped; reset\(\) to start again$"):
        r.step()


def test_a_run_that_keeps_every_state_keeps_them_after_reset_and_resume(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # keep=True (the app): a full chunk of rows is kept; keep=False (a headless run, which
    # writes its rows out): it is forgotten. Either way after reset() and resume_at()
    from engine import trace as trace_module

    monkeypatch.setattr(trace_module, "CHUNK", 64)  # rows per chunk, as small as a test needs
    n = trace_module.CHUNK
    for keep in (True, False):
        r = Run(scenario(GD_SQUARE, ["run.tolerance=0", "run.lr=1e-6",
                                     f"run.max_iterations={3 * n}"]), keep=keep)
        r.advance(n + 5)
        assert len(r.trace.chunks) == (1 if keep else 0) and len(r.trace) == n + 5
        r.reset()
        assert r.trace.rule == "gradient"
        r.advance(n + 5)
        assert len(r.trace.chunks) == (1 if keep else 0) and len(r.trace) == n + 5
        r.resume_at(n + 5)
        r.advance(n + 5)
        assert len(r.trace.chunks) == (1 if keep else 0) and r.trace.rule == "gradient"
        assert r.trace[len(r.trace) - 1].rule == "gradient"


def test_records_of_a_target_run_have_no_epoch() -> None:
    recs, _ = Run(load_scenario("target_z"), "recomputed").run_all()
    assert all(x.epoch is None and x.rule == "target" for x in recs)
    peeked = Run(load_scenario("target_z"), "recomputed").peek()
    assert peeked.epoch is None and peeked.rule == "target"


def test_a_gradient_that_cannot_be_computed_ends_a_target_run() -> None:
    # z = sqrt(b) at b = 0: z = 0 is computed, dz/db = 1 / (2 sqrt b) divides by zero
    text = """
[params]
b = 0.0
[graph]
z = "sqrt(b)"
[run]
rule = "target"
output = "z"
target = 1.0
tolerance = 1e-9
"""
    r = Run(scenario(text), detail=True)
    trace, s = r.run_all()
    assert s.stop_reason == "diverged" and s.updates == 0 and len(trace) == 1
    assert s.message == "gradient: division by zero at node 'z' at iteration 0"
    assert s.final_output == 0.0 and trace[0].output == 0.0 and trace[0].values == {"z": 0.0}
    assert r.last_detail.node_grads is None  # the app's panel: no gradients to show


def test_a_state_whose_forward_fails_is_recorded_with_its_position() -> None:
    # a mini-batch run whose first state cannot be computed: its record has no values, a NaN
    # output, and the epoch and batch of the state
    text = MISFIT.replace("p = [1.0, 2.0, 3.0, 4.0]", "p = -1.0").replace(
        'J = "sum((p - y)**2)"', 'J = "sum(log(p) * y)"')
    trace, s = Run(scenario(text, ["run.batch_size=2"])).run_all()
    rec = trace[0]
    assert s.stop_reason == "diverged" and rec.values == {} and np.isnan(rec.output)
    assert (rec.epoch, rec.batch, rec.rule) == (0, 0, "gradient")


def test_arrays_take_step_not_the_fast_loop() -> None:
    # data y is an array (its leaves are not all floats): every state goes through step()
    text = MISFIT.replace("p = [1.0, 2.0, 3.0, 4.0]", "p = 0.0")
    r = Run(scenario(text, ["run.lr=0.05"]))
    trace, _ = r.run_all()
    assert r._fast_plan is None  # noqa: SLF001
    # J = sum((p - y)^2), dJ/dp = 2 * sum(p - y) = 2 * (4p - 10)
    p = 0.0
    for i in range(len(trace)):
        assert trace[i].params == {"p": p}
        p = p - 0.05 * (2.0 * (4.0 * p - 10.0))


# --- schedules and epochs through the fast loop -------------------------------------------

SCHEDULED = """
[params]
w = 0.0
[data]
x = [1.0, 2.0, 3.0, 4.0]
[graph]
J = "sum(w * x)"
[run]
rule = "gradient"
output = "J"
lr = 0.5
schedule = "step"
gamma = 0.5
step_size = 1
epochs = 6
max_iterations = 1000
[variants.mini]
batch_size = 3
[variants.full]
"""


@pytest.mark.parametrize("fast", [True, False])
def test_the_schedule_and_the_epochs_go_on_in_a_run_continued_without_mini_batches(
        fast: bool) -> None:
    # J = sum(w * x) is linear in w, so dJ/dw is the sum of x over the batch. Two epochs of
    # mini-batches of 3 (rows 3 + 1: two iterations an epoch), then the full batch: iteration
    # 4 starts epoch 2, each iteration is an epoch, and epochs = 6 stops at iteration 8 (epoch
    # 6). lr in epoch e is 0.5 * 0.5^e (schedule "step", step_size 1)
    sc = scenario(SCHEDULED)
    a = Run(sc, "mini")
    a.advance(4)
    assert a.trace[3].epoch == 1
    b = Run(sc, "full")
    b.continue_from(a)
    if fast:
        trace, s = b.run_all()
    else:  # state by state
        while not b.stopped:
            b.step()
        trace, s = b.trace, b.summary
    assert s.stop_reason == "epochs" and s.updates == 8 and len(trace) == 5
    w = a.graph.value("w")
    for k in range(5):
        rec, e = trace[k], 2 + k
        assert (rec.iteration, rec.epoch, rec.batch) == (4 + k, e, None)
        assert rec.params == {"w": w} and rec.grads == {"w": 10.0}
        if k < 4:
            assert rec.lr == 0.5 * 0.5**e
            w = w - rec.lr * 10.0


def test_the_step_schedule_in_a_plain_run_starts_at_epoch_0() -> None:
    trace, s = Run(scenario(SCHEDULED), "full").run_all()
    assert s.stop_reason == "epochs" and s.updates == 6
    assert [trace[i].lr for i in range(6)] == [0.5 * 0.5**e for e in range(6)]
    w, got = 0.0, []
    for e in range(6):
        got.append(w)
        w -= 0.5 * 0.5**e * 10.0
    assert [trace[i].params["w"] for i in range(6)] == got


def test_advance_counts_only_the_states_it_asked_for_across_a_chunk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import trace as trace_module

    monkeypatch.setattr(trace_module, "CHUNK", 64)
    n = trace_module.CHUNK
    r = Run(scenario(GD_SQUARE, ["run.tolerance=0", "run.lr=1e-6", f"run.max_iterations={3 * n}"]))
    assert r.advance(n - 3) == n - 3
    assert r.advance(10) == 10 and len(r.trace) == n + 7  # across the chunk's end
    for i in (n - 1, n, n + 6):  # rows on both sides of the chunk's end
        assert r.trace[i].iteration == i and r.trace[i].params == {"x": x_after(i, 1e-6)}
    assert r.advance(n + 5) == n + 5 and len(r.trace) == 2 * n + 12


def test_a_schedule_in_the_fast_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # schedule "step", gamma 0.5, step_size 1: lr in epoch e (= iteration) is 0.3 * 0.5^e
    seen = count_steps(monkeypatch)
    trace, s = Run(scenario(GD_SQUARE, ["run.tolerance=0", "run.max_iterations=6",
                                        'run.schedule="step"', "run.gamma=0.5"])).run_all()
    assert seen == [0, 6] and s.updates == 6
    assert [trace[i].lr for i in range(6)] == [0.3 * 0.5**e for e in range(6)]
    x = 1.2
    for i in range(7):
        assert trace[i].params == {"x": x} and trace[i].epoch == i
        x = x - 0.3 * 0.5**i * (2.0 * x)


def test_peek_takes_no_step_detail_and_asks_nothing() -> None:
    calls: list[int] = []
    r = Run(load_scenario("gd_square"), detail=True,
            should_stop=lambda: bool(calls.append(1)))
    r.step()
    details = r.details
    assert len(calls) == 1
    r.peek()
    assert r.details is details and len(calls) == 1
