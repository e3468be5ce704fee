"""Every limit in engine/limits.py has a docstring and is listed, with its value, in
docs/robustness.md (the one place a person reads them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine import limits

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")


def constants() -> list[tuple[str, object, str]]:
    """(name, value, docstring) of each constant, in the order of the module."""
    body = ast.parse((ROOT / "engine" / "limits.py").read_text(encoding="utf-8")).body
    out = []
    for node, after in zip(body, body[1:] + [None], strict=True):
        if isinstance(node, ast.Assign) and node.targets[0].id.isupper():
            doc = after.value.value if isinstance(after, ast.Expr) and \
                isinstance(after.value, ast.Constant) else ""
            name = node.targets[0].id
            out.append((name, getattr(limits, name), doc))
    return out


def test_there_are_limits():
    assert len(constants()) >= 15


@pytest.mark.parametrize("name,value,doc", constants(), ids=lambda v: v if isinstance(v, str)
                         and v.isupper() else "")
def test_each_limit_is_explained_and_documented(name, value, doc):
    assert doc.strip(), f"{name} has no docstring"
    shown = f"{value:,.0f} s" if isinstance(value, float) else f"{value:,}"
    assert f"| `{name}` | {shown} |" in DOC, f"{name} = {shown} is not in docs/robustness.md"


# --- docs/scenarios.md: the limits a scenario file meets, in a person's words -----------------

SCENARIOS_DOC = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")


def megabytes(v: int) -> str:
    assert v % 1_000_000 == 0
    return f"{v // 1_000_000} MB"


def power_of_two(v: int) -> str:
    assert v & (v - 1) == 0
    return f"2^{v.bit_length() - 1}"


#: how docs/scenarios.md's table of limits words each limit a scenario file can meet
IN_SCENARIOS_DOC = {
    "MAX_SCENARIO_BYTES": lambda v: f"of at most {megabytes(v)}",
    "MAX_DEPTH": lambda v: f"| {v} levels",
    "MAX_ARRAY_ITEMS": lambda v: f"(`[params]`, `[data]`) | {v:,} |",
    "SEED_MAX": lambda v: f"seeds in [0, {power_of_two(v + 1)} - 1]",
    "INT_MAX": lambda v: f"at most {power_of_two(v)} (exact as floats)",
    "MAX_EXPRESSION_LENGTH": lambda v: f"| {v:,} characters",
    "MAX_EXPRESSION_NESTING": lambda v: f"brackets nested {v} deep",
    "MAX_EXPRESSION_OPERATIONS": lambda v: f"{v:,} operators and function calls (a sum of "
                                           f"{v + 1:,} terms",
    "MAX_GRAPH_NODES": lambda v: f"| {v:,} nodes counting every sub-expression",
    "MAX_GRAPH_VALUES": lambda v: f"{v:,} numbers in its values together",
    "MAX_CSV_BYTES": lambda v: f"a CSV file of at most {megabytes(v)}",
    "MAX_DATA_ROWS": lambda v: f"{v:,} rows of CSV or generated data",
    "MAX_DATA_VALUES": lambda v: f"{v:,} numbers in all (CSV cells",
    "MAX_LAYER_SIZE": lambda v: f"1 to {v:,} units in a layer",
    "MAX_HIDDEN_LAYERS": lambda v: f"at most {v} hidden layers",
    "MAX_PARAMETERS": lambda v: f"{v:,} weights and biases in all",
    "MAX_NETWORK_POINTS": lambda v: f"(`n`, rows) | {v:,};",
    "MAX_CLASSES": lambda v: f"CSV classes: {v:,} |",
    "MAX_FEATURES": lambda v: f"| {v} expressions |",
    "MAX_ACTIVATIONS": lambda v: f"the units of all layers at most {v:,}",
}
#: limits a scenario file never meets: session scripts, the explain panel, MNIST files and
#: downloads (docs/robustness.md and docs/sessions.md describe them)
ELSEWHERE = {"MAX_FORMULA_NODES", "MAX_SCRIPT_BYTES", "MAX_SCRIPT_ACTIONS", "MAX_STEP_COUNT",
             "MAX_SCRIPT_STEPS", "MAX_NETWORK_STEPS", "MAX_IDX_ITEMS", "DOWNLOAD_MARGIN",
             "DOWNLOAD_READ_TIMEOUT", "DOWNLOAD_DEADLINE"}


def test_every_limit_is_placed_for_the_scenarios_doc():
    names = {name for name, _, _ in constants()}
    assert names == set(IN_SCENARIOS_DOC) | ELSEWHERE
    assert not set(IN_SCENARIOS_DOC) & ELSEWHERE


@pytest.mark.parametrize("name", sorted(IN_SCENARIOS_DOC))
def test_the_scenarios_doc_gives_each_limit_its_value(name):
    section = SCENARIOS_DOC.split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    phrase = IN_SCENARIOS_DOC[name](getattr(limits, name))
    assert phrase in section, f"{name}: {phrase!r} is not in docs/scenarios.md's limits"
