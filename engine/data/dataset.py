"""What a network scenario trains on: a ``Dataset`` (train/test/validation arrays and what the
views need to draw them), the seeded split, and the check that a network fits the data.

Inputs: the network sees ``X_*`` (N, n_features): the data source's raw inputs (``raw_*``, e.g.
the points (x1, x2) of a 2-D set) mapped through the [data] ``features`` expressions. Targets:
class labels (N,) ints for classification, (N, 1) floats for regression. Scaling belongs to the
source: MNIST keeps its uint8 pixels with ``input_scale = 1/255`` (the network converts a chunk
at a time: a quarter of the memory of float32), every other source gives float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError, ScenarioError
from ..limits import MAX_NETWORK_POINTS
from ..validate import Table
from .columns import Columns, checked_apply

MAX_POINTS = MAX_NETWORK_POINTS  # generated data sets and CSV rows


@dataclass(eq=False)
class Dataset:
    """Train, test and (optional) validation data with what the views and the kind need.

    source: the [data] source name; description: one or two sentences for a person;
    feature_names: the network's inputs; raw_names and raw_*: the inputs before ``features``
    (None for MNIST); n_classes: None for regression; class_names: for CSV labels given as
    text; input_range: (low, high) per raw input, the region to draw; input_scale: factor for
    integer inputs; dtype: the precision the network should use ("float64" or "float32");
    columns: the feature expressions (None: the raw inputs are the features); label_where:
    class -> where it first appears (for CSV messages); is_subset: MNIST's bundled subset.
    """

    source: str
    description: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    n_classes: int | None
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    raw_names: list[str] = field(default_factory=list)
    raw_train: np.ndarray | None = None
    raw_test: np.ndarray | None = None
    raw_val: np.ndarray | None = None
    class_names: list[str] | None = None
    input_range: list[tuple[float, float]] | None = None
    input_scale: float | None = None
    dtype: str = "float64"
    columns: Columns | None = None
    label_where: dict[int, str] = field(default_factory=dict)
    is_subset: bool = False

    @property
    def regression(self) -> bool:
        return self.n_classes is None

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_targets(self) -> int:
        """Regression target columns (1 for a curve or a CSV label); 0 for classification."""
        return self.y_train.shape[1] if self.n_classes is None else 0

    def featurize(self, raw: np.ndarray) -> np.ndarray:
        """Network inputs (N, n_features) for raw inputs (N, len(raw_names)): the drawing grid."""
        if self.columns is None:
            return np.asarray(raw, dtype=np.float64)
        return self.columns.apply(raw)

    def plane_grid(self, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For two raw inputs: (xs (nx,), ys (ny,), X (ny*nx, n_features)) over input_range,
        rows of X running over x fastest, the top row (largest y) last."""
        if self.input_range is None or len(self.input_range) != 2:
            raise ValueError(f"source '{self.source}' has no 2-D input plane")
        (x0, x1), (y0, y1) = self.input_range
        xs, ys = np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)
        gx, gy = np.meshgrid(xs, ys)
        return xs, ys, self.featurize(np.column_stack([gx.ravel(), gy.ravel()]))


