"""The network screen driven with Textual's pilot: stepping, running and pausing, every edit,
reset and new seed, neuron selection, compare, export and replaying the session script.

Every wait is on the app's own state: the worker's completion (``app.workers``), a Frame the
screen drew, a number of epochs the session reached. No sleeps, no assumption about speed.
"""

from __future__ import annotations

import io
import json
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gates import HANG_SECONDS
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static, TabbedContent

import tui
from engine.scenario import load_scenario
from tui.cli import main
from tui.formatting import fmt
from tui.network_frame import take_frame
from tui.network_session import NetworkSession, replay_network
from tui.network_trainer import context as trainer_context
from tui.screens.network import NetworkScreen
from tui.screens.network_compare import NetworkCompareScreen
from tui.screens.network_edit import NetworkEditScreen
from tui.widgets.cells_view import CellsView

MNIST_FAST = ["data.train_limit=1000", "run.epochs=2", "run.batch_size=32"]


class NetApp(App[None]):
    """The network screen on ``name`` (with ``--set`` overrides), the app's stylesheet."""

    CSS_PATH = str(Path(tui.__file__).parent / "gdlab.tcss")

    def __init__(self, name: str, overrides: list[str] | None = None,
                 variant: str | None = None, hold: Any = None) -> None:
        super().__init__()
        self.sc = load_scenario(name, overrides)
        self.variant = variant
        self.hold = hold

    def on_mount(self) -> None:
        self.push_screen(NetworkScreen(self.sc, self.variant, show_timings=False,
                                       hold=self.hold))

    def action_picker(self) -> None:
        self.push_screen(Screen())


async def until(pilot: Pilot, cond: Any, timeout: float = HANG_SECONDS) -> None:
    """Let the app run until ``cond()`` holds (the timeout only turns a hang into a failure:
    gates.HANG_SECONDS, far beyond any wait on a busy 2-core machine)."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "the app never reached the state"
        await pilot.pause()


def at_rest(screen: NetworkScreen) -> bool:
    """No job queued or being taken, no frame waiting to be drawn, and the frame drawn is of
    the current run at the boundary panel's size as it is now (a step's status can take
    another line: the panel shrinks, and the screen queues a "frame" job that draws the
    boundary again at its new size)."""
    f = screen.frame
    box = screen.query_one("#net-map").size
    measured = box.width <= 2 or box.height <= 1 or screen.grid == (box.width, 2 * box.height)
    return (screen._idle and not screen._posted and f is not None and measured
            and f.generation == screen.session.generation
            and (f.surface is None
                 or f.surface.outputs.shape[:2] == (screen.grid[1], screen.grid[0])))


async def settle(pilot: Pilot) -> NetworkScreen:
    """Wait until the screen is at rest (``at_rest``), and still is after the app has handled
    what that last frame posted (a layout change, a resize): its last Frame drawn."""
    await pilot.app.workers.wait_for_complete()
    screen = pilot.app.screen
    assert isinstance(screen, NetworkScreen)
    while True:
        await until(pilot, lambda: at_rest(screen))
        await pilot.pause()
        if at_rest(screen):
            return screen


async def show(pilot: Pilot, tab: str) -> NetworkScreen:
    """Open a tab of the network screen (hidden panels are not redrawn), let it draw, and
    settle again: a tab of another width resizes the boundary panel, whose frame is then
    drawn again at its new size."""
    screen = pilot.app.screen
    assert isinstance(screen, NetworkScreen)
    screen.query_one("#net-tabs", TabbedContent).active = tab
    await pilot.pause()
    return await settle(pilot)


def weights(s: NetworkSession | NetworkScreen) -> list[np.ndarray]:
    """The weights of a session's network, or of the one the screen's trainer (its own
    process) holds after the last job."""
    if isinstance(s, NetworkScreen):
        assert s.trained is not None and s.trained.W is not None
        return s.trained.W
    assert s.net is not None
    return [w.copy() for w in s.net.W[1:]]


def replayed(s: NetworkSession) -> NetworkSession:
    """The session's script replayed from scratch (through JSON, as a file holds it)."""
    r = replay_network(json.loads(s.script())["actions"])
    with r.lock:
        r.prepare()
    return r


