"""The help screen: every key of every screen, read from their BINDINGS, and what the panels of
the current screen show (its ``HELP_ABOUT``, else the run view's).

Help and the command palette (``GdlabApp.get_system_commands``) are both derived from the
screens' BINDINGS, so that a key cannot be added to a screen and forgotten in either.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Iterator

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

KEY_NAMES = {
    "question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]",
    "less_than_sign": "<", "greater_than_sign": ">", "plus": "+", "minus": "-",
    "escape": "esc", "enter": "enter", "space": "space",
}
HELP_WIDTH = 84  # #help's width in gdlab.tcss
EVERYWHERE = [("ctrl+p", "command palette: every key of the screen, by name"),
              ("tab", "next field (shift+tab: the previous one)"), ("ctrl+q", "quit")]

ABOUT = """\
Panels of the run view
  table     one row per evaluated state, the columns of `gdlab run`, in as many
            significant digits as the width allows; t chooses the columns, < >
            scroll sideways when they do not fit (◂ ▸ on the headers say so);
            1,000 rows at a time: [ and ] page through older rows, f follows
  Explain   the arithmetic of the newest step, numbers substituted
  Graph     every named node: expression, value, d output / d node; parameters
            also show the central finite-difference estimate of their gradient;
            d draws it as a diagram (arrows from each node's inputs) instead;
            b walks the backward pass: each local partial (∂z/∂x = y = 9) and
            what it adds to the total (dz/db += dz/dx · ∂x/∂b)
  Plots     |delta| or loss per iteration, the parameters, and the landscape
            (two trained parameters)
  Params    type a starting value (enter), tick a parameter to train it: resets
  Settings  target, tolerance, factor / optimizer, lr, its hyperparameters,
            schedule, batch size: the next step uses them, the parameters keep
            their values

Sweep screen (w)
  one or two keys and their values (0.1,0.5,1 or 0.01:1.1:0.01 or lin(0,1,11) or
  log(1e-3,1,4)), a metric and seeds; ctrl+r (or enter) runs the grid on one worker
  process per core and the map fills in as points finish (a cross: diverged; a
  star: the best); arrows pick a cell, enter opens that run, x stops, esc goes back

1-5 open the tabs (in Params and Settings the first field takes what you type);
tab moves between fields; esc leaves a field so that keys act on the run again."""


def key_text(b: Binding) -> str:
    """The keys of a binding as a person types them: ``?``, ``esc / c``, ``ctrl+s``."""
    if b.key_display:
        return b.key_display
    return " / ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in b.key.split(","))


def bindings(cls: type[Screen]) -> list[Binding]:
    """The bindings a screen class declares itself (not those Textual adds to every screen)."""
    out = []
    for b in cls.__dict__.get("BINDINGS", []):
        out.append(b if isinstance(b, Binding) else Binding(*b))
    return out


def screen_classes() -> list[type[Screen]]:
    """Every screen of the app: each Screen class defined in a module of ``tui.screens``."""
    from .. import screens

    found: list[type[Screen]] = []
    for info in pkgutil.iter_modules(screens.__path__):
        module = importlib.import_module(f"{screens.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found.append(cls)
    return sorted(found, key=lambda c: (getattr(c, "HELP_ORDER", 50), c.__name__))


def title(cls: type[Screen]) -> str:
    """What help calls a screen: its HELP_TITLE, else the first line of its docstring."""
    return getattr(cls, "HELP_TITLE", "") or (cls.__doc__ or cls.__name__).splitlines()[0]


def keys_text(current: type[Screen] | None = None, app_cls: type | None = None) -> str:
    """Every screen's keys, the current screen's first, then the keys that work everywhere."""
    classes = screen_classes()
    if current in classes:
        classes.remove(current)
        classes.insert(0, current)
    parts = []
    for cls in classes:
        rows, last = [], ""
        for b in bindings(cls):
            doc = action_doc(cls, b.action, app_cls)
            said, last = doc == last, doc  # the tabs 1-5 share one explanation
            rows.append(f"  {key_text(b):<9} {b.description}" +
                        (f": {doc[0].lower()}{doc[1:].rstrip('.')}" if doc and not said else ""))
        if rows:
            parts.append(f"{title(cls)}\n" + "\n".join(rows))
    parts.append("everywhere\n" + "\n".join(f"  {k:<9} {d}" for k, d in EVERYWHERE))
    return "\n\n".join(parts)


class HelpScreen(ModalScreen[None]):
    """The keys and the panels, over the current screen."""

    HELP_TITLE = "help"
    HELP_ORDER = 90
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close the help", key_display="esc/?/q")]

    def __init__(self, current: type[Screen] | None = None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        about = getattr(self.current, "HELP_ABOUT", "") or ABOUT  # the panels of this screen
        # a key's explanation that wraps continues under the explanation, not under the key
        room = min(HELP_WIDTH, self.app.size.width) - 6  # the border, padding and scrollbar
        keys = "\n".join(textwrap.fill(line, room, subsequent_indent=" " * 12,
                                        break_on_hyphens=False) if len(line) > room else line
                         for line in keys_text(self.current, type(self.app)).splitlines())
        with VerticalScroll(id="help"):
            yield Static(f"gdlab keys\n\n{keys}\n\n{about}\n\n"
                         "Esc, ? or q closes this help; arrows and page keys scroll it.",
                         markup=False)

    def on_mount(self) -> None:
        self.query_one("#help").focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss()


def action_doc(cls: type, action: str, app_cls: type | None = None) -> str:
    """The first line of the docstring of the method behind ``action`` ("" if none); an
    ``app.`` action is looked up on ``app_cls``."""
    name = action.split("(")[0]
    if name.startswith("app."):
        if app_cls is None:
            return ""
        cls, name = app_cls, name[4:]
    method = getattr(cls, f"action_{name}", None)
    if method is None or not method.__module__.startswith("tui."):
        return ""  # Textual's own actions (quit) are documented for programmers
    doc = inspect.getdoc(method)
    return doc.splitlines()[0] if doc else ""


def commands_of(screen: Screen) -> Iterator[tuple[str, str, str]]:
    """(title, help, action) for each binding of ``screen``: the command palette's entries."""
    for b in bindings(type(screen)):
        doc = action_doc(type(screen), b.action, type(screen.app))
        yield b.description, f"key {key_text(b)}" + (f": {doc}" if doc else ""), b.action
