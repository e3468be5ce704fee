"""The app under hostile input: a scenario that cannot run, an expression at or past the limits,
a step that fails in the worker. The error is shown, the app goes on, the exit status says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.errors import ScenarioError
from engine.limits import MAX_EXPRESSION_OPERATIONS
from engine.runner import Run
from tui.app import GdlabApp
from tui.commands import cmd_open
from tui.screens.picker import PickerScreen
from tui.screens.run import RunScreen
from tui.widgets.iter_table import IterationTable

SIZE = (120, 40)

# mini-batches drawn with a negative seed: numpy refuses the seed when the run starts
NEGATIVE_SEED = """
[params]
w = 1.0
[data]
x = [1.0, 2.0, 3.0]
[graph]
J = "mean((w*x - 1)**2)"
[run]
rule = "gradient"
output = "J"
batch_size = 1
seed = -1
"""

HUGE_NUMBER = f"""
[params]
w = {"9" * 400}
[graph]
J = "w**2"
[run]
rule = "gradient"
output = "J"
"""


def sum_of(terms: int) -> str:
    """A scenario whose loss is w + w + ... (``terms`` times): dJ/dw = terms."""
    return (f'[params]\nw = 0.5\n[graph]\nJ = "{"+".join(["w"] * terms)}"\n'
            '[run]\nrule = "gradient"\noutput = "J"\nlr = 0.001\nmax_iterations = 3\n')


def RecordingApp(*args: Any, **kwargs: Any) -> GdlabApp:  # noqa: N802 (used as a class)
    """The app, keeping every notification it shows in ``app.shown`` (message, severity)."""
    app = GdlabApp(*args, **kwargs)
    app.shown = []
    notify = app.notify

    def recording(message: str, *a: Any, **kw: Any) -> None:
        app.shown.append((message, kw.get("severity", "information")))
        notify(message, *a, **kw)

    app.notify = recording
    return app


def error_panel(app: GdlabApp) -> str:
    return str(app.screen.query_one("#error-panel").render())


@pytest.mark.parametrize("text", [NEGATIVE_SEED, HUGE_NUMBER], ids=["seed", "huge-number"])
async def test_a_scenario_that_cannot_start_is_shown_and_the_app_goes_on(tmp_path: Path,
                                                                         text: str) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    app = RecordingApp(scenario=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        panel = error_panel(app)
        assert panel.startswith(f"cannot open this scenario:\n{path}: "), panel
        assert "Traceback" not in panel and panel.count("\n") == 1
        assert app.shown and app.shown[0][1] == "error" and app.shown[0][0].startswith(str(path))
        # the app goes on: another scenario opens and steps
        assert app.open_scenario("target_z")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        await pilot.press("s")
        assert app.screen.query_one(IterationTable).row_count == 1
        await pilot.press("q")
    assert app.return_code == 0


async def test_the_picker_lists_a_hostile_file_as_invalid(tmp_path: Path) -> None:
    (tmp_path / "hostile.toml").write_text(HUGE_NUMBER)  # refused as the folder is read
    app = GdlabApp(dirs=[tmp_path])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        entry = next(e for e in picker.entries if e.path.name == "hostile.toml")
        assert entry.scenario is None and entry.error.startswith(str(tmp_path / "hostile.toml"))


async def test_a_sum_at_the_limit_runs_and_one_past_it_is_refused(tmp_path: Path) -> None:
    ok = tmp_path / "long_sum.toml"
    ok.write_text(sum_of(MAX_EXPRESSION_OPERATIONS + 1))
    app = RecordingApp(scenario=str(ok))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        await pilot.press("s", "b")  # a step, and the backward walk-through's first edge
        assert app.session.records[0].grads == {"w": float(MAX_EXPRESSION_OPERATIONS + 1)}
        bad = tmp_path / "longer_sum.toml"
        bad.write_text(sum_of(MAX_EXPRESSION_OPERATIONS + 2))
        assert not app.open_scenario(str(bad))
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert f"(the limit is {MAX_EXPRESSION_OPERATIONS} per expression" in error_panel(app)
        assert not [m for m, sev in app.shown if "unexpected" in m]


@pytest.mark.parametrize("failure", [RuntimeError("boom"), ScenarioError("x.toml: bad shapes")],
                         ids=["bug", "mistake"])
async def test_a_step_that_fails_in_the_worker_is_reported_and_the_app_goes_on(
        monkeypatch, failure: Exception) -> None:
    step = Run.step
    calls = [0]
    held = [-1]  # the states in the trace when the step fails

    def failing_step(self: Run) -> Any:
        # Run.advance takes most states on its fast path (rows, no Run.step): the third state
        # that goes through Run.step fails, after however many states the fast path took
        calls[0] += 1
        if calls[0] == 3:
            held[0] = len(self.trace)
            raise failure
        return step(self)

    monkeypatch.setattr(Run, "step", failing_step)
    app = RecordingApp(scenario="rosenbrock")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("enter")  # run to the stop, in the worker
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert not screen.running
        errors = [m for m, sev in app.shown if sev == "error"]
        want = "unexpected RuntimeError (boom): this is a bug in gdlab, please report it" \
            if isinstance(failure, RuntimeError) else "x.toml: bad shapes"
        assert errors == [want]
        assert held[0] >= 2  # at least the two whole steps before it
        assert len(app.session.records) == held[0]  # the states before the failure are kept
        await pilot.press("s")  # a step from the keyboard fails no more: the app goes on
        assert len(app.session.records) == held[0] + 1
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_failing_key_step_is_a_notification(monkeypatch) -> None:
    def broken(self: Run) -> Any:
        raise ValueError("expected non-negative integer")

    monkeypatch.setattr(Run, "step", broken)
    app = RecordingApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert app.shown[-1] == ("unexpected ValueError (expected non-negative integer): this is "
                                 "a bug in gdlab, please report it", "error")
        assert isinstance(app.screen, RunScreen)


def test_the_shell_sees_a_failure_of_the_app(monkeypatch, capsys) -> None:
    def crash(self: GdlabApp) -> None:
        raise RuntimeError("the app could not go on")

    monkeypatch.setattr(GdlabApp, "on_mount", crash)
    assert cmd_open(None, [], headless=True) == 1
    monkeypatch.setattr(GdlabApp, "on_mount", lambda self: self.call_later(self.exit))
    assert cmd_open(None, [], headless=True) == 0


async def test_an_mnist_folder_holding_a_gzip_bomb_is_reported_by_the_network_screen(
        tmp_path: Path, monkeypatch) -> None:
    import gzip
    import struct

    from engine.bundled import BUNDLED_DIR
    from engine.data.fetch import FILENAMES

    folder = tmp_path / "mnist"
    folder.mkdir()
    zeros = gzip.compress(bytes(1 << 20))
    for name in FILENAMES:  # three images each; the training images inflate to a gibibyte
        images = "images" in name
        head = struct.pack(">IIII", 2051, 3, 28, 28) if images else struct.pack(">II", 2049, 3)
        tail = zeros * 1024 if name.startswith("train-images") else b""
        (folder / name).write_bytes(gzip.compress(head + bytes(3 * 784 if images else 3)) + tail)
    text = (BUNDLED_DIR / "mnist_mlp.toml").read_text()
    path = tmp_path / "bomb.toml"
    path.write_text(text.replace('source = "mnist"', f'source = "mnist"\npath = "{folder}"'))
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    from tui.screens.network import NetworkScreen

    app = RecordingApp(scenario=str(path))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):  # the network screen is pushed once the app has mounted
            if isinstance(app.screen, NetworkScreen):
                break
            await pilot.pause()
        assert isinstance(app.screen, NetworkScreen)
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        errors = [m for m, sev in app.shown if sev == "error"]
        assert len(errors) == 1 and "train-images-idx3-ubyte.gz: trailing bytes: header says 3 " \
            "images of 28x28" in errors[0], errors
        await pilot.press("q")
    assert app.return_code == 0


async def test_the_network_screen_refuses_a_mini_batch_too_wide_for_memory(
        tmp_path: Path, monkeypatch) -> None:
    from engine.bundled import BUNDLED_DIR
    from engine.limits import MAX_ACTIVATIONS
    from tui.screens.network import NetworkScreen

    # the bundled subset's 5,000 training images in one batch through three layers of 4,096
    layers = [784, 4096, 1, 4096, 1, 4096, 10]
    text = (BUNDLED_DIR / "mnist_mlp.toml").read_text()
    text = text.replace("layers = [784, 30, 10]", f"layers = {layers}")
    path = tmp_path / "wide.toml"
    path.write_text(text.replace("batch_size = 10", "batch_size = 60000"))
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    app = RecordingApp(scenario=str(path))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):  # the network screen is pushed once the app has mounted
            if isinstance(app.screen, NetworkScreen):
                break
            await pilot.pause()
        assert isinstance(app.screen, NetworkScreen)
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        errors = [m for m, sev in app.shown if sev == "error"]
        units = sum(layers)
        assert len(errors) == 1 and (
            f"key 'batch_size': mini-batches of 5,000 examples through {units:,} units hold "
            f"{5_000 * units:,} activations, more than the limit of {MAX_ACTIVATIONS:,} (use at "
            f"most {MAX_ACTIVATIONS // units:,} examples per batch)") in errors[0], errors
        await pilot.press("q")
    assert app.return_code == 0
