"""The scenario picker: type to search the scenarios (bundled, in course order, and those in the
folders and files given), arrows to choose, enter to open; a preview of the highlighted one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, Label, ListItem, ListView, Static

from engine import confine
from engine.errors import GdlabError, describe_file
from engine.scenario import Scenario, bundled_scenarios, load_scenario

from ..widgets.footer import FitFooter


@dataclass
class Entry:
    """One scenario file: loaded, or the one-line error that stops it loading."""

    path: Path
    scenario: Scenario | None
    error: str = ""

    def text(self) -> str:
        """What the search looks in: the file's name, its rule, title and description."""
        sc = self.scenario
        if sc is None:
            return f"{self.path.stem} invalid {self.error}".lower()
        return f"{self.path.stem} {sc.rule} {sc.title} {sc.description}".lower()

    def matches(self, query: str) -> bool:
        """True if every word of ``query`` occurs in the entry's text (case ignored)."""
        text = self.text()
        return all(word in text for word in query.lower().split())


def scan(dirs: list[Path]) -> list[Entry]:
    """Every bundled scenario (course order), then the .toml files of ``dirs`` (folders or
    files), each loaded; files that do not load come last."""
    files = list(bundled_scenarios())
    for d in dirs:
        d = Path(d)
        files += sorted(d.glob("*.toml")) if d.is_dir() else [d] if d.is_file() else []
    return order(load_entries(files))


def scan_one_dir(d: Path) -> list[Entry]:
    """The .toml files of one folder, each loaded (errors kept)."""
    return load_entries(sorted(d.glob("*.toml")))


def load_entries(files: list[Path]) -> list[Entry]:
    """Load each file once, keeping the one-line error of those that do not load."""
    out, seen = [], set()
    for f in files:
        key = f.resolve()
        if key in seen:
            continue
        seen.add(key)
        try:
            out.append(Entry(f, load_scenario(f)))
        except Exception as exc:  # one bad file must not stop the picker
            out.append(Entry(f, None, describe_file(f, exc)))
    return out


def order(entries: list[Entry]) -> list[Entry]:
    """The entries as given (course order, then each folder's), the invalid ones last."""
    return [e for e in entries if e.scenario is not None] + \
        [e for e in entries if e.scenario is None]


def reflow(text: str) -> str:
    """A description's paragraphs as paragraphs: lines broken in the file joined again."""
    paras = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paras if p)


def label(e: Entry) -> str:
    """One line of the list: the name and its rule (or "invalid")."""
    return f"{e.path.stem}  [dim]{'invalid' if e.scenario is None else e.scenario.rule}[/]"