def text(screen: Screen, wid: str) -> str:
    """What a Static shows, as plain text (rich renderables printed wide, unwrapped)."""
    content = screen.query_one(wid, Static).content
    if isinstance(content, str):
        return content
    console = Console(width=300, file=io.StringIO(), record=True)
    console.print(content)
    return console.export_text()


# -- stepping ---------------------------------------------------------------------------------

async def test_step_batch_then_epoch_shows_the_records_and_the_numbers_of_the_batch() -> None:
    app = NetApp("spiral", variant="playground")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        assert screen.state == "paused" and [r.epoch for r in screen.frame.epochs] == [0]
        await pilot.press("s")
        await settle(pilot)
        screen = await show(pilot, "tab-layers")
        f = screen.frame
        assert (f.epoch, f.batch, f.batches_per_epoch) == (1, 1, 25)  # 250 points, batches of 10
        s = screen.session
        # BP3 of the output neuron for example 0 is its delta; the panel prints that number
        assert f.bp is not None and f.bp["layer"] == 1 and f.bp["neuron"] == 0
        assert fmt(f.bp["dC_db"], 5) in text(screen, "#net-bp")
        # BP2 multiplies out: delta = (sum_k w_kj delta_k) * act'(z), with the pre-step weights
        assert f.bp["delta"] == pytest.approx(f.bp["weighted_sum"] * f.bp["act_prime"], rel=1e-12)
        # the weights of the same batch taken without the app (the script replayed)
        assert f.bp["w_next"] == replayed(s).trainer.weights_before[1][:, 0].tolist()
        await pilot.press("S")
        screen = await settle(pilot)
        assert [r.epoch for r in screen.frame.epochs] == [0, 1]
        last = screen.frame.epochs[-1]
        assert f"test acc {last.test_accuracy * 100:.1f}%" in text(screen, "#net-status")
        assert s.actions[1:] == [{"do": "step", "unit": "batch", "count": 1},
                                 {"do": "step", "unit": "epoch", "count": 1}]
        r = replayed(s)
        assert all(np.array_equal(a, b) for a, b in zip(weights(r), weights(screen),
                                                         strict=True))
        assert [e.test_loss for e in r.epochs] == [e.test_loss for e in screen.frame.epochs]


def hold_from_epoch(gate: Any, epoch: int, s: NetworkSession) -> None:
    """A gate in the trainer process (called after each frame of a run): from ``epoch`` on,
    wait until the test opens ``gate``."""
    if s.trainer is not None and s.trainer.epoch >= epoch:
        gate.wait(HANG_SECONDS)


async def test_run_and_pause_then_the_script_replays_to_the_same_network() -> None:
    # a gate the test holds: once a frame of epoch 3 is sent, the trainer waits there until
    # the test has paused (on Python 3.13 spiral's 500 epochs were trained inside the key
    # press: 0.9 s)
    gate = trainer_context().Event()
    app = NetApp("spiral", variant="playground", hold=partial(hold_from_epoch, gate, 3))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        assert screen.trainer is not None  # training in its own process
        draws = screen.draws
        await pilot.press("space")
        assert screen.state == "running"
        await until(pilot, lambda: len(screen.frame.epochs) >= 4 and screen.draws > draws + 1)
        await pilot.press("space")
        assert screen.state == "paused"
        gate.set()
        screen = await settle(pilot)
        s = screen.session
        position = (screen.trained.epoch, screen.trained.batch)
        assert (screen.frame.epoch, screen.frame.batch) == position  # the last frame drawn
        steps = [a for a in s.actions if a["do"] == "step"]
        assert steps == [{"do": "step", "unit": "batch", "count": steps[0]["count"]}]
        # every batch the trainer took is in the script: (epoch - 1) * 25 + batch of them
        assert steps[0]["count"] == (position[0] - 1) * 25 + position[1]
        assert position[0] >= 3
        await pilot.press("s")  # paused stays put: one more batch is one more
        screen = await settle(pilot)
        assert (screen.trained.epoch - 1) * 25 + screen.trained.batch == steps[0]["count"] + 1
        assert screen.frame.surface is not None and screen.frame.surface.outputs.shape[:2] == (
            screen.grid[1], screen.grid[0])
        r = replayed(s)
        assert all(np.array_equal(a, b) for a, b in zip(weights(r), weights(screen),
                                                         strict=True))


