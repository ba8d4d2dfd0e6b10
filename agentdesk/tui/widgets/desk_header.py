"""The one-line header on every screen: app name, who is working, a READ-ONLY badge, the sync state, the time.

The sync state is words (``offline: 3 decisions waiting``, ``synced 2 s ago``,
``local only``), redrawn every second so its age is true. It is the last thing
given up when the line is short: first the clock shortens, then the app's name
and then the clock go, then the left part is cut; the sync words stay whole.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar, NamedTuple

from rich.style import Style
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
        & > .desk-header--alert {
            /* offline, stopped, rejected, no token: the words say it; bold makes it stand out */
            text-style: bold;
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
    COMPONENT_CLASSES: ClassVar[set[str]] = {"desk-header--app", "desk-header--muted", "desk-header--badge",
                                             "desk-header--alert"}

    def __init__(self, *, app_name: str, person: str | Callable[[], str], read_only: bool,
                 now: Callable[[], datetime], context: Text | str = "",
                 sync: Callable[[], SyncLine] | None = None, id: str | None = None) -> None:
        """``sync``: the sync state to show now (asked at each redraw)."""
        super().__init__(id=id)
        self.app_name = app_name
        self.person = person
        self.read_only = read_only
        self._now = now
        self._sync = sync
        self._detail_text = Text(context) if isinstance(context, str) else context

    def on_mount(self) -> None:
        # Every second while there is a sync state ("synced 2 s ago" must not stay at 2 s), else for the clock.
        self.set_interval(1 if self._sync is not None else 30, self.refresh)

    def set_context(self, context: Text | str) -> None:
        self._detail_text = Text(context) if isinstance(context, str) else context
        self.refresh()

    def render(self) -> Text:
        muted = self.get_component_rich_style("desk-header--muted")
        sync = self._sync() if self._sync is not None else SyncLine("")
        now = self._now()
        clock_long = now.strftime("%a %d %b %H:%M ") + (now.strftime("%Z") or "")
        width = self.size.width
        # From the fullest line to the barest: the first that fits is drawn.
        clock_day, clock_short = now.strftime("%a %H:%M"), now.strftime("%H:%M")
        for with_app, clock in ((True, clock_long), (True, clock_day), (True, clock_short), (False, clock_short),
                                (False, "")):
            left, right = self._left(muted, with_app), self._right(muted, sync, clock)
            if width - left.cell_len - right.cell_len >= 2:
                left.append(" " * (width - left.cell_len - right.cell_len))
                left.append_text(right)
                return left
        left.truncate(max(width - right.cell_len - 1, 1), overflow="ellipsis")
        left.append(" ")
        left.append_text(right)
        left.truncate(max(width, 0), overflow="ellipsis")
        return left

    def _left(self, muted: Style, with_app: bool) -> Text:
        left = Text(" ", end="", no_wrap=True)
        if with_app:
            left.append(self.app_name, self.get_component_rich_style("desk-header--app"))
            left.append(SEPARATOR, muted)
        left.append(self.person() if callable(self.person) else self.person)
        if self.read_only:
            left.append("  ")
            left.append(" READ-ONLY ", self.get_component_rich_style("desk-header--badge"))
        if self._detail_text.plain:
            left.append(SEPARATOR, muted)
            left.append_text(self._detail_text)
        return left

    def _right(self, muted: Style, sync: SyncLine, clock: str) -> Text:
        right = Text(end="", no_wrap=True)
        if sync.words:
            right.append(sync.words, self.get_component_rich_style("desk-header--alert") if sync.alert else muted)
            if clock:
                right.append(SEPARATOR, muted)
        right.append(clock)
        right.append(" ")
        return right


class SyncLine(NamedTuple):
    """The sync state as the header shows it: the words, and whether they need the user's eye."""

    words: str
    alert: bool = False


def person_label(name: str | None, role: str | None) -> str:
    """``Jonas Weber (agent)`` or ``no agent selected``."""
    if not name:
        return "no agent selected"
    return f"{name} ({role})" if role else name
