"""Write the golden outputs of every bundled graph scenario (``gdlab run`` and ``compare`` in
every format) that tests/test_golden_outputs.py compares byte for byte.

Run it only when an output is meant to change (and say why in the commit):
``python tests/golden/make_golden.py``, or ``--root DIR`` to write the outputs of another tree
(e.g. ``git archive main | tar -x -C DIR``: the reference a restructuring must keep). Small
outputs are stored whole; for every output the manifest holds its SHA-256, size, line count and
first and last lines.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MANIFEST = HERE / "manifest.json"
WHOLE_LIMIT = 40_000  # bytes: outputs up to this size are stored whole, as NAME.out
HEAD, TAIL, WIDTH = 10, 2, 200  # lines (cut to WIDTH characters) kept in the manifest
FORMATS = ("table", "csv", "jsonl")


def graph_scenarios() -> list[str]:
    """The bundled scenarios without a [model] table (the graph kind), by name."""
    import tomllib

    names = []
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        if "model" not in tomllib.loads(path.read_text(encoding="utf-8")):
            names.append(path.stem)
    return names


def cases() -> dict[str, list[str]]:
    """Case name -> gdlab arguments."""
    out = {}
    for name in graph_scenarios():
        for command in ("run", "compare"):
            for fmt in FORMATS:
                out[f"{command}_{name}.{fmt}"] = [command, name, "--format", fmt]
    return out


def render(args: list[str]) -> str:
    """What ``gdlab ARGS`` prints on stdout (in this process)."""
    from tui.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main(list(args))
    if status != 0:
        raise RuntimeError(f"gdlab {' '.join(args)} exited with {status}")
    return buf.getvalue()


def environment(numpy_version: str) -> dict[str, str]:
    """What the last printed digit depends on: numpy's version (its summation order)."""
    return {"numpy": numpy_version}


def describe(text: str) -> dict[str, object]:
    lines = text.splitlines()
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "bytes": len(text.encode()),
            "lines": len(lines), "head": [x[:WIDTH] for x in lines[:HEAD]],
            "tail": [x[:WIDTH] for x in lines[-TAIL:]]}


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="the gdlab tree that prints")
    root = ap.parse_args().root.resolve()
    sys.path.insert(0, str(root))
    manifest = {}
    for old in HERE.glob("*.out"):
        old.unlink()
    for case, args in cases().items():
        text = render(args)
        manifest[case] = {"args": args, **describe(text)}
        if len(text.encode()) <= WHOLE_LIMIT:
            (HERE / f"{case}.out").write_text(text, encoding="utf-8", newline="")
    import numpy as np

    manifest["_environment"] = environment(np.__version__)
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} cases to {MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