async def test_a_run_to_the_end_finishes_with_the_summary() -> None:
    app = NetApp("xor_2_2_1", ["run.epochs=4"])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space")
        screen = await settle(pilot)
        assert screen.state == "finished" and screen.frame.summary is not None
        assert [r.epoch for r in screen.frame.epochs] == [0, 1, 2, 3, 4]
        await pilot.press("s")  # nothing left to take
        screen = await settle(pilot)
        assert screen.trained.epoch == 4


# -- reset, new seed, selection -----------------------------------------------------------------

async def test_reset_keeps_the_initial_weights_and_new_seed_draws_new_ones() -> None:
    app = NetApp("circle")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        first = weights(screen)
        await pilot.press("S")
        screen = await settle(pilot)
        assert not np.array_equal(weights(screen)[0], first[0])
        await pilot.press("r")
        screen = await settle(pilot)
        assert [r.epoch for r in screen.frame.epochs] == [0]
        assert all(np.array_equal(a, b) for a, b in zip(weights(screen), first, strict=True))
        await pilot.press("n")
        screen = await settle(pilot)
        seed = screen.session.actions[-1]
        assert seed["do"] == "seed" and screen.session.edits["model"]["seed"] == seed["value"]
        assert not np.array_equal(weights(screen)[0], first[0])
        r = replayed(screen.session)
        assert all(np.array_equal(a, b) for a, b in zip(weights(r), weights(screen),
                                                         strict=True))


async def test_selecting_a_neuron_shows_its_incoming_weights_and_bias() -> None:
    app = NetApp("spiral", variant="playground")  # layers [2, 4, 2, 1]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        await pilot.press("right_square_bracket")  # 1.1 -> 1.2
        await pilot.pause()
        assert (screen.selection.layer, screen.selection.neuron) == (1, 1)
        net = replayed(screen.session).net  # the same network, without the app
        shown = text(screen, "#net-incoming")
        assert "neuron 1.2" in shown and fmt(float(net.W[1][1][1]), 4) in shown
        assert fmt(float(net.b[1][1]), 4) in shown
        for _ in range(5):  # 1.3, 1.4, 2.1, 2.2, then the output neuron 3.1
            await pilot.press("right_square_bracket")
        await pilot.pause()
        assert (screen.selection.layer, screen.selection.neuron) == (3, 0)
        await pilot.press("s")
        await settle(pilot)
        screen = await show(pilot, "tab-layers")
        assert screen.frame.bp["equation"] == "BP1" and "BP1" in text(screen, "#net-bp")
        await show(pilot, "tab-neurons")
        await pilot.press("left_square_bracket")
        await pilot.press("minus")  # remove a neuron from layer 2: a fresh run of [2, 4, 1, 1]
        screen = await settle(pilot)
        assert screen.session.edits["model"]["layers"] == [2, 4, 1, 1]
        assert [r.epoch for r in screen.frame.epochs] == [0]


# -- edits --------------------------------------------------------------------------------------

EDITS = [
    ("#edit-hidden", "8", {"model.layers": [2, 8, 1]}),
    ("#edit-hidden", "", {"model.layers": [2, 1]}),
    ("#edit-hidden", "3, 3, 3", {"model.layers": [2, 3, 3, 3, 1]}),
    ("#edit-source", "circle", {"data.source": "circle"}),
    ("#edit-noise", "0.25", {"data.noise": 0.25}),
    ("#edit-fraction", "0.8", {"data.train_fraction": 0.8}),
    ("#edit-features", "x1, x2, x1*x2", {"data.features": ["x1", "x2", "x1*x2"],
                                         "model.layers": [3, 4, 2, 1]}),
    ("#edit-activation", "relu", {"model.activation": "relu"}),
    ("#edit-lr", "0.1", {"run.lr": 0.1}),
    ("#edit-batch", "25", {"run.batch_size": 25}),
    ("#edit-optimizer", "adam", {"run.optimizer": "adam"}),
    ("#edit-reg", "l2", None),  # with λ below
]


