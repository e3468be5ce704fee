"""Pilot tests of the run view: stepping, settings, parameters, keys, long runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from gates import BatchGate, edit, run_view, until
from helpers import TZ_B_STAR, TZ_FIXED_UPDATES, tz_iterates
from textual import events
from textual.widgets import Input, Select, TabbedContent

from tui.app import GdlabApp
from tui.formatting import fmt_sig
from tui.screens.run import SPEEDS, RunScreen
from tui.widgets.iter_table import IterationTable
from tui.widgets.params import ParamsPanel
from tui.widgets.settings import SettingsPanel

SIZE = (120, 40)


def rows(app: GdlabApp) -> list[list[str]]:
    """The iteration table's cells in view, as text."""
    t = app.screen.query_one(IterationTable)
    return [list(t.row_texts(i).values()) for i in range(t.row_count)]


def column(app: GdlabApp, header: str) -> list[str]:
    """One column of the table, as text (numbers in the table's significant digits)."""
    t = app.screen.query_one(IterationTable)
    return [t.row_texts(i)[header] for i in range(t.row_count)]


async def rebuilt(pilot: Any, panel: SettingsPanel | ParamsPanel, loads: int) -> None:
    """Wait (on the app, not the clock) until ``panel`` has built its fields again."""
    for _ in range(200):
        if panel.loads > loads:
            return
        await pilot.pause()
    raise AssertionError(f"{type(panel).__name__} was not rebuilt")


def tree_labels(app: GdlabApp) -> list[str]:
    """Every line of the graph panel's tree."""
    labels, stack = [], [app.screen.query_one("#graph-tree").root]
    while stack:
        node = stack.pop()
        labels.append(str(node.label))
        stack.extend(node.children)
    return labels


def explain(app: GdlabApp) -> str:
    return str(app.screen.query_one("#explain-tab #explain-text").render())


async def test_three_steps_of_target_z_show_three_rows() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        assert isinstance(app.screen, RunScreen)
        assert rows(app) == []
        for _ in range(3):
            await pilot.press("s")
        # six significant digits at this width: b = 4, 4 - 12/63 = 3.8095238, 3.8060680
        assert app.screen.query_one(IterationTable).fit.sig == 6
        b = tz_iterates(False)  # the fixed factor's b_k (tests/helpers.py)
        assert column(app, "b") == [fmt_sig(v, 6) for v in b[:3]] == ["4", "3.80952", "3.80607"]
        assert column(app, "z")[0] == "162"
        assert column(app, "step b")[0] == fmt_sig(12 / 63, 6) == "0.190476"
        text = explain(app)
        assert "iteration 2" in text
        assert f"b = {b[2]:.6f} - {b[2] - b[3]:.6f} = {b[3]:.6f}" in text
        assert "b = 3.806068 - 0.000127 = 3.805942" in text


async def test_first_step_is_explained_with_the_chain_rule() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("s")
        text = explain(app)
        assert "delta_z = z - target = 162 - 150 = 12" in text
        assert "factor_b = dz/db = 63" in text
        assert "= dz/dx·∂x/∂b + dz/dy·∂y/∂b = 9·3 + 18·2" in text
        assert "step_b = delta_z / factor_b = 12 / 63 = 0.190476" in text
        assert "b = 4 - 0.190476 = 3.809524" in text
        labels = tree_labels(app)
        assert any("dz/db = 63.000000" in s and "finite diff. 62.99999" in s for s in labels)


async def test_backward_walkthrough_steps_one_edge_at_a_time() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        for _ in range(5):
            await pilot.press("b")
        assert app.screen.query_one(TabbedContent).active == "tab-graph"
        walk = str(app.screen.query_one("#walk").render()).splitlines()
        # z = x*y, x = 2w + 3b, y = 2b + 1 at w = 3, b = 4: x = 18, y = 9
        assert walk[1:5] == ["∂z/∂x = y = 9", "  dz/dx += ∂z/∂x = 9",
                             "∂z/∂y = x = 18", "  dz/dy += ∂z/∂y = 18"]
        assert "∂x/∂b = 3" in walk and "  dz/db += dz/dx · ∂x/∂b = 9 · 3 = 27" in walk
        assert "∂y/∂b = 2" in walk
        assert "  dz/db += dz/dy · ∂y/∂b = 18 · 2 = 36   (so far dz/db = 63)" in walk
        assert walk[-1] == "done: dz/dx = 9, dz/dy = 18, dz/dw = 18, dz/db = 63"
        assert not any("dz/dz *" in line for line in walk)  # no circular notation


