"""The MNIST dashboard: half-block digits, panels, and pilot tests of live training with keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import WorkerState

import tui.screens.mnist as mnist_screen
from engine.scenario import load_scenario
from tui.screens.mnist import MnistScreen, loss_curve
from tui.widgets.digits import DigitGrid, digit_lines, downsample, grid_layout, label_text
from tui.widgets.mnist_panels import (
    confusion_matrix,
    confusion_table,
    equations,
    layer_rows,
    layer_table,
)

FAST = ["data.train_limit=1000", "run.epochs=2", "run.batch_size=32"]


@pytest.fixture(autouse=True)
def bundled_subset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make load_mnist fall back to the bundled subset: no $GDLAB_MNIST_DIR, an empty cache."""
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


# -- pure pieces ----------------------------------------------------------------------------

def test_a_digit_is_28_by_14_half_blocks_upper_pixel_fg_lower_bg() -> None:
    img = np.zeros((28, 28), np.uint8)
    img[0, 0], img[1, 0], img[2, 5] = 255, 100, 7
    rows = digit_lines(img.reshape(-1))
    assert len(rows) == 14 and all(len(r) == 28 for r in rows)
    assert all(seg.text == "▀" for r in rows for seg in r)
    first = rows[0][0].style
    assert first.color.triplet == (255, 255, 255) and first.bgcolor.triplet == (100, 100, 100)
    assert rows[1][5].style.color.triplet == (7, 7, 7)  # pixel row 2 is the upper half of cell row 1
    half = digit_lines(img.reshape(-1), half=True)
    assert len(half) == 7 and all(len(r) == 14 for r in half)
    wrong = digit_lines(img.reshape(-1), wrong=True)[0][0].style
    assert wrong.color.triplet[0] == 255 and wrong.color.triplet[1] < 255  # red ink


def test_downsample_averages_2x2_blocks() -> None:
    img = np.zeros((28, 28), np.uint8)
    img[0:2, 0:2] = [[255, 255], [0, 2]]
    out = downsample(img)
    assert out.shape == (14, 14) and out[0, 0] == (255 + 255 + 0 + 2) // 4 and out[1, 1] == 0


def test_grid_layout_full_size_when_it_fits_half_when_short() -> None:
    assert grid_layout(130, 32, 40) == (False, 4, 2)  # 4 x (28 + 1 gap), 2 x (14 + label)
    half, cols, rows = grid_layout(76, 18, 40)
    assert half and cols == 5 and rows == 2  # 5 x (14 + 1), 2 x (7 + label)
    assert grid_layout(130, 32, 3) == (False, 3, 1)
    assert label_text(5, None) == "true 5" and label_text(5, 3) == "pred 3 true 5"


def test_confusion_matrix_rows_true_columns_predicted() -> None:
    m = confusion_matrix(np.array([0, 0, 1, 9]), np.array([0, 1, 1, 9]))
    assert m.shape == (10, 10) and m.sum() == 4
    assert m[0, 0] == 1 and m[0, 1] == 1 and m[1, 1] == 1 and m[9, 9] == 1
    assert confusion_table(m).row_count == 10 and confusion_table(None).row_count == 10


def test_layer_rows_attach_numbers_to_the_equations() -> None:
    stats = [
        {"layer": 1, "W_shape": (30, 784), "delta_norm": 0.02, "grad_W_norm": 0.08,
         "grad_b_norm": 0.01, "W_norm": 152.2},
        {"layer": 2, "W_shape": (10, 30), "delta_norm": 0.05, "grad_W_norm": 0.07,
         "grad_b_norm": 0.02, "W_norm": 16.9},
    ]
    rows = layer_rows(stats)
    assert rows[0][:3] == ["1", "30×784", "0.0200"]
    assert rows[1][0] == "2 out" and rows[1][4] == "0.0700"
    table = layer_table(stats)
    assert table.row_count == 2
    # what each norm is taken over is said: the two norms of delta are different quantities
    assert "avg‖δˡ‖" in [str(c.header) for c in table.columns]
    assert "each example's ‖δˡ‖ (BP1, BP2), averaged" in str(table.caption)
    assert "‖∂C/∂bˡ‖ = ‖δˡ averaged‖" in str(table.caption)
    from engine.models.costs import PAIRS

    ce = equations(PAIRS["softmax", "cross_entropy"].bp1_formula, "softmax", "cross_entropy",
                   ["relu"]).plain
    assert "δᴸ = aᴸ - onehot(y)" in ce and "relu'(zˡ)" in ce and "softmax + cross-entropy" in ce
    quad = equations(PAIRS["sigmoid", "quadratic"].bp1_formula, "sigmoid", "quadratic",
                     ["sigmoid"]).plain
    assert "δᴸ = (aᴸ - y) * σ'(zᴸ)" in quad and "σ'(zˡ)" in quad
    for name in ("BP1", "BP2", "BP3", "BP4"):
        assert name in ce


