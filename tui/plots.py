"""The one thin layer between gdlab's views and plotext, so the plotting library can be swapped.

Every function takes a plotext-like ``plt`` (the ``plotext`` module itself on the command line,
or a ``PlotextPlot``'s ``.plt`` in the app) and draws from data the runner already recorded.
Log scales are drawn as log10 values on a linear axis with labelled ticks: plotext's own log
axis raises "math domain error" on redraw. Series differ by colour and by marker, and a series
drawn under another says so in the legend, so that no line is told apart by colour alone.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

# one colour per series (RGB: named colours are mapped differently by terminals and by
# textual-plotext, which draws yellow as orange); none is blue, so paths show on the landscape
PALETTE = [(255, 165, 0), (0, 230, 118), (255, 64, 129), (255, 235, 59), (0, 229, 255),
           (213, 0, 249), (170, 170, 170), (190, 130, 70)]
PALETTE_NAMES = ["orange", "green", "pink", "yellow", "cyan", "purple", "grey", "brown"]
MARKERS = ["•", "+", "x", "o", "*", "#", "=", "%"]  # one per series when there are several
MAX_POINTS = 2000

Series = dict[str, tuple[Sequence[float], Sequence[float]]]


def use_color(stream: TextIO | None = None) -> bool:
    """Colour escape codes only into a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR", ""):
        return False
    stream = stream if stream is not None else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def series_style(i: int, n: int) -> tuple[tuple[int, int, int], str]:
    """(colour, marker) of series ``i`` of ``n``: a braille line when alone, else a symbol."""
    return PALETTE[i % len(PALETTE)], "braille" if n == 1 else MARKERS[i % len(MARKERS)]


