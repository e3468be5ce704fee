"""Number formats, tables that fit a width, chart ticks and the character landscape."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.landscape import Landscape
from tui.formatting import fmt, fmt_sig, render_table
from tui.plot_text import landscape_text
from tui.plots import hidden_under, int_ticks

FINITE = st.floats(allow_nan=False, allow_infinity=False)


@given(FINITE, st.integers(3, 8))
def test_fmt_sig_is_the_number_to_sig_digits(x, sig):
    text = fmt_sig(x, sig)
    assert float(text) == float(f"{x:.{sig}g}")  # the same number as %g ...
    assert len(text) <= len(f"{x:.{sig}g}")  # ... never longer: e-06 is written e-6
    assert "e+" not in text and "e-0" not in text


def test_fmt_sig_examples():
    assert [fmt_sig(v, 6) for v in (232.867688, -0.388498332718, -3.137526e-06, 0.0, -2.0)] \
        == ["232.868", "-0.388498", "-3.13753e-6", "0", "-2"]
    assert fmt_sig(2.531438e154, 4) == "2.531e154" and fmt_sig(7, 4) == "7"
    assert fmt_sig(np.array([3.0, 4.0]), 6) == "[2] norm 5" and fmt_sig(None) == ""


def test_fmt_zero_has_the_decimals_of_its_column():
    assert fmt(0.0) == "0.000000" and fmt(-0.0) == "0.000000" and fmt(-2.0) == "-2.000000"
    assert fmt(np.zeros((2, 3))) == "[2×3] norm 0.000000"
    # the norm of a vector whose squares overflow: 3e200 and 4e200 -> 5e200
    assert fmt(np.array([3e200, 4e200])) == "[2] norm 5.000000e+200"


HEADER = ["iter", "a", "b", "c", "d", "e"]
ROWS = [[str(i), *(f"{i * 1000 + k:.4f}" for k in range(5))] for i in range(4)]


@given(st.integers(min_value=20, max_value=80))
def test_a_wrapped_table_fits_and_keeps_every_cell(width):
    text = render_table(HEADER, ROWS, width=width)
    blocks = [b.splitlines() for b in text.split("\n\n")]
    assert all(len(line) <= width for b in blocks for line in b) or \
        max(len(c) for r in ROWS for c in r) + 6 > width  # one column wider than the line
    seen = {}
    for b in blocks:
        head = b[0].split()
        assert head[0] == "iter"
        for line in b[2:]:
            cells = line.split()
            for h, c in zip(head[1:], cells[1:], strict=True):
                seen[(cells[0], h)] = c
    assert seen == {(r[0], h): c for r in ROWS for h, c in zip(HEADER[1:], r[1:], strict=True)}


def test_groups_stay_together_when_they_fit():
    groups = [("", 1), (" one ", 2), (" two ", 2), (" three ", 1)]
    header = ["iter", "x", "y", "x", "y", "z"]
    rows = [["0", "1.000000", "2.000000", "3.000000", "4.000000", "5.000000"]]
    wide = render_table(header, rows, groups)
    assert "\n\n" not in wide
    narrow = render_table(header, rows, groups, width=30)
    titles = [b.splitlines()[0] for b in narrow.split("\n\n")]
    assert [t.strip("- ").split()[0].strip("-") for t in titles] == ["one", "two", "three"]


@given(st.floats(-1e6, 1e6), st.floats(0, 1e6), st.integers(2, 10))
def test_int_ticks_are_whole_evenly_spaced_and_few(lo, span, most):
    hi = lo + span
    ticks = int_ticks(lo, hi, most)
    assert 1 <= len(ticks) <= max(most, 1)
    assert all(isinstance(t, int) for t in ticks)
    if math.ceil(lo) <= math.floor(hi):
        assert all(lo <= t <= hi for t in ticks)
    steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) <= 1
    if steps:
        step = steps.pop()
        assert int(str(step).rstrip("0") or "0") in (1, 2, 5)


def test_int_ticks_examples():
    assert int_ticks(1, 400_001, 2) == [200_000, 400_000]  # hypothesis found it once empty
    assert int_ticks(0, 2.5) == [0, 1, 2]
    assert int_ticks(0, 10_000, 6) == [0, 2000, 4000, 6000, 8000, 10000]


def test_a_series_under_another_is_named():
    a = [(0, 1.0), (1, 2.0)]
    series = {"sgd": a, "adagrad": [(0, 5.0), (1, 1.0)], "adam": [(0, 1.001), (1, 2.0)]}
    assert hidden_under(series, span=4.0) == {"sgd": "under adam"}
    assert hidden_under({"a": a, "b": [(0, 1.0)]}, 4.0) == {}  # b covers one point of two
    # a long series mostly under another that is sampled at other iterations
    m = [(x, 1.0 / (1 + x)) for x in range(0, 1000, 3)]
    n = [(x, 1.0 / (1 + x)) for x in range(1, 900, 2)]
    assert hidden_under({"momentum": m, "nesterov": n}, span=1.0) == \
        {"momentum": "mostly under nesterov"}


def test_landscape_in_characters():
    xs, ys = np.linspace(-1, 1, 21), np.linspace(0, 2, 11)
    gx, gy = np.meshgrid(xs, ys)
    land = Landscape(("x", "y"), xs, ys, gx**2 + gy**2 + 1, True)
    text = landscape_text(land, {"sgd": [(-1.0, 2.0), (0.0, 0.0)], "adam": [(1.0, 0.0)]})
    rows = [line.split("|")[1] for line in text.splitlines() if line.count("|") == 2]
    assert len(rows) == 11 and all(len(r) == 21 for r in rows)
    assert rows[0][0] == "S"  # sgd's start, (-1, 2): top left
    assert rows[-1][10] == "a"  # sgd's second point, (0, 0): bottom row, middle column
    assert rows[-1][20] == "S"  # adam's start, (1, 0): bottom right
    # the shade of (-0.5, 0): z = 1.25 on the log scale from log10(1) to log10(6):
    # t = log10(1.25) / log10(6) = 0.1245, the second of nine shades
    assert rows[-1][5] == ":" and rows[0][10] == "@"  # (0, 2): z = 5, t = 0.898 -> the ninth
    assert "a = sgd, b = adam" in text and "\x1b" not in text


@pytest.mark.parametrize("n", [1, 3])
def test_series_styles_differ_in_more_than_colour(n):
    from tui.plots import series_style

    styles = [series_style(i, n) for i in range(n)]
    assert len({m for _, m in styles}) == n and len({c for c, _ in styles}) == n
