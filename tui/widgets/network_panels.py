"""Rich renderables of the network screen: the decision boundary, the neurons' maps, a neuron's
incoming weights, BP1-BP4 with numbers substituted, the layers' speeds.

Pure functions of what a Frame holds (tui/network_frame.py; no Textual), so tests read them
directly. Colours follow tui/heatmap.py: class hues, brightness = how sure the network is; a
neuron's map diverges from orange (its lowest activation) through a dark neutral to blue.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from .. import heatmap
from ..formatting import fmt
from ..network_plots import boundary_arrays
from .cell_strips import array_segments, cell_style

NEG: heatmap.RGB = heatmap.CLASS_RGB[0]  # a neuron's low activations: Playground's orange
POS: heatmap.RGB = heatmap.CLASS_RGB[1]  # its high ones: blue
MAX_WEIGHTS = 8  # a neuron's incoming weights printed one by one (more: their norm and extremes)


def cells_text(rows: Sequence[Sequence[heatmap.Cell]]) -> list[Text]:
    """Half-block cells as rich Text lines (24-bit colour, consecutive equal styles merged)."""
    lines = []
    for row in rows:
        t = Text(no_wrap=True, overflow="crop")
        for c in row:
            t.append(c.char, cell_style(c.fg, c.bg))
        lines.append(t)
    return lines


def boundary_cells(surface: Any) -> list[list[heatmap.Cell]]:
    """The decision surface as rows of cells (see ``boundary_arrays``)."""
    return heatmap.cells_of(boundary_arrays(surface))


def boundary_lines(surface: Any) -> list[Text]:
    """The decision surface as rich Text rows (see ``boundary_cells``)."""
    return cells_text(boundary_cells(surface))


def boundary_legend(surface: Any, names: Sequence[str] | None = None) -> Text:
    """One line: each class's glyphs (training, test) in its colour, ✗ = a wrong test point."""
    t = Text(no_wrap=True, overflow="ellipsis")
    for k in range(surface.classes):
        name = names[k] if names is not None and k < len(names) else str(k)
        t.append(f"{heatmap.glyph(k, True)}{heatmap.glyph(k, False)} {name}  ",
                 Style(color=f"rgb{heatmap.point_rgb(k)}"))
    wrong = int(surface.test_wrong.sum()) if surface.test_wrong is not None else 0
    t.append(f"{heatmap.WRONG} wrong test ({wrong})", Style(color=f"rgb{heatmap.WRONG_RGB}"))
    return t


def _diverging(v: np.ndarray, low: float, high: float) -> np.ndarray:
    """RGB (..., 3) of values ``v`` in [low, high]: orange at low, neutral mid-way, blue high."""
    mid = (low + high) / 2
    half = (high - low) / 2 or 1.0
    t = np.clip(np.nan_to_num((v - mid) / half), -1.0, 1.0)
    base = np.asarray(heatmap.NEUTRAL, np.float64)
    neg = np.asarray(NEG, np.float64) * 0.8
    pos = np.asarray(POS, np.float64) * 0.9
    out = base + np.where(t[..., None] < 0, -t[..., None] * (neg - base),
                          t[..., None] * (pos - base))
    return out


def neuron_arrays(values: np.ndarray, low: float, high: float, w: int, h: int
                  ) -> dict[str, np.ndarray]:
    """One neuron's map (ny, nx) of activations, or its curve (n,), as h rows of w cells held as
    arrays ("chars", "fg", "bg": see ``heatmap.half_block_arrays``)."""
    if values.ndim == 1:  # along a line: a bar per column, as tall as the activation
        v = values[np.linspace(0, len(values) - 1, w).round().astype(int)]
        frac = np.clip(np.nan_to_num((v - low) / ((high - low) or 1.0)), 0.0, 1.0)
        level = (h - np.arange(h) - 0.5) / h  # the height each text row stands for
        chars = np.where(frac[None, :] >= level[:, None], "█", " ")
        return {"chars": chars,
                "fg": np.broadcast_to(np.asarray(heatmap.class_rgb(1)), (h, w, 3)),
                "bg": np.broadcast_to(np.asarray(heatmap.NEUTRAL), (h, w, 3))}
    ny, nx = values.shape
    xi = np.linspace(0, nx - 1, w).round().astype(int)
    yi = np.linspace(0, ny - 1, 2 * h).round().astype(int)
    rgb = _diverging(values[np.ix_(yi, xi)], low, high)
    none = np.zeros(rgb.shape[:2])
    return heatmap.half_block_arrays(rgb, none.astype(np.intp), none)


