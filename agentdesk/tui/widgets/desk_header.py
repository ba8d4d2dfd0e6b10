"""The one-line header on every screen: app name, who is working, a READ-ONLY badge, the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

SEPARATOR = "  │  "


class DeskHeader(Widget):
    """Draws ``app · person (role) · [READ-ONLY] · context`` on the left and the viewer's time on the right."""

    DEFAULT_CSS = """
    DeskHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        & > .desk-header--app {
            color: $text-accent;
            text-style: bold;
        }
        & > .desk-header--muted {
            color: $text-muted;
        }
        & > .desk-header--badge {
            background: $warning-muted;
            color: $text-warning;
            text-style: bold;
        }
        &:ansi > .desk-header--badge {
            /* the terminal's own pair, reversed: readable in any palette */
            background: ansi_default;
            color: ansi_default;
            text-style: bold reverse;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"desk-header--app", "desk-header--muted", "desk-header--badge"}

    def __init__(self, *, app_name: str, person: str | Callable[[], str], read_only: bool,
                 now: Callable[[], datetime], context: Text | str = "",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.app_name = app_name
        self.person = person
        self.read_only = read_only
        self._now = now
        self._detail_text = Text(context) if isinstance(context, str) else context

    def on_mount(self) -> None:
        self.set_interval(30, self.refresh)

    def set_context(self, context: Text | str) -> None:
        self._detail_text = Text(context) if isinstance(context, str) else context
        self.refresh()

    def render(self) -> Text:
        muted = self.get_component_rich_style("desk-header--muted")
        left = Text(" ", end="", no_wrap=True)
        left.append(self.app_name, self.get_component_rich_style("desk-header--app"))
        left.append(SEPARATOR, muted)
        left.append(self.person() if callable(self.person) else self.person)
        if self.read_only:
            left.append("  ")
            left.append(" READ-ONLY ", self.get_component_rich_style("desk-header--badge"))
        if self._detail_text.plain:
            left.append(SEPARATOR, muted)
            left.append_text(self._detail_text)
        now = self._now()
        right = Text(now.strftime("%a %d %b %H:%M ") + (now.strftime("%Z") or ""), end="", no_wrap=True)
        right.append(" ")
        width = self.size.width
        gap = width - left.cell_len - right.cell_len
        if gap >= 2:
            left.append(" " * gap)
            left.append_text(right)
        else:
            left.truncate(max(width, 0), overflow="ellipsis")
        return left


def person_label(name: str | None, role: str | None) -> str:
    """``Jonas Weber (agent)`` or ``no agent selected``."""
    if not name:
        return "no agent selected"
    return f"{name} ({role})" if role else name
