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
