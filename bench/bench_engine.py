"""Benchmarks of the engine: per-iteration cost of the target-z graph, whole `gdlab run`, the
vectorised loss landscape, and the graph runner against another tree. Prints figures; never a
timed test.

    python bench/bench_engine.py            # all
    python bench/bench_engine.py --quick    # fewer repetitions
    python bench/bench_engine.py runner --reference DIR   # the runner: this tree against DIR

References are measured in the same run and reported as ratios (machines here are shared and
noisy): a define-by-run scalar engine written below (a Value class with closures, as small
autograd teaching libraries do) and a Python loop over the landscape's grid points.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.graph import Graph  # noqa: E402
from engine.landscape import compute_landscape  # noqa: E402
from engine.scenario import load_scenario  # noqa: E402


class Value:
    """The reference: a micrograd-style scalar that builds its graph anew at every evaluation."""

    def __init__(self, data: float, children: tuple = ()) -> None:
        self.data, self.grad = data, 0.0
        self._prev = children
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    __rmul__ = __mul__

    def backward(self) -> None:
        topo, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for c in v._prev:
                    build(c)
                topo.append(v)

        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


def reference_iteration(w: float, b: float) -> tuple[float, float, float]:
    wv, bv = Value(w), Value(b)
    x = 2 * wv + 3 * bv
    y = 2 * bv + 1
    z = x * y
    z.backward()
    return z.data, wv.grad, bv.grad


def time_per_call(fn, n: int, repeats: int) -> float:
    """Median seconds per call over ``repeats`` batches of ``n`` calls."""
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def bench_iteration(quick: bool) -> None:
    g = Graph.build({"w": 3.0, "b": 4.0}, {}, {"x": "2*w + 3*b", "y": "2*b + 1", "z": "x * y"})

    def ours() -> None:
        g.forward()
        g.gradients("z")

    g.forward()
    assert g.gradients("z") == {"w": 18.0, "b": 63.0}
    assert reference_iteration(3.0, 4.0) == (162.0, 18.0, 63.0)
    n, rep = (2000, 5) if quick else (20000, 15)
    t_ours = time_per_call(ours, n, rep)
    t_ref = time_per_call(lambda: reference_iteration(3.0, 4.0), n, rep)
    print("target-z forward + backward, one iteration (median of "
          f"{rep} x {n} calls)")
    print(f"  gdlab compiled graph : {t_ours * 1e6:8.2f} us")
    print(f"  define-by-run Value  : {t_ref * 1e6:8.2f} us")
    print(f"  speed-up             : {t_ref / t_ours:8.2f} x (required >= 4)")


def bench_process(quick: bool) -> None:
    exe = [sys.executable, "-m", "tui.cli"]
    runs = 3 if quick else 10
    times, bare = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([*exe, "run", "target_z"], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        bare.append(time.perf_counter() - t0)
    imp = subprocess.run([*exe[:1], "-X", "importtime", "-m", "tui.cli", "run", "target_z"],
                         capture_output=True, text=True, cwd=ROOT).stderr
    print(f"`gdlab run target_z` as a whole process (median of {runs})")
    print(f"  gdlab run target_z   : {statistics.median(times) * 1e3:8.1f} ms")
    print(f"  python -c pass       : {statistics.median(bare) * 1e3:8.1f} ms "
          f"(ratio {statistics.median(times) / statistics.median(bare):.1f} x)")
    print(f"  textual imported     : {'yes' if ' textual' in imp else 'no'}")


def bench_landscape(quick: bool) -> None:
    n = 200
    print(f"loss landscape on a {n} x {n} grid (vectorised: median of runs; loop: one run)")
    for name, path in (("regression_linear", [(0.0, 0.0), (3.0, 2.0)]),
                       ("rosenbrock", [(-1.2, 1.0), (1.0, 1.0)])):
        _landscape_case(name, path, n, 2 if quick else 5)


def _landscape_case(name: str, path: list[tuple[float, float]], n: int, reps: int) -> None:
    sc = load_scenario(name)
    cfg = sc.config(sc.default_variant())
    g = sc.build_graph()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a = compute_landscape(g, cfg, path, nx=n, ny=n)
        times.append(time.perf_counter() - t0)
    tv = statistics.median(times)
    t0 = time.perf_counter()
    b = compute_landscape(g, cfg, path, nx=n, ny=n, loop=True)
    tl = time.perf_counter() - t0
    assert a.vectorised and not b.vectorised
    err = float(np.max(np.abs(a.z - b.z) / np.maximum(1.0, np.abs(b.z))))
    pts = len(g.value("x")) if g.data else 0
    print(f"  {name:18s} ({pts or 'no'} data points): vectorised {tv * 1e3:8.1f} ms, "
          f"loop {tl * 1e3:8.1f} ms, speed-up {tl / tv:6.1f} x, max rel. difference {err:.1e}")


#: (scenario, variant, --set overrides) of the runner benchmark: scalar and array parameters,
#: optimizers with and without state, mini-batches
RUNNER_CASES = [
    ("rosenbrock", "sgd", ["run.tolerance=0", "run.max_iterations=20000"]),
    ("rosenbrock", "adam", ["run.tolerance=0", "run.max_iterations=20000"]),
    ("regression_linear", None, ["run.max_iterations=3000"]),
    ("target_z", "recomputed", ["run.tolerance=0", "run.max_iterations=20000"]),
]

RUNNER_CODE = """
import json, sys, time
sys.path.insert(0, {root!r})
from engine.runner import Run
from engine.scenario import load_scenario
out = {{}}
for name, variant, overrides in {cases!r}:
    sc = load_scenario(name, overrides)
    best = float("inf")
    for _ in range({reps}):
        run = Run(sc, variant)
        t0 = time.process_time()
        records, _ = run.run_all()
        best = min(best, (time.process_time() - t0) / len(records))
    out[f"{{name}} [{{variant}}]"] = (best, len(records))