async def test_switching_the_factor_changes_the_next_step() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("s", "s")
        await edit(pilot, lambda: setattr(app.screen.query_one("#set-factor", Select), "value",
                                          "recomputed"))
        assert app.session.config().factor == "recomputed"
        await pilot.press("s")
        b2 = tz_iterates(False)[2]  # two fixed steps
        assert column(app, "b")[-1] == fmt_sig(b2, 6) == "3.80607"
        assert column(app, "dz/db")[-1] == fmt_sig(12 * b2 + 15, 6)  # dz/db = 12b + 15 at b_2
        await pilot.press("s")
        # a Newton step from b_2 lands on the root (to six digits); fixed would give 3.805942
        assert column(app, "b")[-1] == fmt_sig(TZ_B_STAR, 6) == "3.80594"


async def test_switching_to_fixed_keeps_the_starting_factor() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        first = await run_view(pilot)
        app.open_scenario("target_z", "recomputed")
        await until(pilot, lambda: app.screen is not first, "the new run view")
        await run_view(pilot)
        await pilot.press("s", "s")
        assert column(app, "dz/db")[-1] == fmt_sig(425 / 7, 6) == "60.7143"  # 12 b_1 + 15
        await edit(pilot, lambda: setattr(app.screen.query_one("#set-factor", Select), "value",
                                          "fixed"))
        await pilot.press("s")
        assert column(app, "dz/db")[-1] == "63"


async def test_editing_a_start_value_and_training_resets() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("s", "s")
        app.screen.query_one(TabbedContent).active = "tab-params"
        await pilot.pause()
        start_b = app.screen.query_one("#start-1", Input)
        start_b.value = "5"
        start_b.focus()
        await edit(pilot, lambda: pilot.press("enter", "escape"))
        assert app.session.scenario.params["b"] == 5.0
        assert rows(app) == []
        await edit(pilot, lambda: setattr(app.screen.query_one("#train-0"), "value", True))
        assert app.session.config().train == ("w", "b")
        await pilot.press("s")
        assert column(app, "b") == ["5"]
        assert "step w" in app.screen.query_one(IterationTable).shown


async def test_a_bad_setting_is_reported_not_applied() -> None:
    app = GdlabApp(scenario="gd_square")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        app.screen.query_one(TabbedContent).active = "tab-settings"
        await pilot.pause()
        lr = app.screen.query_one("#set-lr", Input)
        lr.value = "-1"
        lr.focus()
        await edit(pilot, lambda: pilot.press("enter"))  # refused: the fields are shown again
        assert app.session.config().lr == 0.3
        lr = app.screen.query_one("#set-lr", Input)
        lr.value = "0.1"
        lr.focus()
        await edit(pilot, lambda: pilot.press("enter"))
        await pilot.press("escape", "s", "s")
        assert column(app, "x") == ["1.2", "0.96"]


async def test_keys_run_pause_speed_reset_log() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        i = screen.speed_index
        await pilot.press("plus")
        assert screen.speed_index == i + 1
        await pilot.press("minus", "minus")
        assert screen.speed_index == i - 1
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert app.session.run.stopped
        assert column(app, "b")[-1] == fmt_sig(TZ_B_STAR, 6)
        assert len(rows(app)) == TZ_FIXED_UPDATES + 1
        await pilot.press("r")
        assert rows(app) == [] and not app.session.run.stopped
        screen.speed_index = len(SPEEDS) - 1
        await pilot.press("space")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert len(rows(app)) == TZ_FIXED_UPDATES + 1 and not screen.running
        log = screen.log_scale
        await pilot.press("l")
        assert screen.log_scale is not log
        assert screen.query_one(TabbedContent).active == "tab-plots"


