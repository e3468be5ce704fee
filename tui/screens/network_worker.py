"""The network screen's training driver: jobs in order, to a trainer process (or a thread).

Keys become jobs ("apply" an action, "prepare", "batch", "epoch", "run", "frame"), taken in
order by one thread worker. With a trainer process (tui/network_trainer.py: the network is
trained there, away from the app's GIL) the worker sends each job and reads the frames it sends
back until its "done"; where no process can be started, or after the process died, the worker
runs the same job on the screen's own session. Either way it hands the newest Frame over to the
screen (one message at a time: a frame not yet drawn is replaced by a newer one, never queued)
and keeps the run's "done": its position and parameters (``trained``) and the trainer's
actions, which become the session's script.

A process takes a few tenths of a second to boot (a fresh interpreter importing numpy and the
engine), so the screen does not wait for it: the process boots in a worker of its own
(``_boot``) while the screen's own session builds epoch 0 and draws it (the same run: same
scenario, same seed, so the same numbers the trainer then holds). Until the first job that
trains or edits, "prepare" and "frame" are taken on the screen's session; that job, and every
job after it, waits (in the worker, the app drawing on) until the process has booted, and goes
to the thread instead if it never does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from ..network_frame import Frame, Predictions, Selection
from ..network_session import NetworkSession
from ..network_trainer import (
    Done,
    Increments,
    Merger,
    TrainerProcess,
    describe_error,
    done_of,
    run_job,
    shared_control,
    start_trainer,
)

BOOT_SECONDS = 60.0  # a trainer process that has not answered by then is ended: a thread trains
LOCAL_JOBS = ("prepare", "frame")  # taken on the screen's session until a job trains or edits

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
        self.trainer: TrainerProcess | None = None  # None: training in a thread (or booting)
        self.trained: Done | None = None  # the run as the last job left it
        self._hold = hold  # a test's gate, called in the trainer after each frame of a run
        self._launched = self._closing = False
        self._control = shared_control()  # the trainer process reads the same one
        self._booting: TrainerProcess | None = None  # launched, not answered yet
        self._booted = threading.Event()  # the process answered (or none could be had)
        self._trainer_lock = threading.Lock()  # the handle handed over, or closed
        self._in_trainer = False  # a job trained or edited: every job goes to the trainer
        self._jobs: deque[Job] = deque()  # what the keys asked for
        self._jobs_lock = threading.Lock()
        self._idle = True  # no worker is taking jobs
        self._box: Frame | None = None
        self._box_lock = threading.Lock()
        self._posted = False
        self._merger = Merger()
        self._cache, self._stream = Predictions(), Increments()

    @property
    def starting(self) -> bool:
        """The trainer process is still booting (a job that trains waits for it)."""
        return self._launched and not self._booted.is_set()

    def _launch(self, epoch0_here: bool = True) -> None:
        """Start the trainer process (once, as the screen is composed): it boots in the
        background while the screen draws epoch 0 from its own session (``epoch0_here``; else
        the first frame waits for the trainer: data too big to load and evaluate twice)."""
        if self._launched:
            return
        self._launched, self._in_trainer = True, not epoch0_here
        s = self.session
        self._boot(s.base, s.variant, dict(s.actions[0]), epoch0_here)

    @work(thread=True, group="network-boot")
    def _boot(self, sc: Any, variant: str | None, opened: dict[str, Any],
              prepare: bool) -> None:
        """Launch the process, give it the scenario and (``prepare``) let it build epoch 0
        (its frame is the one the screen drew from its own session: not drawn again). A
        process that ends or does not answer within BOOT_SECONDS is ended: the screen trains
        in a thread."""
        trainer = None
        try:
            trainer = start_trainer(self._hold, self._control)
            with self._trainer_lock:
                if trainer is not None and not self._closing:
                    self._booting, self._control = trainer, trainer.control
            if trainer is not None and not (
                    self._answer(trainer, ("start", sc, variant, opened))
                    and (not prepare or self._answer(
                        trainer, ("job", "prepare", trainer.control.token)))):
                trainer = None
        except Exception:  # noqa: BLE001 - no process, then: the thread trains
            trainer = None
        with self._trainer_lock:
            failed, self._booting = (self._booting if trainer is None else None), None
            if not self._closing:
                self.trainer = trainer
            closing = self._closing
        if failed is not None and not closing:
            failed.close()
        self._booted.set()

    def _answer(self, t: TrainerProcess, request: tuple[Any, ...]) -> bool:
        """Send a request of the boot and read its replies up to its "done" (its frame and
        error are the ones the screen's session gave); False if the process ended first, did
        not answer within BOOT_SECONDS, or the screen is closing."""
        end = time.monotonic() + BOOT_SECONDS
        try:
            t.send(request)
            while not self._closing:
                if t.conn.poll(0.05):
                    if t.recv()[0] == "done":
                        return True
                elif not t.process.is_alive() or time.monotonic() > end:
                    return False
        except (EOFError, OSError, ValueError):
            pass
        return False

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
            kept = [j for j in self._jobs if j[0] == "apply"]
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
            if job[0] not in LOCAL_JOBS:
                self._in_trainer = True  # from here on the run is the trainer's
            if self._in_trainer and not self._wait_booted():
                return
            if self._in_trainer and self.trainer is not None:
                self._remote(*job)
            else:
                self._local(*job)

    def _wait_booted(self) -> bool:
        """Wait (in the worker: the app draws on) until the process has booted or could not;
        False: the screen is closing."""
        while not self._booted.wait(0.05):
            if self._closing:
                return False
        return not self._closing

    def _local(self, job: str, arg: Any, token: int, generation: int) -> None:
        """A job on the screen's own session, in this thread."""
        if job == "apply":
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
        request = ("apply", arg) if job == "apply" else ("job", job, token)
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
