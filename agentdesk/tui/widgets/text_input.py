"""Textual's ``Input`` with a steady cursor unless animations are on (WCAG 2.3.3: no needless motion)."""

from __future__ import annotations

from textual.widgets import Input


class TextInput(Input):
    """Every text field of the workstation: Textual's editing keys, and a cursor that blinks only with animations."""

    def on_mount(self) -> None:
        self.cursor_blink = self.app.animation_level != "none"
