"""Sweep value lists (``0.01:1.1:0.01``, ``lin``, ``log``, lists) and the grid's points."""

from __future__ import annotations

import math
import tomllib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import GdlabError
from engine.sweep.grid import (
    HARD_MAX_RUNS,
    MAX_RUNS,
    Axis,
    Grid,
    Point,
    parse_grid_option,
    toml_value,
)
from engine.sweep.rows import InOrder
from engine.sweep.values import ValueListError, is_geometric, parse_values, values_from_toml


def test_a_decimal_range_gives_exact_decimals():
    vals = parse_values("0.01:1.1:0.01")
    assert len(vals) == 110
    # each value is the float nearest the decimal i/100, not 0.01 added up 110 times
    assert vals == [float(Decimal(i) / 100) for i in range(1, 111)]
    assert vals[-1] == 1.1 and vals[28] == 0.29


def test_an_integer_range_stays_integer_and_stops_at_or_before_stop():
    assert parse_values("10:50:20") == [10, 30, 50]
    assert all(type(v) is int for v in parse_values("1:5:1"))
    assert parse_values("0:1:0.3") == [0.0, 0.3, 0.6, 0.9]  # 1.2 would pass STOP


def test_lin_and_log_include_both_ends_and_round_to_12_digits():
    assert parse_values("lin(0,1,11)") == [i / 10 for i in range(11)]
    assert parse_values("log(1e-3,1,4)") == [0.001, 0.01, 0.1, 1.0]
    assert parse_values("lin(2,2,1)") == [2.0]


def test_items_mix_and_words_are_strings():
    assert parse_values("0:0.2:0.1, 0.95,0.99") == [0.0, 0.1, 0.2, 0.95, 0.99]
    assert parse_values("sgd,adam,'two words',true") == ["sgd", "adam", "two words", True]
    assert parse_values("lin(0,1,3),5") == [0.0, 0.5, 1.0, 5]


@pytest.mark.parametrize("text, says", [
    ("", "empty"), ("0.1,,2", "empty item"), ("1:0:1", "STOP must be >= START"),
    ("0:1:0", "step must be > 0"), ("0:1", "START:STOP:STEP"), ("lin(0,1)", "lin(START"),
    ("log(0,1,3)", "> 0"), ("lin(0,1,x)", "COUNT"), ("0:1:0.00001", "at most 10,000"),
    ("lin(0,(1,3)", "unbalanced"), ("a b", "not a number"), ("nan", "finite"),
])
def test_bad_lists_say_what_was_expected(text, says):
    with pytest.raises(ValueListError, match=says.replace("(", r"\(")):
        parse_values(text)


@pytest.mark.parametrize("item", ["[1, 2]", "{a = 1}", "[" * 5000, "{a = " * 3000])
def test_an_array_or_a_table_is_not_a_value_however_deep(item):
    # nested thousands deep, TOML's reader would have hit Python's recursion limit (found by
    # the fuzz campaign in a [sweep.grid] string); the message shows the start of the item
    with pytest.raises(ValueListError, match="expected a single value") as info:
        parse_values(f"0.1,{item}")
    assert len(str(info.value)) < 200


def test_toml_values_of_a_sweep_table():
    assert values_from_toml([0.1, 0.2]) == [0.1, 0.2]
    assert values_from_toml("1:3:1") == [1, 2, 3]
    assert values_from_toml(0.5) == [0.5]
    with pytest.raises(ValueListError):
        values_from_toml([])
    with pytest.raises(ValueListError):
        values_from_toml([[1, 2]])


def test_geometric_values_are_recognised():
    assert is_geometric(parse_values("log(1e-4,1,9)"))
    assert is_geometric([1, 10, 100])
    assert not is_geometric([1, 2, 3])
    assert not is_geometric([1, 10])  # two values: any pair is geometric, nothing to tell
    assert not is_geometric([0, 1, 2])


@given(st.integers(0, 10**6), st.integers(1, 10**4), st.integers(1, 500), st.integers(0, 6))
def test_a_range_has_the_decimal_count_and_values(a, step, n, places):
    """A:B:STEP written with ``places`` decimals: floor((B - A) / STEP) + 1 values, each the
    float of the exact decimal A + i STEP."""
    scale = Decimal(10) ** places
    A, S = Decimal(a) / scale, Decimal(step) / scale
    B = A + S * (n - 1)
    vals = parse_values(f"{A}:{B}:{S}")
    assert len(vals) == n
    assert [Decimal(str(v)) for v in vals] == [A + i * S for i in range(n)]


@given(st.one_of(st.integers(-10**9, 10**9), st.booleans(),
                 st.floats(allow_nan=False, allow_infinity=False),
                 st.text(min_size=0, max_size=20)))
def test_toml_value_reads_back_as_the_same_value(v):
    """What a point sends to ``--set`` is read back by TOML as exactly the swept value."""
    back = tomllib.loads(f"v = {toml_value(v)}")["v"]
    assert back == v and type(back) is type(v)


def test_grid_order_is_nested_loops_seeds_innermost():
    g = Grid((Axis("run.lr", (0.1, 0.2)), Axis("run.momentum", (0, 0.9))), seeds=2)
    pts = g.points(base_seed=5)
    assert [(p.settings_dict["run.lr"], p.settings_dict["run.momentum"], p.seed) for p in pts] \
        == [(0.1, 0, 5), (0.1, 0, 6), (0.1, 0.9, 5), (0.1, 0.9, 6),
            (0.2, 0, 5), (0.2, 0, 6), (0.2, 0.9, 5), (0.2, 0.9, 6)]
    assert (g.n_points, g.n_runs, g.shape) == (4, 8, (2, 2))
    assert pts[0].overrides() == ["run.lr=0.1", "run.momentum=0"]
    assert pts[0].ident() == Point((("run.lr", 0.1), ("run.momentum", 0)), 5).ident()
    assert pts[0].ident() != pts[1].ident()


def test_grid_size_limits():
    big = Grid((Axis("run.lr", tuple(range(MAX_RUNS + 1))),))
    with pytest.raises(GdlabError, match=f"more than the limit of {MAX_RUNS:,}"):
        big.check_size(force=False)
    big.check_size(force=True)
    huge = Grid((Axis("run.lr", tuple(range(1000))), Axis("run.seed", tuple(range(101)))))
    assert huge.n_runs > HARD_MAX_RUNS
    with pytest.raises(GdlabError, match="even with --force"):
        huge.check_size(force=True)


@pytest.mark.parametrize("text, says", [
    ("run.lr", "expected KEY=VALUES"), ("lr=1", "'lr' is not TABLE.KEY"),
    (".lr=1", "'.lr' is not TABLE.KEY"), ("run.lr=1:0:1", "--grid run.lr: '1:0:1'"),
])
def test_grid_option_errors_name_the_key(text, says):
    with pytest.raises(GdlabError, match=says.replace("(", r"\(")):
        parse_grid_option(text)


def test_float_values_survive_as_labels():
    assert math.isclose(parse_grid_option("run.lr=0.3").values[0], 0.3)


@given(st.permutations(list(range(12))))
def test_rows_leave_in_grid_order_whatever_order_they_finish_in(arrival):
    order = InOrder(list(range(12)))
    out = []
    for i in arrival:
        out += order.add(i, {"i": i})
    assert [r["i"] for r in out] == list(range(12)) and order.rest() == []
