"""The loss landscape: vectorised over the grid, equal to the loop over grid points."""

from __future__ import annotations

import numpy as np
import pytest

from engine.landscape import compute_landscape, grid_bounds, landscape_params
from engine.runner import Run
from engine.scenario import load_scenario


@pytest.mark.parametrize("name", ["regression_linear", "rosenbrock", "gd_two_variables",
                                  "regression_quadratic"])
def test_vectorised_grid_equals_the_loop(name):
    sc = load_scenario(name)
    cfg = sc.config(sc.default_variant())
    g = sc.build_graph()
    if landscape_params(g, cfg) is None:
        # three parameters: fix one, train two
        cfg = sc.config(sc.default_variant(), train=["w1", "w2"])
    path = [(0.0, 0.0), (1.0, 1.0)]
    a = compute_landscape(g, cfg, path, nx=23, ny=17)
    b = compute_landscape(g, cfg, path, nx=23, ny=17, loop=True)
    assert a.vectorised and not b.vectorised
    assert a.z.shape == (17, 23)
    np.testing.assert_allclose(a.z, b.z, rtol=1e-12, atol=1e-12)


def test_landscape_values_are_the_loss_at_each_point():
    sc = load_scenario("gd_two_variables")
    cfg = sc.config(None)
    land = compute_landscape(sc.build_graph(), cfg, [(3.0, 1.0)], nx=5, ny=4,
                             bounds=((-1.0, 3.0), (0.0, 1.5)))
    assert land.names == ("x", "y")
    i, j = 3, 4  # y = 1.5, x = 3
    assert land.xs[j] == 3.0 and land.ys[i] == 1.5
    assert land.z[i, j] == pytest.approx(9 + np.sin(1.5) ** 2, rel=1e-15)


def test_target_rule_landscape_is_abs_delta():
    sc = load_scenario("split_error")
    cfg = sc.config("recomputed")
    land = compute_landscape(sc.build_graph(), cfg, [(3.0, 4.0)], nx=3, ny=3,
                             bounds=((2.0, 4.0), (3.0, 5.0)))
    # at (w, b) = (3, 4): z = 162, |z - 150| = 12
    assert land.z[1, 1] == pytest.approx(12.0)


def test_no_landscape_for_one_parameter():
    sc = load_scenario("target_z")
    assert landscape_params(sc.build_graph(), sc.config("fixed")) is None
    with pytest.raises(ValueError):
        compute_landscape(sc.build_graph(), sc.config("fixed"), [(0, 0)])


def test_bounds_cover_the_trajectory():
    recs, _ = Run(load_scenario("gd_two_variables")).run_all()
    path = [(r.params["x"], r.params["y"]) for r in recs]
    (x0, x1), (y0, y1) = grid_bounds(path)
    assert x0 < min(p[0] for p in path) and x1 > max(p[0] for p in path)
    assert y0 < min(p[1] for p in path) and y1 > max(p[1] for p in path)


def test_heatmap_puts_the_largest_y_on_top_and_marks_the_path():
    from tui.plots import landscape_matrix

    xs = np.array([0.0, 1.0, 2.0])
    ys = np.array([0.0, 1.0])
    z = np.array([[1.0, 1.0, 1.0],      # y = 0: low
                  [100.0, 100.0, 100.0]])  # y = 1: high
    cells = landscape_matrix(z, {"run": [(0.0, 1.0), (2.0, 0.0)]}, xs, ys)
    top, bottom = cells
    assert sum(top[1]) > sum(bottom[1])  # high values are light: the top row is y = 1
    assert top[0] == (255, 255, 255)  # the start (0, 1): top left, white
    assert bottom[2] != bottom[1]  # the path's next point (2, 0): bottom right, coloured