@pytest.mark.parametrize("wid,value,expected", EDITS)
async def test_each_edit_starts_a_fresh_run_recorded_in_the_script(
        wid: str, value: str, expected: dict[str, Any] | None) -> None:
    app = NetApp("spiral", variant="playground")
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await settle(pilot)
        await pilot.press("S")
        screen = await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, NetworkEditScreen)
        dialog.query_one(wid).value = value
        if expected is None:
            dialog.query_one("#edit-lambda", Input).value = "0.01"
            expected = {"model.l2": 0.01}
        dialog.apply()
        screen = await settle(pilot)
        s = screen.session
        assert s.actions[-1] == {"do": "edit", "changes": expected}
        assert [r.epoch for r in screen.frame.epochs] == [0]  # a fresh run
        for name, v in expected.items():
            table, _, key = name.partition(".")
            assert s.scenario.table(table)[key] == v
        await pilot.press("s")
        screen = await settle(pilot)
        r = replayed(s)
        assert all(np.array_equal(a, b) for a, b in zip(weights(r), weights(screen),
                                                         strict=True))
        assert len(r.net.sizes) - 1 == len(weights(screen))


async def test_a_bad_edit_is_shown_in_the_dialog_and_changes_nothing() -> None:
    app = NetApp("spiral", variant="playground")
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, NetworkEditScreen)
        for wid, value, says in (("#edit-lr", "fast", "learning rate: expected a number"),
                                 ("#edit-hidden", "4, 0", "at least one neuron"),
                                 ("#edit-fraction", "1.5", "train_fraction")):
            dialog.query_one(wid, Input).value = value
            dialog.apply()
            await pilot.pause()
            assert says in text(dialog, "#edit-msg")
            dialog.query_one(wid, Input).value = {"#edit-lr": "0.03", "#edit-hidden": "4, 2",
                                                  "#edit-fraction": "0.5"}[wid]
        assert app.screen is dialog
        assert screen.session.edits == {} and len(screen.session.actions) == 1


# -- the panels of other problems ---------------------------------------------------------------

async def test_vanishing_gradient_shows_the_first_layer_learning_more_slowly() -> None:
    app = NetApp("vanishing_gradient", ["data.train_limit=1000", "run.epochs=1"])
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = await show(pilot, "tab-layers")
        speeds = screen.frame.epochs[0].layer_grad_norm
        assert len(speeds) == 4 and speeds[0] < speeds[-1] / 3  # Nielsen ch. 5's picture
        layers = text(screen, "#net-layers")
        assert fmt(speeds[0], 3) in layers and "speed of learning" in layers


async def test_a_regression_shows_its_fitted_curve_and_no_confusion() -> None:
    app = NetApp("sin_fit", ["run.epochs=2"])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.press("S")
        screen = await settle(pilot)
        f = screen.frame
        assert f.curve is not None and f.surface is None and f.confusion is None
        assert screen.query_one("#net-fit").display and not screen.query_one("#net-boundary").display
        assert f.neurons is not None and f.neurons.layers[0].ndim == 2  # (neurons, points)


async def test_mnist_keeps_its_digits_confusion_and_layers(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)  # the bundled subset
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    app = NetApp("mnist_mlp", MNIST_FAST)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await settle(pilot)
        assert "bundled subset" in screen.frame.description
        await pilot.press("S")
        screen = await settle(pilot)
        f = screen.frame
        assert f.surface is None and f.digits is not None and f.predictions is not None
        assert f.confusion is not None and f.confusion.sum() == 1000
        assert np.trace(f.confusion) / 1000 == pytest.approx(f.epochs[-1].test_accuracy)
        assert [st["W_shape"] for st in f.stats] == [(30, 784), (10, 30)]
        await show(pilot, "tab-layers")
        assert "30×784" in text(screen, "#net-layers") and "BP4" in text(screen, "#net-layers")
        shot = app.export_screenshot().replace("&#160;", " ")
        assert "pred " in shot and "true " in shot


async def test_a_missing_mnist_folder_is_reported_on_screen(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    monkeypatch.setenv("GDLAB_MNIST_DIR", str(tmp_path / "nowhere"))
    app = NetApp("mnist_mlp", MNIST_FAST)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, NetworkScreen)
        await until(pilot, lambda: screen.state == "error")
        assert "nowhere" in text(screen, "#net-status")
        await pilot.press("s")  # no run to step: nothing happens, no crash
        assert screen.state == "error"


# -- compare, export, replay --------------------------------------------------------------------

