"""Training a network session away from the app's interpreter: its own process, frames back.

The network screen trains in a process of its own (``TrainerProcess``), so that training and
drawing do not share one GIL: the app asks for a request at a time over a pipe ("start",
"apply" an action, a "job": prepare, batch, epoch, run, frame) and reads what comes back, in
order: Frames while the job runs (on a fixed beat, each carrying only the epochs and batch
losses that are new since the last one: ``Increments`` cuts them, ``Merger`` joins them again on
the app's side), an "error" line if the job failed, and one "done" that ends every request with
the run's position, its parameters and the session's actions (what ``gdlab replay`` replays).
The trainer process owns the network; nothing is trained in the app.

Pausing must not wait for the pipe: a shared array (``Control``) holds a halt token, which the
app bumps to stop a run at its next mini-batch, and the selection and grid size the next frame
is taken for. ``run_job`` is the one loop that steps a session and takes frames; the app uses
it in a thread of its own where no process can be started (``start_trainer`` returns None).
No textual import here.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import GdlabError
from engine.processes import usable_stderr

from .network_frame import Frame, Predictions, Selection, take_frame
from .network_session import NetworkSession

FRAME_SECONDS = 0.08  # while running, a frame (surface, maps, numbers) this often
CLOSE_SECONDS = 2.0  # a trainer process asked to stop is ended after this long


class Control:
    """What the app tells a running job without a message: a halt token (a job runs while it
    equals the token the job was given) and the selection and grid of the next frame. A shared
    array of int64 across processes, a plain list in one."""

    def __init__(self, shared: Any = None) -> None:
        self.values = shared if shared is not None else [0, 1, 0, 0, 40, 40]

    @property
    def token(self) -> int:
        return int(self.values[0])

    def halt(self) -> int:
        """Stop the running job at its next mini-batch; the token a new job gets."""
        self.values[0] = self.values[0] + 1
        return int(self.values[0])

    def aim(self, sel: Selection, grid: tuple[int, int]) -> None:
        """The selection and the boundary's grid points (columns, rows) frames are taken for."""
        self.values[1], self.values[2], self.values[3] = sel.layer, sel.neuron, sel.example
        self.values[4], self.values[5] = grid

    def selection(self) -> Selection:
        return Selection(int(self.values[1]), int(self.values[2]), int(self.values[3]))

    def grid(self) -> tuple[int, int]:
        return int(self.values[4]), int(self.values[5])


@dataclass
class Done:
    """The end of a request: the run as the trainer left it (its generation, position and
    parameters) and the session's actions so far."""

    generation: int
    epoch: int = 0
    batch: int = 0
    W: list[np.ndarray] | None = None  # layers 1..L
    b: list[np.ndarray] | None = None
    actions: list[dict[str, Any]] | None = None


def done_of(s: NetworkSession) -> Done:
    t, net = s.trainer, s.net
    d = Done(s.generation, actions=[dict(a) for a in s.actions])
    if t is not None and net is not None:
        d.epoch, d.batch = t.epoch, t.batch
        d.W = [np.array(w, np.float64) for w in net.W[1:]]
        d.b = [np.array(v, np.float64) for v in net.b[1:]]
    return d


class Increments:
    """The trainer's side of a frame stream: how many epoch records and batch losses of the
    current run were sent already (a frame carries only the new ones; MNIST's digits once)."""

    def __init__(self) -> None:
        self.generation, self.epochs, self.losses, self.digits = -1, 0, 0, False

    def since(self, generation: int) -> tuple[int, int]:
        if generation != self.generation:
            self.generation, self.epochs, self.losses, self.digits = generation, 0, 0, False
        return self.epochs, self.losses

    def sent(self, f: Frame) -> None:
        self.epochs += len(f.epochs)
        self.losses += len(f.batch_losses)
        if f.digits is not None:
            if self.digits:
                f.digits = None
            self.digits = True


class Merger:
    """The app's side: joins each frame's new epochs and losses to the ones before it."""

    def __init__(self) -> None:
        self.generation = -1
        self.epochs: list[Any] = []
        self.losses: list[tuple[float, float]] = []
        self.digits: Any = None

    def merge(self, f: Frame, epochs_from: int, losses_from: int) -> Frame:
        if f.generation != self.generation:
            self.generation, self.epochs, self.losses, self.digits = f.generation, [], [], None
        self.epochs = self.epochs[:epochs_from] + f.epochs
        self.losses = self.losses[:losses_from] + f.batch_losses
        f.epochs, f.batch_losses = self.epochs, self.losses
        if f.digits is not None:
            self.digits = f.digits
        f.digits = self.digits
        return f