async def test_keys_open_screens_and_quit() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.pause()
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("e")
        assert type(app.screen).__name__ == "ExportScreen"
        await pilot.press("escape")
        await pilot.press("o")
        assert type(app.screen).__name__ == "PickerScreen"
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)
        await pilot.press("c")
        assert type(app.screen).__name__ == "CompareScreen"
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


def square_toml(name: str, lr: float, max_iterations: int) -> str:
    """A gradient run on J = x**2 from 1.2 with no tolerance: it runs max_iterations steps."""
    return (f'[scenario]\nname = "{name}"\n[params]\nx = 1.2\n[graph]\nJ = "x**2"\n'
            f'[run]\nrule = "gradient"\noutput = "J"\nlr = {lr}\n'
            f"max_iterations = {max_iterations}\n")


LONG = square_toml("long_square", 0.001, 1_000_000)  # ends only after a million steps...
HOLD = 20_000  # ...and a gate holds it after 20,000: it cannot end while keys are checked


async def test_app_answers_keys_during_a_long_run(tmp_path: Path) -> None:
    path = tmp_path / "long_square.toml"
    path.write_text(LONG)
    app = GdlabApp(scenario=str(path))
    gate = BatchGate(hold_at=HOLD)
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await pilot.pause()
        screen.batch_hook = gate
        try:
            # keys are posted, not pressed: pilot.press waits for an idle process, and the
            # worker keeps this one busy
            screen.action_run_to_end()  # as the enter key does
            await until(None, lambda: app.session.records, "the first batch")
            for _ in range(3):
                log = screen.log_scale
                app.post_message(events.Key("l", None))
                await until(None, lambda log=log: screen.log_scale is not log, "l handled")
                assert screen.running and not app.session.run.stopped
            app.post_message(events.Key("space", " "))  # pause
            await until(None, lambda: not screen.running, "the pause")
            n = len(app.session.records)
        finally:
            gate.open()  # the paused worker leaves the hook and ends
        await pilot.pause()
        # the worker checks for a pause under the session's lock: nothing was committed after it
        assert len(app.session.records) == n and not app.session.run.stopped
        table = screen.query_one(IterationTable)
        assert table.row_count == table.window
        assert str(table.get_row_at(table.row_count - 1)[0]) == str(n - 1)


HISTORY = square_toml("history_square", 0.0001, 5000)


