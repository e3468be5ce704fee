"""Pilot tests of the other screens: compare, picker and its error panel, export, new scenario."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

from gates import edit, export, run_view, until
from helpers import TZ_FIXED_UPDATES, TZ_RECOMPUTED_UPDATES, compared
from textual.widgets import DataTable, Input, ListView, Select, Static, TabbedContent

from engine.scenario import load_scenario
from tui.app import GdlabApp
from tui.cli import main as cli_main
from tui.replay import replay_main
from tui.screens.compare import CompareScreen
from tui.screens.export import ExportScreen
from tui.screens.new_scenario import NewScenarioScreen
from tui.screens.picker import PickerScreen
from tui.screens.run import RunScreen
from tui.widgets.settings import SettingsPanel

SIZE = (120, 40)


async def test_compare_shows_both_variants() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await compared(pilot)
        titles = [str(w.render()).strip() for w in screen.query(".cmp-title")]
        assert titles == ["fixed", "recomputed"]
        tables = list(screen.query(".cmp-table"))
        fixed, recomputed = TZ_FIXED_UPDATES, TZ_RECOMPUTED_UPDATES  # 5 and 3: tests/helpers.py
        assert [t.row_count for t in tables] == [fixed + 1, recomputed + 1]  # the start too
        summary = screen.query_one("#cmp-summary", DataTable)
        assert [str(c) for c in summary.get_row_at(0)][:3] == ["fixed", str(fixed), "converged"]
        assert [str(c) for c in summary.get_row_at(1)][:3] == \
            ["recomputed", str(recomputed), "converged"]


async def test_narrow_compare_tabs_variants_keeps_the_summary_and_exports(tmp_path: Path) -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=(80, 24)) as pilot:
        await run_view(pilot)
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await compared(pilot)
        assert screen.has_class("-narrow")
        assert not screen.query_one("#cmp-tables").display
        tabs = screen.query_one("#cmp-tabs", TabbedContent)
        assert [str(t.label) for t in tabs.query("ContentTab")] == ["fixed", "recomputed", "chart"]
        assert [t.row_count for t in screen.query(".cmp-tab-table").results(DataTable)] == \
            [TZ_FIXED_UPDATES + 1, TZ_RECOMPUTED_UPDATES + 1]
        summary = screen.query_one("#cmp-summary", DataTable)
        assert summary.region.bottom <= 23 and summary.region.height >= 3  # 3 rows above the footer
        for kind, fmt in ((0, "csv"), (1, "jsonl")):
            path = tmp_path / f"cmp.{fmt}"
            await export(pilot, kind, path)
            assert isinstance(app.screen, CompareScreen)
            out = io.StringIO()
            with redirect_stdout(out):
                assert cli_main(["compare", "target_z", "--format", fmt]) == 0
            assert path.read_text() == out.getvalue()


async def test_an_invalid_scenario_shows_its_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text('[scenario]\nname = "broken"\n[params]\nx = 1\n[graph]\nf = "x +* 2"\n'
                   '[run]\nrule = "gradient"\noutput = "f"\n')
    app = GdlabApp(scenario=str(bad), dirs=[tmp_path])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        panel = app.screen.query_one("#error-panel", Static)
        assert panel.display and "broken.toml" in str(panel.render())
        # the folder's broken file is listed as invalid; opening it shows the error again
        names = [e.path.name for e in app.screen.entries]
        i = names.index("broken.toml")
        lv = app.screen.query_one(ListView)
        lv.index = i
        lv.focus()
        await pilot.press("enter")
        assert isinstance(app.screen, PickerScreen)
        assert "broken.toml" in str(app.screen.query_one("#preview", Static).render())


async def test_picker_opens_a_scenario() -> None:
    app = GdlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        names = [e.path.stem for e in app.screen.entries]
        lv = app.screen.query_one(ListView)
        lv.index = names.index("gd_square")
        lv.focus()
        await pilot.press("enter")
        await run_view(pilot)
        assert isinstance(app.screen, RunScreen)
        assert app.session.scenario.name == "gd_square"
        await pilot.press("s")
        assert len(app.session.records) == 1


async def test_session_export_and_replay_give_identical_numbers(tmp_path: Path) -> None:
    app = GdlabApp(scenario="split_error")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("s", "s")

        def factor(value: str) -> object:
            return edit(pilot, lambda: setattr(app.screen.query_one("#set-factor", Select),
                                               "value", value))

        await factor("recomputed")
        await pilot.press("s")
        await pilot.press("r", "s", "s", "s")
        await factor("fixed")
        await pilot.press("enter")
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        await export(pilot, 1, tmp_path / "trace.jsonl")
        await export(pilot, 0, tmp_path / "trace.csv")
        await export(pilot, 3, tmp_path / "session.json")
        await export(pilot, 2, tmp_path / "shot.svg")  # taken once the dialog has gone
    assert (tmp_path / "shot.svg").read_text().startswith("<svg")
    script = json.loads((tmp_path / "session.json").read_text())
    assert [a["do"] for a in script["actions"]] == ["open", "step", "set", "step", "reset",
                                                    "step", "set", "step"]
    for fmt, name in (("jsonl", "trace.jsonl"), ("csv", "trace.csv")):
        out = io.StringIO()
        with redirect_stdout(out):
            assert replay_main(argparse.Namespace(script=tmp_path / "session.json",
                                                  format=fmt)) == 0
        assert out.getvalue() == (tmp_path / name).read_text()


def test_replay_command_prints_the_table_and_rejects_bad_scripts(tmp_path: Path) -> None:
    good = tmp_path / "s.json"
    good.write_text(json.dumps({"gdlab_session": 1, "actions": [
        {"do": "open", "scenario": "target_z", "variant": "recomputed"},
        {"do": "step", "count": 100}]}))
    res = subprocess.run([sys.executable, "-m", "tui.cli", "replay", str(good)],
                         capture_output=True, text=True)
    cli = subprocess.run([sys.executable, "-m", "tui.cli", "run", "target_z", "--variant",
                          "recomputed"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout == cli.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"gdlab_session": 1, "actions": [{"do": "fly"}]}))
    res = subprocess.run([sys.executable, "-m", "tui.cli", "replay", str(bad)],
                         capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "fly" in res.stderr


def test_headless_modules_do_not_import_textual() -> None:
    code = ("import sys, tui.cli, tui.commands, tui.report, tui.session, tui.replay; "
            "assert not any(m.startswith('textual') for m in sys.modules), 'textual imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_new_scenario_form_explores_and_saves(tmp_path: Path) -> None:
    app = GdlabApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        screen = app.screen
        assert isinstance(screen, NewScenarioScreen)
        screen.query_one("#new-path", Input).value = str(tmp_path / "bowl.toml")
        screen.query_one("#new-function", Input).value = "x**2 + sin(y)**2"
        screen.query_one("#new-starts", Input).value = "x = 1.5, y = 0.5"
        screen.query_one("#new-optimizer", Select).value = "adam"
        await screen.action_save()
        assert "f = \"x**2 + sin(y)**2\"" in (tmp_path / "bowl.toml").read_text()
        assert 'optimizer = "adam"' in (tmp_path / "bowl.toml").read_text()
        screen.query_one("#new-optimizer", Select).value = "sgd"
        screen.action_explore()
        await run_view(pilot)
        assert isinstance(app.screen, RunScreen)
        await pilot.press("s", "s")
        assert [round(r.params["x"], 6) for r in app.session.records] == [1.5, 1.2]
        assert app.session.actions[0]["do"] == "scenario"


async def test_help_lists_every_key_and_palette_has_commands() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)
        await pilot.press("question_mark")
        text = str(app.screen.query_one("#help Static").render())
        for key in ("s ", "space", "enter", "+", "-", "r ", "b ", "l ", "c ", "o ", "e ", "?",
                    "q "):
            assert key in text
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Step", "Run/pause", "To stop", "Compare", "Export", "Go to iteration"} <= \
            set(titles)


async def test_picker_adds_a_folder_and_opens_a_file_from_the_app(tmp_path):
    """ctrl+o in the picker: a folder adds its scenarios to the list; a bad file shows its error."""
    from textual.widgets import Input, ListView

    from tui.app import GdlabApp
    from tui.screens.picker import PickerScreen

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "mine_square.toml").write_text(
        '[params]\nx = 2.0\n[graph]\nJ = "x**2"\n[run]\nrule = "gradient"\noutput = "J"\n')
    bad = tmp_path / "bad.toml"
    bad.write_text("[graph]\nJ = \"x +\"\n")
    app = GdlabApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        before = len(picker.query_one("#scenario-list", ListView).children)
        await pilot.press("ctrl+o")
        field = picker.query_one("#add-path", Input)
        assert field.has_focus
        field.value = str(folder)
        await pilot.press("enter")
        await pilot.pause()
        names = [e.path.stem for e in picker.entries]
        assert "mine_square" in names
        assert len(picker.query_one("#scenario-list", ListView).children) == before + 1
        assert not field.display and picker.query_one("#search", Input).has_focus
        await pilot.press("ctrl+o")
        field.value = str(bad)
        await pilot.press("enter")
        await pilot.pause()
        panel = picker.query_one("#error-panel")
        assert panel.display and "bad.toml" in str(panel.render())


def test_toml_script_clears_a_setting_by_leaving_the_value_out(tmp_path, capsys):
    """TOML has no null: a `set` action without `value` removes the setting (here tolerance)."""
    from tui.cli import main

    script = tmp_path / "s.toml"
    script.write_text('gdlab_session = 1\n[[actions]]\ndo = "open"\nscenario = "gd_square"\n'
                      '[[actions]]\ndo = "set"\nkey = "tolerance"\n'
                      '[[actions]]\ndo = "set"\nkey = "max_iterations"\nvalue = 8\n'
                      '[[actions]]\ndo = "step"\ncount = 20\n')
    assert main(["replay", str(script)]) == 0
    out = capsys.readouterr().out
    # with tolerance 1e-3 it would stop converged after 4 updates; without, it runs to 8
    assert "stopped: max_iterations after 8 updates" in out


async def test_each_kind_opens_its_own_screen(monkeypatch, tmp_path: Path) -> None:
    """The app asks the kind's views for the screen: the run view for a graph scenario, the
    network screen for a network scenario (which waits for its worker on the way out)."""
    from tui.screens.network import NetworkScreen

    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)  # the bundled subset
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await run_view(pilot)  # the app opens its scenario after it starts
        assert isinstance(app.screen, RunScreen)
        assert app.session.scenario is not None and app.session.scenario.kind == "graph"
    app = GdlabApp(scenario="mnist_mlp")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: not isinstance(app.screen, PickerScreen) and
                    len(app.screen_stack) > 1, "the scenario's screen")
        screen = app.screen
        assert isinstance(screen, NetworkScreen) and screen.session.variant == "lr_3"
        assert app.session.run is None  # a network is stepped in the screen's own session
        await app.workers.wait_for_complete()  # loading the data; nothing trains unasked



async def test_export_dialog_shows_its_choices_by_text_and_follows_a_typed_name(
        tmp_path: Path) -> None:
    from tui.widgets.toggles import StateCheckbox, StateRadioButton

    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=(80, 24)) as pilot:
        await run_view(pilot)
        await pilot.press("s", "e")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        radios = list(screen.query(StateRadioButton))
        assert [r.BUTTON_INNER for r in radios] == ["●", " ", " ", " "]
        force = screen.query_one("#export-force", StateCheckbox)
        assert force.value is False and force.BUTTON_INNER == " "
        field = screen.query_one("#export-path", Input)
        field.value = str(tmp_path / "picture.svg")
        await pilot.pause()
        assert screen.kind == "svg" and [r.value for r in radios] == [False, False, True, False]
        assert field.value == str(tmp_path / "picture.svg")  # the typed name stays
        field.value = str(tmp_path / "numbers.jsonl")
        await pilot.pause()
        assert screen.kind == "jsonl" and radios[1].value and radios[1].BUTTON_INNER == "●"
        field.focus()
        await pilot.press("enter")
        out = tmp_path / "numbers.jsonl"  # written by a worker, renamed into place when whole
        await until(pilot, lambda: app.screen is not screen and out.exists(), f"{out} written")
        assert out.read_text().startswith('{"iteration": 0')


async def test_an_edited_target_carries_into_the_title_and_the_compare_view() -> None:
    from tui.screens.compare import CompareScreen

    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_view(pilot)
        assert screen.title == "Drive z to 150 by changing b"  # the file's own title
        await pilot.press("5")
        await pilot.pause()
        target = screen.query_one("#set-target", Input)
        assert app.focused is target
        panel = screen.query_one(SettingsPanel)
        loads = panel.loads
        await pilot.press("1", "4", "0", "enter")
        for _ in range(200):  # wait for the edit to be applied and the panel rebuilt
            if panel.loads > loads:
                break
            await pilot.pause()
        assert app.session.config().target == 140.0
        assert screen.title == "Drive z to 140 by changing b"
        assert "edited: target = 140" in screen.sub_title
        await pilot.press("c")
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        await compared(pilot)
        assert compare.title == "compare: Drive z to 140 by changing b"
        note = str(compare.query_one("#cmp-edits").render())
        assert "target = 140" in note and "keeps its own factor" in note
        for o in compare.outcomes:  # both variants drive z to the edited target
            assert o.cfg.target == 140.0 and o.summary.stop_reason == "converged"
            assert abs(o.summary.final_output - 140.0) < o.cfg.tolerance
        assert [o.cfg.factor for o in compare.outcomes] == ["fixed", "recomputed"]


def test_compare_keeps_each_variants_own_keys_and_drops_foreign_hyperparameters() -> None:
    from tui.session import Session

    s = Session()
    s.open("rosenbrock", "momentum")
    s.set("momentum", 0.5)  # momentum's own key: every variant keeps its own
    s.set("tolerance", 1e-3)
    s.set_param("x", -1.0)
    configs = s.compare_configs()
    assert configs["momentum"].hyper["momentum"] == 0.9 and "momentum" not in configs["adam"].hyper
    assert all(c.tolerance == 1e-3 for c in configs.values())
    assert [c.optimizer for c in configs.values()] == list(load_scenario("rosenbrock").variants)
    assert s.edits() == ["start x = -1", "momentum = 0.5", "tolerance = 0.001"]


async def test_picker_searches_as_you_type_in_the_order_of_a_course(tmp_path: Path) -> None:
    (tmp_path / "aaa_broken.toml").write_text("[graph]\nJ = 'x +'\n")
    (tmp_path / "my_bowl.toml").write_text(
        '[params]\nx = 2.0\n[graph]\nJ = "x**2"\n[run]\nrule = "gradient"\noutput = "J"\n')
    app = GdlabApp(dirs=[tmp_path])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        names = [e.path.stem for e in picker.entries]
        assert names[0] == "target_z"  # the README's main example first
        assert names[-2:] == ["my_bowl", "aaa_broken"]  # the folder's files, invalid last
        async def showing(names: list[str] | None) -> None:
            """Wait (on the app) until the list shows ``names`` (None: every entry)."""
            want = names if names is not None else [e.path.stem for e in picker.entries]
            for _ in range(100):
                lst = picker.query_one("#scenario-list", ListView)
                if [e.path.stem for e in picker.shown] == want and len(lst.children) == len(want):
                    return
                await pilot.pause()
            raise AssertionError([e.path.stem for e in picker.shown])

        await pilot.press(*"rosen")
        await showing(["rosenbrock"])
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace",
                          *"valley optim")  # words of the title, in any order
        await showing(["rosenbrock"])
        await pilot.press("escape")  # clears the search
        await showing(None)
        await pilot.press(*"target")
        await showing(["target_z", "target_z_w", "split_error", "nonlinear_target"])
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert app.session.scenario.name == "target_z_w"  # the second of the target lessons


async def test_new_scenario_form_fits_80x24_hints_powers_and_saves_into_the_picker(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = GdlabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        form = app.screen
        assert isinstance(form, NewScenarioScreen)
        for wid in ("#new-explore", "#new-save", "#new-back", "#new-error"):
            region = form.query_one(wid).region
            assert region.bottom <= 23 and region.height >= 1, wid  # above the footer
        form.query_one("#new-function", Input).value = "x^2 + y^2"
        await pilot.press("ctrl+r")
        error = str(form.query_one("#new-error", Static).render())
        assert "use ** for powers: x**2 + y**2" in error
        assert app.screen is form
        path = form.query_one("#new-path", Input)
        assert path.value == str(tmp_path / "my_function.toml")
        name = form.query_one("#new-name", Input)
        name.value = "bowl"
        await pilot.pause()
        assert path.value == str(tmp_path / "bowl.toml")  # save as follows the name
        form.query_one("#new-function", Input).value = "x**2 + y**2"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert (tmp_path / "bowl.toml").is_file()
        path.value = str(tmp_path / "elsewhere.toml")
        name.value = "renamed"
        await pilot.pause()
        assert path.value == str(tmp_path / "elsewhere.toml")  # a typed path stays
        await pilot.press("escape")
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        assert [e.path for e in picker.entries if e.path.stem == "bowl"] == [tmp_path / "bowl.toml"]
        await pilot.press(*"bowl")
        for _ in range(100):  # the search has left the one file
            if [e.path.stem for e in picker.shown] == ["bowl"]:
                break
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen) and app.session.scenario.name == "bowl"
