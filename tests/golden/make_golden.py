"""Write the golden outputs of every bundled scenario (``gdlab run`` of each variant and
``compare``, thinned with ``--every``, and ``gdlab replay`` of the recorded sessions in
tests/golden/sessions/, in every format) that tests/test_golden_outputs.py compares byte for byte.

Network scenarios run for a few epochs on small data (MNIST's bundled subset, cut), with the
clock stopped so that their ``seconds`` are 0 and their outputs reproducible.

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
SESSIONS = HERE / "sessions"
#: a graph scenario's own variants run whole when its longest run is at most this many
#: iterations; longer ones are cut (``run.max_iterations``) so that the suite stays quick
SHORT_RUN = 1000
#: the thinned table, CSV and JSONL of a long run (``--every``): what issue 13 streams
LONG = ["rosenbrock", "--variant", "sgd", "--set", "run.tolerance=0",
        "--set", "run.max_iterations=2500"]


def graph_scenarios() -> list[str]:
    """The bundled scenarios without a [model] table (the graph kind), by name."""
    import tomllib

    names = []
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        if "model" not in tomllib.loads(path.read_text(encoding="utf-8")):
            names.append(path.stem)
    return names


def network_scenarios() -> list[str]:
    """The bundled scenarios with a [model] table (the network kind), by name."""
    import tomllib

    names = []
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        if "model" in tomllib.loads(path.read_text(encoding="utf-8")):
            names.append(path.stem)
    return names


def _variants(name: str) -> list[str]:
    import tomllib

    text = (ROOT / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
    return list(tomllib.loads(text).get("variants", {}))


def _max_iterations(name: str) -> int:
    import tomllib

    text = (ROOT / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
    return int(tomllib.loads(text).get("run", {}).get("max_iterations", 0))


def _network_cut(name: str) -> list[str]:
    """A network scenario for 2 epochs (each variant's own epochs are cut too), on few rows."""
    import tomllib

    text = (ROOT / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text).get("data", {})
    cut = ["--set", "run.epochs=2", "--set", "run.report_every=7"]
    if data.get("source") == "mnist":
        cut += ["--set", "data.train_limit=300", "--set", "data.test_limit=100"]
    return cut


def float32_tolerance(args: list[str]) -> float | None:
    """The relative tolerance of a case's numbers when its last digits depend on the machine:
    MNIST trains in float32, whose matrix products BLAS sums in an order that depends on its
    threads (1 in ``gdlab``, the cores' count where numpy was imported first, as in pytest)."""
    import tomllib

    if args[0] == "replay" or args[1] not in network_scenarios():
        return None
    text = (ROOT / "scenarios" / f"{args[1]}.toml").read_text(encoding="utf-8")
    return 1e-4 if tomllib.loads(text).get("data", {}).get("source") == "mnist" else None


def cases() -> dict[str, list[str]]:
    """Case name -> gdlab arguments."""
    out = {}
    for name in graph_scenarios():
        for command in ("run", "compare"):
            for fmt in FORMATS:
                out[f"{command}_{name}.{fmt}"] = [command, name, "--format", fmt]
        cut = [] if _max_iterations(name) <= SHORT_RUN else ["--set", "run.max_iterations=300"]
        for v in _variants(name)[1:]:  # the first variant is the default run above
            for fmt in FORMATS:
                out[f"run_{name}@{v}.{fmt}"] = ["run", name, "--variant", v, *cut,
                                                "--format", fmt]
        for fmt in FORMATS:
            out[f"compare_{name}@every7.{fmt}"] = ["compare", name, *cut, "--every", "7",
                                                   "--format", fmt]
            out[f"run_{name}@every7.{fmt}"] = ["run", name, *cut, "--every", "7",
                                               "--format", fmt]
    for every in ("1", "1000"):
        for fmt in FORMATS:
            out[f"run_rosenbrock@long_every{every}.{fmt}"] = ["run", *LONG, "--every", every,
                                                              "--format", fmt]
    for name in network_scenarios():
        cut = _network_cut(name)
        for command in ("run", "compare"):
            for fmt in FORMATS:
                out[f"{command}_{name}.{fmt}"] = [command, name, *cut, "--format", fmt]
    for script in sorted(SESSIONS.glob("*.json")):
        for fmt in FORMATS:
            out[f"replay_{script.stem}.{fmt}"] = ["replay", str(script.relative_to(ROOT)),
                                                  "--format", fmt]
    return out


def render(args: list[str]) -> str:
    """What ``gdlab ARGS`` prints on stdout (in this process, from the tree's root). Network
    runs see a stopped clock (every ``seconds`` is 0) and only MNIST's bundled subset."""
    import os
    import tempfile
    import time
    from unittest import mock

    from tui.cli import main

    buf = io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(buf))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        stack.enter_context(contextlib.chdir(ROOT))
        if args[1] in network_scenarios():
            empty = stack.enter_context(tempfile.TemporaryDirectory())
            stack.enter_context(mock.patch.dict(os.environ, {"GDLAB_MNIST_DIR": "",
                                                             "XDG_CACHE_HOME": empty}))
            stack.enter_context(mock.patch.object(time, "perf_counter", lambda: 0.0))
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