def run_job(s: NetworkSession, job: str, token: int, control: Control, cache: Predictions,
            stream: Increments, send: Callable[[Frame, int, int], None],
            hold: Callable[[NetworkSession], None] | None = None) -> None:
    """Do ``job`` on ``s``: "prepare" (build the run: its epoch 0), "batch", "epoch", "run"
    (until halted, finished or diverged: a frame every FRAME_SECONDS) or "frame" (one frame of
    the run as it is); ``send`` each frame. Halted when ``control``'s token is not ``token``.
    ``hold(s)``, when given, is called after each frame of a run (a test's gate)."""
    generation = s.generation

    def halted() -> bool:
        return control.token != token or s.generation != generation

    def frame() -> None:
        e0, l0 = stream.since(s.generation)
        sel = control.selection()
        f = take_frame(s, sel, *control.grid(), cache=cache, since=(e0, l0))
        stream.sent(f)
        send(f, e0, l0)

    with s.lock:
        if s.generation != generation:
            return
        s.prepare()
        if job == "batch":
            s.step_batches(1)
        elif job == "epoch":
            s.step_epoch(halted)
        frame()
    due = time.monotonic()
    while job == "run" and not halted() and not s.finished:
        # frames on a fixed beat (not FRAME_SECONDS after the last one was sent: taking it
        # would slow the beat down)
        due = max(due + FRAME_SECONDS, time.monotonic() + FRAME_SECONDS / 4)

        def frame_due(end: float = due) -> bool:
            return halted() or time.monotonic() >= end

        with s.lock:
            if s.generation != generation:
                break
            s.step_batches(10**9, frame_due)
            frame()
        if hold is not None:
            hold(s)


def describe_error(exc: BaseException) -> str:
    """One line for the error panel: a GdlabError's own message, else the exception's type."""
    if isinstance(exc, GdlabError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def serve(conn: Any, shared: Any, env: dict[str, str],
          hold: Callable[[NetworkSession], None] | None = None) -> None:
    """The trainer process: take requests from ``conn`` until "stop" or the app is gone.
    ``env``: the app's environment as it is now (a forkserver's children inherit the
    server's, from when it started: GDLAB_MNIST_DIR may have changed since)."""
    os.environ.clear()
    os.environ.update(env)
    s = NetworkSession()
    control, cache, stream = Control(shared), Predictions(), Increments()

    def send(f: Frame, e0: int, l0: int) -> None:
        conn.send(("frame", f, e0, l0))

    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the app is gone
        op = request[0]
        if op == "stop":
            return
        try:
            if op == "start":
                _, sc, variant, opened = request
                s.start(sc, variant)
                s._log(opened)
            elif op == "apply":
                s.apply(request[1])
                cache = Predictions()
            elif op == "job":
                run_job(s, request[1], request[2], control, cache, stream, send, hold)
        except (BrokenPipeError, EOFError):
            return
        except Exception as exc:  # noqa: BLE001 - every error reaches the app's error panel
            try:
                conn.send(("error", s.generation, describe_error(exc)))
            except OSError:
                return
        try:
            conn.send(("done", done_of(s)))
        except OSError:
            return


def context() -> Any:
    """The multiprocessing context of trainer processes: spawn, a fresh interpreter. Never
    fork a threaded Textual app; and not the forkserver, which the sweep shares and whose
    children inherit the environment of the moment the server started."""
    return multiprocessing.get_context("spawn")


class TrainerProcess:
    """The app's handle on a trainer process: send a request, read its replies, stop it."""

    def __init__(self, hold: Callable[[NetworkSession], None] | None = None,
                 control: Control | None = None) -> None:
        ctx = context()
        values = control.values if control is not None else Control().values
        shared = ctx.RawArray("q", list(values)) if isinstance(values, list) else values
        self.control = Control(shared)
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(child, shared, dict(os.environ), hold), daemon=True,
                                   name="gdlab-trainer")
        with usable_stderr():  # the app's stderr has no file descriptor
            self.process.start()
        child.close()

    def send(self, request: tuple[Any, ...]) -> None:
        self.conn.send(request)

    def recv(self) -> Any:
        return self.conn.recv()

    def close(self) -> None:
        """Ask the process to stop, end it if it does not (a run is halted first)."""
        self.control.halt()
        try:
            self.conn.send(("stop",))
        except OSError:
            pass
        self.process.join(CLOSE_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(CLOSE_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def shared_control() -> Control:
    """A Control in shared memory (a trainer process started later reads the same one), or in
    a list where no shared memory can be had (then no process can be started either)."""
    try:
        return Control(context().RawArray("q", Control().values))
    except (OSError, RuntimeError, ImportError, ValueError):
        return Control()


def start_trainer(hold: Callable[[NetworkSession], None] | None = None,
                  control: Control | None = None) -> TrainerProcess | None:
    """A trainer process reading ``control`` (a shared one; a list's values are copied), or
    None where none can be started (no semaphores, no processes allowed, a sandbox): the
    screen then trains in a thread. Returns once the process is launched, not booted."""
    try:
        return TrainerProcess(hold, control)
    except (OSError, RuntimeError, ImportError, ValueError):
        return None
