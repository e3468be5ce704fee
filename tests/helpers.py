"""Shared helpers for the engine and CLI tests: finite differences and scenario builders."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from engine.graph import Graph

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fd_gradient(g: Graph, output: str, param: str, h: float = 1e-6) -> Any:
    """d output / d param by central differences, elementwise for array parameters."""
    base = g.value(param)
    if isinstance(base, np.ndarray):
        base = base.copy()
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            vals = []
            for s in (+1.0, -1.0):
                p = base.copy()
                p[idx] += s * h
                g.set_value(param, p)
                g.forward()
                vals.append(float(g.value(output)))
            grad[idx] = (vals[0] - vals[1]) / (2 * h)
        g.set_value(param, base)
        g.forward()
        return grad
    vals = []
    for s in (+1.0, -1.0):
        g.set_value(param, base + s * h)
        g.forward()
        vals.append(float(g.value(output)))
    g.set_value(param, base)
    g.forward()
    return (vals[0] - vals[1]) / (2 * h)


def fd_arrays(loss: Any, params: dict[str, np.ndarray], eps: float = 1e-6) -> dict[str, Any]:
    """Central differences of ``loss()`` for every entry of every array in ``params``, each
    nudged in place and restored."""
    out = {}
    for name, p in params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = loss()
            p[i] = old - eps
            down = loss()
            p[i] = old
            g[i] = (up - down) / (2 * eps)
        out[name] = g
    return out


def check_gradients(
    params: dict[str, Any], nodes: dict[str, str], output: str,
    data: dict[str, Any] | None = None, rtol: float = 1e-5, atol: float = 1e-7,
) -> Graph:
    """Build, run forward/backward and compare every parameter's gradient with FD."""
    g = Graph.build(params, data or {}, nodes)
    g.forward()
    grads = g.gradients(output)
    for p in g.params:
        fd = fd_gradient(g, output, p)
        assert np.shape(grads[p]) == np.shape(g.value(p)), (p, np.shape(grads[p]))
        np.testing.assert_allclose(grads[p], fd, rtol=rtol, atol=atol, err_msg=f"d{output}/d{p}")
    return g


def write(path: Path, text: str) -> Path:
    """Write dedented text to ``path`` and return it."""
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


TARGET_Z = """
[scenario]
name = "tz"

[params]
w = 3.0
b = 4.0

[graph]
x = "2*w + 3*b"
y = "2*b + 1"
z = "x * y"

[run]
rule = "target"
output = "z"
target = 150.0
train = ["b"]
tolerance = 1e-5
max_iterations = 100
"""

GD_SQUARE = """
[params]
x = 1.2

[graph]
J = "x**2"

[run]
rule = "gradient"
output = "J"
lr = 0.3
tolerance = 1e-3
max_iterations = 100
"""


async def compared(pilot: Any) -> Any:
    """Wait until the compare screen in view has run its variants and filled its tables (its
    ``state``, set by the app; bounded by steps of the app, not by time). Returns the screen."""
    from tui.screens.compare import CompareScreen

    for _ in range(1000):  # the key pushed the screen: it is shown after the next refresh
        if isinstance(pilot.app.screen, CompareScreen):
            break
        await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen), screen
    await screen.workers.wait_for_complete()
    for _ in range(1000):
        if screen.state != "running":
            break
        await pilot.pause()
    assert screen.state == "drawn", screen.state
    await pilot.pause()
    return screen
