"""Every key of every screen is in ? help and in the command palette (both read the BINDINGS)."""

from __future__ import annotations

from collections.abc import Callable

from gates import run_view
from textual.screen import Screen

from engine.scenario import load_scenario
from engine.sweep.point import ScenarioSource
from tui.app import GdlabApp
from tui.screens.columns import ColumnsScreen
from tui.screens.compare import CompareScreen
from tui.screens.export import ExportScreen
from tui.screens.goto import GotoScreen
from tui.screens.help import HelpScreen, bindings, key_text, keys_text, screen_classes
from tui.screens.network import NetworkScreen
from tui.screens.network_compare import NetworkCompareScreen
from tui.screens.network_edit import NetworkEditScreen
from tui.screens.new_scenario import NewScenarioScreen
from tui.screens.picker import PickerScreen
from tui.screens.run import RunScreen
from tui.screens.sweep import SweepScreen
from tui.screens.sweep_point import PointRunScreen


def factories(app: GdlabApp) -> dict[type[Screen], Callable[[], Screen]]:
    """One way to make each screen (a new screen fails the test until it is added here)."""
    return {
        RunScreen: lambda: RunScreen(app.session),
        CompareScreen: lambda: CompareScreen(load_scenario("target_z")),
        PickerScreen: lambda: PickerScreen([]),
        NewScenarioScreen: NewScenarioScreen,
        NetworkScreen: lambda: NetworkScreen(load_scenario("xor")),
        NetworkCompareScreen: lambda: NetworkCompareScreen(load_scenario("xor")),
        NetworkEditScreen: lambda: NetworkEditScreen(NetworkScreen(load_scenario("xor"))),
        ExportScreen: lambda: ExportScreen(app.session),
        GotoScreen: lambda: GotoScreen(10),
        ColumnsScreen: lambda: ColumnsScreen(["iter", "x"], {"iter", "x"}),
        HelpScreen: HelpScreen,
        SweepScreen: lambda: SweepScreen(ScenarioSource.read(load_scenario("target_z").path)),
        PointRunScreen: lambda: PointRunScreen(app.session),
    }


def screen_lines(app: GdlabApp) -> list[str]:
    """The text of the screen as drawn, line by line (Textual's compositor: no public API)."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001
    return ["".join(seg.text for seg in strip) for strip in strips]


def section(text: str, title: str) -> str:
    """The lines of help under ``title`` (up to the next blank line)."""
    start = text.index(f"\n{title}\n")
    end = text.find("\n\n", start + 1)
    return text[start:end if end >= 0 else None]


def test_help_lists_every_binding_of_every_screen() -> None:
    text = "\n" + keys_text()
    classes = screen_classes()
    assert {RunScreen, CompareScreen, PickerScreen, NewScenarioScreen, NetworkScreen,
            NetworkCompareScreen, NetworkEditScreen, ExportScreen, GotoScreen, ColumnsScreen,
            HelpScreen} <= set(classes)
    for cls in classes:
        part = section(text, cls.HELP_TITLE)
        for b in bindings(cls):
            line = f"  {key_text(b):<9} {b.description}"
            assert any(ln == line or ln.startswith(line + ": ") for ln in part.splitlines()), \
                (cls.__name__, b.key, part)
    run = section(text, "run view")
    for key in ("g", "1", "5", "t", "<", ">", "?", "q"):
        assert f"\n  {key} " in run, key
    network = section(text, "network screen")
    for key in ("s", "S", "space", "1", "4", "m", "]", "[", "x", "+", "-", "n", "?", "q"):
        assert f"\n  {key} " in network, key


async def test_the_palette_offers_every_binding_of_every_screen() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=(80, 24)) as pilot:
        await run_view(pilot)
        await pilot.pause()
        made = factories(app)
        assert set(made) == set(screen_classes()), "add the new screen to factories()"
        for cls, make in made.items():
            screen = make()
            commands = {(c.title, c.help) for c in app.get_system_commands(screen)}
            for b in bindings(cls):
                assert any(t == b.description and h.startswith(f"key {key_text(b)}")
                           for t, h in commands), (cls.__name__, b.key)


async def test_a_palette_command_runs_its_key() -> None:
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=(80, 24)) as pilot:
        await run_view(pilot)
        await pilot.pause()
        screen = app.screen
        step = next(c for c in app.get_system_commands(screen) if c.title == "Step")
        await step.callback()
        await pilot.pause()
        assert len(app.session.records) == 1
        goto = next(c for c in app.get_system_commands(screen) if c.title == "Go to iteration")
        await goto.callback()
        await pilot.pause()
        assert isinstance(app.screen, GotoScreen)


async def test_the_footer_shows_the_first_keys_that_fit_and_the_palette_whole() -> None:
    from textual.widgets._footer import FooterKey

    for width in (80, 120, 200):
        app = GdlabApp(scenario="target_z")
        async with app.run_test(size=(width, 24)) as pilot:
            await run_view(pilot)
            for _ in range(100):  # the footer is composed once the bindings are known, then drawn
                if screen_lines(app)[-1].rstrip().endswith("^p palette"):
                    break
                await pilot.pause()
            keys = list(app.screen.query(FooterKey))
            shown = [k.key for k in keys]
            assert shown[:5] == ["s", "space", "enter", "question_mark", "q"], (width, shown)
            assert shown[-1] == "ctrl+p"
            line = screen_lines(app)[-1]
            assert line.rstrip().endswith("^p palette"), line  # whole, not squeezed
            assert "? Help  q Quit" in line
            assert sum(k.size.width for k in keys) <= width
            # the keys shown are the first of the screen's bindings, in order
            order = [b.key for b in bindings(RunScreen) if b.show]
            first = shown[:-1]
            assert all(order.index(a) < order.index(b) for a, b in zip(first, first[1:],
                                                                        strict=False))
        if width == 200:
            assert {"c", "e", "o", "r", "b", "g"} <= set(shown)
