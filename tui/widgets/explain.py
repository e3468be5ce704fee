"""The explain panel: the arithmetic of the current step, with its numbers substituted."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class ExplainPanel(VerticalScroll):
    """Lines of equations, one per line, as the tutorials write them."""

    def compose(self) -> ComposeResult:
        yield Static("", id="explain-text", markup=False)

    def show(self, lines: list[str]) -> None:
        """Replace the text."""
        self.query_one("#explain-text", Static).update("\n".join(lines))
