"""The footer: as many of the screen's keys as fit the width, most important first.

A screen lists its bindings most important first; the footer shows them in that order until
the line is full (keys of one group, such as the tabs 1-5, as one item) and always keeps the
command palette's key whole on the right. Every key, shown here or not, is in ``?`` help and in
the command palette.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

GAP = 3  # a footer item is " key " and "description ": the key, the description and 3 spaces


class FitFooter(Footer):
    """A Footer that drops the keys that do not fit, from the least important."""

    _width = 0

    def items(self) -> list[tuple[Binding, str, str, bool, str]]:
        """(binding, key shown, description, enabled, tooltip) of each footer item, in order.

        The screen's own bindings in the order it declares them (a key Textual binds for the
        whole app, such as ctrl+q, or a field binds, such as enter, does not hide the screen's
        description of it); keys a focused text field would type are left out.
        """
        screen = self.screen
        active = screen.active_bindings
        focused = self.app.focused
        entries: list[tuple[Binding, list[str], str, bool, str]] = []
        actions: set[str] = set()
        taken: set[str] = set()
        groups: dict[Binding.Group, list[str]] = {}
        for binding in _declared(type(screen)):
            if not binding.show or binding.action in actions or binding.key in taken:
                continue  # a subclass's binding of a key hides its base screen's
            if focused is not None and focused.check_consume_key(binding.key, _char(binding)):
                continue  # a text field takes this key: it types, the binding does not act
            if "." not in binding.action and screen.check_action(binding.action, ()) is False:
                continue
            actions.add(binding.action)
            taken.add(binding.key)
            now = active.get(binding.key)
            enabled = now.enabled if now is not None and now.binding.action == binding.action \
                else True
            key = self.app.get_key_display(binding)
            if binding.group is not None and binding.group in groups:
                groups[binding.group].append(key)
                continue
            keys = [key]
            if binding.group is not None:
                groups[binding.group] = keys
            entries.append((binding, keys, binding.group.description if binding.group
                            else binding.description, enabled, binding.tooltip))
        return [(b, _keys_text(keys), d, e, t) for b, keys, d, e, t in entries]

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self._width = width
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        room = width
        if palette is not None:
            _, binding, _, _ = palette
            room -= len(self.app.get_key_display(binding)) + len(binding.description) + GAP + 2
        for binding, key, description, enabled, tooltip in self.items():
            need = len(key) + len(description) + GAP
            if need > room:
                break
            room -= need
            yield FooterKey(binding.key, key, description, binding.action,
                            disabled=not enabled, tooltip=tooltip or binding.description
                            ).data_bind(compact=Footer.compact)
        if palette is not None:
            _, binding, enabled, tooltip = palette
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description,
                            binding.action, classes="-command-palette", disabled=not enabled,
                            tooltip=binding.tooltip or binding.description)

    def on_resize(self) -> None:
        if self.size.width != self._width and self._bindings_ready:
            self.call_after_refresh(self.recompose)


def _keys_text(keys: list[str]) -> str:
    """The keys of one item: ``1-5`` for a run of digits, else side by side (``+-``)."""
    if len(keys) > 2 and all(k.isdigit() for k in keys):
        return f"{keys[0]}-{keys[-1]}"
    return "".join(keys) if all(len(k) == 1 for k in keys) else "/".join(keys)


def _char(b: Binding) -> str | None:
    """The character a binding's key types, if any (``plus`` types ``+``)."""
    if len(b.key) == 1:
        return b.key
    if b.key == "space":
        return " "
    return b.key_display if b.key_display and len(b.key_display) == 1 else None


def _declared(cls: type) -> list[Binding]:
    """The bindings a screen class declares (tuples made Bindings), then those of the screens it
    extends (a sweep point's run view: its own escape, then the run view's keys)."""
    out: list[Binding] = []
    for klass in cls.__mro__:
        if klass.__module__.startswith("tui."):
            out += [b if isinstance(b, Binding) else Binding(*b)
                    for b in klass.__dict__.get("BINDINGS", [])]
    return out
