"""Check boxes and radio buttons that show their state by a character, not by colour alone.

Textual draws ``▐X▌`` (or ``▐●▌``) whether the box is on or off and tells the two apart by
colour; here the box is empty when off: ``▐X▌`` on, ``▐ ▌`` off.
"""

from __future__ import annotations

from textual.widgets import Checkbox, RadioButton


class StateCheckbox(Checkbox):
    """A check box: ``▐X▌`` when ticked, ``▐ ▌`` when not."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 - the name Textual's ToggleButton reads
        return "X" if self.value else " "


class StateRadioButton(RadioButton):
    """A radio button: ``▐●▌`` when chosen, ``▐ ▌`` when not."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802
        return "●" if self.value else " "