@asynccontextmanager
async def history_run_to_the_end(tmp_path: Path) -> AsyncIterator[tuple[GdlabApp, Any, RunScreen]]:
    """The app on a 5,001-record gradient run, run to its stop (enter): (app, pilot, screen)."""
    path = tmp_path / "history_square.toml"
    path.write_text(HISTORY)
    app = GdlabApp(scenario=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        screen = app.screen
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        yield app, pilot, screen


async def test_table_pages_through_history_and_follows_again(tmp_path: Path) -> None:
    async with history_run_to_the_end(tmp_path) as (app, pilot, screen):
        n = len(app.session.records)
        assert n == 5001 and app.session.run.stopped
        table = screen.query_one(IterationTable)
        note = screen.query_one("#table-note")
        assert column(app, "iter")[0] == "4001" and table.page is None
        assert "rows 4,001-5,000 of 5,001" in str(note.render())
        await pilot.press("left_square_bracket")
        assert table.page == 4 and column(app, "iter")[0] == "4000"
        await pilot.press("left_square_bracket", "left_square_bracket")
        its = column(app, "iter")
        assert table.page == 2 and (its[0], its[-1], len(its)) == ("2000", "2999", 1000)
        assert "rows 2,000-2,999 of 5,001" in str(note.render())
        recs = app.session.records
        assert rows(app)[0] == [fmt_sig(table.specs[i].value(recs[2000]), table.fit.sig)
                                for i in table.fit.shown]
        for _ in range(3):
            await pilot.press("left_square_bracket")
        assert table.page == 0 and column(app, "iter")[0] == "0"
        await pilot.press("right_square_bracket")
        assert table.page == 1 and column(app, "iter")[0] == "1000"
        await pilot.press("r", "s")  # a reset follows the new trace
        assert table.page is None and column(app, "iter") == ["0"]
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.press("left_square_bracket", "left_square_bracket", "f")
        assert table.page is None and column(app, "iter")[-1] == "5000"
        await pilot.press("left_square_bracket", *["right_square_bracket"] * 2)
        assert table.page is None and len(rows(app)) == 1000


async def test_optimizer_hyperparameters_and_schedule_are_edited_and_replayed(
        tmp_path: Path) -> None:
    from tui.replay import replay

    app = GdlabApp(scenario="gd_square")
    async with app.run_test(size=(80, 24)) as pilot:
        await run_view(pilot)
        screen = app.screen
        screen.query_one(TabbedContent).active = "tab-settings"
        await pilot.press("s")

        def choose(key: str, value: object) -> object:
            return edit(pilot, lambda: setattr(screen.query_one(f"#set-{key}", Select), "value",
                                               value))

        async def type_in(key: str, text: str) -> None:
            field = screen.query_one(f"#set-{key}", Input)
            field.value = text
            field.focus()
            await edit(pilot, lambda: pilot.press("enter"))  # accepted or refused: shown again
            await pilot.press("escape")

        await choose("optimizer", "momentum")
        field = screen.query_one("#set-momentum", Input)
        assert field.value == "0.9" and screen.query_one("#set-nesterov", Select).value is False
        await type_in("tolerance", "")  # no convergence stop: six rows
        await type_in("momentum", "0.5")
        await choose("nesterov", True)
        await type_in("dampening", "0.1")  # refused: Nesterov needs dampening 0
        assert app.session.config().hyper == {"momentum": 0.5, "nesterov": True}
        await choose("schedule", "step")
        await type_in("step_size", "2")
        await type_in("gamma", "0.5")
        await pilot.press("s", "s", "s")
        await choose("optimizer", "adam")
        await type_in("betas", "0.8, 0.99")
        await type_in("eps", "")  # empty: the default
        await pilot.press("s", "s")
        cfg = app.session.config()
        assert (cfg.optimizer, cfg.hyper, cfg.schedule, cfg.step_size, cfg.gamma) == \
            ("adam", {"betas": [0.8, 0.99]}, "step", 2, 0.5)
        assert "lr" in screen.query_one(IterationTable).headers
        sets = [(a["key"], a["value"]) for a in app.session.actions if a["do"] == "set"]
        assert sets == [("optimizer", "momentum"), ("tolerance", None), ("momentum", 0.5), ("nesterov", True),
                        ("schedule", "step"), ("step_size", 2), ("gamma", 0.5),
                        ("optimizer", "adam"), ("betas", [0.8, 0.99]), ("eps", None)]
        path = tmp_path / "s.json"
        path.write_text(app.session.script())
        import json

        again = replay(json.loads(path.read_text())["actions"])
        assert [r.to_json() for r in again.records] == \
            [r.to_json() for r in app.session.records]
        assert len(again.records) == 6 and again.records[-1].lr == 0.075  # 0.3 halved at 2 and 4


async def test_graph_diagram_toggles_and_falls_back_to_the_tree(tmp_path: Path) -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("s", "d")
        screen = app.screen
        assert screen.query_one(TabbedContent).active == "tab-graph"
        text = str(screen.query_one("#graph-diagram").render())
        assert "\nw ─┐\nb ─┴──> x = 2*w + 3*b = 18.000000   dz/dx = 9.000000\n" in text
        assert "\nb ────> y = 2*b + 1 = 9.000000" in text
        assert "\ny ─┴──> z = x * y = 162.000000   dz/dz = 1.000000\n" in text
        assert screen.query_one("#graph-diagram").display
        assert not screen.query_one("#graph-tree").display
        await pilot.press("d")
        assert screen.query_one("#graph-tree").display
    nodes = "\n".join(f'n{i} = "{"x" if i == 0 else f"n{i - 1}"} + 1"' for i in range(20))
    path = tmp_path / "chain.toml"
    path.write_text(f'[params]\nx = 1.0\n[graph]\n{nodes}\n[run]\nrule = "gradient"\n'
                    'output = "n19"\n')
    app = GdlabApp(scenario=str(path))
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("d")
        assert app.screen.query_one("#graph-tree").display
        assert not app.screen.query_one("#graph-diagram").display


async def test_landscape_is_drawn_when_the_plots_tab_opens_after_a_run() -> None:
    """The landscape is sized to its chart: it must be drawn once the tab is visible."""
    from tui.widgets.charts import LandscapeChart

    app = GdlabApp(scenario="gd_two_variables")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.pause()
        await pilot.press("enter")  # run to the stop while the plots tab is hidden
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.session.run.stopped
        chart = app.screen.query_one(LandscapeChart)
        app.screen.query_one(TabbedContent).active = "tab-plots"
        # drawn after the refresh that shows the tab, at the chart's size
        await until(pilot, lambda: chart.landscape is not None
                    and chart.landscape.z.shape[0] == chart.size.height - 4, "the landscape")
        land = chart.landscape
        assert land is not None and land.names == ("x", "y")
        ny, nx = land.z.shape
        assert nx > 10 and ny == chart.size.height - 4
        # the path's start (3, 1) lies inside the grid
        assert land.xs[0] < 3.0 < land.xs[-1] and land.ys[0] < 1.0 < land.ys[-1]


async def test_go_to_an_iteration(tmp_path: Path) -> None:
    """g asks for an iteration and shows it in the table with the cursor on it."""
    from tui.screens.goto import GotoScreen

    async with history_run_to_the_end(tmp_path) as (app, pilot, screen):
        await pilot.press("g")
        assert isinstance(app.screen, GotoScreen)
        await pilot.press(*"9999", "enter")  # out of range: stays open with a message
        assert isinstance(app.screen, GotoScreen)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"2345", "enter")
        await pilot.pause()
        assert app.screen is screen
        table = screen.query_one(IterationTable)
        assert table.page == 2 and table.cursor_row == 345
        assert str(table.get_row_at(345)[0]) == "2345"
        await pilot.press("g", "escape")  # cancelled: nothing moves
        assert app.screen is screen and table.page == 2
        await pilot.press("f")
        assert table.page is None