class PickerScreen(Screen):
    """A list of scenarios to search; enter opens the highlighted one."""

    HELP_TITLE = "scenario picker"
    HELP_ORDER = 30

    # letters type into the search: every other key is a control key
    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("down", "move(1)", "Next", key_display="↓", show=False),
        Binding("up", "move(-1)", "Previous", key_display="↑", show=False),
        Binding("pagedown", "move(10)", "10 down", show=False),
        Binding("pageup", "move(-10)", "10 up", show=False),
        Binding("ctrl+n", "app.new_scenario", "New scenario"),
        Binding("ctrl+o", "add_path", "Add files"),
        Binding("f1", "app.show_help", "Help"),
        Binding("ctrl+q", "app.quit", "Quit"),
        Binding("escape", "back", "Clear/back"),
    ]

    def __init__(self, dirs: list[Path], error: str = "") -> None:
        super().__init__()
        self.dirs = dirs
        self.entries = scan(dirs)
        self.shown: list[Entry] = list(self.entries)  # the entries the search leaves
        self.error = error

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="picker"):
            with Vertical(id="picker-left"):
                yield Input(placeholder="type to search", id="search")
                yield ListView(*(ListItem(Label(label(e))) for e in self.shown),
                               id="scenario-list")
                yield Label("", id="search-count")
                yield Input(placeholder="folder or .toml (enter)", id="add-path")
            with VerticalScroll(id="preview-pane"):
                yield Static("", id="error-panel", markup=False)
                yield Static("", id="preview", markup=False)
        yield FitFooter()

    def on_mount(self) -> None:
        self.title = "gdlab: open a scenario"
        self.sub_title = "type to search, enter opens"
        self.query_one("#scenario-list", ListView).can_focus = False  # keys stay in the search
        self.query_one("#add-path").display = False
        self.show_error(self.error)
        self.query_one("#search", Input).focus()
        self._count()
        if self.shown:
            self._preview(0)

    def show_error(self, message: str) -> None:
        """Show (or, with an empty message, hide) the error panel."""
        panel = self.query_one("#error-panel", Static)
        panel.update(f"cannot open this scenario:\n{message}" if message else "")
        panel.display = bool(message)

    def _preview(self, i: int) -> None:
        if not 0 <= i < len(self.shown):
            self.query_one("#preview", Static).update("no scenario matches the search")
            return
        e = self.shown[i]
        sc = e.scenario
        if sc is None:
            text = f"{e.path}\n\ninvalid scenario:\n{e.error}"
        else:
            variants = ", ".join(sc.variants) or "none"
            text = (f"{sc.title}\n\nfile: {e.path}\nrule: {sc.rule}\nvariants: {variants}\n\n"
                    f"{reflow(sc.description)}")
        self.query_one("#preview", Static).update(text)

    def _count(self) -> None:
        n, total = len(self.shown), len(self.entries)
        self.query_one("#search-count", Label).update(
            f"{n} of {total} scenarios" if n != total else f"{total} scenarios")

    # --- search -------------------------------------------------------------------------

    async def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            await self.search(event.value)

    async def search(self, query: str) -> None:
        """Show only the entries that match ``query`` (every word, anywhere in the text)."""
        shown = [e for e in self.entries if e.matches(query)]
        if shown == self.shown:
            return
        self.shown = shown
        lst = self.query_one("#scenario-list", ListView)
        await lst.clear()
        await lst.extend(ListItem(Label(label(e))) for e in shown)
        lst.index = 0 if shown else None
        self._count()
        self._preview(0)

    def action_move(self, step: int) -> None:
        """Move the highlight through the list."""
        lst = self.query_one("#scenario-list", ListView)
        if self.shown:
            lst.index = max(0, min(len(self.shown) - 1, (lst.index or 0) + step))

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        if event.list_view.index is not None:
            self._preview(event.list_view.index)

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the highlighted scenario (an invalid one shows its error instead)."""
        i = self.query_one("#scenario-list", ListView).index
        if i is None or not 0 <= i < len(self.shown):
            self.notify("no scenario matches the search", severity="warning")
            return
        e = self.shown[i]
        if e.scenario is None:
            self.show_error(e.error)
            self.notify(e.error, severity="error", timeout=10)
            return
        self.show_error("")
        self.app.open_scenario(e.path)

    # --- adding folders and files -------------------------------------------------------

    def action_add_path(self) -> None:
        """Ask for a path: a folder adds its scenarios, a file is added and opened."""
        field = self.query_one("#add-path", Input)
        field.display = True
        field.focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "search":
            self.action_open()
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
            await self.add_entries(found)
            self.notify(f"added {len(found)} scenario file{'s' if len(found) != 1 else ''} "
                        f"from {path}")
        elif path.is_file():
            self.dirs.append(path)
            await self.add_entries(load_entries([path]))
            entry = next(e for e in self.entries if e.path.resolve() == path.resolve())
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
        event.input.display = False
        self.query_one("#search", Input).focus()

    async def add_entries(self, new: list[Entry]) -> None:
        """Add entries (those not listed yet) and show the list again under the search."""
        known = {e.path.resolve() for e in self.entries}
        self.entries = order(self.entries + [e for e in new if e.path.resolve() not in known])
        self.shown = []  # the search below rebuilds the list
        await self.search(self.query_one("#search", Input).value)

    def action_back(self) -> None:
        """Clear the search; with no search, back to the run view if one is open."""
        for field in (self.query_one("#add-path", Input), self.query_one("#search", Input)):
            if field.has_focus and field.value:
                field.value = ""
                return
        add = self.query_one("#add-path", Input)
        if add.display:
            add.display = False
            self.query_one("#search", Input).focus()
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
