"""The Textual app: wires the picker, run, compare, export, help and new-scenario screens together.

``gdlab`` / ``gdlab open [SCENARIO] [DIRS]`` start it. Only the picker is imported at start:
the other screens (and plotext, through the run view's charts) when first shown, which keeps a
session that has not opened a scenario smaller (each browser of ``gdlab serve`` is a process).
The app holds one ``Session`` (the record of everything that changes the computation); the
screens show it and change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.screen import Screen

from engine import confine, kinds
from engine.errors import GdlabError, describe_file
from engine.scenario import Scenario, load_scenario, parse_scenario
from engine.sweep.point import ScenarioSource

from .kinds import get as kind_views
from .screens.picker import PickerScreen
from .served import ServeConfig
from .session import Session


def _web(app: App) -> bool:
    """Whether the app will run through Textual's web driver (textual-serve, textual-web)."""
    from textual.drivers.web_driver import WebDriver

    return issubclass(app.driver_class, WebDriver)


class GdlabApp(App):
    """A terminal laboratory for gradient descent and backpropagation."""

    CSS_PATH = "gdlab.tcss"
    TITLE = "gdlab"

    def __init__(self, scenario: str | None = None, dirs: Iterable[Path] = (),
                 served: ServeConfig | None = None) -> None:
        super().__init__()
        self.start_ref = scenario
        # served (gdlab serve, or any web driver): confined to what the server shares
        self.served = served or ServeConfig.from_env() or (ServeConfig() if _web(self) else None)
        self.dirs = self.served.scenario_dirs if self.served else [Path(d) for d in dirs]
        self.session = Session(search=self.dirs, detail=True)  # the explain panel's detail
        self.sweep_workers: int | None = None  # worker processes of a sweep (None: one per core)

    def on_mount(self) -> None:
        if self.served is not None:
            confine.install(self.served.confinement())
        if self.start_ref:
            self.open_scenario(self.start_ref)
        else:
            self.push_screen(PickerScreen(self.dirs))

    def on_unmount(self) -> None:
        if self.served is not None:
            confine.install(None)

    # --- opening scenarios --------------------------------------------------------------

    def open_scenario(self, ref: str | Path, variant: str | None = None) -> bool:
        """Open a scenario in its kind's screen (the run view, the training dashboard);
        False on error.

        Whatever goes wrong is shown in the picker's error panel and the app keeps running: a
        mistake in the file by its own message, anything else (a bug) by its type.
        """
        sc: Scenario | None = None
        try:
            sc = load_scenario(ref, search=self.dirs)
            screen = kind_views(sc.kind).screen(self, sc, ref, variant)
        except ImportError as exc:
            if sc is None:
                self._show_error(describe_file(ref, exc))
            else:
                self.notify(f"the {sc.kind} screen is not available ({exc})", severity="error")
            return False
        except Exception as exc:  # the app must survive any file it is given
            self._show_error(describe_file(ref, exc))
            return False
        self.call_later(self._show, screen)
        return True

    def open_text(self, toml: str) -> bool:
        """Open scenario TOML text (the new-scenario form) in the run view; False on error."""
        try:
            sc: Scenario = parse_scenario(toml, source="<new scenario>")
            if not kinds.get(sc.kind).steps:
                raise GdlabError(f"the form opens scenarios that step (not {sc.kind} scenarios)")
            self.session.open_text(toml)
        except Exception as exc:  # as open_scenario
            self.notify(describe_file("<new scenario>", exc), severity="error", timeout=10)
            return False
        self.call_later(self._show_run)
        return True

    def _show_error(self, message: str) -> None:
        self.notify(message, severity="error", timeout=10)
        if isinstance(self.screen, PickerScreen):
            self.screen.show_error(message)
        else:
            self.push_screen(PickerScreen(self.dirs, error=message))

    async def _show_run(self) -> None:
        from .screens.run import RunScreen

        await self._show(RunScreen(self.session))

    async def _show(self, screen: Screen) -> None:
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(screen)

    async def remember(self, path: Path) -> None:
        """A scenario file saved in the app: the picker offers it, now and whenever it opens."""
        from .screens.picker import load_entries

        if all(Path(d).resolve() != path.resolve() for d in self.dirs):
            self.dirs.append(path)
        for screen in self.screen_stack:
            if isinstance(screen, PickerScreen):
                await screen.add_entries(load_entries([path]))

    # --- screens ------------------------------------------------------------------------

    def action_picker(self) -> None:
        """Open the scenario picker."""
        self.push_screen(PickerScreen(self.dirs))

    def action_new_scenario(self) -> None:
        """Open the new-scenario form."""
        from .screens.new_scenario import NewScenarioScreen

        self.push_screen(NewScenarioScreen())

    def action_compare(self) -> None:
        """Compare the open scenario's variants."""
        sc = self.session.scenario
        if sc is None:
            self.notify("open a scenario first", severity="warning")
            return
        if not sc.variants:
            self.notify(f"{sc.name} has no variants to compare", severity="warning")
            return
        from .screens.compare import CompareScreen

        try:
            configs = self.session.compare_configs()
        except GdlabError as exc:
            self.notify(f"cannot compare at the edited values: {exc}", severity="error")
            return
        self.push_screen(CompareScreen(sc, configs, self.session.title(), self.session.edits()))

    def action_sweep(self) -> None:
        """Open the sweep screen on the scenario in view (with the view's edits and variant)."""
        from .screens.sweep import SweepScreen

        screen = self.screen
        session = getattr(screen, "session", None)
        if isinstance(session, Session) and session.base is not None:
            sc, variant, overrides = session.base, session.variant, session.as_overrides()
        elif isinstance(getattr(screen, "scenario", None), Scenario):
            sc, overrides = screen.scenario, []
            variant = getattr(screen, "variant", None) or getattr(session, "variant", None)
        else:
            self.notify("open a scenario first", severity="warning")
            return
        if sc.path is None:
            self.notify("save the scenario to a file to sweep it", severity="warning")
            return
        try:
            source = ScenarioSource.read(sc.path)
            self.push_screen(SweepScreen(source, variant, overrides, self.sweep_workers))
        except GdlabError as exc:
            self.notify(str(exc), severity="error", timeout=10)

    def action_export(self) -> None:
        """Open the export dialog."""
        if self.session.run is None:
            self.notify("open a scenario first", severity="warning")
            return
        from .screens.export import ExportScreen

        self.push_screen(ExportScreen(self.session))

    def action_show_help(self) -> None:
        """Show the keys and what each view shows."""
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen(type(self.screen)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from .screens.help import commands_of

        yield from super().get_system_commands(screen)
        yield SystemCommand("Open scenario", "Pick a scenario to explore", self.action_picker)
        yield SystemCommand("New scenario", "Type a function and explore it",
                            self.action_new_scenario)
        yield SystemCommand("Help", "Keys and views of gdlab", self.action_show_help)
        keyed = False
        for title, help_, action in commands_of(screen):  # every key of the screen
            keyed = keyed or action == "sweep"
            yield SystemCommand(title, help_, partial(screen.run_action, action))
        if not keyed and type(screen).__name__ != "SweepScreen" and (
                getattr(screen, "scenario", None) is not None or getattr(screen, "session", None)):
            yield SystemCommand("Sweep", "Run a grid of settings of this scenario and map a "
                                "metric", self.action_sweep)
