"""[data] of network scenarios: every source reproducible for its seed, TensorFlow Playground's
and scikit-learn's definitions checked against their formulas, gates' truth tables, curves,
CSV files, feature expressions, validation hold-out, and one clear line for each mistake."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from engine.data import moons as moons_mod
from engine.data import playground
from engine.data.network_data import SOURCES, check_network_fits, dataset_from_table
from engine.errors import DataError, ScenarioError


def data(table: dict, base: Path = Path(".")):
    return dataset_from_table(table, base, "d.toml")


def data_error(table: dict, base: Path = Path(".")) -> str:
    with pytest.raises(DataError) as ei:
        data(table, base)
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith("d.toml: [data] ")
    return msg


def points(ds) -> tuple[np.ndarray, np.ndarray]:
    """All points (train, test and validation) and their labels."""
    parts = [(ds.raw_train, ds.y_train), (ds.raw_test, ds.y_test)]
    if ds.raw_val is not None:
        parts.append((ds.raw_val, ds.y_val))
    return np.vstack([p for p, _ in parts]), np.concatenate([y for _, y in parts])


GENERATED = ["circle", "xor", "gauss", "spiral", "moons", "curve"]


@pytest.mark.parametrize("name", GENERATED)
def test_generated_sets_are_reproducible_for_their_seed(name: str) -> None:
    table = {"source": name, "seed": 5, "noise": 0.2, "n": 300}
    a, b, c = data(table), data(table), data({**table, "seed": 6})
    for part in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, part), getattr(b, part))
    assert not np.array_equal(a.X_train, c.X_train)
    assert len(a.y_train) == 150 and len(a.y_test) == 150  # train_fraction 0.5 by default


def test_circle_follows_playgrounds_definition() -> None:
    ds = data({"source": "circle", "n": 2000, "seed": 3})
    pts, y = points(ds)
    r = np.hypot(pts[:, 0], pts[:, 1])
    assert np.array_equal(y == 1, r < 2.5)  # noise 0: the label is the radius
    assert r[y == 1].max() <= 2.5 and 3.5 <= r[y == 0].min() and r[y == 0].max() <= 5.0
    assert np.count_nonzero(y) == 1000
    assert ds.input_range == [(-6.0, 6.0), (-6.0, 6.0)]
    # noise moves the point only for its label: the same seed gives the same positions
    noisy = data({"source": "circle", "n": 2000, "seed": 3, "noise": 0.5})
    np.testing.assert_array_equal(points(noisy)[0], pts)
    flipped = np.count_nonzero(points(noisy)[1] != y)
    assert 0 < flipped < 1000


def test_circle_generator_labels_by_the_moved_point() -> None:
    """The generator's label is 1 where (x + U(-5,5) noise, y + U(-5,5) noise) lies within
    radius 2.5: redo the draws in the generator's order and compare."""
    n, noise = 400, 0.3
    pts, labels = playground.circle(n, noise, np.random.default_rng(8))
    rng = np.random.default_rng(8)
    r = np.concatenate([rng.uniform(0, 2.5, n // 2), rng.uniform(3.5, 5.0, n // 2)])
    angle = rng.uniform(0, 2 * math.pi, n)
    np.testing.assert_allclose(pts, np.column_stack([r * np.sin(angle), r * np.cos(angle)]))
    moved = pts + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    np.testing.assert_array_equal(labels, (np.hypot(*moved.T) < 2.5).astype(int))


def test_xor_follows_playgrounds_definition() -> None:
    pts, y = points(data({"source": "xor", "n": 2001, "seed": 2}))  # xor takes any n
    assert len(y) == 2001
    assert np.all(np.abs(pts) >= 0.3) and np.all(np.abs(pts) <= 5.3)
    np.testing.assert_array_equal(y, (pts[:, 0] * pts[:, 1] >= 0).astype(int))


@pytest.mark.parametrize("noise,variance", [(0.0, 0.5), (0.25, 2.25), (0.5, 4.0)])
def test_gauss_variance_grows_with_noise_as_in_playground(noise: float, variance: float) -> None:
    """Playground's variance is d3.scale.linear().domain([0, .5]).range([0.5, 4])(noise)."""
    pts, y = points(data({"source": "gauss", "n": 40000, "noise": noise, "seed": 1}))
    for label, centre in ((1, 2.0), (0, -2.0)):
        p = pts[y == label]
        assert len(p) == 20000
        np.testing.assert_allclose(p.mean(axis=0), [centre, centre], atol=0.05)
        np.testing.assert_allclose(p.var(axis=0), [variance, variance], rtol=0.03)


def test_spiral_arms_follow_playgrounds_parametrisation() -> None:
    n = 500
    pts, labels = playground.spiral(n, 0.0, np.random.default_rng(0))
    i = np.arange(n // 2)
    r = i / (n / 2) * 5
    for label, dt, rows in ((1, 0.0, slice(0, 250)), (0, math.pi, slice(250, 500))):
        t = 1.75 * i / (n / 2) * 2 * math.pi + dt
        np.testing.assert_allclose(pts[rows], np.column_stack([r * np.sin(t), r * np.cos(t)]),
                                   atol=1e-12)
        assert np.all(labels[rows] == label)
    noisy, _ = playground.spiral(n, 0.4, np.random.default_rng(0))
    assert np.all(np.abs(noisy - pts) <= 0.4) and np.abs(noisy - pts).max() > 0.35


def test_moons_follow_sklearns_definition() -> None:
    n = 101
    pts, labels = moons_mod.moons(n, 0.0, np.random.default_rng(0))
    n_out, n_in = 50, 51
    t_out, t_in = np.linspace(0, math.pi, n_out), np.linspace(0, math.pi, n_in)
    np.testing.assert_allclose(pts[:n_out], np.column_stack([np.cos(t_out), np.sin(t_out)]))
    np.testing.assert_allclose(pts[n_out:],
                               np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]))
    assert labels.tolist() == [0] * n_out + [1] * n_in
    noisy, _ = moons_mod.moons(20000, 0.2, np.random.default_rng(1))
    clean, _ = moons_mod.moons(20000, 0.0, np.random.default_rng(1))
    assert np.std(noisy - clean) == pytest.approx(0.2, rel=0.02)


@pytest.mark.parametrize("gate,outputs", [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("nand", [1, 1, 1, 0]),
    ("nor", [1, 0, 0, 0]), ("xor", [0, 1, 1, 0]),
])
def test_gates_truth_tables(gate: str, outputs: list[int]) -> None:
    ds = data({"source": "gates", "gate": gate})
    assert ds.X_train.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert ds.y_train.tolist() == outputs and ds.y_test.tolist() == outputs
    assert ds.n_classes == 2 and ds.X_val is None


def test_curve_is_the_expression_plus_noise() -> None:
    ds = data({"source": "curve", "y": "sin(x) + 0.5*x", "x_range": ["-pi", "2*pi"], "n": 400})
    x, y = points(ds)
    assert x.shape == (400, 1) and y.shape == (400, 1) and ds.regression
    assert x.min() >= -math.pi and x.max() <= 2 * math.pi
    np.testing.assert_allclose(y[:, 0], np.sin(x[:, 0]) + 0.5 * x[:, 0], rtol=1e-15)
    assert ds.input_range == [(-math.pi, 2 * math.pi)]
    noisy = data({"source": "curve", "y": "sin(x) + 0.5*x", "x_range": ["-pi", "2*pi"],
                  "n": 20000, "noise": 0.1})
    xn, yn = points(noisy)
    assert np.std(yn[:, 0] - np.sin(xn[:, 0]) - 0.5 * xn[:, 0]) == pytest.approx(0.1, rel=0.03)


def test_features_are_expressions_over_the_raw_inputs() -> None:
    ds = data({"source": "xor", "seed": 4,
               "features": ["x1", "x2", "x1*x2", "x1**2", "sin(x1)", "relu(x2 - 1)"]})
    raw = ds.raw_train
    expected = np.column_stack([raw[:, 0], raw[:, 1], raw[:, 0] * raw[:, 1], raw[:, 0] ** 2,
                                np.sin(raw[:, 0]), np.maximum(raw[:, 1] - 1, 0)])
    np.testing.assert_allclose(ds.X_train, expected, rtol=1e-15)
    assert ds.feature_names == ["x1", "x2", "x1*x2", "x1**2", "sin(x1)", "relu(x2 - 1)"]
    xs, ys, grid = ds.plane_grid(4, 3)
    assert xs.tolist() == [-6, -2, 2, 6] and ys.tolist() == [-6, 0, 6]
    assert grid.shape == (12, 6) and grid[1, :2].tolist() == [-2, -6]
    np.testing.assert_allclose(grid[:, 2], grid[:, 0] * grid[:, 1])


@pytest.mark.parametrize("features,frag", [
    (["x1", "x3"], "feature 2: unknown name 'x3' (defined names: x1, x2)"),
    (["sum(x1)"], "feature 1: call of 'sum' is not allowed (elementwise functions only: abs,"),
    (["__import__('os')"], "feature 1: call of '__import__' is not allowed"),
    (["x1.real"], "feature 1: attribute access not allowed"),
    (["x1 if x2 else 0"], "feature 1: conditional expressions not allowed"),
    ([3], "feature 1: expected an expression string"),
    ([], "key 'features': expected a list of expressions over x1, x2"),
    ("x1", "key 'features': expected a list"),
    (["log(x1)"], "feature 1 'log(x1)' has no finite value at x1 = -"),
])
def test_feature_mistakes(features, frag: str) -> None:
    msg = data_error({"source": "xor", "features": features})
    assert msg.startswith("d.toml: [data] key 'features'") and frag in msg


def test_validation_holds_out_the_last_training_examples() -> None:
    full = data({"source": "spiral", "seed": 2})
    ds = data({"source": "spiral", "seed": 2, "validation": 50})
    np.testing.assert_array_equal(ds.X_train, full.X_train[:200])
    np.testing.assert_array_equal(ds.X_val, full.X_train[200:])
    np.testing.assert_array_equal(ds.y_val, full.y_train[200:])
    np.testing.assert_array_equal(ds.raw_val, full.raw_train[200:])
    np.testing.assert_array_equal(ds.X_test, full.X_test)
    assert "the last 50 of the 250 training examples are held out" in ds.description


def test_train_fraction_splits_after_a_seeded_shuffle() -> None:
    ds = data({"source": "circle", "train_fraction": 0.8, "n": 100})
    assert len(ds.y_train) == 80 and len(ds.y_test) == 20
    together = np.vstack([ds.raw_train, ds.raw_test])
    gen, _ = playground.circle(100, 0.0, np.random.default_rng(1))
    assert sorted(map(tuple, together)) == sorted(map(tuple, gen))


@pytest.mark.parametrize("table,frag", [
    ({}, "key 'source' is missing (one of 'mnist', 'circle'"),
    ({"source": "iris"}, "key 'source': expected one of 'mnist', 'circle', 'xor'"),
    ({"source": "circle", "train_fraction": 1.0},
     "key 'train_fraction': expected a finite number in (0, 1), got 1.0"),
    ({"source": "circle", "train_fraction": 0}, "key 'train_fraction': expected a finite number in (0, 1)"),
    ({"source": "circle", "train_fraction": 0.001, "n": 100},
     "key 'train_fraction': 0.001 of 100 points leaves 0 for training and 100 for testing"),
    ({"source": "circle", "noise": 0.6}, "key 'noise': expected a finite number in [0, 0.5], got 0.6"),
    ({"source": "circle", "noise": -0.1}, "key 'noise': expected a finite number in [0, 0.5]"),
    ({"source": "moons", "noise": "high"}, "key 'noise': expected a finite number in [0, 10]"),
    ({"source": "curve", "noise": float("nan")}, "key 'noise': expected a finite number"),
    ({"source": "circle", "n": 1_000_000}, "key 'n': expected an integer in [2, 100,000]"),
    ({"source": "circle", "n": 301}, "key 'n': expected an even number (n/2 points per class)"),
    ({"source": "spiral", "n": 1}, "key 'n': expected an integer in [2, 100,000], got 1"),
    ({"source": "circle", "seed": -3}, "key 'seed': expected an integer in [0, "),
    ({"source": "circle", "validation": 250},
     "key 'validation': expected fewer than the 250 training examples, got 250"),
    ({"source": "circle", "validation": -1}, "key 'validation': expected an integer >= 0"),
    ({"source": "circle", "gate": "and"}, "key 'gate': unknown key for source 'circle'"),
    ({"source": "gates"}, "key 'gate' is missing (expected one of 'and', 'or'"),
    ({"source": "gates", "gate": "xnor"}, "key 'gate': expected one of 'and', 'or', 'nand'"),
    ({"source": "gates", "gate": "and", "validation": 1}, "unknown key for source 'gates'"),
    ({"source": "mnist", "features": ["x1"]}, "key 'features': unknown key for source 'mnist'"),
    ({"source": "mnist", "train_limit": 0}, "key 'train_limit': expected an integer >= 1"),
    ({"source": "curve", "y": "sin(t)"}, "key 'y': expression 1: unknown name 't'"),
    ({"source": "curve", "y": "log(x)"}, "key 'y': expression 1 'log(x)' has no finite value"),
    ({"source": "curve", "x_range": [1, 1]}, "key 'x_range': expected low < high, got [1, 1]"),
    ({"source": "curve", "x_range": [0]}, "key 'x_range': expected [low, high]"),
    ({"source": "curve", "x_range": ["x", 1]}, "[data] key 'x_range': unknown name 'x'"),
])
def test_mistakes(table: dict, frag: str) -> None:
    msg = data_error(table)
    assert msg.startswith("d.toml: [data] ") and frag in msg


def test_every_source_is_registered_with_a_builder() -> None:
    assert set(SOURCES) == {"mnist", "circle", "xor", "gauss", "spiral", "moons", "gates",
                            "curve", "csv"}


# --- CSV ---------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "pts.csv") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_csv_numeric_classes_and_feature_columns(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{i * 0.5},{i % 3}" for i in range(20))
    base = write(tmp_path, "a,b,kind\n" + rows + "\n")
    ds = data({"source": "csv", "file": "pts.csv", "label": "kind", "seed": 3}, base)
    assert ds.n_classes == 3 and ds.feature_names == ["a", "b"] and ds.class_names is None
    assert len(ds.y_train) == 16 and len(ds.y_test) == 4  # train_fraction 0.8 by default
    X, y = np.vstack([ds.X_train, ds.X_test]), np.concatenate([ds.y_train, ds.y_test])
    np.testing.assert_array_equal(y, X[:, 0].astype(int) % 3)
    np.testing.assert_array_equal(X[:, 1], X[:, 0] * 0.5)
    assert ds.label_where[2] == "line 4 of pts.csv"
    only_b = data({"source": "csv", "file": "pts.csv", "label": "kind", "columns": ["b"]}, base)
    assert only_b.feature_names == ["b"]


def test_csv_class_names_and_regression(tmp_path: Path) -> None:
    base = write(tmp_path, "x,y,species\n1,2,setosa\n3,4,virginica\n5,6,setosa\n7,8,versicolor\n"
                 "9,10,virginica\n")
    ds = data({"source": "csv", "file": "pts.csv", "label": "species", "train_fraction": 0.6},
              base)
    assert ds.class_names == ["setosa", "versicolor", "virginica"] and ds.n_classes == 3
    by_x = dict(zip(np.vstack([ds.X_train, ds.X_test])[:, 0].tolist(),
                    np.concatenate([ds.y_train, ds.y_test]).tolist(), strict=True))
    assert by_x == {1.0: 0, 3.0: 2, 5.0: 0, 7.0: 1, 9.0: 2}
    assert ds.label_where[1] == "'versicolor', line 5 of pts.csv"
    reg = data({"source": "csv", "file": "pts.csv", "label": "y", "columns": ["x"],
                "task": "regression", "train_fraction": 0.6}, base)
    assert reg.regression and reg.y_train.shape == (3, 1)
    np.testing.assert_array_equal(reg.y_train[:, 0], reg.X_train[:, 0] + 1)


@pytest.mark.parametrize("table,frag", [
    ({"label": "kind"}, "key 'file' is missing"),
    ({"file": "pts.csv"}, "key 'label' is missing"),
    ({"file": "nope.csv", "label": "kind"}, "key 'file': cannot read"),
    ({"file": "pts.csv", "label": "class"}, "key 'label': no column 'class' in pts.csv "
                                            "(columns: a, kind)"),
    ({"file": "pts.csv", "label": "kind", "columns": ["z"]}, "key 'columns': no column 'z'"),
    ({"file": "pts.csv", "label": "kind", "columns": ["kind"]}, "'kind' is the label column"),
    ({"file": "pts.csv", "label": "kind", "task": "ranking"},
     "key 'task': expected 'classification' or 'regression'"),
    ({"file": "pts.csv", "label": "kind", "delimiter": ";;"}, "key 'delimiter': expected one"),
])
def test_csv_mistakes(tmp_path: Path, table: dict, frag: str) -> None:
    base = write(tmp_path, "a,kind\n1,0\n2,1\n3,0\n")
    assert frag in data_error({"source": "csv", **table}, base)


def test_csv_label_that_is_not_a_class(tmp_path: Path) -> None:
    base = write(tmp_path, "a,kind\n1,0\n2,1.5\n3,0\n")
    msg = data_error({"source": "csv", "file": "pts.csv", "label": "kind"}, base)
    assert msg == ("d.toml: [data] key 'label': line 3 of pts.csv, column 'kind': '1.5' is not "
                   "a class (classes are integers 0, 1, 2, ... or names)")


# --- does a network fit the data? -------------------------------------------------------------


def fit_error(ds, layers: list[int], regression: bool = False) -> str:
    with pytest.raises(ScenarioError) as ei:
        check_network_fits(ds, layers, regression, "d.toml")
    return str(ei.value)


def test_network_must_fit_the_features_and_classes(tmp_path: Path) -> None:
    xor = data({"source": "xor", "features": ["x1", "x2", "x1*x2"]})
    check_network_fits(xor, [3, 4, 1], False, "d.toml")
    check_network_fits(xor, [3, 4, 2], False, "d.toml")  # two classes: 1 or 2 outputs
    assert fit_error(xor, [2, 4, 1]) == ("d.toml: [model] key 'layers': n_in = 2 but [data] "
                                         "gives 3 input features (x1, x2, x1*x2)")
    assert fit_error(xor, [3, 4, 3]) == ("d.toml: [model] key 'layers': n_out = 3 but [data] "
                                         "source 'xor' has 2 classes: n_out must be 1 (or 2)")
    assert "the network does regression (linear + mse) but [data] source 'xor' has 2 " \
        "classes" in fit_error(xor, [3, 1], regression=True)
    curve = data({"source": "curve"})
    check_network_fits(curve, [1, 8, 1], True, "d.toml")
    assert "does classification but [data] source 'curve' has a regression target" in \
        fit_error(curve, [1, 8, 1])
    assert "n_out = 2 but [data] has 1 regression target(s)" in fit_error(curve, [1, 2], True)
    base = write(tmp_path, "a,kind\n" + "\n".join(f"{i},{i % 4}" for i in range(12)) + "\n")
    csv = data({"source": "csv", "file": "pts.csv", "label": "kind"}, base)
    assert fit_error(csv, [1, 3]) == ("d.toml: [data] key 'label': class 3 (line 5 of pts.csv) "
                                      "can't be represented by n_out = 3 outputs (classes 0 to 2)")
    assert "can't be represented by n_out = 1 output (classes 0 to 1)" in fit_error(csv, [1, 1])
    assert "n_out = 5 but [data] source 'csv' has 4 classes: n_out must be 4" in \
        fit_error(csv, [1, 5])


def test_mnist_source_keeps_uint8_pixels_with_their_scale() -> None:
    ds = data({"source": "mnist", "train_limit": 300, "test_limit": 100, "validation": 100})
    assert ds.X_train.dtype == np.uint8 and ds.X_train.shape == (200, 784)
    assert ds.X_val.shape == (100, 784) and ds.X_test.shape == (100, 784)
    assert ds.input_scale == 1 / 255 and ds.dtype == "float32" and ds.n_classes == 10
    assert ds.raw_train is None and ds.input_range is None
    assert ds.is_subset == ("subset" in ds.description)


def test_mnist_path_is_relative_to_the_scenario(tmp_path: Path) -> None:
    msg = data_error({"source": "mnist", "path": "digits"}, tmp_path)
    assert msg.startswith("d.toml: [data] key 'path': ")
    assert str(tmp_path / "digits") in msg and "no such folder" in msg


def test_checking_without_loading_mnist_keeps_its_shape(tmp_path: Path) -> None:
    ds = dataset_from_table({"source": "mnist", "validation": 10}, tmp_path, "d.toml", load=False)
    assert ds.X_train.shape == (0, 784) and ds.n_classes == 10
    check_network_fits(ds, [784, 30, 10], False, "d.toml")
    assert "n_in = 785 but [data] gives 784 input features (pixel 0, pixel 1" in \
        fit_error(ds, [785, 10])
    # the folder is looked for when the images are loaded, not when the table is read
    nowhere = dataset_from_table({"source": "mnist", "path": "x"}, tmp_path, "d.toml", load=False)
    assert nowhere.X_train.shape == (0, 784)
    with pytest.raises(DataError, match=r"^d.toml: \[data\] key 'path': .*no such folder"):
        dataset_from_table({"source": "mnist", "path": "x"}, tmp_path, "d.toml")
    with pytest.raises(DataError, match="key 'train_limit'"):
        dataset_from_table({"source": "mnist", "train_limit": -1}, tmp_path, "d.toml", load=False)
    circle = dataset_from_table({"source": "circle"}, tmp_path, "d.toml", load=False)
    assert circle.X_train.shape == (250, 2)  # every other source is built either way


def test_a_feature_without_a_value_on_the_drawing_plane_is_nan_there() -> None:
    """Refused on the data, a feature may still have no value somewhere on the plane drawn
    around it: the grid holds NaN there (a view leaves those cells blank)."""
    ds = data({"source": "gates", "gate": "and", "features": ["x1", "log(x1 + 0.1)"]})
    np.testing.assert_allclose(ds.X_train[:, 1], np.log(ds.raw_train[:, 0] + 0.1))
    xs, _, grid = ds.plane_grid(5, 2)  # x1 = -0.5, 0, 0.5, 1, 1.5
    assert np.isnan(grid[0, 1]) and np.isfinite(grid[1:5, 1]).all()
