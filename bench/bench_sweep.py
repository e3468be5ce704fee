"""Benchmark sweeps: the speed-up of a local pool of 2 worker processes over 1 worker on points
of about a second, and the overhead per point on many tiny points.

Prints figures, never asserts; every comparison is measured in the same run. One BLAS thread
everywhere (as the command line sets it), so that the machine's cores are the workers'.

    python bench/bench_sweep.py                 # both measurements
    python bench/bench_sweep.py --points 12 --seconds 1.0 --tiny 1000 --network

Speed-up: ``--points`` points of gd_square at lr 1.0 (x flips between +-1.2 for ever), each
run for as many iterations as take about ``--seconds`` in this process (calibrated first),
swept with 1 worker (the points one after another in this process) and with a pool of 2
processes (its start-up included). Overhead: ``--tiny`` points of a few iterations each;
overhead per point = (wall - work) / points with 1 worker, and (wall - work / 2) / points with
2 (work: the points' own run time, as each row records it; the rest is loading the scenario,
sending the point to a process and back, and making the row).
"""

from __future__ import annotations

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    __import__("os").environ.setdefault(_var, "1")

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.sweep.driver import SweepRun  # noqa: E402
from engine.sweep.execute import LocalPool, Serial  # noqa: E402
from engine.sweep.grid import Axis, Grid  # noqa: E402
from engine.sweep.plan import plan_sweep  # noqa: E402
from engine.sweep.point import ScenarioSource, run_point  # noqa: E402


def timed_sweep(plan, backend) -> tuple[float, float, list[dict]]:
    """(wall seconds, the points' summed run seconds, rows) of one sweep on ``backend``."""
    t0 = time.perf_counter()
    run = SweepRun(plan)
    with backend:
        for _ in run.run(backend):
            pass
    wall = time.perf_counter() - t0
    rows = run.ordered()
    return wall, sum(r["timing"]["seconds"] for r in rows), rows


def cores(rows: list[dict], wall: float) -> float:
    """The cores the points had on average: their CPU seconds over the sweep's wall time."""
    return sum(r["timing"]["cpu_seconds"] for r in rows) / wall


def calibrate(source: ScenarioSource, seconds: float) -> int:
    """Iterations of gd_square at lr 1.0 that take about ``seconds`` here."""
    n = 20_000
    while True:
        r = run_point(source, ["run.lr=1.0", f"run.max_iterations={n}"], "updates")
        if r["seconds"] > 0.2:
            return int(n * seconds / r["seconds"])
        n *= 4


def speed_up(title: str, plan, points: int) -> None:
    """The same sweep on 1 worker, then on a pool of 2 (its start-up included)."""
    print(f"speed-up, {points} {title}")
    w1, work1, rows1 = timed_sweep(plan, Serial())
    print(f"  1 worker (this process):  {w1:7.2f} s wall, {work1 / points:.3f} s per "
          f"point, {cores(rows1, w1):.2f} cores used  [{load()}]")
    w2, work2, rows2 = timed_sweep(plan, LocalPool(2))
    print(f"  2 worker processes:       {w2:7.2f} s wall, {work2 / points:.3f} s per "
          f"point, {cores(rows2, w2):.2f} cores used  [{load()}]")
    same = [r["summary"] for r in rows1] == [r["summary"] for r in rows2]
    print(f"  speed-up 2 vs 1 worker:   {w1 / w2:7.2f} x (required >= 1.7); same rows: {same}")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=12, help="points of about --seconds each")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--tiny", type=int, default=1000, help="tiny points for the overhead")
    ap.add_argument("--network", action="store_true", help="also MNIST points (as long)")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {load()}")
    source = ScenarioSource.read("gd_square")

    iters = calibrate(source, args.seconds)
    # one point repeated over seeds: the same work in every run (the seed changes nothing here)
    grid = Grid((Axis("run.lr", (1.0,)),), seeds=args.points)
    plan = plan_sweep(source, grid, [f"run.max_iterations={iters}", "run.tolerance=0"])
    speed_up(f"graph points: gd_square, {iters:,} iterations (about {args.seconds:g} s each "
             "here)", plan, args.points)
    if args.network:
        # MNIST points: mnist_batch_lr's cell lr 0.3, batch 10, for as many epochs of its
        # 5,000 images as take about --seconds here
        mnist = ScenarioSource.read("mnist_batch_lr")
        cell = ["run.lr=0.3", "run.batch_size=10"]
        one = run_point(mnist, [*cell, "run.epochs=5"], "epochs")["seconds"]
        epochs = max(1, round(5 * args.seconds / one))
        grid = Grid((Axis("run.epochs", (epochs,)),), seeds=args.points)
        speed_up(f"network points: mnist_batch_lr at lr 0.3, batch 10, {epochs} epochs (numpy, "
                 "one BLAS thread)", plan_sweep(mnist, grid, cell), args.points)

    values = tuple(round(0.05 + 0.4 * i / args.tiny, 9) for i in range(args.tiny))
    tiny = plan_sweep(source, Grid((Axis("run.lr", values),)))
    print(f"overhead: {args.tiny} tiny points (gd_square, lr 0.05 to 0.45: 5 to 50 "
          "iterations each)")
    for label, backend, workers in (("1 worker (this process)", Serial(), 1),
                                    ("2 worker processes", LocalPool(2), 2)):
        wall, work, _ = timed_sweep(tiny, backend)
        per = (wall - work / workers) / args.tiny
        print(f"  {label:<24} {wall:7.3f} s wall, {work / args.tiny * 1e3:6.3f} ms of work "
              f"per point, overhead {per * 1e3:6.3f} ms per point (required <= 50)  [{load()}]")


if __name__ == "__main__":
    main()
