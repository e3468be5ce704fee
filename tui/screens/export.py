"""The export dialog: a trace or the compared variants as CSV or JSONL, a screenshot, a session."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioSet, Static

from engine.errors import GdlabError

from .. import output_file, report, served
from ..session import Session
from ..widgets.toggles import StateCheckbox, StateRadioButton

KINDS = {  # radio label -> (file suffix, what)
    "trace as CSV": ("_trace.csv", "csv"),
    "trace as JSONL": ("_trace.jsonl", "jsonl"),
    "screenshot (SVG)": (".svg", "svg"),
    "session script (JSON)": ("_session.json", "script"),
}
COMPARE_KINDS = {  # the compare view: what `gdlab compare --format csv|jsonl` writes
    "all variants as CSV": ("_compare.csv", "csv"),
    "all variants as JSONL": ("_compare.jsonl", "jsonl"),
    "screenshot (SVG)": ("_compare.svg", "svg"),
}


NETWORK_KINDS = {  # the network screen: its epochs as `gdlab run --format csv|jsonl` writes
    "epochs as CSV": ("_epochs.csv", "csv"),
    "epochs as JSONL": ("_epochs.jsonl", "jsonl"),
    "screenshot (SVG)": (".svg", "svg"),
    "session script (JSON)": ("_session.json", "script"),
}


def kind_of(path: str, kinds: dict[str, tuple[str, str]]) -> str | None:
    """The format a file name asks for by its suffix (None: a suffix no format has)."""
    suffix = Path(path.strip()).suffix.lower()
    for file_suffix, kind in kinds.values():
        if suffix and file_suffix.endswith(suffix):
            return kind
    return None


class ExportScreen(ModalScreen[None]):
    """Choose what to export and where: files written atomically, or served, downloads in the
    browser (tui/served.py decides). ``texts`` (what -> the text to write, e.g. "csv" -> epochs
    as CSV) replaces the graph session's with another kind's, whose choices are ``kinds``."""

    HELP_TITLE = "export dialog"
    HELP_ORDER = 60

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: Session | None = None,
                 outcomes: list[report.Outcome] | None = None, stem: str = "gdlab", *,
                 texts: dict[str, Callable[[], str]] | None = None,
                 kinds: dict[str, tuple[str, str]] | None = None) -> None:
        super().__init__()
        self.session = session
        self.outcomes = outcomes  # given: the compare view's variants, not the session's trace
        self.texts = texts
        self.kinds = kinds or (COMPARE_KINDS if outcomes is not None else KINDS)
        self.kind = next(iter(self.kinds.values()))[1]
        self.stem = session.scenario.name if session and session.scenario else stem

    def _default(self, suffix: str) -> str:
        return served.default_target(self.app, f"{self.stem}{suffix}")

    def _outcomes(self) -> list[report.Outcome]:
        if self.outcomes is not None:
            return self.outcomes
        assert self.session is not None
        return [self.session.outcome()]

    def compose(self) -> ComposeResult:
        with Vertical(id="export"):
            yield Label("Export")
            with RadioSet(id="export-kind"):
                for i, label in enumerate(self.kinds):
                    yield StateRadioButton(label, value=i == 0)
            yield Input(self._default(next(iter(self.kinds.values()))[0]), id="export-path")
            yield StateCheckbox("overwrite an existing file", False, id="export-force")
            with Horizontal(id="export-buttons"):
                yield Button("Export", id="export-ok", variant="primary")
                yield Button("Cancel", id="export-cancel")
            yield Static("", id="export-msg", markup=False)

    def on_mount(self) -> None:
        # served: a download never overwrites anything, so there is nothing to tick
        self.query_one("#export-force", Checkbox).display = not served.is_served(self.app)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        suffix, kind = self.kinds[str(event.pressed.label)]
        if kind == self.kind:
            return  # chosen by typing a name with this format's suffix: keep the name
        self.kind = kind
        self.query_one("#export-path", Input).value = self._default(suffix)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A name typed with a format's suffix (.csv, .jsonl, .svg, .json) chooses that format."""
        kind = kind_of(event.value, self.kinds)
        if kind is None or kind == self.kind:
            return
        self.kind = kind
        labels = [label for label, (_, k) in self.kinds.items() if k == kind]
        for button in self.query(StateRadioButton):
            if str(button.label) == labels[0] and not button.value:
                button.value = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.export()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export-ok":
            self.export()
        else:
            self.dismiss()

    def action_cancel(self) -> None:
        """Close without writing."""
        self.dismiss()

    def export(self) -> None:
        """Write (or deliver) the chosen export; report errors in the dialog."""
        target = self.query_one("#export-path", Input).value.strip()
        force = self.query_one("#export-force", Checkbox).value
        try:
            if self.kind == "svg":
                path = Path(target).expanduser()
                if not served.is_served(self.app) and path.exists() and not force:
                    raise GdlabError(f"{path}: already exists (tick overwrite)")
                self.dismiss()  # the screenshot is of the view, without this dialog
                self.app.call_after_refresh(self._screenshot, target, force)
                return
            if self.texts is not None:
                text = self.texts[self.kind]()
            elif self.kind in ("csv", "jsonl") and not served.is_served(self.app):
                path = Path(target).expanduser()
                output_file.check_destination(path, force)
                self._write_in_thread(path, force, self._outcomes())  # rows from the trace
                self.dismiss()
                return
            elif self.kind in ("csv", "jsonl"):  # a download: the text whole
                from ..graph_stream import export_csv, export_jsonl

                buf = io.StringIO()
                (export_csv if self.kind == "csv" else export_jsonl)(self._outcomes(), buf)
                text = buf.getvalue()
            else:
                assert self.session is not None
                text = self.session.script()
            message = served.export_text(self.app, target, text, force=force)
        except (GdlabError, OSError) as exc:
            self.query_one("#export-msg", Static).update(str(exc))
            return
        self.app.notify(message)
        self.dismiss()

    def _write_in_thread(self, path: Path, force: bool, outcomes: list[report.Outcome]) -> None:
        """Write the trace from a thread (a million states take seconds; the app goes on),
        row by row from the trace; say when it is written or why not."""
        from ..graph_stream import export_csv, export_jsonl

        app, write = self.app, export_csv if self.kind == "csv" else export_jsonl

        def work() -> None:
            try:
                with output_file.atomic_output(path, force=force) as fh:
                    write(outcomes, fh)
            except (GdlabError, OSError) as exc:
                text = str(exc) if isinstance(exc, GdlabError) else f"{path}: {exc}"
                app.call_from_thread(app.notify, text, severity="error")
                return
            app.call_from_thread(app.notify, f"wrote {path}")

        app.run_worker(work, thread=True, group="export", exit_on_error=False)

    def _screenshot(self, target: str, force: bool) -> None:
        try:
            message = served.export_screenshot(self.app, target, force=force)
        except (GdlabError, OSError) as exc:
            self.app.notify(str(exc), severity="error")
            return
        self.app.notify(message)
