"""tools/mutation.py's mapping names real modules and test files, in the issue's order, and its
summary counts a timeout as a kill and an untested mutant as a survivor."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_tool():
    spec = importlib.util.spec_from_file_location("mutation_tool", ROOT / "tools" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_module_and_test_file_of_the_mapping_exists() -> None:
    tool = load_tool()
    assert [m.name for m in tool.MODULES] == ["ops", "graph", "expr", "optim", "rules", "runner",
                                              "models", "idx", "fetch", "write_atomic"]
    for m in tool.MODULES:
        for pattern in m.files:
            assert list(ROOT.glob(pattern)), pattern
        assert [t for t in m.tests if (ROOT / t).exists()], m.name
    writer = next(m for m in tool.MODULES if m.name == "write_atomic")
    source = (ROOT / writer.files[0]).read_text(encoding="utf-8")
    for function in writer.functions:  # write_atomic and its helpers
        assert f"def {function}(" in source, function


def test_summary_scores_kills_and_timeouts_over_every_mutant(tmp_path: Path) -> None:
    tool = load_tool()
    results = [{"module": "ops", "total": 10, "counts": {"killed": 6, "timeout": 2, "survived": 1,
                                                          "no tests": 1},
                "survived": ["engine.ops.x_f__mutmut_1"], "other": ["engine.ops.x_g__mutmut_2: no tests"]}]
    text = tool.summarise(results, tmp_path)
    # (6 killed + 2 timeouts) / 10 mutants = 80.0%
    assert "| ops | 10 | 6 | 2 | 1 | 1 | 0 | 80.0% |" in text
    assert "- survived: engine.ops.x_f__mutmut_1" in text
    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == text
