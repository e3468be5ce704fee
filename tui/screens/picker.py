"""The scenario picker: bundled scenarios and those in the folders given, with a preview."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, ListItem, ListView, Static

from engine import confine
from engine.errors import GdlabError, describe_file
from engine.scenario import Scenario, bundled_scenarios, load_scenario


@dataclass
class Entry:
    """One scenario file: loaded, or the one-line error that stops it loading."""

    path: Path
    scenario: Scenario | None
    error: str = ""


def scan(dirs: list[Path]) -> list[Entry]:
    """Every bundled scenario, then every .toml in ``dirs``, each loaded (errors kept)."""
    files = list(bundled_scenarios())
    for d in dirs:
        files += sorted(Path(d).glob("*.toml")) if Path(d).is_dir() else []
    return load_entries(files)


def scan_one_dir(d: Path) -> list[Entry]:
    """The .toml files of one folder, each loaded (errors kept)."""
    return load_entries(sorted(d.glob("*.toml")))


def load_entries(files: list[Path]) -> list[Entry]:
    """Load each file, keeping the one-line error of those that do not load."""
    out = []
    for f in files:
        try:
            out.append(Entry(f, load_scenario(f)))
        except Exception as exc:  # one bad file must not stop the picker
            out.append(Entry(f, None, describe_file(f, exc)))
    return out


class PickerScreen(Screen):
    """A list of scenarios; enter opens the highlighted one."""

    BINDINGS = [
        Binding("n", "app.new_scenario", "New scenario"),
        Binding("a", "add_path", "Add folder/file"),
        Binding("escape", "back", "Back"),
        Binding("question_mark", "app.show_help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, dirs: list[Path], error: str = "") -> None:
        super().__init__()
        self.dirs = dirs
        self.entries = scan(dirs)
        self.error = error

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="picker"):
            items = []
            for e in self.entries:
                tag = "invalid" if e.scenario is None else e.scenario.rule
                items.append(ListItem(Label(f"{e.path.stem}  [dim]{tag}[/]")))
            with Vertical(id="picker-left"):
                yield ListView(*items, id="scenario-list")
                yield Input(placeholder="a: add a folder of scenarios or a .toml file",
                            id="add-path")
            with VerticalScroll(id="preview-pane"):
                yield Static("", id="error-panel", markup=False)
                yield Static("", id="preview", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "gdlab: open a scenario"
        self.sub_title = "enter: open   n: new scenario   a: add a folder or file"
        self.show_error(self.error)
        if self.entries:
            self._preview(0)

    def show_error(self, message: str) -> None:
        """Show (or, with an empty message, hide) the error panel."""
        panel = self.query_one("#error-panel", Static)
        panel.update(f"cannot open this scenario:\n{message}" if message else "")
        panel.display = bool(message)

    def _preview(self, i: int) -> None:
        e = self.entries[i]
        sc = e.scenario
        if sc is None:
            text = f"{e.path}\n\ninvalid scenario:\n{e.error}"
        else:
            variants = ", ".join(sc.variants) or "none"
            text = (f"{sc.title}\n\nfile: {e.path}\nrule: {sc.rule}\nvariants: {variants}\n\n"
                    f"{sc.description.strip()}")
        self.query_one("#preview", Static).update(text)

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        if event.list_view.index is not None:
            self._preview(event.list_view.index)

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        i = event.list_view.index
        if i is None:
            return
        e = self.entries[i]
        if e.scenario is None:
            self.show_error(e.error)
            self.notify(e.error, severity="error", timeout=10)
            return
        self.show_error("")
        self.app.open_scenario(e.path)

    def action_add_path(self) -> None:
        """Focus the path input: a folder adds its scenarios, a file is added and opened."""
        self.query_one("#add-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "add-path":
            return
        text = event.value.strip()
        if not text:
            return
        path = Path(text).expanduser()
        try:
            confine.check_folder(path)  # served mode: refused before anything is looked at
        except GdlabError as exc:
            self.show_error(str(exc))
            self.notify(str(exc), severity="error", timeout=10)
            return
        if path.is_dir():
            found = scan_one_dir(path)
            if not found:
                self.notify(f"{path}: no .toml files there", severity="warning")
                return
            self.dirs.append(path)
            self._add_entries(found)
            self.notify(f"added {len(found)} scenario file{'s' if len(found) != 1 else ''} "
                        f"from {path}")
        elif path.is_file():
            self._add_entries(load_entries([path]))
            entry = self.entries[-1]
            if entry.scenario is None:
                self.show_error(entry.error)
                self.notify(entry.error, severity="error", timeout=10)
            else:
                self.show_error("")
                self.app.open_scenario(path)
        else:
            self.notify(f"{path}: no such folder or file", severity="error")
            return
        event.input.value = ""

    def _add_entries(self, new: list[Entry]) -> None:
        known = {e.path.resolve() for e in self.entries}
        lst = self.query_one("#scenario-list", ListView)
        for e in new:
            if e.path.resolve() in known:
                continue
            self.entries.append(e)
            tag = "invalid" if e.scenario is None else e.scenario.rule
            lst.append(ListItem(Label(f"{e.path.stem}  [dim]{tag}[/]")))

    def action_back(self) -> None:
        """Back to the run view, if one is open."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
