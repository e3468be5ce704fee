"""The sweep screen: opened from a run view (w, palette), its map fills in from the worker's
messages, a cell opens that run in its own view; synchronised on the screen's own state."""

from __future__ import annotations

import math
import threading

from textual.widgets import Input

from engine.kinds.base import nice_values
from engine.sweep.point import ScenarioSource
from tests.helpers import open_screen
from tui.app import GdlabApp
from tui.screens.network import NetworkScreen
from tui.screens.sweep import SweepScreen
from tui.screens.sweep_point import PointRunScreen
from tui.widgets.sweep_map import SweepMap

SIZE = (120, 36)


async def settle(pilot, screen: SweepScreen) -> None:
    """Wait for the sweep's worker, then until the screen has taken its last message."""
    await screen.workers.wait_for_complete()
    while screen.state in ("starting", "running"):
        await pilot.pause()


async def fill(pilot, **fields: str) -> None:
    for name, text in fields.items():
        pilot.app.screen.query_one(f"#sweep-{name}", Input).value = text
    await pilot.pause()


async def test_w_opens_a_sweep_of_the_learning_rate_and_a_cell_opens_its_run() -> None:
    app = GdlabApp(scenario="gd_square")
    app.sweep_workers = 1  # the points in the worker thread: no process start-up in a test
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "w", SweepScreen)
        # prefilled: the learning rate around the scenario's own (0.3), the tolerance metric
        assert screen.query_one("#sweep-key1", Input).value == "run.lr"
        assert screen.query_one("#sweep-values1", Input).value == "0.05,0.1,0.2,0.3,0.5,1,2"
        assert screen.query_one("#sweep-metric", Input).value == "iterations_to:0.001"
        await pilot.press("ctrl+r")
        await settle(pilot, screen)
        assert screen.state == "done" and len(screen.rows) == 7
        values = {s.settings["run.lr"]: s.mean for s in screen.stats}
        # J_n = 1.44 (1 - 2 lr)^(2n) <= 1e-3 within the scenario's 100 iterations
        for lr, v in values.items():
            r = abs(1 - 2 * lr)
            n = 1 if r == 0 else math.ceil(math.log(1e-3 / 1.44) / (2 * math.log(r))) \
                if r < 1 else None
            assert v == (n if n is not None and n <= 100 else None), lr
        sweep_map = screen.query_one(SweepMap)
        assert sweep_map.best is not None and sweep_map.best.settings == {"run.lr": 0.5}
        assert "★" in str(sweep_map.render())
        # down three times: 0.05 -> 0.3; enter opens that run, which runs to its end
        await pilot.press("down", "down", "down")
        assert "run.lr = 0.3: iterations_to:0.001 4, converged" in \
            str(screen.query_one("#sweep-detail").render())
        await pilot.press("enter")
        view = app.screen
        assert isinstance(view, PointRunScreen)
        await view.workers.wait_for_complete()
        await pilot.pause()
        run = view.session.run
        assert run.summary is not None and run.summary.updates == 4  # as the sweep found
        assert view.session.actions[0] == {"do": "open", "scenario": "gd_square",
                                           "set": ["run.lr=0.3"]}
        await pilot.press("escape")
        assert app.screen is screen  # back to the sweep, its map intact
        assert len(screen.rows) == 7


async def test_two_keys_fill_a_heat_map_with_diverged_cells_and_the_best_marked() -> None:
    app = GdlabApp(scenario="momentum_map")
    app.sweep_workers = 1
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "w", SweepScreen)
        await fill(pilot, values1="0.005,0.0325,0.05", key2="run.momentum", values2="0,0.7")
        await pilot.press("ctrl+r")
        await settle(pilot, screen)
        assert screen.state == "done" and len(screen.rows) == 6
        by = {(s.settings["run.lr"], s.settings["run.momentum"]): s for s in screen.stats}
        # lr * 100 > 2 (1 + momentum): 0.05 at both momenta, 0.0325 without momentum
        assert [k for k, s in by.items() if s.diverged] == [(0.0325, 0), (0.05, 0), (0.05, 0.7)]
        assert by[(0.0325, 0.7)].mean == 32
        text = str(screen.query_one(SweepMap).render())
        assert text.count("✕") == 3 and "★   32" in text
        assert "best run.lr = 0.0325, run.momentum = 0.7 -> 32" in \
            str(screen.query_one("#sweep-status").render())


async def test_a_bad_value_list_shows_an_error_and_runs_nothing() -> None:
    app = GdlabApp(scenario="gd_square")
    app.sweep_workers = 1
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "w", SweepScreen)
        await fill(pilot, values1="0.1,-1")
        await pilot.press("ctrl+r")
        await pilot.pause()
        error = str(screen.query_one("#sweep-error").render())
        assert "sweep value run.lr=-1" in error and screen.state == "idle"
        assert screen.plan is None and not screen.workers
        await fill(pilot, key1="run.lr", values1="1:0:1")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "STOP must be >= START" in str(screen.query_one("#sweep-error").render())


