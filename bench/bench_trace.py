"""Benchmarks of issue 13 (long runs): memory and time of ``gdlab run`` as the iterations grow,
against references measured in the same run. Prints figures; never a timed test.

    python bench/bench_trace.py            # all (about two minutes on a quiet machine)
    python bench/bench_trace.py --quick    # 10x fewer iterations
    python bench/bench_trace.py --reference DIR   # also DIR's tree (e.g. main before issue 13:
                                                  # git archive REV | tar -x -C DIR), 100,000

- memory: the peak (ru_maxrss of the child) of ``gdlab run rosenbrock --variant sgd --set
  run.tolerance=0 --every 1000`` at 1,000,000 and at 100,000 iterations (target: within 50 MB).
- speed: the time per iteration of the same command with ``--every 100000``, the whole process,
  less the same process at 1 iteration (start-up), against a Python process running the same
  Rosenbrock update written by hand, less its own start-up (target: at most 10x).
- rows: what a CSV or JSONL row costs (the run written with ``--format csv`` less the run with
  ``--every 100000``) against ``csv.writer`` and ``json.dumps`` writing the same rows (target:
  at most 2x).
- the app: the memory of a session holding a 1,000,000-state trace (its records on demand).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BASE = ["-m", "tui.cli", "run", "rosenbrock", "--variant", "sgd", "--set", "run.tolerance=0"]

HAND = """
import sys, time
n = int(sys.argv[1])
x, y, lr = -1.2, 1.0, 0.001
for i in range(n):
    f = (1 - x)**2 + 100*(y - x**2)**2
    gx = -2*(1 - x) - 400*x*(y - x**2)
    gy = 200*(y - x**2)
    x -= lr*gx
    y -= lr*gy
"""

ROWS = """
import csv, json, sys, time
lines = open(sys.argv[1]).read().splitlines()
if sys.argv[3] == "csv":
    rows = [[float(c) if "." in c or "e" in c or "n" in c else int(c) if c else None
             for c in line.split(",")] for line in lines[1:]]
else:
    rows = [json.loads(line) for line in lines]
out = open(sys.argv[2], "w")
t = time.perf_counter()
if sys.argv[3] == "csv":
    csv.writer(out, lineterminator="\\n").writerows(rows)
else:
    for r in rows:
        out.write(json.dumps(r) + "\\n")
out.close()
print(time.perf_counter() - t)
"""


def child(args: list[str], stdout: object = subprocess.DEVNULL, root: Path = ROOT
          ) -> tuple[float, float]:
    """(seconds, peak MB) of one child process (gdlab from ``root``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run([PY, *args], cwd=root, check=True, stdout=stdout,
                   env={**os.environ, "PYTHONPATH": str(root)})
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def peak_mb(args: list[str], root: Path = ROOT) -> float:
    """The peak resident memory of a child, measured in a fresh grandchild (ru_maxrss of the
    children is a maximum over all of them, so each is measured alone)."""
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([PY, "-c", code, PY, *args], cwd=root, check=True,
                         capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(root)}).stdout
    return int(out.split()[-1]) / 1024


def best(f, repeat: int) -> float:  # noqa: ANN001
    return min(f() for _ in range(repeat))


def memory(n: int) -> None:
    small, large = peak_mb([*BASE, f"--set=run.max_iterations={n // 10}", "--every", "1000"]), \
        peak_mb([*BASE, f"--set=run.max_iterations={n}", "--every", "1000"])
    print(f"memory, --every 1000: {n // 10:,} iterations {small:.1f} MB, {n:,} iterations "
          f"{large:.1f} MB: {large - small:+.1f} MB (target: within 50 MB)")