def int_ticks(lo: float, hi: float, most: int = 6) -> list[int]:
    """At most ``most`` whole-number ticks from ``lo`` to ``hi`` at a step of 1, 2 or 5 x 10^k."""
    a, b = math.ceil(lo), math.floor(hi)
    if b < a:
        return [round(lo)]
    step = 1
    while b // step - -(-a // step) + 1 > most:  # the multiples of step from a to b
        step = _next_step(step)
    ticks = list(range(-(-a // step) * step, b + 1, step))
    return ticks or [a]  # no multiple of the step in range: the first whole number


def _next_step(step: int) -> int:
    """1, 2, 5, 10, 20, 50, ..."""
    lead = int(str(step)[0])
    return step * 2 if lead in (1, 5) else step // 2 * 5


def hidden_under(series: dict[str, list[tuple[float, float]]], span: float,
                 columns: int = 200, rows: int = 100) -> dict[str, str]:
    """Series drawn (mostly) under later ones: label -> "under adam" or "mostly under adam".

    A point is hidden when a later series has a point in the same cell of a ``columns`` x
    ``rows`` grid over the chart (finer than any terminal chart); a series is "under" when all
    its points are hidden, "mostly under" when four in five are. The later series that hides
    the most is named. ``span`` is the y range of the chart.
    """
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    if not xs:
        return {}
    x0, xspan = min(xs), (max(xs) - min(xs)) or 1.0
    y0, yspan = min(ys), span or (max(ys) - min(ys)) or 1.0

    def cells(pts: list[tuple[float, float]]) -> set[tuple[int, int]]:
        return {(round((x - x0) / xspan * columns), round((y - y0) / yspan * rows))
                for x, y in pts}

    grid = {label: cells(pts) for label, pts in series.items()}
    labels = list(series)
    out: dict[str, str] = {}
    for i, a in enumerate(labels):
        mine = grid[a]
        later = labels[i + 1:]
        if not mine or not later:
            continue
        covered = set().union(*(grid[b] for b in later)) & mine
        if len(covered) >= 0.8 * len(mine):
            top = max(later, key=lambda b: len(grid[b] & mine))
            out[a] = ("under " if covered == mine else "mostly under ") + top
    return out


def downsample(xs: Sequence[float], ys: Sequence[float], n: int = MAX_POINTS
               ) -> tuple[list[float], list[float]]:
    """At most ``n`` evenly spaced points (always keeping the last) for drawing long histories."""
    m = len(xs)
    if m <= n:
        return list(xs), list(ys)
    idx = np.unique(np.linspace(0, m - 1, n).round().astype(int))
    return [xs[i] for i in idx], [ys[i] for i in idx]


def _log10_series(ys: Sequence[float]) -> list[float]:
    out = []
    for y in ys:
        a = abs(y) if y is not None else math.nan
        out.append(math.log10(a) if a > 0 and math.isfinite(a) else math.nan)
    return out


def _log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Powers of ten inside the data's range (outside it plotext writes them past the frame)."""
    ticks = int_ticks(lo, hi, 6)
    return [float(t) for t in ticks], [f"1e{t}" for t in ticks]


def draw_series(plt: Any, series: dict[str, list[tuple[float, float]]],
                width: int | None = None, slots: dict[str, int] | None = None) -> None:
    """One line per series, each its colour and marker; a hidden one is named in the legend.
    ``slots`` (label -> style number) keeps a label's style the same from chart to chart.

    plotext draws the legend over the top left of the plot: with ``width`` (the plot's
    characters) the x axis starts early enough that no point lies under it. A lone series has
    no legend (the title names it).
    """
    n = len(series)
    under: dict[str, str] = {}
    if n > 1:
        ys = [y for pts in series.values() for _, y in pts]
        under = hidden_under(series, (max(ys) - min(ys)) if ys else 0.0)
    xs_all = [pts[k][0] for pts in series.values() for k in (0, -1) if pts]  # sorted by x
    texts = {label: f"{label} ({under[label]})" if label in under else label for label in series}
    for i, (label, pts) in enumerate(series.items()):
        if not pts:
            continue
        color, marker = series_style(slots.get(label, i) if slots else i, n)
        plt.plot([p[0] for p in pts], [p[1] for p in pts], color=color, marker=marker,
                 **({"label": texts[label]} if n > 1 else {}))
    if not xs_all:
        return
    lo, hi = min(xs_all), max(xs_all)
    ticks = int_ticks(lo, hi)
    plt.xticks(ticks, [str(t) for t in ticks])
    if n > 1 and width and hi > lo:
        room = max(len(t) for t in texts.values()) + 5  # "•• label" and a margin
        frac = min(0.6, room / max(10, width - 10))  # less the y labels and the frame
        plt.xlim(lo - (hi - lo) * frac / (1 - frac), hi)


def draw_error(plt: Any, series: Series, log: bool = True, title: str = "",
               ylabel: str = "|delta|", width: int | None = None) -> None:
    """One line per series of |delta| (or loss) per iteration; log10 axis when ``log``."""
    lo, hi = math.inf, -math.inf
    drawn: dict[str, list[tuple[float, float]]] = {}
    for label, (xs, ys) in series.items():
        xs, ys = downsample(list(xs), list(ys))
        vals = _log10_series(ys) if log else [float(y) if y is not None else math.nan for y in ys]
        pts = [(x, y) for x, y in zip(xs, vals, strict=True) if math.isfinite(y)]
        drawn[label] = pts
        if pts:
            lo = min(lo, min(p[1] for p in pts))
            hi = max(hi, max(p[1] for p in pts))
    draw_series(plt, drawn, width)
    if log and math.isfinite(lo):
        pos, labels = _log_ticks(lo, hi)
        plt.yticks(pos, labels)
    plt.title(title or (f"{ylabel} per iteration" + (" (log scale)" if log else "")))
    plt.xlabel("iteration")


def draw_trajectories(plt: Any, series: Series, title: str = "parameters",
                      width: int | None = None) -> None:
    """Each parameter's value per iteration."""
    drawn = {}
    for label, (xs, ys) in series.items():
        xs, ys = downsample(list(xs), list(ys))
        drawn[label] = [(x, y) for x, y in zip(xs, ys, strict=True)
                        if y is not None and math.isfinite(y)]
    draw_series(plt, drawn, width)
    plt.title(title)
    plt.xlabel("iteration")


def landscape_matrix(z: np.ndarray, paths: dict[str, Sequence[tuple[float, float]]],
                     xs: np.ndarray, ys: np.ndarray) -> list[list[tuple[int, int, int]]]:
    """RGB cells: log of the output in shades of blue, each path's points in its own colour.

    Row 0 is the top of the picture (the largest y).
    """
    with np.errstate(all="ignore"):
        lz = np.log10(np.abs(z) + 1e-12)
    finite = lz[np.isfinite(lz)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    t = np.where(np.isfinite(lz), (lz - lo) / (hi - lo if hi > lo else 1.0), 1.0)
    # dark blue (low) -> light grey-blue (high)
    r = (20 + 200 * t).astype(int)
    g = (30 + 190 * t).astype(int)
    b = (90 + 150 * t).astype(int)
    ny, nx = z.shape
    # z[i] is the row at ys[i] (increasing y); the picture's first row is the top (largest y)
    cells = [[(int(r[i, j]), int(g[i, j]), int(b[i, j])) for j in range(nx)]
             for i in range(ny - 1, -1, -1)]
    def mark(px: float, py: float, color: tuple[int, int, int]) -> None:
        if not (math.isfinite(px) and math.isfinite(py)):
            return
        j = int(round((px - xs[0]) / (xs[-1] - xs[0]) * (nx - 1))) if nx > 1 else 0
        i = int(round((py - ys[0]) / (ys[-1] - ys[0]) * (ny - 1))) if ny > 1 else 0
        if 0 <= i < ny and 0 <= j < nx:
            cells[ny - 1 - i][j] = color

    for k, path in enumerate(paths.values()):
        for px, py in path[1:]:
            mark(px, py, PALETTE[k % len(PALETTE)])
    for path in paths.values():  # the starts last, on top of every path
        if len(path):
            mark(*path[0], (255, 255, 255))
    return cells


def landscape_ticks(land: Any) -> tuple[tuple[list[int], list[str]], tuple[list[int], list[str]]]:
    """Tick positions (1-based cells) and labels for both axes of a landscape heatmap."""
    nx, ny = len(land.xs), len(land.ys)
    xt = sorted({0, nx // 2, nx - 1})
    yt = sorted({0, ny // 2, ny - 1})
    return ([j + 1 for j in xt], [f"{land.xs[j]:.4g}" for j in xt]), \
        ([i + 1 for i in yt], [f"{land.ys[i]:.4g}" for i in yt])


def draw_landscape(plt: Any, land: Any, paths: dict[str, Sequence[tuple[float, float]]],
                   title: str = "") -> None:
    """The landscape as a heatmap (darker = lower) with each path drawn over it (start white).

    For a gap-free picture the plot should be ``len(xs) + label width + 2`` columns wide and
    ``len(ys) + 4`` rows high (``landscape_size``).
    """
    cells = landscape_matrix(land.z, paths, land.xs, land.ys)
    plt.matrix_plot(cells)
    (xp, xl), (yp, yl) = landscape_ticks(land)
    plt.xticks(xp, xl)
    plt.yticks(yp, yl)  # on a matrix plot, with explicit ticks position 1 is the bottom row
    plt.title(title or f"landscape of the output over ({land.names[0]}, {land.names[1]})")
    plt.xlabel(land.names[0])
    plt.ylabel(land.names[1])


def landscape_grid(width: int, height: int, label_width: int = 8) -> tuple[int, int]:
    """Grid cells (nx, ny) that fill a plot of ``width`` x ``height`` characters exactly."""
    return max(4, width - label_width - 2), max(3, height - 4)


def fit_landscape(compute: Any, width: int, height: int) -> Any:
    """``compute(nx, ny)`` at the grid that fills a ``width`` x ``height`` plot cell for cell.

    The y tick labels' width is known only once the grid is, so a second pass corrects it.
    """
    nx, ny = landscape_grid(width, height)
    land = compute(nx, ny)
    label = max(len(t) for t in landscape_ticks(land)[1][1])
    nx2, _ = landscape_grid(width, height, label)
    return land if nx2 == nx else compute(nx2, ny)


def landscape_size(land: Any) -> tuple[int, int]:
    """The plot size (columns, rows) at which each grid cell is exactly one character."""
    (_, _), (_, yl) = landscape_ticks(land)
    return len(land.xs) + max(len(t) for t in yl) + 2, len(land.ys) + 4


def _show(plt: Any, color: bool) -> None:
    """Print the figure: with colour codes only when ``color`` (else plain characters)."""
    text = plt.build()
    print(text if color else plt.uncolorize(text))


def print_run_charts(sc: Any, outcomes: Sequence[Any], width: int | None = None,
                     color: bool | None = None) -> None:
    """The command line's --plot: |delta| or loss per iteration, parameters, and the landscape.

    ``color`` defaults to ``use_color()``: escape codes only into a terminal without NO_COLOR;
    otherwise the landscape is drawn in characters (``plot_text``).
    """
    import shutil

    import plotext as plt

    from engine.landscape import compute_landscape, grid_bounds, landscape_params

    color = use_color() if color is None else color
    cols, _ = shutil.get_terminal_size((100, 30))
    width = width or max(60, min(cols, 160))
    rule = outcomes[0].cfg.rule
    err: Series = {}
    for o in outcomes:
        label = o.variant or sc.name
        xs = [r.iteration for r in o.records]
        ys = [r.delta if rule == "target" else r.loss for r in o.records]
        err[label] = (xs, ys)
    plt.clear_figure()
    plt.plotsize(width, 20)
    plt.theme("pro")
    draw_error(plt, err, log=True, ylabel="|delta|" if rule == "target" else "loss", width=width)
    _show(plt, color)
    for o in outcomes:
        traj: Series = {}
        for p in o.cfg.train:
            vals = [r.params[p] for r in o.records]
            if all(np.ndim(v) == 0 for v in vals):
                traj[p] = ([r.iteration for r in o.records], [float(v) for v in vals])
        if traj:
            plt.clear_figure()
            plt.plotsize(width, 15)
            plt.theme("pro")
            draw_trajectories(plt, traj, title=f"parameters ({o.variant or sc.name})",
                              width=width)
            _show(plt, color)
    g = sc.build_graph()
    names = landscape_params(g, outcomes[0].cfg)
    if names is None:
        return
    paths = {o.variant or sc.name: [(float(r.params[names[0]]), float(r.params[names[1]]))
                                    for r in o.records] for o in outcomes}
    allpts = [p for path in paths.values() for p in path]
    for p, v in outcomes[-1].records[-1].params.items():
        if p not in names:
            g.set_value(p, v)
    nx = max(20, width - 14)
    land = compute_landscape(g, outcomes[0].cfg, allpts, nx=nx, ny=24, bounds=grid_bounds(allpts))
    if not color:
        from .plot_text import landscape_text

        print(landscape_text(land, paths))
        return
    plt.clear_figure()
    plt.plotsize(*landscape_size(land))
    draw_landscape(plt, land, paths)
    _show(plt, color)
    print("darker is lower; white = start; " + ", ".join(
        f"{name}: {PALETTE_NAMES[k % len(PALETTE_NAMES)]}" for k, name in enumerate(paths)))