def test_loss_curve_drops_nan_and_averages_down_to_the_limit() -> None:
    pts = [(i / 10, float(i)) for i in range(1000)] + [(100.0, float("nan"))]
    xs, ys = loss_curve(pts, 100)
    assert len(xs) == 100 and ys[0] == pytest.approx(4.5) and np.isfinite(ys).all()
    assert loss_curve(pts[:5], 100) == ([0.0, 0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 2.0, 3.0, 4.0])
    assert loss_curve([], 10) == ([], [])


# -- the screen -----------------------------------------------------------------------------

class MnistApp(App[None]):
    """A tiny app that opens the dashboard on ``scenario`` (mnist_mlp) with fast overrides."""

    def __init__(self, overrides: list[str], show_timings: bool = True,
                 scenario: str = "mnist_mlp") -> None:
        super().__init__()
        self.overrides, self.show_timings, self.scenario = overrides, show_timings, scenario

    def on_mount(self) -> None:
        sc = load_scenario(self.scenario, self.overrides)
        self.push_screen(MnistScreen(sc, show_timings=self.show_timings))

    def action_picker(self) -> None:
        """Where escape leads when there is no screen to go back to (as in GdlabApp)."""
        self.push_screen(Screen())


def slow_train(delay: float) -> Any:
    """Wrap engine train() so every record takes ``delay`` seconds: keys land mid-training."""
    real = mnist_screen.train

    def train(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for rec in real(*args, **kwargs):
            time.sleep(delay)
            yield rec

    return train


async def wait_until(pilot: Pilot, cond: Any, timeout: float = 20.0) -> None:
    """Let the app run until ``cond()`` holds (fails the test after ``timeout`` seconds)."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.05)


async def finish(pilot: Pilot, screen: MnistScreen) -> None:
    """Wait for the run's worker, then for the view to draw its last records."""
    await wait_until(pilot, lambda: screen.state in ("finished", "diverged", "error"))
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(mnist_screen.PLOT_SECONDS + 0.1)


async def test_space_pauses_while_the_worker_trains_and_results_appear(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist_screen, "train", slow_train(0.01))
    app = MnistApp(FAST)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, MnistScreen)
        await wait_until(pilot, lambda: screen.batch >= 3)
        assert screen.state == "running"
        await pilot.press("space")
        assert screen.paused and screen.state == "paused"
        assert screen._worker is not None and screen._worker.state == WorkerState.RUNNING
        await pilot.pause(0.3)  # the worker holds at the next record
        held, epoch = len(screen.losses), screen.epoch
        await pilot.pause(0.3)
        assert len(screen.losses) == held and screen.epoch == epoch
        assert screen._worker.state == WorkerState.RUNNING
        await pilot.press("space")
        # resumed: the worker may already have trained the last batches on a fast machine
        assert not screen.paused and screen.state in ("running", "finished")
        await finish(pilot, screen)
        assert [r.epoch for r in screen.epochs] == [0, 1, 2]  # epoch 0: before training
        assert screen.summary is not None and screen.summary.stop_reason == "epochs"
        assert "bundled subset" in str(screen.query_one("#mnist-head", Static).render())
        grid = screen.query_one(DigitGrid)
        assert grid.predictions is not None and grid.shown > 0
        assert screen.confusion is not None and screen.confusion.sum() == 1000
        acc = np.trace(screen.confusion) / 1000
        assert acc == pytest.approx(screen.epochs[-1].test_accuracy)
        assert acc > 0.15  # above chance (0.10) after two epochs of 32 batches
        assert "epoch 2" in str(screen.query_one("#mnist-confusion").border_title)
        assert [s["W_shape"] for s in screen.layer_stats] == [(30, 784), (10, 30)]
        shot = app.export_screenshot().replace("&#160;", " ")
        assert "30×784" in shot and "pred " in shot and "true " in shot


