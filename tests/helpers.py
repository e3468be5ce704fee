"""Shared helpers for the engine and CLI tests: finite differences and scenario builders."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from engine.graph import Graph
from engine.run import RunConfig

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


# --- the tutorials' numbers, derived (not copied from a run) --------------------------------
#
# target_z: z = x*y with x = 2w + 3b, y = 2b + 1 and w = 3, so z(b) = 6b^2 + 15b + 6 and
# dz/db = 12b + 15 (63 at the start, b = 4: z = 162). The target rule steps b by
# delta / factor with delta = z - 150, and stops before a step once |delta| < 1e-5.


def tz_z(b: float) -> float:
    """z(b) = (2*3 + 3b)(2b + 1) = 6b^2 + 15b + 6."""
    return 6.0 * b * b + 15.0 * b + 6.0


#: the b that drives z to 150: the positive root of 6b^2 + 15b - 144 = 0
TZ_B_STAR = (-15.0 + math.sqrt(15.0**2 + 4 * 6 * 144.0)) / (2 * 6)


def tz_iterates(recomputed: bool, tol: float = 1e-5) -> list[float]:
    """b_0 = 4, b_1, ... until |z(b) - 150| < tol: the fixed factor keeps dz/db(4) = 63; the
    recomputed one is dz/db(b) = 12b + 15 at every step (Newton's method)."""
    bs = [4.0]
    while abs(tz_z(bs[-1]) - 150.0) >= tol:
        b = bs[-1]
        bs.append(b - (tz_z(b) - 150.0) / (12.0 * b + 15.0 if recomputed else 63.0))
    return bs


#: updates to convergence: 5 with the fixed factor (the error shrinks by about
#: 1 - 60.67/63 = 0.037 a step: 12 * 0.037^4 > 1e-5 > 12 * 0.037^5), 3 recomputed (Newton:
#: delta' = 6 (delta / (12b + 15))^2 exactly for a quadratic: 12 -> 0.218 -> 7.7e-5 -> 9.7e-12)
TZ_FIXED_UPDATES = len(tz_iterates(False)) - 1
TZ_RECOMPUTED_UPDATES = len(tz_iterates(True)) - 1

# gd_square: J = x^2 from x = 1.2 with lr 0.3: x_k = (1 - 2 lr)^k 1.2 = 1.2 * 0.4^k, and the run
# stops before a step once J_k = 1.44 * 0.16^k < tolerance = 1e-3: after
# ceil(log(1e-3 / 1.44) / log(0.16)) = ceil(3.97) = 4 updates, at J_4 = (1.2 * 0.4^4)^2.
GD_SQUARE_UPDATES = math.ceil(math.log(1e-3 / 1.44) / math.log(0.16))
GD_SQUARE_FINAL = (1.2 * 0.4**GD_SQUARE_UPDATES) ** 2


async def open_screen(pilot: Any, key: str, cls: type, pauses: int = 1000) -> Any:
    """Press ``key`` and let the app process messages until a ``cls`` screen is active and
    mounted (the app's own state, never a time); return it."""
    await pilot.press(key)
    for _ in range(pauses):
        screen = pilot.app.screen
        if isinstance(screen, cls) and screen.is_mounted:
            return screen
        await pilot.pause()
    raise AssertionError(f"{key} did not open a {cls.__name__}: {pilot.app.screen!r}")


#: a line y = 2x + 1 fitted by w*x + b in mini-batches of 2 with a step schedule: epochs, batch
#: order and the learning rate all show in its records
MINI_BATCH_LINE = """
    [params]
    w = 0.0
    b = 0.0

    [data]
    x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    y = [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]

    [graph]
    y_hat = "w*x + b"
    loss = "mse(y_hat, y)"

    [run]
    rule = "gradient"
    output = "loss"
    lr = 0.02
    batch_size = 2
    seed = 4
    schedule = "step"
    step_size = 1
    gamma = 0.5
    max_iterations = 40
    """


def same_records(a: list, b: list) -> None:
    """Assert two traces are the same records, compared as their JSON."""
    assert [r.to_json() for r in a] == [r.to_json() for r in b]


def target_cfg(**kw: Any) -> RunConfig:
    """target_z's target rule (drive z to 150 by changing b), with ``kw`` changed."""
    base = dict(rule="target", output="z", train=("b",), target=150.0, tolerance=1e-5,
                max_iterations=100)
    base.update(kw)
    return RunConfig(**base)


def grad_cfg(**kw: Any) -> RunConfig:
    """A gradient rule on J over x (lr 0.3), with ``kw`` changed."""
    base = dict(rule="gradient", output="J", train=("x",), lr=0.3, max_iterations=100)
    base.update(kw)
    return RunConfig(**base)


# p has one entry per row of y: it fits the full data, not a mini-batch of 2 rows
MISFIT = """
[params]
p = [1.0, 2.0, 3.0, 4.0]
[data]
y = [1.0, 2.0, 3.0, 4.0]
[graph]
J = "sum((p - y)**2)"
[run]
rule = "gradient"
output = "J"
max_iterations = 5
"""
