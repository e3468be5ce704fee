"""The network screen's layers panel and charts, drawn from a Frame (tui/network_frame.py).

``layers_renderable``: per layer W's shape and norm, ‖δ‖ and ‖∂C/∂b‖ of the last mini-batch,
then each layer's speed of learning per epoch (``layer_grad_norm`` of the epoch records) as a
spark line, so that a vanishing gradient shows. ``draw_curves``: loss (train, test, validation;
the mini-batches' losses between epochs) and accuracy per epoch into two PlotextPlot widgets;
``draw_curve``: a 1-D regression's fit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..formatting import fmt_sig
from ..plots import draw_series
from .mnist_panels import LAYER_CAPTION, equations
from .network_panels import speed_lines

SLOTS = {"batch": 0, "train": 1, "test": 2, "validation": 3}  # one style each, both charts
MAX_LOSS_POINTS = 150  # the batch-loss curve averages batch losses into at most this many points


def loss_curve(points: list[tuple[float, float]], limit: int) -> tuple[list[float], list[float]]:
    """Return (x, y) of the finite points, averaged in consecutive groups to at most ``limit``."""
    pts = np.array([p for p in points if math.isfinite(p[1])], dtype=float).reshape(-1, 2)
    if len(pts) > limit:
        groups = np.array_split(pts, limit)
        pts = np.array([g.mean(axis=0) for g in groups])
    return pts[:, 0].tolist(), pts[:, 1].tolist()


def layers_renderable(f: Any, config: Any = None) -> RenderableType:
    """Which data, the layers table of the last mini-batch, the speeds per epoch and (given the
    model's ``config``) the four equations as this network's output, cost and activations make
    them, for a Frame ``f``."""
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, show_edge=False,
                  collapse_padding=True, title="last mini-batch", title_style="dim",
                  title_justify="left", caption=LAYER_CAPTION, caption_style="dim",
                  caption_justify="left")
    # the two norms of delta differ on purpose (the caption says over what each is taken)
    for i, h in enumerate(("l", "W", "‖W‖", "avg‖δ‖", "‖∂C/∂b‖")):
        table.add_column(h, justify="left" if i < 2 else "right", no_wrap=True)
    for s in f.stats:
        table.add_row(str(s["layer"]), "×".join(str(d) for d in s["W_shape"]),
                      fmt_sig(s["W_norm"], 3), fmt_sig(s["delta_norm"], 3),
                      fmt_sig(s["grad_b_norm"], 3))
    if not f.stats:
        for l in range(1, len(f.sizes)):
            table.add_row(str(l), f"{f.sizes[l]}×{f.sizes[l - 1]}", "", "", "")
    head = Text("speed of learning ‖∂C/∂bˡ‖ per epoch (log, 1st → last)", "dim")
    parts: list[RenderableType] = [Text(f"data: {f.description}", "dim"), table, head,
                                   *speed_lines(f.epochs)]
    if config is not None:
        parts += [Text(""), equations(config.pair.bp1_formula, config.output, config.cost,
                                      config.activations)]
    return Group(*parts)


def _points(xs: list[int], ys: list[float | None]) -> list[tuple[float, float]]:
    return [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None and math.isfinite(y)]


def draw_curves(loss_plot: Any, acc_plot: Any, f: Any) -> None:
    """Loss per epoch (train, test, validation) and accuracy per epoch (classification): each
    series its colour and its marker (not told apart by colour alone), whole epochs on the axis."""
    xs = [r.epoch for r in f.epochs]
    plt = loss_plot.plt
    plt.clear_data()
    plt.theme("clear")
    plt.title("loss per epoch")
    bx, by = loss_curve(f.batch_losses, MAX_LOSS_POINTS)
    series = {"batch": list(zip(bx, by, strict=True)),
              "train": _points(xs, [r.train_loss for r in f.epochs]),
              "test": _points(xs, [r.test_loss for r in f.epochs]),
              "validation": _points(xs, [r.validation_loss for r in f.epochs])}
    draw_series(plt, {k: v for k, v in series.items() if v}, loss_plot.size.width, SLOTS)
    loss_plot.refresh()
    plt = acc_plot.plt
    plt.clear_data()
    plt.theme("clear")
    classification = bool(f.epochs) and f.epochs[0].train_accuracy is not None
    acc_plot.display = classification or not f.epochs
    plt.title("accuracy per epoch (%)")

    def pct(x: float | None) -> float | None:
        return None if x is None else x * 100

    series = {"train": _points(xs, [pct(r.train_accuracy) for r in f.epochs]),
              "test": _points(xs, [pct(r.test_accuracy) for r in f.epochs]),
              "validation": _points(xs, [pct(r.validation_accuracy) for r in f.epochs])}
    draw_series(plt, {k: v for k, v in series.items() if v}, acc_plot.size.width, SLOTS)
    acc_plot.refresh()


def draw_curve(plot: Any, curve: Any) -> None:
    """A 1-D regression: the training and test points and the network's output along x."""
    plt = plot.plt
    plt.clear_data()
    plt.title("fitted curve")
    for (x, y), label, marker in ((curve.train, "train", "•"), (curve.test, "test", "x")):
        if len(x):
            plt.scatter(x.tolist(), y.tolist(), marker=marker, label=label)
    keep = [(a, b) for a, b in zip(curve.x.tolist(), curve.y.tolist(), strict=True)
            if math.isfinite(b)]
    if keep:
        plt.plot([a for a, _ in keep], [b for _, b in keep], marker="braille", label="network")
    plot.refresh()
