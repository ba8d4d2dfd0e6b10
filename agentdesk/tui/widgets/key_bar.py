"""The bottom line: the keys in force on this screen, drawn as one line of text.

Textual's ``Footer`` builds a widget per key and rebuilds them on every focus
change; this draws the same information (from the screen's active bindings, so
keymap overrides show) as a single strip, which keeps opening a screen cheap.
Clicking a key runs its action.

When the keys do not fit (80 columns), they are drawn closer together with their
words in short (``Reply (e-mail or SMS)`` as ``Reply``), and if that is still too
wide, keys are left out: first all keys not in force at the moment, then those
with the most words, so that as many keys as possible stay. The way out (``escape``),
help and quit are never left out, and help lists every key of the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from agentdesk.tui.themes import text_style

GAP = "   "
COMPACT_GAP = " "
DISABLED = " (not now)"
"""After a key that is shown but not in force at the moment: said in words, not only by its colour."""
ALWAYS_SHOWN = frozenset({"app.help", "app.quit"})
"""Binding ids kept on the bar however narrow it is (besides every ``escape`` key)."""
PALETTE_ACTIONS = ("command_palette", "app.command_palette")


@dataclass(frozen=True, slots=True)
class _Key:
    shown: str
    description: str
    enabled: bool
    action: str
    node: DOMNode
    kept: bool
    """Never left out for want of room."""

    @property
    def width(self) -> int:
        return cell_len(self.shown) + 1 + cell_len(self.description)

    def short(self) -> _Key:
        """The words without what they say in brackets: ``Reply (e-mail or SMS)`` as ``Reply``."""
        words = self.description.removesuffix(DISABLED)
        short = words.split(" (", 1)[0] + ("" if self.enabled else DISABLED)
        return replace(self, description=short)


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

    def _keys(self) -> tuple[list[_Key], _Key | None]:
        """The keys to show in order, and the command palette's (drawn apart, on the right)."""
        keys: list[_Key] = []
        palette = None
        seen: set[str] = set()
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if binding.action in PALETTE_ACTIONS:
                palette = _Key(self.app.get_key_display(binding), binding.description or "Commands", True,
                               binding.action, active.node, False)
                continue
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            keys.append(_Key(self.app.get_key_display(binding),
                             binding.description + ("" if active.enabled else DISABLED), active.enabled,
                             binding.action, active.node, key == "escape" or binding.id in ALWAYS_SHOWN))
        return keys, palette

    def render(self) -> Text:
        keys, palette = self._keys()
        width = self.size.width
        spread = sum(key.width for key in keys) + len(GAP) * (len(keys) - 1)
        if not width or spread + 1 <= width:
            return self._draw(keys, GAP, " ", palette)
        return self._draw(self._fitting(keys, width), COMPACT_GAP, "", None)

    @staticmethod
    def _fitting(keys: list[_Key], width: int) -> list[_Key]:
        """``keys`` in short, without the ones there is no room for: first every key not in force now, then the
        longest."""
        def needed(chosen: list[_Key]) -> int:
            return sum(key.width for key in chosen) + len(COMPACT_GAP) * (len(chosen) - 1)

        chosen = [key.short() for key in keys]
        if needed(chosen) > width:
            chosen = [key for key in chosen if key.enabled or key.kept]
        droppable = sorted((key for key in chosen if not key.kept), key=lambda key: -key.width)
        for key in droppable:
            if needed(chosen) <= width:
                break
            chosen.remove(key)
        return chosen

    def _draw(self, keys: list[_Key], gap: str, lead: str, palette: _Key | None) -> Text:
        key_style: Style = self.get_component_rich_style("key-bar--key", partial=True)
        off_style = text_style(self, "key-bar--disabled")
        text = Text(lead, end="", no_wrap=True, overflow="crop")
        targets: list[tuple[int, int, str, DOMNode]] = []
        for index, key in enumerate(keys):
            if index:
                text.append(gap)
            start = text.cell_len
            text.append(key.shown, key_style if key.enabled else off_style)
            text.append(" " + key.description, None if key.enabled else off_style)
            targets.append((start, text.cell_len, key.action, key.node))
        if palette is not None:
            right = Text(end="")
            right.append(palette.shown, key_style)
            right.append(f" {palette.description} ")
            room = self.size.width - text.cell_len - right.cell_len
            if room >= len(GAP):
                text.append(" " * room)
                start = text.cell_len
                text.append_text(right)
                targets.append((start, text.cell_len, palette.action, palette.node))
        self._targets = targets
        return text

    async def _on_click(self, event: events.Click) -> None:
        for start, end, action, node in self._targets:
            if start <= event.x < end:
                await self.app.run_action(action, node)
                return
