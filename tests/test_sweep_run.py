"""Running a sweep: the same rows in the same order on one worker, on a process pool and on a
Dask cluster; results in any completion order come out in grid order; failures are rows; a
stopped sweep resumes to the rows a full one gives."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from engine.errors import GdlabError
from engine.sweep import execute as ex
from engine.sweep.driver import SweepRun
from engine.sweep.execute import DaskCluster, LocalPool, Serial, make_backend
from engine.sweep.grid import Grid, parse_grid_option
from engine.sweep.plan import plan_sweep
from engine.sweep.point import ScenarioSource
from engine.sweep.rows import InOrder, read_rows, row_json, without_timing


def momentum_plan(seeds: int = 1):
    """A small momentum map: points of very different lengths (they finish out of order) and
    some that diverge."""
    grid = Grid((parse_grid_option("run.lr=0.005,0.02,0.0325,0.05"),
                 parse_grid_option("run.momentum=0,0.7,0.9")), seeds=seeds)
    return plan_sweep(ScenarioSource.read("momentum_map"), grid)


def mnist_plan():
    grid = Grid((parse_grid_option("run.lr=0.1,3"),), seeds=2)
    return plan_sweep(ScenarioSource.read("mnist_batch_lr"), grid,
                      ["run.epochs=1", "data.train_limit=400", "data.test_limit=200"])


def jsonl(plan, backend) -> list[str]:
    """The sweep's rows without timings, as the JSONL lines the command line prints."""
    run = SweepRun(plan)
    with backend:
        for _ in run.run(backend):
            pass
    return [row_json(without_timing(r)) for r in run.ordered()]


@pytest.fixture(scope="module")
def cluster():
    """A Dask scheduler on 127.0.0.1 with two in-process workers (one thread each)."""
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    LocalCluster = distributed.LocalCluster  # noqa: N806 - the class, as Dask names it

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=None) as c:
        yield c.scheduler_address


@pytest.mark.parametrize("make_plan", [momentum_plan, mnist_plan], ids=["graph", "network"])
def test_the_same_rows_on_one_worker_a_pool_and_a_cluster(make_plan, cluster):
    plan = make_plan()
    one = jsonl(plan, Serial())
    assert one == jsonl(plan, LocalPool(2))
    assert one == jsonl(plan, DaskCluster(cluster))
    rows = [json.loads(line) for line in one]
    assert [r["settings"] for r in rows] == [p.settings_dict for p in plan.points]
    assert all("timing" not in r for r in rows)


def test_the_momentum_rows_are_those_of_single_runs():
    plan = momentum_plan()
    rows = [json.loads(line) for line in jsonl(plan, Serial())]
    by = {(r["settings"]["run.lr"], r["settings"]["run.momentum"]): r for r in rows}
    # alpha * lambda_max = 0.05 * 100 = 5 > 2 (1 + beta) for every beta here: diverges
    assert all(by[(0.05, b)]["stop_reason"] == "diverged" for b in (0, 0.7, 0.9))
    assert by[(0.05, 0)]["value"] is None and "'J' became inf" in by[(0.05, 0)]["message"]
    assert by[(0.0325, 0.7)]["stop_reason"] == "converged"
    assert rows[0]["scenario"] == "momentum_map" and rows[0]["metric"] == "iterations_to:1e-6"


def test_a_stopped_sweep_hands_out_the_rows_waiting_for_earlier_ones():
    order = InOrder(list(range(5)))
    assert order.add(2, {"i": 2}) == [] and order.add(4, {"i": 4}) == []
    assert order.add(0, {"i": 0}) == [{"i": 0}]
    assert order.rest() == [{"i": 2}, {"i": 4}]


def test_a_failing_point_is_a_row_with_its_reason_and_the_sweep_goes_on(monkeypatch):
    real = ex.run_point

    def flaky(source, overrides, metric, variant):
        if "run.lr=0.02" in overrides:
            raise ValueError("boom")
        return real(source, overrides, metric, variant)

    monkeypatch.setattr(ex, "run_point", flaky)
    rows = [json.loads(line) for line in jsonl(momentum_plan(), Serial())]
    failed = [r for r in rows if r["stop_reason"] == "failed"]
    assert len(failed) == 3 and all(r["settings"]["run.lr"] == 0.02 for r in failed)
    assert failed[0]["message"] == "ValueError: boom" and failed[0]["value"] is None
    assert len(rows) == 12 and sum(r["stop_reason"] == "converged" for r in rows) >= 5


