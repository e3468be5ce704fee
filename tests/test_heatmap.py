"""The decision boundary and the fitted curve: the engine's grid (engine.models.surface), its
rasterising into half-block cells (tui.heatmap) and ``--plot`` on the command line, in colour
only into a terminal and never with NO_COLOR."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tui.kinds.network as views
from engine.kinds.network import NetworkScenario, NetworkStream
from engine.models.surface import decision_surface, fitted_curve, has_curve, has_plane
from engine.scenario import load_scenario
from tui import heatmap
from tui.cli import main
from tui.network_plots import MAP_COLUMNS, MAP_ROWS

ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- values -> classes, sureness and colours ----------------------------------------------------


def test_one_output_diverges_from_the_threshold() -> None:
    """sigmoid: class 1 above 0.5, sure |a - 0.5| / 0.5; tanh: above 0, sure |a| (derived)."""
    out = np.array([0.0, 0.25, 0.5, 0.75, 1.0]).reshape(1, 5, 1)
    k, sure = heatmap.classes_and_sureness(out, 0.0, 1.0, 0.5)
    assert k.tolist() == [[0, 0, 0, 1, 1]]
    np.testing.assert_allclose(sure, [[1.0, 0.5, 0.0, 0.5, 1.0]])
    k, sure = heatmap.classes_and_sureness(np.array([-1.0, -0.2, 0.6]).reshape(1, 3, 1),
                                           -1.0, 1.0, 0.0)
    assert k.tolist() == [[0, 0, 1]]
    np.testing.assert_allclose(sure, [[1.0, 0.2, 0.6]])


def test_several_outputs_take_the_argmax_and_its_margin_over_chance() -> None:
    """sureness (max p - 1/k) / (1 - 1/k): 0 at a uniform output, 1 at a one-hot one."""
    out = np.array([[[0.2, 0.3, 0.5], [1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]]])
    k, sure = heatmap.classes_and_sureness(out, 0.0, 1.0, 0.5)
    assert k.tolist() == [[2, 0, 1]]
    np.testing.assert_allclose(sure, [[(0.5 - 1 / 3) / (2 / 3), 0.0, 1.0]], atol=1e-12)


def test_colours_go_from_neutral_to_the_class_hue() -> None:
    k = np.array([[0, 1, 2]])
    rgb = heatmap.surface_colours(k, np.array([[0.0, 1.0, 0.5]]))
    np.testing.assert_allclose(rgb[0, 0], heatmap.NEUTRAL)
    np.testing.assert_allclose(rgb[0, 1], np.array(heatmap.CLASS_RGB[1]) * heatmap.MAP_STRENGTH)
    mid = (np.array(heatmap.NEUTRAL) + np.array(heatmap.CLASS_RGB[2]) * heatmap.MAP_STRENGTH) / 2
    np.testing.assert_allclose(rgb[0, 2], mid)


def test_half_blocks_pack_two_grid_rows_into_one_text_row_top_first() -> None:
    """Grid row 0 is the bottom of the plane: the first text row holds rows 3 (upper half) and
    2 (lower half) of a 4-row grid."""
    ny, nx = 4, 3
    rgb = np.arange(ny * nx * 3, dtype=float).reshape(ny, nx, 3)
    k = np.zeros((ny, nx), np.intp)
    rows = heatmap.half_blocks(rgb, k, np.ones((ny, nx)))
    assert len(rows) == 2 and len(rows[0]) == 3
    assert rows[0][1].char == heatmap.UPPER
    assert rows[0][1].fg == tuple(int(v) for v in rgb[3, 1])
    assert rows[0][1].bg == tuple(int(v) for v in rgb[2, 1])
    assert rows[1][2].fg == tuple(int(v) for v in rgb[1, 2])


def test_points_land_in_their_cell_with_their_glyph() -> None:
    rows = heatmap.half_blocks(np.zeros((4, 4, 3)), np.zeros((4, 4), np.intp), np.ones((4, 4)))
    pts = np.array([[-1.0, 1.0], [0.9, -0.9], [5.0, 0.0]])  # top left, bottom right, outside
    drawn = heatmap.place_points(rows, pts, np.array([0, 1, 0]), (-1.0, 1.0), (-1.0, 1.0),
                                 train=True)
    assert drawn == 2
    assert rows[0][0].char == heatmap.glyph(0, True) == "●"
    assert rows[1][3].char == heatmap.glyph(1, True) == "▲"
    assert rows[1][3].fg == heatmap.point_rgb(1)
    heatmap.place_points(rows, np.array([[0.1, 0.1]]), np.array([1]), (-1.0, 1.0), (-1.0, 1.0),
                         train=False)
    assert rows[0][2].char == "△"  # a test point: hollow
    plain = heatmap.to_plain(rows)
    assert plain[0].startswith("●") and "\x1b" not in "".join(plain)
    ansi = heatmap.to_ansi(rows)
    assert ansi[0].startswith("\x1b[38;2;") and ANSI.sub("", ansi[0]) == plain[0].replace(
        " ", heatmap.UPPER)  # the same cells, the map as half blocks


# --- the engine's grid --------------------------------------------------------------------------


def trained(name: str, variant: str, *overrides: str) -> NetworkStream:
    sc = load_scenario(name, list(overrides))
    assert isinstance(sc, NetworkScenario)
    stream = NetworkStream(sc, variant)
    for _ in stream:
        pass
    return stream


def test_the_surface_is_the_network_on_the_plane_grid() -> None:
    st = trained("xor", "x1x2", "run.epochs=3")  # a feature x1*x2: the grid goes through it
    s = decision_surface(st.net, st.data, 8, 6)
    xs, ys, grid = st.data.plane_grid(8, 6)
    np.testing.assert_array_equal(s.xs, xs)
    np.testing.assert_array_equal(s.outputs.reshape(-1, 1), st.net.output_grid(grid))
    assert grid.shape == (48, 1)  # the network's input is x1*x2
    np.testing.assert_allclose(grid[:, 0], (s.xs[None, :] * s.ys[:, None]).ravel())
    assert (s.low, s.high, s.threshold, s.output) == (-1.0, 1.0, 0.0, "tanh")
    np.testing.assert_array_equal(s.train[0], st.data.raw_train)
    assert s.names == ("x1", "x2") and s.classes == 2


def test_the_curve_is_the_network_along_its_input() -> None:
    st = trained("sin_fit", "tanh_3", "run.epochs=2")
    assert has_curve(st.data) and not has_plane(st.data)
    c = fitted_curve(st.net, st.data, 50)
    assert c.x[0] == pytest.approx(-np.pi) and c.x[-1] == pytest.approx(np.pi)
    np.testing.assert_array_equal(c.y, st.net.output_grid(c.x[:, None])[:, 0])
    np.testing.assert_array_equal(c.train[0], st.data.raw_train[:, 0])


# --- --plot on the command line -----------------------------------------------------------------


def plot(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_plot_draws_the_decision_boundary_without_colour_off_a_terminal(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = plot(capsys, "run", "circle", "--variant", "squares", "--set", "run.epochs=5", "--plot")
    assert "\x1b[" not in out
    assert out.index("loss per epoch") < out.index("decision boundary (squares)")
    lines = out.splitlines()
    top = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("x2 ┌"))
    body = lines[top + 1 : top + 1 + MAP_ROWS]
    assert all(ln.count("│") == 2 and len(ln.split("│")[1]) == MAP_COLUMNS for ln in body)
    inside = "".join(ln.split("│")[1] for ln in body)
    # 250 training and 250 test points, several to a cell: each glyph drawn at least once
    for g in "●○▲△":
        assert g in inside
    assert "░" in inside  # class 1's region, without colour
    assert "class 0: ● train ○ test" in out and "'·' = unsure" in out


def test_plot_is_coloured_into_a_terminal_unless_no_color(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "use_color", lambda stream=None: True)
    out = plot(capsys, "run", "gauss", "--set", "run.epochs=2", "--plot")
    assert "\x1b[38;2;" in out and "\x1b[48;2;" in out  # 24-bit colours, half blocks
    assert "region orange" in out and "brighter = surer" in out


def test_use_color_honours_no_color_and_isatty(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.plots import use_color

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) is True  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False  # type: ignore[arg-type]


def test_plot_of_a_regression_draws_the_fitted_curve(capsys: pytest.CaptureFixture[str]) -> None:
    out = plot(capsys, "run", "sin_fit", "--set", "run.epochs=3", "--plot")
    assert "fitted curve (tanh_10)" in out and "decision boundary" not in out
    assert "accuracy per epoch" not in out  # a regression has no accuracy


def test_compare_plot_draws_each_variants_boundary(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    out = plot(capsys, "compare", "three_class", "--set", "run.epochs=2", "--plot")
    for v in ("softmax", "hidden", "sigmoid"):
        assert f"decision boundary ({v})" in out
    assert "class 2: ■ train □ test" in out
    assert "■" in out.split("decision boundary (softmax)")[1]


def test_plot_of_a_diverged_regression_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    out = plot(capsys, "run", "sin_fit", "--variant", "relu_10", "--set", 'run.optimizer="sgd"',
               "--set", "run.lr=1e30", "--plot")
    assert "stopped: diverged" in out
    assert "the network's output is not finite at 200 of 200 points (it diverged)" in out


def test_sureness_is_drawn_in_steps_of_one_shade() -> None:
    """Sureness 0.49 and 0.51 of one class round to the same step 8/16 (the colour of 0.5);
    0.53 rounds to 8/16 too (8.48/16) while 0.54 (8.64/16) takes the next step, 9/16."""
    k = np.ones((1, 4), np.intp)
    rgb = heatmap.surface_colours(k, np.array([[0.49, 0.51, 0.53, 0.54]]))
    top = np.array(heatmap.CLASS_RGB[1]) * heatmap.MAP_STRENGTH
    base = np.array(heatmap.NEUTRAL, np.float64)
    for col, step in enumerate((8, 8, 8, 9)):
        np.testing.assert_allclose(rgb[0, col], base + step / heatmap.SHADES * (top - base))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1.2, 1.2), st.floats(-1.2, 1.2), st.integers(0, 2),
                          st.booleans()), max_size=40),
       st.integers(1, 9), st.integers(1, 9))
def test_points_placed_on_arrays_as_on_cells(points: list, nx: int, ny: int) -> None:
    """The app's vectorised placement (several points in a cell: the last shows) draws the same
    cells as the command line's, point by point, for training then test points then marks."""
    rng = np.random.default_rng(nx * 10 + ny)
    rgb = rng.uniform(0, 255, (ny, nx, 3))
    k, sure = np.zeros((ny, nx), np.intp), np.zeros((ny, nx))
    rows = heatmap.half_blocks(rgb, k, sure)
    arrays = heatmap.half_block_arrays(rgb, k, sure)
    xy = np.array([(x, y) for x, y, _, _ in points], np.float64).reshape(-1, 2)
    labels = np.array([c for _, _, c, _ in points], np.int64)
    train = np.array([t for _, _, _, t in points], bool)
    span = (-1.0, 1.0)
    for chosen, is_train in ((train, True), (~train, False)):
        assert heatmap.place_points(rows, xy[chosen], labels[chosen], span, span, is_train) == \
            heatmap.place_point_arrays(arrays, xy[chosen], labels[chosen], span, span, is_train)
    assert heatmap.mark_points(rows, xy[::3], span, span) == \
        heatmap.mark_point_arrays(arrays, xy[::3], span, span)
    assert heatmap.cells_of(arrays) == rows
