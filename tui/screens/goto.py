"""A small dialog: the iteration to show in the table."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class GotoScreen(ModalScreen[int | None]):
    """Ask for an iteration between 0 and ``last``; dismiss with it (None: cancelled)."""

    HELP_TITLE = "go-to dialog"
    HELP_ORDER = 70

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    GotoScreen { align: center middle; }
    GotoScreen > Vertical {
        width: 44; height: auto; padding: 1 2; border: round $accent; background: $surface;
    }
    GotoScreen Label { width: 100%; }
    """

    def __init__(self, last: int) -> None:
        super().__init__()
        self.last = last

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"go to iteration (0 to {self.last:,}):")
            yield Input(placeholder=str(self.last), type="integer", id="goto-input")
            yield Label("", id="goto-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip().replace(",", "").replace("_", "")
        try:
            i = int(text)
        except ValueError:
            i = -1
        if not 0 <= i <= self.last:
            self.query_one("#goto-error", Label).update(
                f"[red]expected a whole number from 0 to {self.last:,}[/]")
            return
        self.dismiss(i)

    def action_cancel(self) -> None:
        """Close without moving the table."""
        self.dismiss(None)
