"""The picture of a sweep: a line over one swept key (plotext), a heat map over two (text cells).

Both draw per-point statistics (``engine.sweep.rows.PointStats``): the mean over seeds, the
best point marked with a star, diverged points as a cross and never as a number. Colour only on
a terminal that wants it (``color_wanted``); otherwise the same picture in plain characters.
The heat map's colour scale (``scale_rgb``) is shared with the app's sweep map.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from engine.sweep.rows import PointStats
from engine.sweep.values import is_geometric

DIVERGED = "✕"
NO_VALUE = "·"
BEST = "★"
# viridis, sampled: dark blue-purple (low) to yellow (high)
VIRIDIS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
DIVERGED_RGB = (200, 40, 40)
NO_VALUE_RGB = (90, 90, 90)
SHADES = " .:-=+*#%@"  # the scale without colour, low to high


def color_wanted(stream: TextIO | None = None) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    stream = stream or sys.stdout
    return bool(stream.isatty()) and not os.environ.get("NO_COLOR")


def short(v: float | None, width: int = 6) -> str:
    """A number in at most ``width`` characters (integers whole when they fit)."""
    if v is None or not math.isfinite(v):
        return NO_VALUE
    if float(v).is_integer() and len(str(int(v))) <= width:
        return str(int(v))
    for digits in range(max(1, width - 2), 0, -1):
        text = f"{v:.{digits}g}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
        if len(text) <= width:
            return text
    return f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")


def value_label(v: Any) -> str:
    """A swept value as a label (floats in their shortest exact form)."""
    return repr(v) if isinstance(v, float) else str(v)


class Scale:
    """Maps a metric value to [0, 1]: linearly, or logarithmically when the positive values
    span more than two decades."""

    def __init__(self, values: Sequence[float]) -> None:
        vals = [v for v in values if v is not None and math.isfinite(v)]
        self.lo, self.hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
        self.log = bool(vals) and self.lo > 0 and self.hi / self.lo > 100

    def __call__(self, v: float) -> float:
        lo, hi, x = self.lo, self.hi, v
        if self.log:
            lo, hi, x = math.log10(lo), math.log10(hi), math.log10(max(v, self.lo))
        return 0.5 if hi == lo else min(1.0, max(0.0, (x - lo) / (hi - lo)))


def scale_rgb(t: float) -> tuple[int, int, int]:
    """The colour of ``t`` in [0, 1] on the viridis scale."""
    t = min(1.0, max(0.0, t)) * (len(VIRIDIS) - 1)
    i = min(int(t), len(VIRIDIS) - 2)
    f = t - i
    a, b = VIRIDIS[i], VIRIDIS[i + 1]
    return tuple(round(a[k] + (b[k] - a[k]) * f) for k in range(3))  # type: ignore[return-value]


def _ink(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white text, whichever reads on ``rgb``."""
    return (0, 0, 0) if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140 else (255, 255, 255)


def _paint(text: str, bg: tuple[int, int, int]) -> str:
    fg = _ink(bg)
    return (f"\x1b[38;2;{fg[0]};{fg[1]};{fg[2]}m\x1b[48;2;{bg[0]};{bg[1]};{bg[2]}m"
            f"{text}\x1b[0m")


def cell_look(s: PointStats | None, scale: Scale) -> tuple[str, tuple[int, int, int]]:
    """What a heat-map cell shows: (glyph or "" for the value, background colour)."""
    if s is None:
        return " ", (30, 30, 30)
    if s.mean is None:
        return (DIVERGED, DIVERGED_RGB) if s.diverged else (NO_VALUE, NO_VALUE_RGB)
    return "", scale_rgb(scale(s.mean))


def heatmap_text(stats: list[PointStats], keys: Sequence[str], xs: Sequence[Any],
                 ys: Sequence[Any], metric: str, best: PointStats | None, color: bool,
                 width: int = 100) -> str:
    """Two swept keys: x = ``keys[0]`` (columns), y = ``keys[1]`` (rows, largest on top).

    Cells show their value when the grid fits ``width`` at 6 characters a cell, else a coloured
    block (or a shade character without colour)."""
    by = {(value_label(s.settings[keys[0]]), value_label(s.settings[keys[1]])): s for s in stats}
    scale = Scale([s.mean for s in stats if s.mean is not None])
    ylabels = [value_label(y) for y in ys]
    lw = max(len(keys[1]), *(len(t) for t in ylabels))
    cw = 7 if lw + 1 + 7 * len(xs) <= width else 2
    lines = [f"{metric} over {keys[0]} (across) and {keys[1]} (up)"
             + (" - colour on a log scale" if scale.log and color else "")]
    lines.append(keys[1].rjust(lw))
    for yl, y in reversed(list(zip(ylabels, ys, strict=True))):
        cells = []
        for x in xs:
            s = by.get((value_label(x), value_label(y)))
            glyph, rgb = cell_look(s, scale)
            star = s is not None and s is best
            if cw > 2:
                body = glyph or short(s.mean if s else None, cw - 2)
                text = (BEST if star else " ") + body.rjust(cw - 2) + " "
            elif star:
                text = BEST + " "
            elif glyph:
                text = glyph + " "
            else:
                text = "  " if color else _shade(scale(s.mean)) * 2
            cells.append(_paint(text, rgb) if color else text)
        lines.append(yl.rjust(lw) + " " + "".join(cells))
    lines.append(" " * lw + " " + _x_axis([value_label(x) for x in xs], cw))
    lines.append(" " * lw + " " + keys[0])
    lines += _legend(scale, best, keys, metric, color)
    return "\n".join(lines) + "\n"