def neuron_cells(values: np.ndarray, low: float, high: float, w: int, h: int
                 ) -> list[list[heatmap.Cell]]:
    """One neuron's map as rows of cells (see ``neuron_arrays``)."""
    a = neuron_arrays(values, low, high, w, h)
    zeros = np.zeros(a["chars"].shape)
    return heatmap.cells_of({**a, "klass": zeros.astype(np.intp), "sure": zeros})


def neuron_strips(maps: Any, sizes: Sequence[int], layer: int, neuron: int, width: int,
                  map_w: int = 10, map_h: int = 5) -> list[list[Segment]]:
    """Every hidden layer's neurons (up to 8 each) side by side, a row of maps per layer, the
    selected one framed by ▶ ◀, as lines of Segments; the maps shrink to fit ``width``
    columns, and where even the smallest do not fit side by side they continue on the next row;
    the sentences wrap at ``width``."""
    bold, dim, chosen_style = Style(bold=True), Style(dim=True), Style.parse("bold yellow")
    lines: list[list[Segment]] = []

    def say(text: str, style: Style) -> None:
        lines.extend([Segment(part, style)] for part in textwrap.wrap(text, max(10, width)))

    for l, (values, (low, high)) in enumerate(zip(maps.layers, maps.ranges, strict=True),
                                             start=1):
        k = values.shape[0]
        w = max(3, min(map_w, width // max(1, k) - 2))
        h = max(2, min(map_h, (w + 1) // 2))
        per_row = max(1, width // (w + 2))  # a map and its two markers
        more = f" (first {k} of {sizes[l]})" if sizes[l] > k else ""
        say(f"layer {l}: {sizes[l]} neurons{more}", bold)
        maps_rows = [array_segments(neuron_arrays(values[j], low, high, w, h)) for j in range(k)]
        for first in range(0, k, per_row):
            shown = range(first, min(k, first + per_row))
            for r in range(h):
                line: list[Segment] = []
                for j in shown:
                    mark = l == layer and j == neuron and r == h // 2
                    line.append(Segment("▶" if mark else " ", chosen_style))
                    line += maps_rows[j][r]
                    line.append(Segment("◀" if mark else " ", chosen_style))
                lines.append(line)
            lines.append([Segment(f" {f'{l}.{j + 1}':^{w}} ",
                                  chosen_style if (l, j) == (layer, neuron) else dim)
                          for j in shown])
    if not maps.layers:
        say("no hidden layer: the output is a function of the inputs", dim)
    say(f"colour: {heatmap.CLASS_NAMES[0]} low → dark → {heatmap.CLASS_NAMES[1]} high "
        "activation", dim)
    return lines


def neuron_lines(maps: Any, sizes: Sequence[int], layer: int, neuron: int, width: int,
                 map_w: int = 10, map_h: int = 5) -> list[Text]:
    """``neuron_strips`` as rich Text lines (for a Static, an export)."""
    return [Text.assemble(*((seg.text, seg.style) for seg in line), no_wrap=True,
                          overflow="crop")
            for line in neuron_strips(maps, sizes, layer, neuron, width, map_w, map_h)]


def incoming_text(incoming: tuple[np.ndarray, float] | None, layer: int, neuron: int,
                  sizes: Sequence[int], names: Sequence[str] | None = None) -> Text:
    """The selected neuron's incoming weights w_jk (one per input k) and its bias b_j."""
    t = Text()
    what = "output" if layer == len(sizes) - 1 else "hidden"
    t.append(f"neuron {layer}.{neuron + 1} ({what}, layer {layer} of {len(sizes) - 1})\n",
             "bold")
    if incoming is None:
        return t
    w, b = incoming
    src = "input" if layer == 1 else f"neuron {layer - 1}."
    if w.size <= MAX_WEIGHTS:
        for k, x in enumerate(w):
            label = (names[k] if layer == 1 and names is not None and k < len(names)
                     else f"{src}{k + 1}" if layer > 1 else f"x{k + 1}")
            t.append(f"  w from {label:<9} {fmt(float(x), 4):>10}\n",
                     "rgb(100,160,230)" if x >= 0 else "rgb(245,150,60)")
    else:
        top = int(np.argmax(w))
        bottom = int(np.argmin(w))
        t.append(f"  {w.size} weights: ‖w‖ = {fmt(float(np.linalg.norm(w)), 4)}, largest "
                 f"{fmt(float(w[top]), 4)} (from {top + 1}), smallest {fmt(float(w[bottom]), 4)}"
                 f" (from {bottom + 1})\n")
    t.append(f"  bias b          {fmt(b, 4):>10}")
    return t


def _vec(xs: Sequence[float], limit: int = 4) -> str:
    """A short vector: its first ``limit`` numbers, then how many more."""
    shown = ", ".join(fmt(x, 4) for x in xs[:limit])
    return f"[{shown}{f', … +{len(xs) - limit}' if len(xs) > limit else ''}]"


def bp_text(bp: dict[str, Any] | None, error: str = "") -> Text:
    """BP1 or BP2, BP3 and BP4 for the selected neuron and example of the last mini-batch,
    each written out with its numbers substituted (from engine.models.explain.bp_terms)."""
    t = Text()
    if bp is None:
        t.append(error or "take a step (s) to see the numbers of the last mini-batch", "dim")
        return t
    l, j, x = bp["layer"], bp["neuron"] + 1, bp["example"] + 1
    t.append(f"neuron {l}.{j}, example {x} of the last mini-batch\n", "bold")
    t.append(f"z = {fmt(bp['z'], 5)}   a = {fmt(bp['a'], 5)}\n")
    if bp["equation"] == "BP1":
        prime = bp["act_prime"]
        t.append("BP1 ", "bold")
        t.append(f"{bp['formula']}\n", "dim")
        if prime is None:
            t.append(f"    δ = a - y = {fmt(bp['a'], 5)} - {fmt(bp['y'], 5)} = "
                     f"{fmt(bp['delta'], 5)}\n")
        else:
            t.append(f"    δ = {fmt(bp['delta'], 5)}   (a = {fmt(bp['a'], 5)}, y = "
                     f"{fmt(bp['y'], 5)}, act'(z) = {fmt(prime, 5)})\n")
    else:
        t.append("BP2 ", "bold")
        t.append("δ = (Σₖ wₖⱼ δₖ⁽ˡ⁺¹⁾) · act'(z)\n", "dim")
        t.append(f"    Σₖ wₖⱼ δₖ = {_vec(bp['w_next'])}·{_vec(bp['delta_next'])} = "
                 f"{fmt(bp['weighted_sum'], 5)}\n")
        t.append(f"    δ = {fmt(bp['weighted_sum'], 5)} × {fmt(bp['act_prime'], 5)} = "
                 f"{fmt(bp['delta'], 5)}\n")
    t.append("BP3 ", "bold")
    t.append(f"∂C/∂b = δ = {fmt(bp['dC_db'], 5)}   (batch mean {fmt(bp['dC_db_batch'], 5)})\n")
    t.append("BP4 ", "bold")
    t.append(f"∂C/∂wₖ = aₖ⁽ˡ⁻¹⁾ δ = {_vec(bp['a_prev'])} × {fmt(bp['delta'], 4)}\n")
    t.append(f"    = {_vec(bp['dC_dw'])}   (batch mean {_vec(bp['dC_dw_batch'], 3)}")
    if any(bp["dC_dw_penalty"]):
        t.append(f" + penalty {_vec(bp['dC_dw_penalty'], 3)}")
    t.append(")")
    return t


def speed_lines(epochs: Sequence[Any], width: int = 40) -> list[Text]:
    """Each layer's speed of learning ||dC/db_l|| per epoch as a one-line spark chart, with the
    first and the latest value: a vanishing gradient reads as a flat, low first row."""
    if not epochs:
        return [Text("no epoch yet", "dim")]
    speeds = np.array([r.layer_grad_norm for r in epochs], np.float64)  # (epochs, L)
    top = float(np.nanmax(speeds)) if np.isfinite(speeds).any() else 1.0
    bars = "▁▂▃▄▅▆▇█"
    cols = max(4, width - 28)
    idx = np.linspace(0, len(epochs) - 1, min(cols, len(epochs))).round().astype(int)
    lines = []
    for l in range(speeds.shape[1]):
        v = speeds[idx, l]
        # log scale over four decades below the largest speed: slow layers stay visible
        frac = np.clip((np.log10(np.maximum(v, 1e-300)) - np.log10(top or 1.0) + 4) / 4, 0, 1)
        spark = "".join(bars[int(f * (len(bars) - 1))] if np.isfinite(f) else "?" for f in frac)
        t = Text(no_wrap=True, overflow="crop")
        t.append(f"{l + 1:>2} ", "bold")
        t.append(spark, "rgb(100,160,230)")
        t.append(f" {fmt(float(speeds[0, l]), 3):>9}→{fmt(float(speeds[-1, l]), 3):<9}")
        lines.append(t)
    return lines
