"""The network screen's edit dialog: data, hidden layers, activation, learning rate, batch size,
optimizer, regularisation and λ. Applying makes one recorded edit of every changed key (a fresh
run); a value the scenario rejects is shown here and changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from engine.data.network_data import SOURCES
from engine.models.activations import ACTIVATIONS
from engine.optim import OPTIMIZERS

if TYPE_CHECKING:
    from .network import NetworkScreen

PLANE_SOURCES = ("circle", "xor", "gauss", "spiral", "moons")  # 2-D sets one can swap
REGULARISERS = ("none", "l2", "l1")


def parse_hidden(text: str) -> list[int]:
    """"4, 2" -> [4, 2] (blank: no hidden layer); ValueError names what is wrong."""
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"hidden layers: expected whole numbers like 4, 2 (got {text!r})") from None
    if any(n < 1 for n in sizes):
        raise ValueError("hidden layers: each layer needs at least one neuron")
    return sizes


def parse_features(text: str) -> list[str] | None:
    """"x1, x2, x1*x2" -> the expressions (blank: the raw inputs, None)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return parts or None


def _number(text: str, what: str, integer: bool = False) -> float | int:
    try:
        return int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{what}: expected {kind} (got {text!r})") from None


class NetworkEditScreen(ModalScreen[None]):
    """Edit the network screen's scenario; Apply starts a fresh run."""

    HELP_TITLE = "network edit dialog"
    HELP_ORDER = 58

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, screen: NetworkScreen) -> None:
        super().__init__()
        self.owner = screen
        sc = screen.scenario
        self.model = sc.model_config(None)
        self.cfg = sc.config(None)
        self.data = sc.table("data")
        self.shape = sc.dataset(None, load=False)

    def compose(self) -> ComposeResult:
        d, m, c = self.data, self.model, self.cfg
        source = str(d.get("source", ""))
        with VerticalScroll(id="net-edit"):
            yield Label("Edit the network (a fresh run; recorded in the session)")
            if source in PLANE_SOURCES:
                yield Label("data set")
                yield Select([(s, s) for s in PLANE_SOURCES], value=source, allow_blank=False,
                             id="edit-source")
                yield Label("noise (0..0.5, Playground's slider / 100)")
                yield Input(str(d.get("noise", 0.0)), id="edit-noise")
                yield Label("train fraction (0..1)")
                yield Input(str(self.shape_fraction()), id="edit-fraction")
            if SOURCES[source].features if source in SOURCES else False:
                yield Label("features (expressions over the raw inputs; blank: the inputs)")
                yield Input(", ".join(d.get("features") or []), id="edit-features")
            yield Label("hidden layers (neurons per layer, e.g. 4, 2)")
            yield Input(", ".join(str(n) for n in m.layers[1:-1]), id="edit-hidden")
            yield Label("activation of the hidden layers")
            yield Select([(a, a) for a in ACTIVATIONS],
                         value=m.activations[0] if m.activations else "tanh",
                         allow_blank=False, id="edit-activation")
            yield Label("learning rate")
            yield Input(f"{c.lr:g}", id="edit-lr")
            yield Label("batch size")
            yield Input(str(c.batch_size), id="edit-batch")
            yield Label("optimizer")
            yield Select([(o, o) for o in OPTIMIZERS], value=c.optimizer, allow_blank=False,
                         id="edit-optimizer")
            reg = "l2" if m.l2 else "l1" if m.l1 else "none"
            yield Label("regularisation and λ")
            with Horizontal(classes="edit-row"):
                yield Select([(r, r) for r in REGULARISERS], value=reg, allow_blank=False,
                             id="edit-reg")
                yield Input(f"{m.l2 or m.l1 or 0:g}", id="edit-lambda")
            with Horizontal(classes="edit-row"):
                yield Button("Apply", id="edit-ok", variant="primary")
                yield Button("Cancel", id="edit-cancel")
            yield Static("", id="edit-msg", markup=False)

    def shape_fraction(self) -> float:
        return float(self.data.get("train_fraction", 0.5))

    def _value(self, wid: str) -> str | None:
        found = self.query(f"#{wid}")
        if not found:
            return None
        w = found.first()
        return str(w.value).strip() if isinstance(w, Input | Select) else None

    def changes(self) -> dict[str, Any]:
        """The changed keys as "table.key" -> value (ValueError for a malformed field)."""
        d, m, c = self.data, self.model, self.cfg
        out: dict[str, Any] = {}
        source = self._value("edit-source")
        if source is not None and source != d.get("source"):
            out["data.source"] = source
        noise = self._value("edit-noise")
        if noise is not None and float(_number(noise, "noise")) != float(d.get("noise", 0.0)):
            out["data.noise"] = float(_number(noise, "noise"))
        frac = self._value("edit-fraction")
        if frac is not None and float(_number(frac, "train fraction")) != self.shape_fraction():
            out["data.train_fraction"] = float(_number(frac, "train fraction"))
        n_in = m.layers[0]
        feats = self._value("edit-features")
        if feats is not None:
            new = parse_features(feats)
            if new != (d.get("features") or None):
                out["data.features"] = new
                n_in = len(new) if new else len(self.shape.raw_names or ()) or n_in
        hidden = parse_hidden(self._value("edit-hidden") or "")
        layers = [n_in, *hidden, m.layers[-1]]
        if layers != list(m.layers):
            out["model.layers"] = layers
        act = self._value("edit-activation")
        if act is not None and (act != (m.activations[0] if m.activations else act)
                                or len(set(m.activations)) > 1 and "model.layers" in out):
            out["model.activation"] = act
        elif "model.layers" in out and len(set(m.activations)) > 1:
            out["model.activation"] = m.activations[0]
        lr = float(_number(self._value("edit-lr") or "", "learning rate"))
        if lr != c.lr:
            out["run.lr"] = lr
        batch = int(_number(self._value("edit-batch") or "", "batch size", integer=True))
        if batch != c.batch_size:
            out["run.batch_size"] = batch
        opt = self._value("edit-optimizer")
        if opt is not None and opt != c.optimizer:
            out["run.optimizer"] = opt
        reg = self._value("edit-reg") or "none"
        lam = float(_number(self._value("edit-lambda") or "0", "λ"))
        want = {"l2": lam if reg == "l2" else 0.0, "l1": lam if reg == "l1" else 0.0}
        for key in ("l2", "l1"):
            if want[key] != getattr(m, key):
                out[f"model.{key}"] = want[key]
        return out

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "edit-ok":
            self.apply()
        else:
            self.dismiss()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply()

    def apply(self) -> None:
        """Make the edit (nothing when nothing changed); errors stay in the dialog."""
        msg = self.query_one("#edit-msg", Static)
        try:
            changes = self.changes()
        except ValueError as exc:
            msg.update(str(exc))
            return
        if not changes:
            self.dismiss()
            return
        from engine.errors import GdlabError

        try:
            with self.owner.session.lock:
                self.owner.session._effective(
                    _merged(self.owner.session.edits, changes))  # check before leaving
        except GdlabError as exc:
            msg.update(str(exc))
            return
        self.dismiss()
        self.owner.apply_edits(changes)

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss()


def _merged(edits: dict[str, dict[str, Any]], changes: dict[str, Any]) -> dict[str, dict]:
    out = {t: dict(ks) for t, ks in edits.items()}
    for name, value in changes.items():
        table, _, key = name.partition(".")
        out.setdefault(table, {})[key] = value
    return out
