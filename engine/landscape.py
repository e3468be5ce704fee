"""The loss landscape over two trained scalar parameters, evaluated on a whole grid at once.

The graph is evaluated once on arrays of parameter values (``Graph.evaluate_batched``): every
grid point is a row of a leading axis, and reductions such as ``mean`` reduce over the data axes
only. A Python loop over the grid points is kept as the reference (and the fallback for graphs
that cannot be vectorised, such as those with matrix products).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import ExpressionError, NumericError
from .graph import Graph
from .run import RunConfig

# grid points x data points evaluated at once: each intermediate array stays under 128 KiB,
# in the processor's cache and below the C library's threshold for mapping fresh pages (an
# array above it costs page faults on every use: 4x slower here, measured in bench/)
CHUNK_ELEMENTS = 12_000


@dataclass
class Landscape:
    """z[i, j] is the output at (xs[j], ys[i]): the loss, or |output - target| (target rule)."""

    names: tuple[str, str]
    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    vectorised: bool


def landscape_params(graph: Graph, cfg: RunConfig) -> tuple[str, str] | None:
    """The two parameters a landscape spans, or None unless exactly two scalars are trained."""
    train = [p for p in cfg.train if np.ndim(graph.value(p)) == 0]
    if len(train) != 2 or len(cfg.train) != 2:
        return None
    return train[0], train[1]


def grid_bounds(
    path: Sequence[tuple[float, float]], margin: float = 0.25, min_span: float = 0.5,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Bounds around a trajectory: its extent plus ``margin`` of the span on every side."""
    pts = np.asarray([p for p in path if np.all(np.isfinite(p))], dtype=float)
    if pts.size == 0:
        pts = np.zeros((1, 2))
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, min_span * np.maximum(1.0, np.abs(hi + lo) / 2 * 0.2))
    mid = (lo + hi) / 2
    half = span * (0.5 + margin)
    return (mid[0] - half[0], mid[0] + half[0]), (mid[1] - half[1], mid[1] + half[1])


def compute_landscape(
    graph: Graph, cfg: RunConfig, path: Sequence[tuple[float, float]],
    nx: int = 60, ny: int = 40, *, bounds: tuple[tuple[float, float], tuple[float, float]] | None
    = None, loop: bool = False,
) -> Landscape:
    """The output over an ny x nx grid around ``path`` (other parameters at their current values).

    ``graph`` must hold the full data (not a mini-batch). ``loop=True`` forces the Python loop.
    """
    names = landscape_params(graph, cfg)
    if names is None:
        raise ValueError("a landscape needs exactly two trained scalar parameters")
    (x0, x1), (y0, y1) = bounds or grid_bounds(path)
    xs = np.linspace(x0, x1, nx)
    ys = np.linspace(y0, y1, ny)
    gx, gy = np.meshgrid(xs, ys)
    vectorised = not loop
    if vectorised:
        px, py = gx.ravel(), gy.ravel()
        # chunks of grid points small enough that every intermediate (chunk x data) is small
        size = max(1, max((int(np.size(graph.value(d))) for d in graph.data), default=1))
        chunk = max(16, CHUNK_ELEMENTS // size)
        try:
            run = graph.batched(cfg.output, names)
            with np.errstate(all="ignore"):
                z = np.concatenate([
                    run({names[0]: px[k:k + chunk], names[1]: py[k:k + chunk]})
                    for k in range(0, len(px), chunk)
                ])
        except ExpressionError:
            vectorised = False
    if not vectorised:
        z = landscape_loop(graph, cfg.output, names, gx.ravel(), gy.ravel())
    z = z.reshape(ny, nx)
    if cfg.rule == "target":
        z = np.abs(z - cfg.target)
    return Landscape(names, xs, ys, z, vectorised)


def landscape_loop(
    graph: Graph, output: str, names: tuple[str, str], px: np.ndarray, py: np.ndarray,
) -> np.ndarray:
    """The reference: set both parameters and run the graph forward at each point in turn."""
    saved = (graph.value(names[0]), graph.value(names[1]))
    out = np.empty(len(px))
    try:
        for k in range(len(px)):
            graph.set_value(names[0], float(px[k]))
            graph.set_value(names[1], float(py[k]))
            try:
                graph.forward()
                out[k] = graph.value(output)
            except NumericError:
                out[k] = np.nan
    finally:
        graph.set_value(names[0], saved[0])
        graph.set_value(names[1], saved[1])
        try:
            graph.forward()
        except NumericError:
            pass
    return out