async def test_keys_1_to_5_open_the_tabs_and_typed_digits_go_into_the_field() -> None:
    app = GdlabApp(scenario="gd_square")
    async with app.run_test(size=(80, 24)) as pilot:
        await run_view(pilot)
        screen = app.screen
        tabs = screen.query_one(TabbedContent)
        for key, pane in (("2", "tab-graph"), ("3", "tab-plots"), ("1", "tab-explain")):
            await pilot.press(key)
            assert tabs.active == pane and app.focused is None
        await pilot.press("5")
        await pilot.pause()
        assert tabs.active == "tab-settings"
        assert app.focused is screen.query_one("#set-lr", Input)  # the first field to type in
        loads = screen.query_one(SettingsPanel).loads
        await pilot.press("0", ".", "0", "5", "enter")  # replaces the selected 0.3
        await rebuilt(pilot, screen.query_one(SettingsPanel), loads)
        assert app.session.config().lr == 0.05
        assert len(app.session.records) == 0 and not screen.running  # enter applied, ran nothing
        assert app.focused is None
        await pilot.press("s")  # keys act on the run again
        assert len(app.session.records) == 1
        await pilot.press("4")
        await pilot.pause()
        assert tabs.active == "tab-params"
        assert app.focused is screen.query_one("#start-0", Input)
        loads = screen.query_one(ParamsPanel).loads
        await pilot.press("2", "enter")
        await rebuilt(pilot, screen.query_one(ParamsPanel), loads)
        assert app.session.scenario.params["x"] == 2.0 and len(app.session.records) == 0