def speed(n: int, repeat: int, root: Path = ROOT) -> None:
    run = best(lambda: child([*BASE, f"--set=run.max_iterations={n}", "--every", "100000"],
                             root=root)[0], repeat)
    start = best(lambda: child([*BASE, "--set=run.max_iterations=1", "--every", "100000"],
                               root=root)[0], repeat)
    hand = best(lambda: child(["-c", HAND, str(n)])[0], repeat)
    hand0 = best(lambda: child(["-c", HAND, "1"])[0], repeat)
    per, ref = (run - start) / n * 1e6, (hand - hand0) / n * 1e6
    print(f"speed, --every 100000, {n:,} iterations: gdlab{'' if root == ROOT else ' ' + str(root)}"
          f" {per:.2f} us an iteration "
          f"(start-up {start:.2f} s subtracted), hand-written loop {ref:.3f} us: "
          f"{per / ref:.1f}x (target: at most 10x)")


def rows(n: int, repeat: int, tmp: Path) -> None:
    compute = best(lambda: child([*BASE, f"--set=run.max_iterations={n}", "--every",
                                  "100000"])[0], repeat)
    for fmt in ("csv", "jsonl"):
        out = tmp / f"trace.{fmt}"

        def write(fmt: str = fmt, out: Path = out) -> float:
            with open(out, "w") as fh:
                return child([*BASE, f"--set=run.max_iterations={n}", "--format", fmt],
                             stdout=fh)[0]

        written = best(write, repeat)
        refs = []
        for _ in range(repeat):
            r = subprocess.run([PY, "-c", ROWS, str(out), os.devnull, fmt], cwd=ROOT,
                               check=True, capture_output=True, text=True).stdout
            refs.append(float(r))
        per = (written - compute) / n * 1e6
        ref = min(refs) / n * 1e6
        what = "csv.writer" if fmt == "csv" else "json.dumps"
        print(f"rows, {fmt}, {n:,} rows: gdlab {per:.2f} us a row (the run without output "
              f"subtracted), {what} of the same rows {ref:.2f} us: {per / ref:.2f}x "
              f"(target: at most 2x)")


def app_trace(n: int) -> None:
    code = f"""
import resource, time
from tui.session import Session
s = Session()
s.apply({{"do": "open", "scenario": "rosenbrock", "variant": "sgd"}})
s.apply({{"do": "set", "key": "tolerance", "value": 0}})
s.apply({{"do": "set", "key": "max_iterations", "value": {n}}})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
while not s.run.stopped:
    s.run.advance(65536)
dt = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
recs = [s.records[i] for i in range(0, len(s.records), len(s.records) // 1000)]
pick = (time.perf_counter() - t) / len(recs)
print(len(s.records), (after - before) / 1024, dt, pick * 1e6)
"""
    out = subprocess.run([PY, "-c", code], cwd=ROOT, check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
    states, grown, seconds, pick = int(out[0]), float(out[1]), float(out[2]), float(out[3])
    print(f"app, a session's trace of {states:,} states: {grown:.1f} MB "
          f"({grown * 2**20 / states:.0f} bytes a state), stepped in {seconds:.1f} s; "
          f"a record made from it in {pick:.1f} us")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reference", type=Path, help="another gdlab tree, measured alike")
    ap.add_argument("--only", choices=("memory", "speed", "rows", "app"), action="append",
                    help="measure only these (repeatable)")
    a = ap.parse_args()
    want = set(a.only or ("memory", "speed", "rows", "app"))
    n = 100_000 if a.quick else 1_000_000
    import tempfile

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.1f}")
    if "memory" in want:
        memory(n)
    if "speed" in want:
        speed(n, a.repeat)
    if a.reference is not None:
        ref = a.reference.resolve()
        small = peak_mb([*BASE, "--set=run.max_iterations=100000", "--every", "1000"], ref)
        print(f"memory, --every 1000, {ref}: 100,000 iterations {small:.1f} MB")
        speed(100_000, a.repeat, ref)
        speed(100_000, a.repeat)
    if "rows" in want:
        with tempfile.TemporaryDirectory() as tmp:
            rows(n // 10, a.repeat, Path(tmp))
    if "app" in want:
        app_trace(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