async def test_compare_shows_each_variants_boundary_and_the_final_table() -> None:
    app = NetApp("spiral", ["run.epochs=3"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        cmp = app.screen
        assert isinstance(cmp, NetworkCompareScreen)
        await app.workers.wait_for_complete()
        await until(pilot, lambda: cmp.done)
        assert [o.variant for o in cmp.outcomes] == list(app.sc.variants)
        maps = list(cmp.query(".ncmp-map"))
        assert len(maps) == 4
        table = text(cmp, "#ncmp-table")
        for o in cmp.outcomes:
            assert o.summary is not None and o.summary.epochs == 3
            assert f"{o.summary.final_test_accuracy * 100:.2f}%" in table
        await pilot.press("escape")
        assert isinstance(app.screen, NetworkScreen)


async def test_export_writes_epochs_and_a_script_that_gdlab_replay_reproduces(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.screens.export import ExportScreen

    app = NetApp("xor", variant=None)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await settle(pilot)
        await pilot.press("S", "S", "s")
        screen = await settle(pilot)
        for kind, name in (("csv", "e.csv"), ("jsonl", "e.jsonl"), ("script", "s.json")):
            await pilot.press("e")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, ExportScreen)
            dialog.kind = kind
            dialog.query_one("#export-path", Input).value = str(tmp_path / name)
            dialog.export()
            await pilot.pause()
        epochs = screen.frame.epochs
    rows = (tmp_path / "e.csv").read_text().splitlines()
    assert len(rows) == 1 + len(epochs) == 4
    lines = [json.loads(x) for x in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [0, 1, 2]
    assert lines[2]["test_loss"] == epochs[2].test_loss
    script = json.loads((tmp_path / "s.json").read_text())
    assert script["actions"][1:] == [{"do": "step", "unit": "epoch", "count": 2},
                                     {"do": "step", "unit": "batch", "count": 1}]
    assert main(["replay", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert fmt(epochs[2].test_loss) in out and "paused at epoch 3, batch 1" in out


def test_a_bad_network_script_is_one_clear_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "bad.json"
    script.write_text(json.dumps({"gdlab_session": 1, "actions": [
        {"do": "open", "scenario": "xor"},
        {"do": "edit", "changes": {"model.layers": [2, 0, 1]}}]}))
    assert main(["replay", str(script)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gdlab: error: action 2:") and "layers" in err
    assert "Traceback" not in err


async def test_quitting_ends_the_trainer_process() -> None:
    app = NetApp("spiral", variant="playground")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        assert screen.trainer is not None
        process = screen.trainer.process
        assert process.is_alive()
        await pilot.press("space")  # quit while it trains
        assert screen.state == "running"
        await pilot.press("q")
    process.join(HANG_SECONDS)
    assert not process.is_alive() and process.exitcode is not None


async def test_without_a_process_the_screen_trains_in_a_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no process can be started (a sandbox), the same keys give the same numbers."""
    import tui.screens.network_worker as nw

    monkeypatch.setattr(nw, "start_trainer", lambda *a: None)
    app = NetApp("spiral", variant="playground")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        assert screen.trainer is None
        await pilot.press("s", "S")
        screen = await settle(pilot)
        assert (screen.trained.epoch, screen.trained.batch) == (1, 25)
        r = replayed(screen.session)
        assert all(np.array_equal(a, b) for a, b in zip(weights(r), weights(screen),
                                                         strict=True))


async def test_a_trainer_process_that_dies_is_an_error_on_screen_then_r_starts_again() -> None:
    app = NetApp("xor")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        process = screen.trainer.process
        process.kill()
        process.join(HANG_SECONDS)
        await pilot.press("s")
        await until(pilot, lambda: screen.state == "error")
        assert "training process ended unexpectedly" in text(screen, "#net-status")
        await pilot.press("r")  # a fresh run, trained in a thread now
        screen = await settle(pilot)
        assert screen.state == "paused" and screen.trainer is None
        await pilot.press("s")
        screen = await settle(pilot)
        assert (screen.trained.epoch, screen.trained.batch) == (1, 1)


def gated_start(gate: threading.Event, real: Any, *args: Any) -> Any:
    """``start_trainer`` held at a gate the test opens (in the screen's boot worker)."""
    assert gate.wait(HANG_SECONDS), "the test never opened the gate"
    return real(*args)


async def test_the_first_frame_is_drawn_before_the_trainer_process_is_ready(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Epoch 0 comes from the screen's own session while the process boots; a key pressed
    meanwhile waits for the process (the app does not) and is taken by it once it is ready."""
    import tui.screens.network_worker as nw

    gate = threading.Event()
    monkeypatch.setattr(nw, "start_trainer", partial(gated_start, gate, nw.start_trainer))
    headless = NetworkSession()
    headless.open("spiral", "playground")
    app = NetApp("spiral", variant="playground")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, NetworkScreen)
        await until(pilot, lambda: screen.frame is not None and screen.state == "paused")
        assert screen.starting and screen.trainer is None  # the process is not even launched
        f = screen.frame
        assert (f.epoch, f.batch) == (0, 0) and [r.epoch for r in f.epochs] == [0]
        assert f.surface is not None and f.neurons is not None
        ny, nx = f.surface.outputs.shape[:2]
        with headless.lock:
            headless.prepare()
            # the frame a trainer process takes of the same run: take_frame on its session
            expected = take_frame(headless, f.selection, nx, ny)
        assert f.epochs == headless.epochs  # the epoch-0 record, every number
        assert expected.surface is not None and expected.neurons is not None
        assert np.array_equal(f.surface.outputs, expected.surface.outputs)
        assert all(np.array_equal(a, b) for a, b in zip(f.neurons.layers,
                                                         expected.neurons.layers, strict=True))
        assert screen.query_one("#net-map", CellsView).lines  # the boundary is drawn
        status = text(screen, "#net-status")
        assert "paused · epoch 0/500 · batch 0/25" in status
        assert f"test loss {headless.epochs[0].test_loss:.4g}" in status
        await pilot.press("s")  # the trainer is needed: the key waits for it (the status says
        # so once the job worker has taken the key: held there while the gate is closed)
        await until(pilot, lambda: "starting the trainer" in text(screen, "#net-status"))
        assert screen.starting and screen.frame.epoch == 0
        gate.set()
        screen = await settle(pilot)
        assert screen.trainer is not None and not screen.starting
        assert (screen.trained.epoch, screen.trained.batch) == (1, 1)
        headless.step_batches(1)
        assert screen.frame.batch_loss == headless.batch_loss
        assert all(np.array_equal(a, b) for a, b in zip(weights(headless), weights(screen),
                                                         strict=True))
        assert screen.session.actions[1:] == [{"do": "step", "unit": "batch", "count": 1}]


def killed_at_start(real: Any, *args: Any) -> Any:
    """``start_trainer`` whose process dies before it could answer."""
    t = real(*args)
    if t is not None:
        t.process.kill()
        t.process.join(HANG_SECONDS)
    return t


async def test_a_trainer_process_that_dies_while_booting_leaves_the_thread_training(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.screens.network_worker as nw

    monkeypatch.setattr(nw, "start_trainer", partial(killed_at_start, nw.start_trainer))
    app = NetApp("spiral", variant="playground")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        assert screen.trainer is None and not screen.starting and screen.state == "paused"
        await pilot.press("s", "S")  # taken in the thread: no error, the same numbers
        screen = await settle(pilot)
        assert screen.state == "paused" and (screen.trained.epoch, screen.trained.batch) == (1, 25)
        r = replayed(screen.session)
        assert all(np.array_equal(a, b) for a, b in zip(weights(r), weights(screen),
                                                         strict=True))


def test_a_long_run_is_logged_as_steps_that_replay_accepts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Consecutive steps merge into one action of at most MAX_NETWORK_STEPS (the most replay
    takes); a longer run continues in a new action. The limit is lowered to 7 here so that the
    run is short: 10 batches, then 6 more, are logged as 7, 7 and 2."""
    import tui.network_session as ns

    monkeypatch.setattr(ns, "MAX_NETWORK_STEPS", 7)
    s = NetworkSession()
    s.open("xor")
    s.step_batches(10)
    s.step_batches(6)
    assert s.actions[1:] == [{"do": "step", "unit": "batch", "count": n} for n in (7, 7, 2)]
    r = replay_network(json.loads(s.script())["actions"])
    assert all(np.array_equal(a, b) for a, b in zip(weights(r), weights(s), strict=True))


# -- snapshots ----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_network_screen_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("S", "S")
        await settle(pilot)

    assert snap_compare(NetApp("spiral", variant="playground"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_network_layers_tab_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await show(pilot, "tab-layers")

    assert snap_compare(NetApp("xor_2_2_1"), terminal_size=size, run_before=run_before)
