"""Every bundled scenario prints the same bytes as before (run of each variant, compare, --every,
replay of recorded sessions; table, CSV and JSONL): the golden outputs were written by
tests/golden/make_golden.py from the code before the scenario kinds were restructured (graph
runs and compares) and before the runs were streamed through a compact trace (issue 13: the
rest), and any change of output has to regenerate them on purpose.

The bytes are compared where the goldens were written with the same numpy (CI's); another numpy
may sum in another order and change a last digit, so there the same text is required with each
number equal to 12 significant digits."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest
from golden.make_golden import (
    HEAD,
    HERE,
    MANIFEST,
    TAIL,
    WIDTH,
    cases,
    environment,
    float32_tolerance,
    render,
)

GOLDEN = json.loads(MANIFEST.read_text(encoding="utf-8"))
EXACT = GOLDEN.pop("_environment") == environment(np.__version__)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+e[-+]?\d+")


def same_up_to_last_digits(got: str, want: str, rel: float = 1e-12) -> bool:
    """The same text, every number equal to 12 significant digits (or within ``rel``, give or
    take one unit of its last printed digit: a float32 number printed with 4 digits may round
    the other way)."""
    if NUMBER.sub("#", got) != NUMBER.sub("#", want):
        return False
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(want), strict=True):
        x, y = float(a), float(b)
        slack = 0.0 if rel <= 1e-12 else last_digit(b)
        if abs(x - y) > rel * max(abs(x), abs(y), 1e-300) + slack:
            return False
    return True


def last_digit(text: str) -> float:
    """One unit of a printed number's last digit: 0.001 for 1.234, 1e-5 for 1.234e-02."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def test_the_manifest_covers_every_bundled_scenario() -> None:
    assert set(GOLDEN) == set(cases())
    names = {args[1] for args in cases().values()}
    assert names >= {"target_z", "rosenbrock", "beale", "regression_csv", "mnist_mlp", "xor"}
    bundled = {p.stem for p in (HERE.parent.parent / "scenarios").glob("*.toml")}
    assert bundled <= names
    commands = {(args[0], args[-1]) for args in cases().values()}
    assert commands == {(c, f) for c in ("run", "compare", "replay")
                        for f in ("table", "csv", "jsonl")}
    assert any("--every" in args for args in cases().values())


def test_the_loose_comparison_still_tells_numbers_apart() -> None:
    assert same_up_to_last_digits("a 8.331704673927481, 2", "a 8.33170467392748, 2")
    assert not same_up_to_last_digits("a 8.3317046739, 2", "a 8.3317046738, 2")
    assert not same_up_to_last_digits("a 1.5, 2", "b 1.5, 2")
    assert same_up_to_last_digits("0.4242699444293976", "0.4242699146270752", 1e-4)
    assert not same_up_to_last_digits("0.4242699444293976", "0.4245", 1e-5)
    assert same_up_to_last_digits("4.606e-02", "4.605e-02", 1e-4)  # the last digit rounded
    assert not same_up_to_last_digits("4.607e-02", "4.605e-02", 1e-4)
    assert last_digit("1.234e-02") == 1e-5 and last_digit("12.50") == 0.01


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_output_is_byte_identical(case: str) -> None:
    want = GOLDEN[case]
    text = render(want["args"])
    lines = text.splitlines()
    assert len(lines) == want["lines"]
    whole = HERE / f"{case}.out"
    rel = float32_tolerance(want["args"])
    if rel is not None:  # float32 sums in BLAS's order: numbers to 4 significant digits
        assert same_up_to_last_digits(text, whole.read_text(encoding="utf-8"), rel)
        return
    if EXACT:
        if whole.exists():
            assert text == whole.read_text(encoding="utf-8")
        assert [x[:WIDTH] for x in lines[:HEAD]] == want["head"]
        assert [x[:WIDTH] for x in lines[-TAIL:]] == want["tail"]
        assert hashlib.sha256(text.encode()).hexdigest() == want["sha256"]
        return
    if whole.exists():
        assert same_up_to_last_digits(text, whole.read_text(encoding="utf-8"))
    for got, exp in zip(lines[:HEAD] + lines[-TAIL:], want["head"] + want["tail"], strict=True):
        if len(exp) < WIDTH:  # lines cut at WIDTH may end inside a number
            assert same_up_to_last_digits(got, exp), (got, exp)
