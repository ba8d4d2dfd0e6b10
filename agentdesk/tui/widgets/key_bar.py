"""The bottom line: the keys in force on this screen, drawn as one line of text.

Textual's ``Footer`` builds a widget per key and rebuilds them on every focus
change; this draws the same information (from the screen's active bindings, so
keymap overrides show) as a single strip, which keeps opening a screen cheap.
Clicking a key runs its action.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from agentdesk.tui.themes import text_style

GAP = "   "
DISABLED = " (not now)"
"""After a key that is shown but not in force at the moment: said in words, not only by its colour."""


class KeyBar(Widget):
    """``⏎ Open customer   / Search   …   ^p Commands``."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $panel;
        color: $foreground;
        & > .key-bar--key {
            color: $text-accent;
            text-style: bold;
        }
        & > .key-bar--disabled {
            color: $text-disabled;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--disabled"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._targets: list[tuple[int, int, str, DOMNode]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        off_style = text_style(self, "key-bar--disabled")
        text = Text(" ", end="", no_wrap=True, overflow="crop")
        targets: list[tuple[int, int, str, DOMNode]] = []
        seen: set[str] = set()
        palette = None
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if binding.action in ("command_palette", "app.command_palette"):
                palette = (key, active)
                continue
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            start = text.cell_len
            text.append(self.app.get_key_display(binding), key_style if active.enabled else off_style)
            text.append(" ")
            text.append(binding.description + ("" if active.enabled else DISABLED),
                        None if active.enabled else off_style)
            targets.append((start, text.cell_len, binding.action, active.node))
            text.append(GAP)
        if text.cell_len - len(GAP) > self.size.width and self.size.width:
            return self._compact()
        if palette is not None:
            _key, active = palette
            right = Text(end="")
            right.append(self.app.get_key_display(active.binding), key_style)
            right.append(" " + (active.binding.description or "Commands") + " ")
            gap = self.size.width - text.cell_len - right.cell_len
            if gap > 0:
                text.append(" " * gap)
                start = text.cell_len
                text.append_text(right)
                targets.append((start, text.cell_len, active.binding.action, active.node))
        self._targets = targets
        return text

    def _compact(self) -> Text:
        """Too narrow for descriptions spaced out: keys with one space between, the palette hint left out."""
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        off_style = text_style(self, "key-bar--disabled")
        text = Text("", end="", no_wrap=True, overflow="crop")
        targets = []
        seen: set[str] = set()
        for _key, active in self.screen.active_bindings.items():
            binding = active.binding
            if (not binding.show or not binding.description or binding.action in seen
                    or binding.action in ("command_palette", "app.command_palette")):
                continue
            seen.add(binding.action)
            start = text.cell_len
            text.append(self.app.get_key_display(binding), key_style if active.enabled else off_style)
            text.append(" " + binding.description + ("" if active.enabled else DISABLED),
                        None if active.enabled else off_style)
            targets.append((start, text.cell_len, binding.action, active.node))
            text.append(" ")
        self._targets = targets
        return text

    async def _on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._targets:
            if start <= event.x < end:
                await self.app.run_action(action, node)
                return
