"""TensorFlow Playground's four classification sets: circle, xor, gauss, spiral.

The definitions are those of ``src/dataset.ts`` in github.com/tensorflow/playground, with
``noise`` in [0, 0.5] (Playground's slider shows it times 100) and Playground's labels +1 and -1
as classes 1 and 0. Points lie within [-6, 6]^2, the square Playground draws:

    circle  n/2 points with r ~ U(0, 2.5) and n/2 with r ~ U(3.5, 5), angle ~ U(0, 2 pi),
            (x, y) = (r sin angle, r cos angle); the label is +1 where the point moved by
            U(-5, 5) * noise in each coordinate lies within radius 2.5 of the origin (noise
            flips labels near the rim, the points stay where they are).
    xor     x, y ~ U(-5, 5), each pushed 0.3 away from 0 (x > 0: +0.3, else -0.3); label +1
            where (x + nx)(y + ny) >= 0, with nx, ny ~ U(-5, 5) * noise.
    gauss   n/2 points ~ N((2, 2), v I) labelled +1 and n/2 ~ N((-2, -2), v I) labelled -1,
            variance v = 0.5 + 7 noise (Playground's linear scale from [0, 0.5] to [0.5, 4]).
    spiral  two arms of n/2 points, i = 0 .. n/2 - 1: r = 5 i / (n/2),
            t = 1.75 * 2 pi i / (n/2) + dt (dt = 0 for +1, pi for -1),
            (x, y) = (r sin t + U(-1, 1) noise, r cos t + U(-1, 1) noise).

What is reproduced exactly is the definition (the distribution of points and labels); what
cannot be is Playground's random stream (seedrandom's ARC4 in a browser), so a seed here does
not give the points a Playground URL's seed gives. Here one ``numpy.random.default_rng(seed)``
draws the positions first and the noise after, so the same seed gives the same points at any
noise (for circle and xor, noise only changes labels, as in Playground).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..validate import Table
from .dataset import Dataset, Generated, classification_2d

PLANE = [(-6.0, 6.0), (-6.0, 6.0)]  # the region Playground draws
MAX_NOISE = 0.5


def circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(points (n, 2), labels (n,) 0/1): n/2 inside radius 2.5, n/2 in the ring 3.5..5."""
    radius = 5.0
    half = n // 2
    r = np.concatenate([rng.uniform(0.0, radius * 0.5, half),
                        rng.uniform(radius * 0.7, radius, n - half)])
    angle = rng.uniform(0.0, 2 * math.pi, n)
    pts = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    moved = pts + rng.uniform(-radius, radius, (n, 2)) * noise
    labels = (np.hypot(moved[:, 0], moved[:, 1]) < radius * 0.5).astype(np.intp)
    return pts, labels


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(points, labels): the four quadrants, class 1 where x y >= 0, a 0.3 gap at the axes."""
    pts = rng.uniform(-5.0, 5.0, (n, 2))
    pts += np.where(pts > 0, 0.3, -0.3)
    moved = pts + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    labels = (moved[:, 0] * moved[:, 1] >= 0).astype(np.intp)
    return pts, labels


def gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(points, labels): class 1 around (2, 2), class 0 around (-2, -2), variance 0.5 + 7 noise."""
    std = math.sqrt(0.5 + 7.0 * noise)
    half = n // 2
    pos = rng.normal(2.0, std, (half, 2))
    neg = rng.normal(-2.0, std, (n - half, 2))
    labels = np.concatenate([np.ones(half, np.intp), np.zeros(n - half, np.intp)])
    return np.vstack([pos, neg]), labels


def spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(points, labels): two interleaved arms, class 1 from angle 0, class 0 from angle pi."""
    half = n // 2
    arms, labels = [], []
    for count, dt, label in ((half, 0.0, 1), (n - half, math.pi, 0)):
        i = np.arange(count)
        r = i / count * 5.0
        t = 1.75 * i / count * 2 * math.pi + dt
        arms.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        labels.append(np.full(count, label, np.intp))
    pts = np.vstack(arms)
    pts += rng.uniform(-1.0, 1.0, (n, 2)) * noise
    return pts, np.concatenate(labels)


#: name -> generator(n, noise, rng) -> (points (n, 2), labels (n,) in {0, 1})
GENERATORS = {"circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral}


_WHAT = {
    "circle": "TensorFlow Playground's circle (class 1 within radius 2.5, class 0 in the ring "
              "3.5 to 5),",
    "xor": "TensorFlow Playground's xor (class 1 where x1 x2 >= 0),",
    "gauss": "TensorFlow Playground's two Gaussians (class 1 around (2, 2), class 0 around "
             "(-2, -2)),",
    "spiral": "TensorFlow Playground's two spiral arms,",
}


def build(t: Table, base_dir: Path, source: str, name: str) -> Dataset:
    """The [data] table of source circle, xor, gauss or spiral (Playground's defaults: 500
    points, noise 0, half for training)."""
    g = Generated.from_table(t, n=500, max_noise=MAX_NOISE, even=name != "xor")
    rng = g.rng()
    pts, labels = GENERATORS[name](g.n, g.noise, rng)
    return classification_2d(name, pts, labels, g, rng, PLANE, _WHAT[name],
                             t.at("train_fraction"))