async def test_a_network_point_opens_in_the_network_screen() -> None:
    app = GdlabApp(scenario="gd_square")
    async with app.run_test(size=SIZE) as pilot:
        source = ScenarioSource.read("mnist_batch_lr")
        small = ["run.epochs=1", "data.train_limit=200", "data.test_limit=100"]
        screen = SweepScreen(source, None, small, workers=1)
        await app.push_screen(screen)
        await fill(pilot, values1="0.1,1", key2="", values2="")
        await pilot.press("ctrl+r")
        await settle(pilot, screen)
        assert screen.state == "done" and [s.settings for s in screen.stats] == \
            [{"run.lr": 0.1}, {"run.lr": 1}]
        await pilot.press("enter")
        view = app.screen
        assert isinstance(view, NetworkScreen)  # the point's settings, as the sweep ran it
        cfg = view.scenario.config(view.session.variant)
        assert (cfg.lr, cfg.epochs) == (0.1, 1)
        assert view.scenario.table("data")["train_limit"] == 200
        await pilot.press("escape")  # stops training and goes back to the sweep
        await view.workers.wait_for_complete()
        assert app.screen is screen


async def test_the_palette_offers_the_sweep() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Sweep" in titles


def test_suggested_values_are_round_numbers_around_the_rate():
    assert nice_values(0.03, 3, 0.3) == [0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0]
    assert nice_values(0.1, 10, 1) == [0.1, 0.2, 0.5, 1, 2.0, 5.0, 10.0]


async def test_the_map_fills_in_point_by_point_and_x_keeps_the_finished_points(monkeypatch):
    """A gate the test holds lets the points finish one at a time: the map and the status show
    each one as it arrives, and x stops the sweep with the finished points kept."""
    from engine.sweep import execute

    gate = threading.Semaphore(0)
    real = execute.run_point

    def gated(*args):
        gate.acquire(timeout=120)  # the test releases one point at a time
        return real(*args)

    monkeypatch.setattr(execute, "run_point", gated)
    app = GdlabApp(scenario="momentum_map")
    app.sweep_workers = 1
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "w", SweepScreen)
        sweep_map = screen.query_one(SweepMap)

        async def until_drawn(n: int) -> None:  # the screen took n rows and drew them
            while len(sweep_map.stats) < n:
                await pilot.pause()

        await fill(pilot, values1="0.005,0.0325", key2="run.momentum", values2="0,0.7")
        await pilot.press("ctrl+r")
        assert "0/4 runs" in str(screen.query_one("#sweep-status").render())
        gate.release()
        await until_drawn(1)
        assert screen.state == "running" and len(screen.rows) == 1
        assert "running: 1/4 runs" in str(screen.query_one("#sweep-status").render())
        # the first point (lr 0.005, no momentum), the best so far, alone in the bottom row:
        # gradient descent on J = x^2/2 + 50 y^2 from (1, 1) scales x by 0.995, y by 0.5
        n = next(n for n in range(3000) if 0.5 * 0.995 ** (2 * n) + 50 * 0.25 ** n <= 1e-6)
        assert str(sweep_map.render()).splitlines()[2].split() == ["0", "★", str(n)]
        assert "not finished yet" not in str(screen.query_one("#sweep-detail").render())
        await pilot.press("right")
        assert "not finished yet" in str(screen.query_one("#sweep-detail").render())
        gate.release()
        await until_drawn(2)
        await pilot.press("x")  # the point running now is the last one
        gate.release()
        await settle(pilot, screen)
        assert screen.state == "stopped" and len(screen.rows) == 3
        assert len(sweep_map.stats) == 3
        assert "stopped: 3/4 runs" in str(screen.query_one("#sweep-status").render())
    gate.release(10)  # nothing may wait on the gate after the test


async def test_w_on_the_network_screen_sweeps_its_scenario_and_variant() -> None:
    app = GdlabApp(scenario="xor")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(1000):  # until the app has opened the scenario's own screen
            if isinstance(app.screen, NetworkScreen) and app.screen.is_mounted:
                break
            await pilot.pause()
        network = app.screen
        assert isinstance(network, NetworkScreen)
        screen = await open_screen(pilot, "w", SweepScreen)
        assert screen.scenario.name == "xor" and screen.variant == network.session.variant
        # the rate over two decades around xor's own 0.03, and a network's default metric
        assert screen.query_one("#sweep-key1", Input).value == "run.lr"
        assert screen.query_one("#sweep-values1", Input).value == \
            "0.005,0.01,0.02,0.03,0.05,0.1,0.2"
        assert screen.query_one("#sweep-metric", Input).value == "final_test_accuracy"
        await pilot.press("escape", "escape")  # out of the form's field, then back
        assert app.screen is network
