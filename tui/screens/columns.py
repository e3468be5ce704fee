"""A small dialog: which columns of the iteration table to show."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from ..widgets.toggles import StateCheckbox

FIT = "fit"  # dismissed with this: the columns that fit the width (the table's own choice)


class ColumnsScreen(ModalScreen[set[str] | str | None]):
    """Tick the columns to show; dismiss with their headers, FIT, or None (cancelled)."""

    HELP_TITLE = "columns dialog"
    HELP_ORDER = 75

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("a", "all", "All columns"),
        Binding("w", "fit", "Fit the width"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    DEFAULT_CSS = """
    ColumnsScreen { align: center middle; }
    ColumnsScreen > Vertical {
        width: 44; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
        border: round $accent; background: $surface;
    }
    ColumnsScreen VerticalScroll { height: auto; max-height: 16; }
    ColumnsScreen Horizontal { height: auto; }
    ColumnsScreen Label { width: 100%; }
    """

    def __init__(self, headers: list[str], shown: set[str]) -> None:
        super().__init__()
        self.headers = headers  # the first (the iteration) always shows
        self.shown = shown

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("columns of the table: space ticks one, ctrl+s applies; a: all "
                        "(scrolling sideways), w: those that fit the width")
            with VerticalScroll():
                for i, h in enumerate(self.headers[1:]):
                    yield StateCheckbox(h, h in self.shown, id=f"col-{i}", compact=True)
            with Horizontal():
                yield Button("Apply", id="cols-ok", variant="primary", compact=True)
                yield Button("All", id="cols-all", compact=True)
                yield Button("Fit", id="cols-fit", compact=True)
                yield Button("Cancel", id="cols-cancel", compact=True)

    def on_mount(self) -> None:
        self.query(StateCheckbox).first().focus()

    def chosen(self) -> set[str]:
        """The headers ticked now."""
        return {self.headers[0]} | {str(c.label) for c in self.query(StateCheckbox) if c.value}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"cols-ok": self.action_apply, "cols-all": self.action_all, "cols-fit": self.action_fit,
         "cols-cancel": self.action_cancel}[event.button.id or "cols-cancel"]()

    def action_apply(self) -> None:
        """Show the ticked columns."""
        self.dismiss(self.chosen())

    def action_all(self) -> None:
        """Show every column (those that do not fit scroll sideways)."""
        self.dismiss(set(self.headers))

    def action_fit(self) -> None:
        """Show the columns that fit the width (the least needed give way first)."""
        self.dismiss(FIT)

    def action_cancel(self) -> None:
        """Close without changing the columns."""
        self.dismiss(None)
