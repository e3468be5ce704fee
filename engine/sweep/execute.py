"""Run a sweep's points: in this process, on a local process pool, or on a Dask cluster.

Every backend runs the same function (``run_task``: one point, its failure caught) on the same
plain arguments, and hands results back as they finish, each with its position in the grid, so
the order in which points finish never changes the rows (``rows.InOrder`` puts them in grid
order). ``execute`` drives a backend and stops when asked (a ``threading.Event``), abandoning
the points still queued or running.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ..errors import GdlabError
from ..processes import usable_stderr
from .plan import Plan
from .point import run_point
from .worker_init import init_worker

POLL_SECONDS = 0.2  # how often a waiting sweep looks at its stop event
CONNECT_SECONDS = 3.0  # how long --cluster waits for the scheduler to answer
MANAGER_SECONDS = 30.0  # how long an abandoned pool's manager thread may take to end


def run_task(*args: Any) -> dict[str, Any]:
    """``point.run_point(*args)``, with any failure turned into a result: one bad point is a row
    with its reason, and the sweep goes on."""
    t0 = time.perf_counter()
    try:
        return run_point(*args)
    except GdlabError as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001 - a point's crash becomes its row, not the sweep's
        message = f"{type(exc).__name__}: {exc}"
    return failed(message, time.perf_counter() - t0)


def failed(message: str, seconds: float = 0.0) -> dict[str, Any]:
    """The result of a point that could not run."""
    return {"value": None, "stop_reason": "failed", "message": message, "summary": None,
            "seconds": seconds, "cpu_seconds": None}


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Backend:
    """Where points run. ``submit`` them, then collect ``done`` results until all are back."""

    description = ""
    note = ""  # something to tell the person (e.g. a cluster with no workers yet)

    def __enter__(self) -> Backend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # an exception (Ctrl-C) or a stop with points left: abandon them
        self.close(cancel=exc[0] is not None or self.unfinished())

    def unfinished(self) -> bool:
        """Whether points were submitted and not all collected."""
        return False

    def start(self) -> None:
        """Connect or start the workers."""

    def submit(self, tasks: list[tuple[int, tuple[Any, ...]]]) -> None:  # pragma: no cover
        raise NotImplementedError

    def done(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:  # pragma: no cover
        """Results that finished (waiting up to ``timeout`` for the first one)."""
        raise NotImplementedError

    def close(self, cancel: bool = False) -> None:
        """Release the workers; with ``cancel``, abandon the points not finished."""


class Serial(Backend):
    """The points one after another in this process (``--workers 1``)."""

    description = "1 worker (this process)"

    def __init__(self) -> None:
        self.queue: list[tuple[int, tuple[Any, ...]]] = []

    def submit(self, tasks: list[tuple[int, tuple[Any, ...]]]) -> None:
        self.queue = list(reversed(tasks))

    def unfinished(self) -> bool:
        return bool(self.queue)

    def done(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        if not self.queue:
            return []
        i, args = self.queue.pop()
        return [(i, run_task(*args))]


class LocalPool(Backend):
    """A pool of worker processes on this machine (forkserver where available, else spawn: no
    fork of a process that may be running threads, such as the app)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local worker processes"
        self.pool: cf.ProcessPoolExecutor | None = None
        self.pending: dict[cf.Future[dict[str, Any]], int] = {}

    def start(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        with usable_stderr():  # its queues start multiprocessing's resource tracker
            self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx,
                                               initializer=init_worker)

    def unfinished(self) -> bool:
        return bool(self.pending)

    def submit(self, tasks: list[tuple[int, tuple[Any, ...]]]) -> None:
        assert self.pool is not None
        with usable_stderr():  # a submit may start a process (from the app, say)
            for i, args in tasks:
                self.pending[self.pool.submit(run_task, *args)] = i

    def done(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        if not self.pending:
            return []
        finished, _ = cf.wait(self.pending, timeout, return_when=cf.FIRST_COMPLETED)
        out = []
        for fut in finished:
            i = self.pending.pop(fut)
            try:
                out.append((i, fut.result()))
            except Exception as exc:  # noqa: BLE001 - e.g. a worker process killed
                out.append((i, failed(f"the worker failed: {type(exc).__name__}: {exc}")))
        return sorted(out)

    def close(self, cancel: bool = False) -> None:
        if self.pool is None:
            return
        if cancel:
            # ProcessPoolExecutor cannot cancel a running call: end its processes, or the
            # interpreter would wait at exit for points nobody will read. Its manager thread
            # is joined here: shutdown(wait=False) forgets it, and one still closing its
            # wake-up pipe at exit races the interpreter's own wake-up of it (an OSError
            # traceback after Ctrl-C)
            procs = list((getattr(self.pool, "_processes", None) or {}).values())
            manager = getattr(self.pool, "_executor_manager_thread", None)
            self.pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.terminate()
            if manager is not None:
                manager.join(MANAGER_SECONDS)
        self.pool.shutdown(wait=True)
        self.pool = None
        self.pending.clear()


class DaskCluster(Backend):
    """An existing Dask distributed scheduler (``--cluster ADDRESS``), through its client."""

    def __init__(self, address: str, connect_seconds: float = CONNECT_SECONDS) -> None:
        self.address = address
        self.connect_seconds = connect_seconds
        self.description = f"the Dask cluster at {address}"
        self.client: Any = None
        self.pending: dict[Any, int] = {}

    def start(self) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise GdlabError("--cluster needs Dask's distributed client: "
                             "pip install 'gdlab[cluster]'") from None
        try:
            self.client = Client(self.address, timeout=self.connect_seconds,
                                 set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, a bad address...
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise GdlabError(f"--cluster {self.address}: no Dask scheduler answered within "
                             f"{self.connect_seconds:g} s ({reason[:120]})") from None
        n = len(self.client.scheduler_info().get("workers", {}))
        self.description = f"the Dask cluster at {self.address} ({n} workers)"
        if n == 0:
            self.note = (f"the scheduler at {self.address} has no workers yet: points wait "
                         f"for one (start one with `dask worker {self.address}`)")

    def unfinished(self) -> bool:
        return bool(self.pending)

    def submit(self, tasks: list[tuple[int, tuple[Any, ...]]]) -> None:
        from distributed import as_completed

        if not tasks:
            return
        token = uuid.uuid4().hex[:8]
        # the scenario text goes to the cluster once, not with every point
        source = self.client.scatter(tasks[0][1][0], broadcast=True)
        for i, args in tasks:
            fut = self.client.submit(run_task, source, *args[1:], key=f"gdlab-sweep-{token}-{i}",
                                     pure=False)
            self.pending[fut] = i
        # a thread hands over the futures as they finish, so that done() can wait with a timeout
        self.finished: queue.Queue[Any] = queue.Queue()
        self.completion = as_completed(list(self.pending), loop=self.client.loop)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for fut in self.completion:
            self.finished.put(fut)

    def done(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        if not self.pending:
            return []
        try:
            futs = [self.finished.get(timeout=timeout)]
        except queue.Empty:
            return []
        while not self.finished.empty():
            futs.append(self.finished.get())
        out = []
        for fut in futs:
            i = self.pending.pop(fut)
            try:
                out.append((i, fut.result()))
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker
                out.append((i, failed(f"the cluster failed: {type(exc).__name__}: {exc}")))
        return sorted(out)

    def close(self, cancel: bool = False) -> None:
        if self.client is None:
            return
        if getattr(self, "completion", None) is not None:
            self.completion.clear()
        if cancel and self.pending:
            self.client.cancel(list(self.pending))
        self.pending.clear()
        self.client.close()
        self.client = None


def make_backend(workers: int | None = None, cluster: str | None = None) -> Backend:
    """The backend for ``--workers N`` / ``--cluster ADDRESS`` (default: one worker per core)."""
    if cluster:
        return DaskCluster(cluster)
    n = workers if workers is not None else default_workers()
    if n < 1:
        raise GdlabError(f"--workers: expected an integer >= 1, got {n}")
    return Serial() if n == 1 else LocalPool(n)


def execute(plan: Plan, indices: list[int], backend: Backend,
            stop: threading.Event | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Run ``plan.points[i]`` for each i on ``backend`` (already started); yield (i, result)
    as they finish. Returns early, abandoning the rest, once ``stop`` is set."""
    backend.submit([(i, plan.task(plan.points[i])) for i in indices])
    left = len(indices)
    while left:
        if stop is not None and stop.is_set():
            return
        for i, result in backend.done(POLL_SECONDS):
            left -= 1
            yield i, result
