"""Two interleaving half circles: scikit-learn's ``make_moons`` definition.

With n_out = n // 2 and n_in = n - n_out: class 0 is (cos t, sin t) for n_out values of t evenly
spaced over [0, pi] (both ends included), class 1 is (1 - cos t, 1 - sin t - 0.5) for n_in
values, and ``noise`` is the standard deviation of Gaussian noise added to every coordinate.
The definition is reproduced exactly; sklearn's random stream (its shuffle and RandomState) is
not: one ``numpy.random.default_rng(seed)`` draws the noise, then the shuffle of the split.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..validate import Table
from .dataset import Dataset, Generated, classification_2d

MAX_NOISE = 10.0


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(points (n, 2), labels (n,)): the outer moon is class 0, the inner one class 1."""
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, math.pi, n_out)
    t_in = np.linspace(0.0, math.pi, n_in)
    pts = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                     np.column_stack([1.0 - np.cos(t_in), 1.0 - np.sin(t_in) - 0.5])])
    labels = np.concatenate([np.zeros(n_out, np.intp), np.ones(n_in, np.intp)])
    pts += rng.normal(0.0, noise, (n, 2)) if noise else 0.0
    return pts, labels


def build(t: Table, base_dir: Path, source: str, name: str) -> Dataset:
    """The [data] table of source "moons" (defaults: 500 points, noise 0.1, half for training)."""
    g = Generated.from_table(t, n=500, noise=0.1, max_noise=MAX_NOISE)
    rng = g.rng()
    pts, labels = moons(g.n, g.noise, rng)
    pad = 0.5 + 3 * g.noise  # the moons span [-1, 2] x [-0.5, 1], plus the noise
    plane = [(-1.0 - pad, 2.0 + pad), (-0.5 - pad, 1.0 + pad)]
    what = "scikit-learn's two moons (class 0 the outer, class 1 the inner),"
    return classification_2d(name, pts, labels, g, rng, plane, what, t.at("train_fraction"))