async def test_restart_trains_a_fresh_network_and_escape_stops_the_worker(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist_screen, "train", slow_train(0.01))
    app = MnistApp(FAST)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, MnistScreen)
        await wait_until(pilot, lambda: screen.epoch >= 1 and screen.batch >= 2)
        first, run, old_losses = screen._worker, screen._run, screen.losses
        await pilot.press("r")
        assert screen._run == run + 1 and screen.losses is not old_losses  # the trace restarts
        await pilot.pause(0.1)
        assert first is not None and first.state in (WorkerState.CANCELLED, WorkerState.SUCCESS)
        # a fresh run: its trace starts again in epoch 1 (the new network may already be
        # further on by now: only the start of its trace is checked, not the timing)
        await wait_until(pilot, lambda: len(screen.losses) >= 1 and screen.batch >= 2)
        assert screen.losses[0][0] < 1.0  # (fractional epoch, loss): the first point, epoch 1
        worker = screen._worker
        assert worker is not None and worker.state == WorkerState.RUNNING
        await pilot.press("escape")
        await wait_until(pilot, lambda: worker.state != WorkerState.RUNNING, timeout=5)
        assert app.screen is not screen and not isinstance(app.screen, MnistScreen)
        assert screen._control.stop.is_set()


async def test_a_missing_mnist_folder_is_reported_on_screen(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GDLAB_MNIST_DIR", str(tmp_path / "nowhere"))
    app = MnistApp(FAST)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, MnistScreen)
        await wait_until(pilot, lambda: screen.state == "error")
        assert "nowhere" in str(screen.query_one("#mnist-head", Static).render())


def test_dashboard_snapshot(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, MnistScreen)
        await finish(pilot, screen)
        await asyncio.sleep(0)

    app = MnistApp(FAST, show_timings=False)
    assert snap_compare(app, terminal_size=(160, 50), run_before=run_before)


@pytest.mark.parametrize("scenario,classes", [("three_class", 3), ("sin_fit", None)])
async def test_other_network_scenarios_show_curves_without_digits(scenario: str,
                                                                  classes: int | None) -> None:
    """A non-MNIST network trains on the dashboard: no digit panel; the confusion matrix of its
    classes, or, for a regression, losses in place of accuracies and no confusion matrix."""
    app = MnistApp(["run.epochs=3"], scenario=scenario)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, MnistScreen)
        await finish(pilot, screen)
        assert screen.state == "finished" and [r.epoch for r in screen.epochs] == [0, 1, 2, 3]
        assert not screen.query_one(DigitGrid).display
        confusion = screen.query_one("#mnist-confusion")
        if classes is None:
            assert not confusion.display and screen.confusion is None
            status = str(screen.query_one("#mnist-status", Static).render())
            assert f"test loss {screen.epochs[-1].test_loss:.4g}" in status
        else:
            assert confusion.display and screen.confusion is not None
            assert screen.confusion.shape == (classes, classes)
            assert screen.confusion.sum() == len(load_scenario(scenario).dataset().y_test)


async def test_the_status_line_keeps_its_numbers_at_120_and_80_columns() -> None:
    for size in ((120, 40), (80, 24)):
        app = MnistApp(FAST)
        async with app.run_test(size=size) as pilot:
            screen = app.screen
            assert isinstance(screen, MnistScreen)
            await finish(pilot, screen)
            status = screen.query_one("#mnist-status", Static)
            text = str(status.render())
            acc = f"test acc {screen.epochs[-1].test_accuracy * 100:.2f}%"
            assert acc in text and f"batch loss {screen.losses[-1][1]:.4f}" in text
            # drawn in full: the status wraps instead of running under the progress bar (the
            # text is set; let the screen lay it out and draw it)
            for _ in range(50):
                strips = screen._compositor.render_strips()  # noqa: SLF001 - the drawn text
                drawn = "\n".join("".join(seg.text for seg in s) for s in strips)
                if acc.split()[-1] in drawn:
                    break
                await pilot.pause()
            assert acc.split()[-1] in drawn, size
