"""The Textual app: wires the picker, run, compare, export, help and new-scenario screens together.

``gdlab`` / ``gdlab open [SCENARIO] [DIRS]`` start it. Only the picker is imported at start:
the other screens (and plotext, through the run view's charts) when first shown, which keeps a
session that has not opened a scenario smaller (each browser of ``gdlab serve`` is a process).
The app holds one ``Session`` (the record of everything that changes the computation); the
screens show it and change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.screen import Screen

from engine import confine, kinds
from engine.errors import GdlabError, describe_file
from engine.scenario import Scenario, load_scenario, parse_scenario

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

        self.push_screen(CompareScreen(sc))

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

        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from .screens.run import RunScreen

        yield from super().get_system_commands(screen)
        yield SystemCommand("Open scenario", "Pick a scenario to explore", self.action_picker)
        yield SystemCommand("New scenario", "Type a function and explore it",
                            self.action_new_scenario)
        yield SystemCommand("Help", "Keys and views of gdlab", self.action_show_help)
        if isinstance(screen, RunScreen):
            for title, help_, action in (
                ("Step", "Take one step", screen.action_step),
                ("Run / pause", "Run continuously at the playback speed", screen.action_toggle_run),
                ("Run to stop", "Run to the stop condition", screen.action_run_to_end),
                ("Faster", "More iterations per second", screen.action_faster),
                ("Slower", "Fewer iterations per second", screen.action_slower),
                ("Reset", "Back to the starting values", screen.action_reset),
                ("Backward walk-through", "Next chain-rule term", screen.action_walk),
                ("Log / linear", "Toggle the error chart's axis", screen.action_toggle_log),
                ("Older rows", "Page the iteration table back 1,000 rows", screen.action_older),
                ("Newer rows", "Page the iteration table forward", screen.action_newer),
                ("Follow", "The table follows the newest row again", screen.action_follow),
                ("Graph diagram / tree", "Draw the graph with arrows, or as a tree",
                 screen.action_diagram),
                ("Compare variants", "The variants side by side", screen.action_compare),
                ("Export", "Trace, screenshot or session script", screen.action_export),
            ):
                yield SystemCommand(title, help_, action)
