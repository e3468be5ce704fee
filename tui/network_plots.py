"""The network kind's --plot: loss and accuracy per epoch, the decision boundary of a 2-D
problem (a half-block heat map, tui/heatmap.py) and the fitted curve of a 1-D regression.

Everything is drawn from records and from what the engine computed of the trained network
(``engine.models.surface``); colour only into a terminal and never with NO_COLOR.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import heatmap
from .network_report import NetworkOutcome
from .plots import draw_series

CHART_WIDTH = 80  # the epoch charts' width; the legend under the map wraps at it
MAP_COLUMNS = 64  # the decision boundary: text columns (each two grid points tall)
MAP_ROWS = 32  # text rows: 64 x 64 grid points, square in a terminal


def epoch_charts(outcomes: Sequence[NetworkOutcome], width: int = CHART_WIDTH, height: int = 18,
                 colour: bool = False) -> str:
    """Two plotext charts as text: loss per epoch (train and test), then accuracy per epoch
    (classification only). Compare draws each variant's test curves."""
    import plotext as plt

    many = len(outcomes) > 1
    text = ""
    for title, ylabel, series in (
        ("loss per epoch", "loss", (("train", lambda r: r.train_loss),
                                    ("test", lambda r: r.test_loss))),
        ("accuracy per epoch (%)", "%", (("train", lambda r: _hundred(r.train_accuracy)),
                                         ("test", lambda r: _hundred(r.test_accuracy)))),
    ):
        plt.clear_figure()
        plt.plot_size(width, height)
        plt.theme("clear")
        lines: dict[str, list[tuple[float, float]]] = {}
        for o in outcomes:
            for label, get in series:
                if many and label == "train":
                    continue  # compare: the test curves only, one per variant
                pts = [(r.epoch, get(r)) for r in o.epochs]
                pts = [(x, y) for x, y in pts if y is not None and math.isfinite(y)]
                if pts:
                    lines[f"{o.variant or 'run'} {label}" if many else label] = pts
        if not lines and ylabel == "%":
            continue
        # each line its colour and marker, whole epochs on the axis (tui/plots.py)
        draw_series(plt, lines, width)
        plt.title(title)
        plt.xlabel("epoch")
        text += _maybe_plain(plt.build(), colour) + "\n"
    plt.clear_figure()
    return text


def _hundred(x: float | None) -> float | None:
    return None if x is None else x * 100


def _maybe_plain(text: str, colour: bool) -> str:
    if colour:
        return text
    import plotext as plt

    return str(plt.uncolorize(text))


def _tick(v: float) -> str:
    return f"{v:.3g}"


def boundary_arrays(surface: Any, mark_wrong: bool = True) -> dict[str, np.ndarray]:
    """The decision surface (an ``engine.models.surface.Surface``) as arrays of text cells
    (``heatmap.half_block_arrays``): regions in their class's hue (brightness: sureness),
    training points filled, test points hollow and, with ``mark_wrong``, the test points the
    network gets wrong as a red ✗. Vectorised: the app paints it many times a second; --plot
    draws the same cells as text."""
    s = surface
    classes, sure = heatmap.classes_and_sureness(s.outputs, s.low, s.high, s.threshold)
    a = heatmap.half_block_arrays(heatmap.surface_colours(classes, sure), classes, sure)
    x_range = (float(s.xs[0]), float(s.xs[-1]))
    y_range = (float(s.ys[0]), float(s.ys[-1]))
    heatmap.place_point_arrays(a, *s.train, x_range, y_range, train=True)
    heatmap.place_point_arrays(a, *s.test, x_range, y_range, train=False)
    if mark_wrong and s.test_wrong is not None and s.test_wrong.any():
        heatmap.mark_point_arrays(a, s.test[0][s.test_wrong], x_range, y_range)
    return a


def boundary_text(surface: Any, title: str, colour: bool,
                  class_names: Sequence[str] | None = None) -> str:
    """The decision boundary as text: a framed half-block heat map of ``surface`` (an
    ``engine.models.surface.Surface`` of MAP_COLUMNS x 2 MAP_ROWS points) with the training and
    test points over it, the axes' ranges, and a legend."""
    s = surface
    rows = heatmap.cells_of(boundary_arrays(s, mark_wrong=False))
    x_range = (float(s.xs[0]), float(s.xs[-1]))
    y_range = (float(s.ys[0]), float(s.ys[-1]))
    lines = heatmap.to_ansi(rows) if colour else heatmap.to_plain(rows)
    w = len(rows[0])
    top, bottom = _tick(y_range[1]), _tick(y_range[0])
    pad = max(len(top), len(bottom), len(s.names[1]))
    out = [f"{title} (train {len(s.train[1])}, test {len(s.test[1])} points)"]
    out.append(f"{s.names[1].rjust(pad)} ┌{'─' * w}┐")
    for i, line in enumerate(lines):
        label = top if i == 0 else bottom if i == len(lines) - 1 else ""
        out.append(f"{label.rjust(pad)} │{line}│")
    out.append(f"{' ' * pad} └{'─' * w}┘")
    left, right = _tick(x_range[0]), _tick(x_range[1])
    middle = s.names[0].center(max(1, w - len(left) - len(right)))
    out.append(f"{' ' * (pad + 2)}{left}{middle}{right}")
    out.append(_wrap_legend(heatmap.legend(s.classes, colour, class_names), CHART_WIDTH))
    return "\n".join(out) + "\n"


def _wrap_legend(text: str, width: int) -> str:
    """The legend's "; "-separated entries on as many lines of ``width`` as they need (escape
    codes of a coloured legend do not count)."""
    import plotext as plt

    lines: list[str] = []
    for part in text.split("; "):
        if lines and len(plt.uncolorize(lines[-1] + "; " + part)) <= width:
            lines[-1] += "; " + part
        else:
            if lines:
                lines[-1] += ";"
            lines.append(part)
    return "\n".join(lines)


def curve_text(curve: Any, title: str, colour: bool, width: int = 80, height: int = 20) -> str:
    """The fitted curve of a 1-D regression over the training and test points (plotext)."""
    import plotext as plt

    plt.clear_figure()
    plt.plot_size(width, height)
    plt.theme("clear")
    for (x, y), label, marker in ((curve.train, "train", "•"), (curve.test, "test", "x")):
        if len(x):
            plt.scatter(x.tolist(), y.tolist(), marker=marker, label=label)
    finite = np.isfinite(curve.y)
    if finite.any():
        plt.plot(curve.x[finite].tolist(), curve.y[finite].tolist(), marker="braille",
                 label="network")
    plt.title(title)
    plt.xlabel(curve.name)
    text = _maybe_plain(plt.build(), colour) + "\n"
    plt.clear_figure()
    if not finite.all():  # a diverged network: say so under the data it could not fit
        text += (f"the network's output is not finite at {int((~finite).sum())} of "
                 f"{len(finite)} points (it diverged): not drawn\n")
    return text


def network_charts(outcomes: Sequence[NetworkOutcome], colour: bool,
                   class_names: Sequence[str] | None = None) -> str:
    """Everything --plot prints for these outcomes: the epoch charts, then each variant's
    decision boundary or fitted curve (when the engine drew one)."""
    text = epoch_charts(outcomes, colour=colour)
    for o in outcomes:
        name = o.variant or "run"
        if o.surface is not None:
            text += boundary_text(o.surface, f"decision boundary ({name})", colour,
                                  class_names)
        if o.curve is not None:
            text += curve_text(o.curve, f"fitted curve ({name})", colour)
    return text