async def test_params_say_trained_or_fixed_in_words() -> None:
    app = GdlabApp(scenario="target_z")  # trains b, holds w fixed
    async with app.run_test(size=(80, 24)) as pilot:
        await run_view(pilot)
        await pilot.press("4")
        await pilot.pause()
        w, b = app.screen.query_one("#train-0"), app.screen.query_one("#train-1")
        assert (str(w.label), w.BUTTON_INNER) == ("fixed", " ")
        assert (str(b.label), b.BUTTON_INNER) == ("trained", "X")
        w.focus()
        loads = app.screen.query_one(ParamsPanel).loads
        await pilot.press("space")
        await rebuilt(pilot, app.screen.query_one(ParamsPanel), loads)
        assert app.session.config().train == ("w", "b")
        w = app.screen.query_one("#train-0")
        assert (str(w.label), w.BUTTON_INNER) == ("trained", "X")


async def test_the_landscape_frames_the_whole_path_as_the_command_line_does() -> None:
    from engine.landscape import grid_bounds
    from engine.runner import Run
    from engine.scenario import load_scenario
    from tui.widgets.charts import LandscapeChart

    # the frame `gdlab run rosenbrock --plot` draws: around every point of the sgd path
    recs, _ = Run(load_scenario("rosenbrock"), "sgd").run_all()
    (x0, x1), (y0, y1) = grid_bounds([(r.params["x"], r.params["y"]) for r in recs])
    assert x0 < -1.2 < x1 and round(x0, 2) == -1.75  # the start (-1.2, 1) inside
    app = GdlabApp(scenario="rosenbrock")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        screen = app.screen
        await pilot.press("enter")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert len(app.session.records) == len(recs)
        await pilot.press("3")
        chart = screen.query_one(LandscapeChart)
        for _ in range(100):  # drawn once the tab is shown (after a refresh)
            if chart.landscape is not None:
                break
            await pilot.pause()
        land = chart.landscape
        assert (land.xs[0], land.xs[-1], land.ys[0], land.ys[-1]) == (x0, x1, y0, y1)


async def test_small_words_a_loss_named_loss_and_vector_nodes() -> None:
    app = GdlabApp(scenario="regression_linear")  # output "loss"; x, y and y_hat are vectors
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("s")
        assert "  |  1 record  |  " in str(app.screen.query_one("#status").render())
        text = explain(app)
        assert "\nloss = " in text and "loss loss" not in text
        await pilot.press("s")
        assert "  |  2 records  |  " in str(app.screen.query_one("#status").render())
        await pilot.press("2")
        labels = tree_labels(app)
        n = len(app.session.scenario.data["x"])
        assert any(f"= [{n}] norm " in s for s in labels), labels
        assert not any("|(" in s for s in labels)


async def test_reset_and_edits_set_the_panels_in_place_and_a_new_optimizer_rebuilds_them() -> None:
    """A reset or a new value shows the same fields: they keep their widgets and show the
    values in force; another optimizer has other hyperparameters, so its fields are built."""
    app = GdlabApp(scenario="rosenbrock")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await run_view(pilot)
        settings, params = screen.query_one(SettingsPanel), screen.query_one(ParamsPanel)
        lr, start_x = screen.query_one("#set-lr", Input), screen.query_one("#start-0", Input)
        await edit(pilot, lambda: settings.post_message(SettingsPanel.Changed("lr", "0.002")))
        assert screen.query_one("#set-lr", Input) is lr and lr.value == "0.002"
        await edit(pilot, lambda: params.post_message(ParamsPanel.StartChanged("x", "-1.5")))
        assert screen.query_one("#start-0", Input) is start_x and start_x.value == "-1.5"
        await pilot.press("s", "s")
        await edit(pilot, lambda: pilot.press("r"))
        assert len(app.session.records) == 0 and app.session.config().lr == 0.002
        assert screen.query_one("#set-lr", Input) is lr and lr.value == "0.002"
        assert start_x.value == "-1.5"
        assert not screen.query("#set-betas")
        await edit(pilot, lambda: settings.post_message(SettingsPanel.Changed("optimizer", "adam")))
        assert app.session.config().optimizer == "adam"
        betas = screen.query_one("#set-betas", Input)  # adam's own hyperparameter, built
        assert betas.value == "0.9, 0.999" and screen.query_one("#set-lr", Input) is not lr
        assert screen.query_one("#set-optimizer", Select).value == "adam"
