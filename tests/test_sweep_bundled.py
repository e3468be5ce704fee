"""The bundled sweeps show what their descriptions promise: derived where the maths allows
(closed forms, an independent linear-algebra iteration), measured where it does not (MNIST)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.scenario import load_scenario
from engine.sweep.driver import SweepRun
from engine.sweep.execute import LocalPool, make_backend
from engine.sweep.grid import Grid, parse_grid_option
from engine.sweep.plan import plan_sweep
from engine.sweep.point import ScenarioSource
from engine.sweep.rows import best_point, point_stats


def plan_of(name: str, grid: Grid | None = None):
    source = ScenarioSource.read(name)
    return plan_sweep(source, grid or source.load().sweep)


def sweep(name: str, grid: Grid | None = None, workers: int = 2) -> list[dict]:
    plan = plan_of(name, grid)
    run = SweepRun(plan)
    with make_backend(workers) as backend:
        for _ in run.run(backend):
            pass
    return run.ordered()


def test_learning_rate_sweep_the_v_the_one_step_optimum_and_divergence():
    rows = sweep("learning_rate_sweep")
    by = {r["settings"]["run.lr"]: r for r in rows}
    assert len(rows) == 110 and min(by) == 0.01 and max(by) == 1.1
    for lr, r in by.items():
        factor = abs(1 - 2 * lr)  # x_{n+1} = (1 - 2 lr) x_n
        if factor == 0:  # lr 0.5: x_1 = 0
            assert r["value"] == 1
        elif factor < 1:  # J_n = 1.44 factor^(2n) <= 1e-6
            n = math.log(1e-6 / 1.44) / (2 * math.log(factor))
            assert r["value"] == math.ceil(n) and r["stop_reason"] == "converged", lr
        elif factor == 1:  # x = +-1.2 for ever
            assert r["value"] is None and r["stop_reason"] == "max_iterations"
        else:
            assert r["value"] is None and r["stop_reason"] == "diverged", lr
    figures = {0.01: 351, 0.1: 32, 0.25: 11, 0.4: 5, 0.5: 1, 0.75: 11, 0.99: 351}
    assert {lr: by[lr]["value"] for lr in figures} == figures  # as the description says
    assert plan_of("learning_rate_sweep").best == "min"  # fewest steps
    best = best_point(point_stats(rows), "min")
    assert best.settings == {"run.lr": 0.5} and best.mean == 1
    # x_n = 1.2 * 1.2^n at lr 1.1; the run stops when J = x_n^2 overflows (the gradient's norm
    # is computed without overflow, so (dJ/dx)^2 = (2 x_n)^2 passing the largest float does not
    # stop it first)
    top = math.sqrt(np.finfo(float).max)
    n_inf = math.log(top / 1.2) / math.log(1.2)
    assert abs(by[1.1]["summary"]["updates"] - n_inf) < 1.5
    assert f"'J' became inf at iteration {math.ceil(n_inf)}" in by[1.1]["message"]


def rate(lr: float, beta: float, lam: float) -> float:
    """Distill's convergence rate of heavy-ball momentum along curvature lam: the largest
    |s| with s^2 - (1 - lr lam + beta) s + beta = 0 (the iteration matrix's eigenvalues)."""
    return float(max(abs(np.roots([1.0, -(1 - lr * lam + beta), beta]))))


def iterations_by_linear_algebra(lr: float, beta: float, tol: float, limit: int) -> int | None:
    """The first n with J(w_n) <= tol, from the linear recurrence (w, v) <- M (w, v) of each
    coordinate, M = [[1 - lr lam, -lr beta], [lam, beta]]: an iteration written independently
    of the engine's graph, rules and optimizers."""
    lams = np.array([1.0, 100.0])
    state = np.array([[1.0, 1.0], [0.0, 0.0]])  # rows: w, v; columns: x, y
    for n in range(limit + 1):
        w = state[0]
        if 0.5 * w[0] ** 2 + 50 * w[1] ** 2 <= tol:
            return n
        state = np.stack([(1 - lr * lams) * w - lr * beta * state[1], lams * w + beta * state[1]])
        if not np.all(np.isfinite(state)):
            return None
    return None


def test_momentum_map_against_the_closed_form_rates():
    rows = sweep("momentum_map")
    assert len(rows) == 16 * 20
    for r in rows:
        lr, beta = r["settings"]["run.lr"], r["settings"]["run.momentum"]
        rho = max(rate(lr, beta, 1.0), rate(lr, beta, 100.0))
        stable = all(0 < lr * lam < 2 * (1 + beta) for lam in (1.0, 100.0))
        assert (rho < 1 - 1e-12) == stable  # the region, two ways
        with np.errstate(over="ignore", invalid="ignore"):
            assert r["value"] == iterations_by_linear_algebra(lr, beta, 1e-6, 3000), (lr, beta)
        if r["value"] is not None:
            # J ~ rho^(2n) J_0: n ~ ln(tol / J_0) / (2 ln rho), up to the transient's constant
            n = math.log(1e-6 / 50.5) / (2 * math.log(rho))
            assert 0.5 * n <= r["value"] <= 1.7 * n + 5, (lr, beta, r["value"], n)
        else:
            assert not stable or rho > 0.99  # unstable, or too slow for 3,000 iterations
    by = {(r["settings"]["run.lr"], r["settings"]["run.momentum"]): r for r in rows}
    plain = min((r for r in rows if r["settings"]["run.momentum"] == 0 and r["value"]),
                key=lambda r: r["value"])
    assert (plain["settings"]["run.lr"], plain["value"]) == (0.0175, 372)
    assert by[(0.02, 0)]["stop_reason"] == "max_iterations"  # lr lam = 2: y flips for ever
    assert all(by[(lr, 0)]["stop_reason"] == "diverged" for lr in (0.0225, 0.03, 0.04))
    best = best_point(point_stats(rows), "min")
    assert best.settings == {"run.lr": 0.0325, "run.momentum": 0.7} and best.mean == 32
    kappa = 100
    lr_star = (2 / (1 + math.sqrt(kappa))) ** 2
    beta_star = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    assert abs(best.settings["run.lr"] - lr_star) <= 0.0025  # one cell of the grid
    assert abs(best.settings["run.momentum"] - beta_star) <= 0.05
    assert rate(lr_star, beta_star, 1) == pytest.approx(9 / 11, rel=1e-6)
    assert plain["value"] / best.mean > 11


def test_mnist_batch_lr_figures_of_the_description():
    """Measured (not derivable): a few cells of the map, those the description quotes.
    Accuracies on 1,000 test images, so 0.001 is one image; the margin allows a few images of
    difference between BLAS kernels."""
    name = "mnist_batch_lr"
    sc = load_scenario(name)
    assert (sc.sweep.axes[0].key, sc.sweep.axes[1].key) == ("run.lr", "run.batch_size")
    cells = [(0.01, 5), (0.01, 100), (10, 5), (10, 100), (0.1, 5), (0.3, 5), (1, 5),
             (0.3, 100), (1, 100), (3, 100), (0.1, 1), (0.3, 1)]
    acc = {}
    for lr, bs in cells:  # each cell its own one-point sweep: the points of the bundled grid
        grid = Grid((parse_grid_option(f"run.lr={lr}"), parse_grid_option(f"run.batch_size={bs}")))
        [row] = sweep(name, grid, workers=1)
        acc[(lr, bs)] = row["value"]
        assert row["stop_reason"] == "epochs" and row["summary"]["epochs"] == 5
    near = {(0.01, 100): 0.365, (10, 5): 0.226, (10, 100): 0.817, (0.3, 5): 0.904,
            (0.1, 1): 0.899, (0.3, 1): 0.848}
    for cell, figure in near.items():
        assert acc[cell] == pytest.approx(figure, abs=0.006), cell
    assert acc[(0.01, 5)] > acc[(0.01, 100)] + 0.4  # the same steps, 20 times fewer of them
    assert acc[(10, 100)] > acc[(10, 5)] + 0.5  # a large rate wants a large batch
    assert max((0.1, 0.3, 1), key=lambda lr: acc[(lr, 5)]) == 0.3
    assert max((0.3, 1, 3), key=lambda lr: acc[(lr, 100)]) == 1
    assert acc[(0.3, 1)] < acc[(0.1, 1)] - 0.03


def test_the_bundled_sweeps_pass_the_checker_and_run_on_a_pool():
    for name in ("learning_rate_sweep", "momentum_map", "mnist_batch_lr"):
        sc = load_scenario(name)
        assert sc.sweep is not None and sc.description and "--plot" in sc.description
    source = ScenarioSource.read("momentum_map")
    plan = plan_sweep(source, source.load().sweep)
    assert plan.grid.n_runs == 320 and isinstance(make_backend(2), LocalPool)
