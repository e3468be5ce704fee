"""The help screen: every key of the run view, and what each panel shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

ABOUT = """\
Panels of the run view
  table     one row per evaluated state, the columns of `gdlab run`
            (1,000 at a time: [ and ] page through older rows, f follows)
  Explain   the arithmetic of the newest step, numbers substituted
  Graph     every named node: expression, value, d output / d node; parameters
            also show the central finite-difference estimate of their gradient;
            d draws it as a diagram (arrows from each node's inputs) instead
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

tab moves between fields; escape leaves a field so keys act on the run again.
ctrl+p opens the command palette. Esc, ? or q closes this help."""


class HelpScreen(ModalScreen[None]):
    """The keys and the panels, over the current screen."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, view: str = "run view", bindings: list[Binding] | None = None,
                 about: str = ABOUT) -> None:
        super().__init__()
        self.view, self.bindings, self.about = view, bindings, about

    def compose(self) -> ComposeResult:
        from .run import RunScreen

        bindings = self.bindings if self.bindings is not None else [
            b for b in RunScreen.BINDINGS
            if b.show or b.action in ("older", "newer", "follow", "diagram")]
        keys = [f"  {b.key_display or b.key:<8} {b.description}" for b in bindings]
        with VerticalScroll(id="help"):
            yield Static(f"gdlab keys ({self.view})\n" + "\n".join(keys) + "\n\n" + self.about,
                         markup=False)

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss()
