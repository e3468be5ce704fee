"""Iterating in a thread worker: the run view's playback (space, enter, + and -).

The worker steps the session's Run, commits the records to the session and nudges the screen
with a message; the screen shows the session's new records and redraws at a bounded rate.
``batch_hook``, if set, sees every batch the worker commits (outside the session's lock): a
watcher of the live record stream can hold the run there, as the tests do to keep a long run
from ending while they press keys.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual import work
from textual.message import Message
from textual.worker import Worker, get_current_worker

from engine.errors import describe
from engine.records import IterationRecord

from ..session import Session

SPEEDS = [1, 2, 5, 10, 20, 50, 100, 1000, 0]  # iterations per second; 0 = as fast as possible
REDRAW_SECONDS = 0.2  # charts, graph and explain redraw at most 5 times a second
STEP_CHUNK = 256  # states a fast run takes between looks at the clock
BATCH_SECONDS = 0.02  # a fast run steps this long, commits, posts one message...
YIELD_SECONDS = 0.01  # ...and sleeps this long so that keys and redraws are answered


def speed_text(speed: int) -> str:
    """A playback speed as a person reads it."""
    return "max speed" if speed == 0 else f"{speed}/s"


class Iterating:
    """The run view's worker and playback keys (a part of RunScreen)."""

    session: Session
    speed_index: int
    running: bool
    _halt: threading.Event
    _worker: Worker | None
    #: called by the worker with each batch it committed, before it steps again
    batch_hook: Callable[[list[IterationRecord]], None] | None = None

    class Stepped(Message):
        """The worker committed new records to the session."""

        def __init__(self, generation: int) -> None:
            super().__init__()
            self.generation = generation

    class Finished(Message):
        """The worker stopped (run ended, paused, or failed with ``error``)."""

        def __init__(self, halt: threading.Event, error: str = "") -> None:
            super().__init__()
            self.halt = halt
            self.error = error

    def start_run(self, to_end: bool) -> None:
        """Start iterating in a thread worker (continuous playback, or to the stop condition)."""
        run = self.session.run
        if run is None or run.stopped:
            self.notify("the run has stopped: r resets it", severity="warning")
            return
        self.pause()
        self._halt = threading.Event()
        self.running = True
        self._worker = self._iterate(self.session.generation, to_end, self._halt)
        self._dirty = True

    def pause(self) -> None:
        """Stop the worker and wait until it is between steps (and show where it stopped)."""
        self._halt.set()
        if self._worker is None and not self.running:
            return  # nothing was running: nothing to show (a step redraws once, not twice)
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        with self.session.lock:
            pass
        self.running = False
        self.show_new()
        self.redraw()

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _iterate(self, generation: int, to_end: bool, halt: threading.Event) -> None:
        worker = get_current_worker()
        s = self.session
        error = ""
        while not worker.is_cancelled and not halt.is_set():
            speed = SPEEDS[self.speed_index]
            fast = to_end or speed == 0
            deadline = time.monotonic() + BATCH_SECONDS
            with s.lock:
                run = s.run
                # halt is checked under the lock: once pause() has held the lock, no batch
                # is committed any more
                if halt.is_set() or s.generation != generation or run is None or run.stopped:
                    break
                before = len(run.trace)
                try:
                    while True:  # a fast run takes states a chunk at a time (Run.advance)
                        run.advance(STEP_CHUNK if fast else 1)
                        if run.stopped or not fast or time.monotonic() > deadline:
                            break
                except Exception as exc:  # reported by Finished, not lost
                    error = describe(exc)
                after = len(run.trace)
                s.commit(after - before)
                stopped = run.stopped
            self.post_message(self.Stepped(generation))
            if self.batch_hook is not None:
                self.batch_hook(run.trace[before:after])  # records made for the hook only
            if stopped or error:
                break
            # between batches the worker sleeps a moment, so the app's thread gets the GIL
            halt.wait(1.0 / speed if not fast else YIELD_SECONDS)
        self.post_message(self.Finished(halt, error))

    def on_iterating_stepped(self, message: Stepped) -> None:
        self.show_new()

    def on_iterating_finished(self, message: Finished) -> None:
        if message.halt is self._halt:
            self.running = False
        self.show_new()
        self.redraw()
        if message.error:
            self.notify(message.error, severity="error")

    def action_toggle_run(self) -> None:
        """Run continuously at the playback speed, or pause."""
        if self.running:
            self.pause()
        else:
            self.start_run(to_end=False)

    def action_run_to_end(self) -> None:
        """Run as fast as possible to the stop condition."""
        self.start_run(to_end=True)

    def action_faster(self) -> None:
        """More iterations per second."""
        self.speed_index = min(len(SPEEDS) - 1, self.speed_index + 1)
        self._dirty = True

    def action_slower(self) -> None:
        """Fewer iterations per second."""
        self.speed_index = max(0, self.speed_index - 1)
        self._dirty = True