def split(raw: np.ndarray, y: np.ndarray, rng: np.random.Generator, train_fraction: float,
          at: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle with ``rng`` and cut: the first floor(n * train_fraction) rows train, the rest
    test (TensorFlow Playground's split). Refuses a cut that leaves either side empty."""
    n = raw.shape[0]
    k = int(np.floor(n * train_fraction))
    if not 1 <= k <= n - 1:
        raise DataError(f"{at}: {train_fraction:g} of {n} "
                        f"points leaves {k} for training and {n - k} for testing; each needs "
                        "at least 1")
    perm = rng.permutation(n)
    return raw[perm[:k]], y[perm[:k]], raw[perm[k:]], y[perm[k:]]


def with_features(ds: Dataset, columns: Columns, at: str) -> Dataset:
    """Compute the network inputs X_* from raw_* through ``columns`` (the raw ones if identity)."""
    ds.columns = None if columns.is_identity() else columns
    ds.feature_names = list(columns.texts)
    for part in ("train", "test", "val"):
        raw = getattr(ds, f"raw_{part}")
        if raw is not None:
            X = raw if ds.columns is None else checked_apply(columns, raw, at)
            setattr(ds, f"X_{part}", X)
    return ds


def hold_out(ds: Dataset, count: int, at: str) -> Dataset:
    """Move the last ``count`` training examples to the validation set (as Nielsen keeps the
    last 10,000 of MNIST's 60,000); 0 keeps no validation set."""
    n = ds.X_train.shape[0]
    if count == 0:
        return ds
    if count >= n:
        raise DataError(f"{at}: expected fewer than the {n} "
                        f"training examples, got {count}")
    cut = n - count
    ds.description += (f" Validation: the last {count} of the {n} training examples are held "
                       f"out, {cut} train.")
    ds.X_val, ds.y_val = ds.X_train[cut:], ds.y_train[cut:]
    ds.X_train, ds.y_train = ds.X_train[:cut], ds.y_train[:cut]
    if ds.raw_train is not None:
        ds.raw_val, ds.raw_train = ds.raw_train[cut:], ds.raw_train[:cut]
    return ds


def check_network_fits(ds: Dataset, layers: list[int], regression: bool, source: str,
                       model: str = "[model]", data: str = "[data]") -> None:
    """Raise ScenarioError unless a network with ``layers`` ([n_in, ..., n_out]) and a
    regression (linear + mse) output or not fits ``ds``: n_in = the number of features, n_out =
    the number of classes (1 for two classes, or for one regression target). ``model`` and
    ``data`` name the two tables in messages ("[variants.deep.model]")."""
    n_in, n_out = layers[0], layers[-1]
    names = ds.feature_names
    listed = ", ".join(names) if len(names) <= 8 else f"{', '.join(names[:8])}, ..."
    if n_in != ds.n_features:
        raise ScenarioError(f"{source}: {model} key 'layers': n_in = {n_in} but {data} gives "
                            f"{ds.n_features} input feature{'s' if ds.n_features != 1 else ''} "
                            f"({listed})")
    if regression != ds.regression:
        what = "regression (linear + mse)" if regression else "classification"
        has = "a regression target" if ds.regression else f"{ds.n_classes} classes"
        raise ScenarioError(f"{source}: {model} keys 'output' and 'cost': the network does "
                            f"{what} but {data} source '{ds.source}' has {has}")
    if ds.regression:
        if n_out != ds.n_targets:
            raise ScenarioError(f"{source}: {model} key 'layers': n_out = {n_out} but {data} "
                                f"has {ds.n_targets} regression target(s)")
        return
    k = max(ds.n_classes or 0, 2)
    capacity = 2 if n_out == 1 else n_out  # one output separates two classes
    top = k - 1
    if top >= capacity and top in ds.label_where:
        raise ScenarioError(f"{source}: {data} key 'label': class {top} "
                            f"({ds.label_where[top]}) can't be represented by n_out = {n_out} "
                            f"output{'s' if n_out != 1 else ''} (classes 0 to {capacity - 1})")
    if not (n_out == k or (k == 2 and n_out == 1)):
        need = "1 (or 2)" if k == 2 else str(k)
        raise ScenarioError(f"{source}: {model} key 'layers': n_out = {n_out} but {data} source "
                            f"'{ds.source}' has {k} classes: n_out must be {need}")


GENERATED_KEYS = ("n", "noise", "seed", "train_fraction")


@dataclass(frozen=True)
class Generated:
    """The options every generated set shares: n points, noise, seed, train_fraction."""

    n: int
    noise: float
    seed: int
    train_fraction: float

    @classmethod
    def from_table(cls, t: Table, *, n: int, noise: float = 0.0, max_noise: float | None = None,
                   even: bool = False, train_fraction: float = 0.5) -> Generated:
        """Read the four keys of a [data] table with these defaults and limits."""
        count = t.integer("n", n, low=2, high=MAX_POINTS)
        if even and count % 2:
            raise t.fail("n", f"expected an even number (n/2 points per class), got {count}")
        return cls(
            count,
            t.number("noise", noise, 0.0, max_noise),
            t.seed("seed", 1),
            t.number("train_fraction", train_fraction, 0.0, 1.0, low_open=True, high_open=True),
        )

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def summary(self) -> str:
        return f"{self.n} points, noise {self.noise:g}, seed {self.seed}"


def classification_2d(name: str, pts: np.ndarray, labels: np.ndarray, g: Generated,
                      rng: np.random.Generator, plane: list[tuple[float, float]], what: str,
                      at: str) -> Dataset:
    """A two-class set of points (x1, x2), split by ``g.train_fraction``; features come later."""
    raw_tr, y_tr, raw_te, y_te = split(pts, labels, rng, g.train_fraction, at)
    description = (f"{name}: {what} {g.summary()}; {len(y_tr)} for training, {len(y_te)} for "
                   "testing.")
    return Dataset(name, description, raw_tr, y_tr, raw_te, y_te, ["x1", "x2"], 2,
                   raw_names=["x1", "x2"], raw_train=raw_tr, raw_test=raw_te,
                   input_range=plane)
