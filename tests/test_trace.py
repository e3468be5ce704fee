"""The compact trace (engine/trace.py): records made from its rows equal the records the runner
makes state by state (``Run.step``), whichever path took the states (the fast loop of
``Run.advance`` or ``step``); chunks, drop, pop, columns and a session's parts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import trace as trace_module
from engine.records import IterationRecord
from engine.runner import Run
from engine.scenario import load_scenario, parse_scenario
from engine.trace import Layout, Trace, Traces


def stepped(sc, variant, n):  # noqa: ANN001, ANN201
    """Every record of a run stepped one state at a time (no fast loop), as before the trace."""
    run = Run(sc, variant)
    out = []
    while not run.stopped and len(out) < n:
        out.append(run.step())
    return out


def same(a: IterationRecord, b: IterationRecord) -> bool:
    """Equal records: the same JSON, and the same types (a CSV writes floats and numpy
    numbers differently)."""
    if a.to_json() != b.to_json() and repr(a.to_json()) != repr(b.to_json()):
        return False
    for k in ("params", "values", "grads", "factors", "step"):
        x, y = getattr(a, k) or {}, getattr(b, k) or {}
        if [type(v) for v in x.values()] != [type(v) for v in y.values()]:
            return False
    return type(a.output) is type(b.output) and type(a.loss) is type(b.loss)


CASES = [("rosenbrock", "adam", 300), ("beale", "momentum", 300), ("target_z", "fixed", 50),
         ("nonlinear_target", "recomputed", 50), ("regression_linear", "minibatch", 120),
         ("regression_quadratic", "adam", 80), ("learning_rates", "lr_1.0", 100)]


@pytest.mark.parametrize(("name", "variant", "n"), CASES)
def test_records_from_the_trace_equal_the_stepped_records(name: str, variant: str,
                                                           n: int) -> None:
    sc = load_scenario(name, ["run.max_iterations=" + str(n)])
    want = stepped(sc, variant, n + 1)
    run = Run(sc, variant)
    trace, summary = run.run_all()
    assert len(trace) == len(want)
    assert all(same(trace[i], want[i]) for i in range(len(want)))
    assert summary.stop_reason == Run(sc, variant).run_all()[1].stop_reason


def test_a_diverging_run_keeps_its_last_state_whole() -> None:
    sc = load_scenario("learning_rates")
    run = Run(sc, "lr_1.0")
    trace, summary = run.run_all()
    last = len(trace) - 1
    assert set(trace.odd) == {last} and trace[last].step == {}
    assert trace[last] is trace.odd[last]


def test_the_fast_loop_is_taken_and_rows_are_compact() -> None:
    sc = load_scenario("rosenbrock", ["run.tolerance=0", "run.max_iterations=200000"])
    run = Run(sc, "sgd")
    run.run_all()
    t = run.trace
    # x, y, f, loss, |grad|, lr, epoch, dx, dy, step x, step y: 11 numbers, 88 bytes a state
    assert t.layout.width == 11 and len(t) == 200_001
    assert len(t.chunks) == 200_001 // trace_module.CHUNK
    assert sum(c.nbytes for c in t.chunks) + 8 * len(t.buf) == 88 * 200_001
    assert run._fast_plan  # noqa: SLF001 - the loop that wrote them
    # x_{k+1} = x_k - lr * df/dx at x_k: the trace's numbers follow the update rule
    x, gx, sx = t.column("param:x"), t.column("grad:x"), t.column("step:x")
    assert np.array_equal(sx[:-1], x[:-1] - x[1:])
    # (x - step) is rounded to x's precision: within an ulp of x, about 2.2e-16 here
    assert np.allclose(sx[:-1], 0.001 * gx[:-1], rtol=1e-9, atol=1e-15)
    assert math.isnan(sx[-1])  # the final state took no step


def test_drop_keeps_counting_and_a_dropped_state_is_gone() -> None:
    sc = load_scenario("rosenbrock", ["run.tolerance=0", "run.max_iterations=5000"])
    run = Run(sc, "sgd", keep=False)
    assert run.advance(3000) == 3000
    kept = run.trace[2999]
    run.trace.drop()
    assert len(run.trace) == 3000 and run.trace.base == 3000
    with pytest.raises(IndexError):
        run.trace.row(2999)
    run.advance(10)
    assert run.trace[3000].iteration == 3000
    assert run.trace[3000].params["x"] == kept.params["x"] - kept.step["x"]


def test_pop_and_chunks() -> None:
    rec = IterationRecord(0, {"x": 1.0}, {"J": 1.0}, 1.0, loss=1.0, grads={"x": 2.0},
                          step={"x": 0.2}, lr=0.1, grad_norm=2.0, epoch=0, rule="gradient")
    lay = Layout.of(rec)
    assert lay is not None and lay.width == 8
    t = Trace("gradient")
    n = trace_module.CHUNK + 3
    for i in range(n):
        t.add(IterationRecord(i, {"x": float(i)}, {"J": 1.0}, 1.0, loss=1.0,
                              grads={"x": 2.0}, step={"x": 0.2}, lr=0.1, grad_norm=2.0,
                              epoch=i, rule="gradient"))
    assert len(t.chunks) == 1 and len(t) == n
    for _ in range(4):  # into the frozen chunk
        t.pop()
    assert len(t) == n - 4 and t[-1].params == {"x": float(n - 5)} and t[-1].epoch == n - 5
    assert t.column("param:x", 0, len(t), 1000).tolist() == [float(i) for i in
                                                               range(0, n - 4, 1000)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=6,
                max_size=6), st.booleans(), st.integers(0, 10**6))
def test_any_regular_record_comes_back_equal(xs: list[float], batch: bool, epoch: int) -> None:
    """A record stored as a row comes back with the same numbers (NaN stays NaN) and types."""
    rec = IterationRecord(epoch, {"w": xs[0], "b": np.array([xs[1], xs[2]])}, {"y": xs[3]},
                          xs[4], loss=xs[4], grads={"w": xs[5], "b": np.array([1.0, 2.0])},
                          step={"w": 0.5, "b": np.array([xs[0], 0.0])}, lr=0.1,
                          grad_norm=xs[2], epoch=epoch, batch=3 if batch else None,
                          rule="gradient")
    t = Trace("gradient", first=epoch)
    t.add(rec)
    assert bool(t.odd) == math.isnan(xs[4])  # a NaN loss (a diverged state) is kept whole
    got = t[0]
    assert repr(got.to_json()) == repr(rec.to_json())
    assert got.params["b"].dtype == np.float64 and got.params["b"].shape == (2,)


def test_a_session_trace_follows_its_runs() -> None:
    sc = parse_scenario('[scenario]\nname = "sq"\n[params]\nx = 1.0\n[graph]\nJ = "x**2"\n'
                        '[run]\nrule = "gradient"\noutput = "J"\nlr = 0.1\n'
                        'max_iterations = 100\n', source="<test>")
    a = Run(sc)
    a.advance(5)
    b = Run(sc, config=sc.config(None).__class__(**{**sc.config(None).__dict__, "lr": 0.2}))
    b.continue_from(a)
    b.advance(3)
    ts = Traces()
    ts.extend(a.trace)
    ts.extend(b.trace)
    assert len(ts) == 8 and [r.iteration for r in ts] == list(range(8))
    assert ts[5].lr == 0.2 and ts[4].lr == 0.1
    snap = ts.snapshot([ts[7]])
    b.advance(2)
    assert len(ts) == 10 and len(snap) == 9 and snap[8] is snap.extra[0]
    assert ts.column("lr").tolist() == [0.1] * 5 + [0.2] * 5
