"""The network screen's training driver: jobs in order, to a trainer process (or a thread).

Keys become jobs ("start", "apply" an action, "prepare", "batch", "epoch", "run", "frame"),
taken in order by one thread worker. With a trainer process (tui/network_trainer.py: the
network is trained there, away from the app's GIL) the worker sends each job and reads the
frames it sends back until its "done"; where no process can be started, or after the process
died, the worker runs the same job on the screen's own session. Either way it hands the newest
Frame over to the screen (one message at a time: a frame not yet drawn is replaced by a newer
one, never queued) and keeps the run's "done": its position and parameters (``trained``) and
the trainer's actions, which become the session's script.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from ..network_frame import Frame, Predictions, Selection
from ..network_session import NetworkSession
from ..network_trainer import (
    Control,
    Done,
    Increments,
    Merger,
    TrainerProcess,
    describe_error,
    done_of,
    run_job,
    start_trainer,
)

Job = tuple[str, Any, int, int]  # (what, its argument, the halt token it runs under, the
#                                 session's generation when it was asked for)


class Training:
    """The worker and the trainer process of a NetworkScreen (a part of it)."""

    session: NetworkSession
    state: str
    selection: Selection
    grid: tuple[int, int]
    post_message: Callable[[Message], bool]

    class FrameReady(Message, namespace="network_screen"):
        """A new Frame waits in the screen's box (one message at a time: no backlog)."""

    class Failed(Message, namespace="network_screen"):
        """The job stopped on an error (bad data, an engine bug, the trainer process gone)."""

        def __init__(self, generation: int, error: str) -> None:
            super().__init__()
            self.generation, self.error = generation, error

    def _init_training(self, hold: Callable[[NetworkSession], None] | None) -> None:
        self.trainer: TrainerProcess | None = None  # None: training in a thread
        self.trained: Done | None = None  # the run as the last job left it
        self._hold = hold  # a test's gate, called in the trainer after each frame of a run
        self._launched = self._closing = False
        self._control = Control()
        self._jobs: deque[Job] = deque()  # what the keys asked for
        self._jobs_lock = threading.Lock()
        self._idle = True  # no worker is taking jobs
        self._box: Frame | None = None
        self._box_lock = threading.Lock()
        self._posted = False
        self._merger = Merger()
        self._cache, self._stream = Predictions(), Increments()

    def _launch(self) -> None:
        """Start the trainer process (once, as the screen is composed: it boots while the
        screen mounts, in the worker) and give it the session's scenario."""
        if self._launched:
            return
        self._launched = True
        s = self.session
        self._queue("start", (s.base, s.variant, dict(s.actions[0])))

    def _start_process(self) -> None:
        """(The worker's first job.) Start the trainer process: here, not in the app's
        thread, because starting one waits for the process to be forked (and the first time
        for multiprocessing's server to import the engine). None: train in this thread."""
        trainer = start_trainer(self._hold, list(self._control.values))
        if trainer is not None:
            self.trainer, self._control = trainer, trainer.control

    def _queue(self, job: str, arg: Any = None) -> None:
        """Add a job for the worker, in order (keys pressed quickly are all taken); start a
        worker when none is taking jobs."""
        self._control.aim(self.selection, self.grid)
        with self._jobs_lock:
            self._jobs.append((job, arg, self._control.token, self.session.generation))
            start, self._idle = self._idle, False
        if start:
            self._work()

    def _drop_jobs(self) -> None:
        """Forget the steps asked of the old run (a new run begins); actions still go over."""
        with self._jobs_lock:
            kept = [j for j in self._jobs if j[0] in ("start", "apply")]
            self._jobs.clear()
            self._jobs.extend(kept)

    def _stop_running(self) -> None:
        """Stop a running job at its next mini-batch (a flag the trainer reads: no message)."""
        self._control.halt()

    @work(thread=True, group="network-train")
    def _work(self) -> None:
        """Take the queued jobs in order; end when there are none left."""
        worker = get_current_worker()
        while not worker.is_cancelled and not self._closing:
            with self._jobs_lock:
                if not self._jobs:
                    self._idle = True
                    return
                job = self._jobs.popleft()
            if job[0] == "start":
                self._start_process()
            if self.trainer is not None:
                self._remote(*job)
            else:
                self._local(*job)

    def _local(self, job: str, arg: Any, token: int, generation: int) -> None:
        """A job on the screen's own session, in this thread."""
        if job in ("start", "apply"):
            return  # the screen's session took the action already
        s = self.session
        try:
            run_job(s, job, token, self._control, self._cache, self._stream, self._received)
        except Exception as exc:  # noqa: BLE001 - an engine bug: on screen, the app alive
            self.post_message(self.Failed(generation, describe_error(exc)))
        with s.lock:
            self.trained = done_of(s)

    def _remote(self, job: str, arg: Any, token: int, generation: int) -> None:
        """A job sent to the trainer process; its frames and its end read back."""
        t = self.trainer
        assert t is not None
        request = ("start", *arg) if job == "start" else ("apply", arg) if job == "apply" \
            else ("job", job, token)
        try:
            t.send(request)
            while True:
                reply = t.recv()
                if reply[0] == "frame":
                    self._received(*reply[1:])
                elif reply[0] == "error":
                    self.post_message(self.Failed(generation, reply[2]))
                else:
                    self._finished(reply[1])
                    return
        except (EOFError, OSError):
            if self._closing:
                return
            t.process.join(1.0)
            code = t.process.exitcode
            self.trainer = None  # a fresh run (r, an edit) trains in a thread from now on
            self._drop_jobs()
            self.post_message(self.Failed(generation, (
                f"the training process ended unexpectedly (exit code {code}); "
                "r starts the run again")))

    def _finished(self, done: Done) -> None:
        """A job's end: keep the run's state; the trainer's actions become the script (when
        they are of the current run: an edit made meanwhile is not in them yet)."""
        self.trained = done
        s = self.session
        with s.lock:
            if done.generation == s.generation and done.actions is not None:
                s.actions = done.actions

    def _received(self, frame: Frame, epochs_from: int, losses_from: int) -> None:
        """Hand a Frame over to the screen, unless it has not yet drawn the last one (then
        it draws this newer one instead)."""
        frame = self._merger.merge(frame, epochs_from, losses_from)
        with self._box_lock:
            self._box = frame
            if self._posted:
                return
            self._posted = True
        self.post_message(self.FrameReady())

    def _take_box(self) -> Frame | None:
        with self._box_lock:
            frame, self._box, self._posted = self._box, None, False
        return frame

    def _close_trainer(self) -> None:
        """End the trainer process (the screen goes away): no process outlives the app."""
        self._stop_running()
        t, self.trainer = self.trainer, None
        if t is not None:
            self._closing = True
            t.close()