def _shade(t: float) -> str:
    return SHADES[min(len(SHADES) - 1, int(t * (len(SHADES) - 1) + 0.5))]


def _x_axis(labels: list[str], cw: int) -> str:
    """Labels under the columns they name, skipping those that would overlap."""
    line = ""
    for j, text in enumerate(labels):
        at = j * cw + max(0, (cw - len(text)) // 2)
        if at >= len(line) + (1 if line else 0):
            line = line.ljust(at) + text
    return line


def _legend(scale: Scale, best: PointStats | None, keys: Sequence[str], metric: str,
            color: bool) -> list[str]:
    n = 24
    if color:
        bar = "".join(_paint(" ", scale_rgb(i / (n - 1))) for i in range(n))
    else:
        bar = "".join(_shade(i / (n - 1)) for i in range(n))
    out = [f"{short(scale.lo, 8)} {bar} {short(scale.hi, 8)}"
           f"{'  (log scale)' if scale.log else ''}"]
    marks = f"{DIVERGED} diverged   {NO_VALUE} no value"
    if best is not None:
        where = ", ".join(f"{k} = {value_label(best.settings[k])}" for k in keys)
        marks = f"{BEST} best: {where} -> {short(best.mean, 10)}   " + marks
    out.append(marks)
    return out


def draw_line(plt: Any, stats: list[PointStats], key: str, metric: str,
              best: PointStats | None) -> None:
    """One swept key on a plotext-like ``plt``: the metric (mean over seeds, with min and max
    when there are several) against the key's values; a log axis when they are geometric;
    crosses for diverged points and question marks for points without a value, along the top."""
    xs_raw = [s.settings[key] for s in stats]
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs_raw)
    log = numeric and is_geometric(sorted(set(xs_raw)))
    if numeric:
        xs = [math.log10(x) if log else float(x) for x in xs_raw]
    else:
        xs = [float(i) for i in range(len(xs_raw))]
    ok = [(x, s) for x, s in zip(xs, stats, strict=True) if s.mean is not None]
    top = max((s.max for _, s in ok), default=1.0)
    if ok:
        spread = any(s.runs > 1 for _, s in ok)
        plt.plot([x for x, _ in ok], [s.mean for _, s in ok], marker="braille",
                 label=metric + (" (mean)" if spread else ""))
        if spread:
            plt.plot([x for x, _ in ok], [s.min for _, s in ok], marker=".", label="min, max")
            plt.plot([x for x, _ in ok], [s.max for _, s in ok], marker=".")
    for glyph, label, pick in (("x", "diverged", lambda s: s.diverged),
                               ("?", "no value", lambda s: s.mean is None and not s.diverged)):
        pts = [x for x, s in zip(xs, stats, strict=True) if pick(s)]
        if pts:
            plt.scatter(pts, [top] * len(pts), marker=glyph, label=label,
                        color="red" if glyph == "x" else "orange")
    if best is not None and best.mean is not None and best in stats:
        plt.scatter([xs[stats.index(best)]], [best.mean], marker="*", color="green",
                    label="best")
    if log and xs:
        lo, hi = math.floor(min(xs)), math.ceil(max(xs))
        step = max(1, (hi - lo) // 6)
        plt.xticks([float(t) for t in range(lo, hi + 1, step)],
                   [f"1e{t}" for t in range(lo, hi + 1, step)])
    elif not numeric:
        plt.xticks(xs, [str(x) for x in xs_raw])
    plt.title(f"{metric} against {key}" + (" (log axis)" if log else ""))
    plt.xlabel(key)


def line_chart(stats: list[PointStats], key: str, metric: str, best: PointStats | None,
               color: bool, width: int = 100, height: int = 20) -> str:
    """``draw_line`` as text for the command line (colour only when ``color``)."""
    import plotext as plt

    plt.clear_figure()
    plt.plot_size(width, height)
    plt.theme("pro" if color else "clear")
    draw_line(plt, stats, key, metric, best)
    text = plt.build()
    plt.clear_figure()
    return (text if color else plt.uncolorize(text)) + "\n"


def sweep_picture(stats: list[PointStats], keys: Sequence[str], axes_values: Sequence[Sequence[Any]],
                  metric: str, best: PointStats | None, color: bool, width: int = 100) -> str:
    """The line (one key) or the heat map (two keys); with more keys, one heat map over the
    first two for each combination of the others' values."""
    if len(keys) == 1:
        return line_chart(stats, keys[0], metric, best, color, width)
    if len(keys) == 2:
        return heatmap_text(stats, keys, axes_values[0], axes_values[1], metric, best, color,
                            width)
    out = []
    rest = list(zip(keys[2:], axes_values[2:], strict=True))
    combos: list[dict[str, Any]] = [{}]
    for k, vals in rest:
        combos = [{**c, k: v} for c in combos for v in vals]
    for c in combos:
        sub = [s for s in stats if all(s.settings[k] == v for k, v in c.items())]
        head = ", ".join(f"{k} = {value_label(v)}" for k, v in c.items())
        out.append(f"-- {head} --\n" + heatmap_text(sub, keys[:2], axes_values[0],
                                                    axes_values[1], metric,
                                                    best if best in sub else None, color, width))
    return "\n".join(out)