def test_a_stopped_sweep_resumes_to_the_rows_of_a_full_one(tmp_path):
    plan = momentum_plan(seeds=2)
    full = jsonl(plan, Serial())
    stop = threading.Event()
    part = SweepRun(plan)
    with LocalPool(2) as backend:
        for k, _ in enumerate(part.run(backend, stop), 1):
            if k == 5:
                stop.set()  # the pool is abandoned with points still queued and running
    assert 5 <= part.finished < part.total
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(row_json(r) for r in part.rows.values()), encoding="utf-8")
    rest = SweepRun(plan, read_rows(path, plan))
    assert rest.resumed == part.finished and len(rest.todo) == plan.grid.n_runs - part.finished
    with Serial() as backend:
        for _ in rest.run(backend):
            pass
    assert [row_json(without_timing(r)) for r in rest.ordered()] == full


def test_an_abandoned_pool_leaves_no_thread_running():
    """Stopped with points running, the pool is gone when the sweep returns: its manager
    thread too, which the interpreter would otherwise wake at exit while the thread closes
    its pipe (an OSError traceback after Ctrl-C, seen once in a full test run)."""
    plan = momentum_plan(seeds=2)
    stop = threading.Event()
    part = SweepRun(plan)
    with LocalPool(2) as backend:
        for _ in part.run(backend, stop):
            stop.set()  # the first row: the other points are still queued or running
    assert part.finished < part.total
    left = [t for t in threading.enumerate() if type(t).__name__ == "_ExecutorManagerThread"]
    assert left == []


def test_resume_refuses_rows_of_another_sweep(tmp_path):
    plan = momentum_plan()
    other = plan_sweep(ScenarioSource.read("momentum_map"),
                       Grid(plan.grid.axes, metric="updates"))
    path = tmp_path / "rows.jsonl"
    run = SweepRun(other)
    with Serial() as backend:
        for _ in zip(range(2), run.run(backend), strict=False):
            pass
    path.write_text("".join(row_json(r) for r in run.ordered()), encoding="utf-8")
    with pytest.raises(GdlabError, match="line 1 is from another sweep \\(metric 'updates'"):
        read_rows(path, plan)
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(GdlabError, match="line 1 is not JSON"):
        read_rows(path, plan)
    with pytest.raises(GdlabError, match="not a regular file"):
        read_rows(tmp_path, plan)
    assert read_rows(tmp_path / "new.jsonl", plan) == {}


def test_an_unreachable_scheduler_is_reported_within_seconds():
    pytest.importorskip("distributed", reason="the cluster extra is not installed")
    with socket.socket() as s:  # a port nobody listens on: bind, note it, close
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = DaskCluster(f"tcp://127.0.0.1:{port}", connect_seconds=1.0)
    t0 = time.monotonic()
    with pytest.raises(GdlabError, match=f"--cluster tcp://127.0.0.1:{port}: no Dask scheduler "
                                         "answered within 1 s"):
        backend.start()
    assert time.monotonic() - t0 < 15  # the client's own default would wait 30 s


def test_backends_by_option():
    assert isinstance(make_backend(1), Serial)
    assert isinstance(make_backend(3), LocalPool) and make_backend(3).workers == 3
    assert isinstance(make_backend(cluster="tcp://x:1"), DaskCluster)
    with pytest.raises(GdlabError, match="--workers: expected an integer >= 1"):
        make_backend(0)


# a fresh interpreter (no resource tracker or forkserver started yet) whose sys.stderr has no
# file descriptor, as inside the Textual app: the pool must still start its processes
NO_FD_STDERR = """
import io, sys
from engine.sweep.execute import LocalPool
from engine.sweep.driver import SweepRun
from engine.sweep.grid import Grid, parse_grid_option
from engine.sweep.plan import plan_sweep
from engine.sweep.point import ScenarioSource

class Captured(io.StringIO):
    def fileno(self):
        return -1

sys.stderr = Captured()
plan = plan_sweep(ScenarioSource.read("momentum_map"),
                  Grid((parse_grid_option("run.lr=0.005,0.02"),)))
run = SweepRun(plan)
try:
    with LocalPool(2) as backend:
        rows = list(run.run(backend))
except Exception as exc:
    print("failed:", type(exc).__name__, exc)
    raise SystemExit(1)
print(len(rows), len(run.ordered()))
"""


def test_a_pool_starts_from_a_program_whose_stderr_has_no_file_descriptor():
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", NO_FD_STDERR], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0 and p.stdout.split() == ["2", "2"], p.stdout + p.stderr