print(json.dumps(out))
"""


def _runner_times(root: Path, reps: int) -> dict[str, tuple[float, int]]:
    code = RUNNER_CODE.format(root=str(root), cases=RUNNER_CASES, reps=reps)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                       check=True)
    return {k: tuple(v) for k, v in json.loads(p.stdout).items()}


def _process_time(root: Path, args: list[str]) -> float:
    """CPU seconds (user + system) of ``gdlab ARGS`` run from the tree at ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "tui.cli", *args], check=True, capture_output=True,
                   cwd=root, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_runner(quick: bool, reference: Path | None) -> None:
    """The graph runner end to end (records built, no output), per record, best of a few
    runs in a fresh interpreter; with ``reference``, that tree too, alternated, as ratios.
    CPU time, not wall time: on a shared 2-core machine the wall clock of the same run moves
    by 2x with the other processes' load, its CPU time by a few per cent."""
    trees = [("this tree", ROOT)] + ([("reference", reference)] if reference else [])
    reps, rounds = (2, 1) if quick else (3, 3)
    best: dict[str, dict[str, float]] = {label: {} for label, _ in trees}
    counts: dict[str, int] = {}
    for _ in range(rounds):
        for label, root in trees:
            for case, (t, n) in _runner_times(root, reps).items():
                best[label][case] = min(best[label].get(case, math.inf), t)
                counts[case] = n
    print(f"graph runner, CPU microseconds per record (Run.run_all, best of {reps * rounds})")
    for case in best["this tree"]:
        line = f"  {case:32s} ({counts[case]:6d} records): {best['this tree'][case] * 1e6:7.2f}"
        if reference:
            ref = best["reference"][case]
            line += f"   reference {ref * 1e6:7.2f}   ratio {best['this tree'][case] / ref:5.2f}"
        print(line)
    commands = [["run", "target_z"],
                ["run", "rosenbrock", "--variant", "adam", "--set", "run.tolerance=0", "--set",
                 "run.max_iterations=20000", "--format", "csv"]]
    for argv in commands:
        times: dict[str, list[float]] = {label: [] for label, _ in trees}
        for _ in range(3 if quick else 7):
            for label, root in trees:
                times[label].append(_process_time(root, argv))
        mine = statistics.median(times["this tree"])
        line = f"  `gdlab {' '.join(argv)}`: {mine * 1e3:7.1f} ms of CPU (median)"
        if reference:
            ref = statistics.median(times["reference"])
            line += f", reference {ref * 1e3:7.1f} ms, ratio {mine / ref:5.2f}"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reference", type=Path, metavar="DIR",
                    help="runner: another gdlab tree (e.g. an export of main) to compare with")
    ap.add_argument("which", nargs="*", default=["iteration", "process", "landscape", "runner"])
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {_cpu()}, "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    if "iteration" in args.which:
        bench_iteration(args.quick)
    if "process" in args.which:
        bench_process(args.quick)
    if "landscape" in args.which:
        bench_landscape(args.quick)
    if "runner" in args.which:
        bench_runner(args.quick, args.reference)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" x {len(_cores())}"
    except OSError:
        pass
    return "unknown CPU"


def _cores() -> list[int]:
    import os

    return list(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]


if __name__ == "__main__":
    math.isfinite(0.0)
    main()
