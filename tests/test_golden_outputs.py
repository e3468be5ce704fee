"""Every bundled graph scenario prints the same bytes as before (run and compare, table, CSV and
JSONL): the golden outputs were written by tests/golden/make_golden.py from the code before the
scenario kinds were restructured, and any change of output has to regenerate them on purpose."""

from __future__ import annotations

import hashlib
import json

import pytest
from golden.make_golden import HEAD, HERE, MANIFEST, TAIL, WIDTH, cases, render

GOLDEN = json.loads(MANIFEST.read_text(encoding="utf-8"))


def test_the_manifest_covers_every_bundled_graph_scenario() -> None:
    assert set(GOLDEN) == set(cases())
    assert {args[1] for args in cases().values()} >= {"target_z", "rosenbrock", "beale",
                                                         "regression_csv"}


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_output_is_byte_identical(case: str) -> None:
    want = GOLDEN[case]
    text = render(want["args"])
    whole = HERE / f"{case}.out"
    if whole.exists():
        assert text == whole.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert [x[:WIDTH] for x in lines[:HEAD]] == want["head"]
    assert [x[:WIDTH] for x in lines[-TAIL:]] == want["tail"]
    assert len(lines) == want["lines"]
    assert hashlib.sha256(text.encode()).hexdigest() == want["sha256"]
