"""What a trained network looks like over its input space: a 2-D decision surface or a 1-D curve.

``decision_surface(net, ds, nx, ny)``: the network's outputs on an nx x ny grid over the data's
input plane (``Dataset.plane_grid``, through the [data] features, then ``DenseNet.output_grid``),
with what a view needs to colour it: the output's kind and range, the class each point takes,
and the training and test points. ``fitted_curve(net, ds, n)``: the network's output along the
one input of a 1-D regression, with the data. Views draw these; they compute nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..data.dataset import Dataset
    from .dense import DenseNet


@dataclass(frozen=True, eq=False)
class Surface:
    """The outputs of a network over the input plane.

    ``xs`` (nx,), ``ys`` (ny,): the grid's coordinates (raw inputs ``names``); ``outputs`` (ny,
    nx, n_out): a_L at each grid point, row 0 at the smallest y; ``output``: the output layer
    ("sigmoid", "softmax", "tanh"); ``low``/``high``: a single output's values for class 0 and
    class 1, ``threshold`` between them; ``train``/``test``: (raw inputs (N, 2), labels (N,)) of
    the training and of the test set; ``test_wrong``: which test points the network gets wrong.
    """

    xs: np.ndarray
    ys: np.ndarray
    outputs: np.ndarray
    output: str
    low: float
    high: float
    threshold: float
    names: tuple[str, str]
    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    test_wrong: np.ndarray | None = None  # (N_test,) bool: the network's class is not the label

    @property
    def classes(self) -> int:
        """How many classes the colours stand for (2 for a single output)."""
        return max(2, self.outputs.shape[2])


def has_plane(ds: Dataset) -> bool:
    """True when ``ds`` is a classification over two raw inputs (a plane to draw)."""
    return (not ds.regression and ds.input_range is not None and len(ds.input_range) == 2
            and ds.raw_train is not None)


def decision_surface(net: DenseNet, ds: Dataset, nx: int, ny: int) -> Surface:
    """The network's outputs on an nx x ny grid over ``ds``'s input plane (see Surface)."""
    if not has_plane(ds):
        raise ValueError(f"data source '{ds.source}' has no plane of two inputs to draw")
    xs, ys, grid = ds.plane_grid(nx, ny)
    out = net.output_grid(grid).astype(np.float64).reshape(ny, nx, -1)
    pair = net.pair
    raw_test = ds.raw_test if ds.raw_test is not None else np.zeros((0, 2))
    wrong = (net.predict(ds.X_test) != ds.y_test) if len(ds.y_test) else np.zeros(0, bool)
    return Surface(xs, ys, out, pair.output, pair.low, pair.high, pair.threshold,
                   (ds.raw_names[0], ds.raw_names[1]), (ds.raw_train, ds.y_train),
                   (raw_test, ds.y_test), wrong)


def has_curve(ds: Dataset) -> bool:
    """True when ``ds`` is a regression on one raw input (a curve to draw)."""
    return (ds.regression and ds.input_range is not None and len(ds.input_range) == 1
            and ds.raw_train is not None and ds.n_targets == 1)


@dataclass(frozen=True, eq=False)
class Curve:
    """A 1-D regression's fit: the network's output ``y`` (n,) along ``x`` (n,) over the input
    range, and the data, ``train`` and ``test`` as (x (N,), target (N,)); ``name``: the input."""

    x: np.ndarray
    y: np.ndarray
    name: str
    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


def fitted_curve(net: DenseNet, ds: Dataset, n: int = 200) -> Curve:
    """The network's output at ``n`` points along the input range of a 1-D regression."""
    if not has_curve(ds):
        raise ValueError(f"data source '{ds.source}' is not a regression on one input")
    (low, high), = ds.input_range  # type: ignore[misc]
    x = np.linspace(low, high, n)
    y = net.output_grid(ds.featurize(x[:, None]))[:, 0].astype(np.float64)
    raw_test = ds.raw_test if ds.raw_test is not None else np.zeros((0, 1))
    return Curve(x, y, ds.raw_names[0], (ds.raw_train[:, 0], ds.y_train[:, 0]),  # type: ignore[index]
                 (raw_test[:, 0], ds.y_test[:, 0]))


@dataclass(frozen=True, eq=False)
class NeuronMaps:
    """What each hidden neuron computes over the input space (Playground's small maps).

    ``layers``: one array per hidden layer l = 1..L-1, a_l of its first ``per_layer`` neurons:
    (k, ny, nx) over a plane (row 0 at the smallest y), or (k, n) along a 1-D input;
    ``ranges``: each layer's activation range to colour it by ((-1, 1) for tanh, (0, 1) for
    sigmoid, (0, max) for relu, the values' symmetric range for linear).
    """

    layers: list[np.ndarray]
    ranges: list[tuple[float, float]]


#: the colour range of each hidden activation (None: from the values)
_ACTIVATION_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": None, "linear": None}


def neuron_maps(net: DenseNet, ds: Dataset, nx: int, ny: int = 1, per_layer: int = 8
                ) -> NeuronMaps:
    """Each hidden neuron's activation on an nx x ny grid over ``ds``'s input plane, or at nx
    points along a 1-D input (ny is ignored): one forward pass of the grid per hidden layer."""
    if has_plane(ds):
        _, _, grid = ds.plane_grid(nx, ny)
        shape: tuple[int, ...] = (ny, nx)
    elif ds.input_range is not None and len(ds.input_range) == 1:
        (low, high), = ds.input_range
        grid = ds.featurize(np.linspace(low, high, nx)[:, None])
        shape = (nx,)
    else:
        raise ValueError(f"data source '{ds.source}' has no input plane or line to draw")
    layers, ranges = [], []
    for layer in range(1, net.L):
        a = net.hidden_activations(grid, layer)[:, :per_layer].astype(np.float64)
        layers.append(np.moveaxis(a.reshape(*shape, -1), -1, 0))
        fixed = _ACTIVATION_RANGE.get(net.acts[layer].name)
        if fixed is None:
            finite = a[np.isfinite(a)]
            top = float(np.max(np.abs(finite))) if finite.size else 1.0
            fixed = (0.0, top or 1.0) if net.acts[layer].name == "relu" else (-(top or 1.0),
                                                                              top or 1.0)
        ranges.append(fixed)
    return NeuronMaps(layers, ranges)
