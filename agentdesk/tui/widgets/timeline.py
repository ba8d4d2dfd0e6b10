"""A customer's whole history on one line list: every channel and internal event, newest at the bottom.

Decisions have a row of their own (``◆ decision``): their state comes first, in
words and in brackets (``[pending]``, ``[queued]``, ``[waiting for approval]``,
``[confirmed]``, ``[refused: <the backend's reason>]``…), so it is never cut off
and never told by colour alone. A reply's delivery comes first the same way: ``[queued]``,
``[sent]``, ``[failed: <why>]``.

A row that comes more than a day after the one above it starts its text with the pause in words
(``— 3 years later —``), so a letter of 2010 never reads as part of the day below it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import BindingType

from agentdesk.domain import reply
from agentdesk.domain.model import Direction, EntryKind, TimelineEntry
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import later
from agentdesk.tui.widgets.columns import clip, fit
from agentdesk.tui.widgets.line_list import LineList, list_bindings

if TYPE_CHECKING:
    from agentdesk.tui.app import Desk

GAP = "  "
DIRECTION_LABEL = {
    Direction.IN: "◂ in",
    Direction.OUT: "▸ out",
    Direction.INTERNAL: "◆ internal",
}
DIRECTION_WORDS = {
    Direction.IN: "inbound, from the customer",
    Direction.OUT: "outbound, to the customer",
    Direction.INTERNAL: "internal",
}
INTERNAL_INDENT = "  "
DECISION_LABEL = "◆ decision"
GAP_MARKED = timedelta(days=1)
"""A pause longer than this between two rows is said on the later row."""


def gap_marker(entry: TimelineEntry, before: TimelineEntry | None) -> str:
    """``— 3 years later — `` when ``entry`` comes more than a day after ``before``; else nothing."""
    if before is None or entry.at - before.at <= GAP_MARKED:
        return ""
    return f"— {later(entry.at - before.at)} — "


def direction_label(entry: TimelineEntry) -> str:
    if entry.kind is EntryKind.DECISION:
        return DECISION_LABEL
    return DIRECTION_LABEL[Direction.INTERNAL] if entry.is_internal else DIRECTION_LABEL[entry.direction]


STATE_SHARE = 0.6
"""At most this share of a decision row's text goes to its state, so a long refusal leaves room for what was refused."""
SHORT_STATES = len("[waiting for approval]")
"""The fixed states are never cut, however narrow the share (only the row's width cuts them)."""


def state_tag(entry: TimelineEntry, limit: int = 300) -> str:
    """``[pending]``, ``[waiting for approval]``, ``[refused: case k-55 is closed]``…: a decision's state in words;
    ``[queued]``, ``[sent]``, ``[failed: …]``: a reply's delivery.

    Empty when unknown. Cut to ``limit`` cells with ``…`` inside the brackets, so it still reads as a tag.
    """
    state = entry.decision_state or reply.delivery(entry)
    if not state:
        return ""
    return f"[{clip(one_line(state, limit), max(limit - 2, 1))}]"


class TimelineView(LineList[TimelineEntry]):
    """One row per entry: time (viewer's zone), direction, channel, author, the body on one line."""

    HELP_TITLE: ClassVar[str] = "Timeline"
    BINDINGS: ClassVar[list[BindingType]] = list_bindings(
        "customer", open_description="Read entry", noun="entry",
        open_keys="enter,tab", open_id="read_entry")
    DEFAULT_CSS = """
    TimelineView {
        & > .timeline--internal {
            color: $text-secondary;
            text-style: italic;
        }
        & > .timeline--inbound {
            color: $text-primary;
        }
        & > .timeline--kind {
            text-style: bold italic;
        }
        & > .timeline--decision {
            color: $text;
        }
        & > .timeline--state {
            color: $text-warning;
            text-style: bold;
        }
        & > .timeline--gap {
            color: $text-muted;
            text-style: italic;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"timeline--internal", "timeline--inbound", "timeline--kind",
                                             "timeline--decision", "timeline--state", "timeline--gap"}
    rows_before = 1  # the gap marker compares a row with the one above it
    loading_message = "Loading the timeline…"
    empty_message = "No history yet for this customer."

    def __init__(self, desk: Desk, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.desk = desk

    # --- title ------------------------------------------------------------------------

    def scrolled(self) -> None:
        if not self.is_ready:
            self.border_title = "Timeline"
            return
        count = self.row_count
        if count == 0:
            self.border_title = "Timeline · no entries"
            return
        first, last = self.visible_range
        noun = "entry" if count == 1 else "entries"
        self.border_title = f"Timeline · {count:,} {noun} · {first + 1:,}–{last + 1:,}"

    # --- rows -------------------------------------------------------------------------

    @staticmethod
    def _widths(width: int) -> tuple[int, int, int, int, int]:
        """time, direction, channel, author, body."""
        if width >= 88:
            time_w, author = 16, max(16, min(24, width // 6))
        else:
            time_w, author = 11, 12
        direction, channel = 10, 6
        body = max(width - (time_w + direction + channel + author + 4 * len(GAP)), 4)
        return time_w, direction, channel, author, body

    def _when(self, entry: TimelineEntry, width: int) -> str:
        """``2026-11-22 09:14``; where only 11 columns fit, ``11-22 09:14`` this year and ``2025-03-12`` before,
        so a row of another year never passes for one of this year."""
        local = self.desk.to_viewer(entry.at)
        if width >= 16:
            return local.strftime("%Y-%m-%d %H:%M")
        return local.strftime("%m-%d %H:%M" if local.year == self.desk.viewer_now().year else "%Y-%m-%d")

    def row_style(self, item: TimelineEntry, row: int) -> Style | None:
        if item.kind is EntryKind.DECISION:
            return self.component_text_style("timeline--decision")
        if item.is_internal:
            return self.component_text_style("timeline--internal")
        return None

    def render_row(self, item: TimelineEntry, row: int, width: int) -> Text:
        time_w, direction_w, channel_w, author_w, body_w = self._widths(width)
        muted = self.style("muted")
        text = Text(end="", no_wrap=True)
        text.append(fit(self._when(item, time_w), time_w), muted)
        text.append(GAP)
        if item.is_internal:  # decisions and events: no channel, the author, then what happened
            text.append(fit(direction_label(item), direction_w))
            text.append(GAP)
            text.append(" " * channel_w)
            text.append(GAP)
            text.append(fit(one_line(self.desk.person(item.author), author_w * 2), author_w))
            text.append(GAP)
        if item.kind is EntryKind.DECISION:
            return self._tagged_body(text, item, row, body_w)
        if item.is_internal:
            body_w = self._gap(text, item, row, body_w)
            kind = clip(one_line(item.event_kind or "event", body_w), max(body_w - len(INTERNAL_INDENT), 1))
            text.append(INTERNAL_INDENT)
            text.append(kind, self.component_text_style("timeline--kind"))
            rest = body_w - len(INTERNAL_INDENT) - cell_len(kind) - 2
            if rest > 1:
                text.append(": " + fit(one_line(item.body, rest * 2), rest))
            return text
        inbound = item.direction is Direction.IN
        text.append(fit(direction_label(item), direction_w),
                    self.component_text_style("timeline--inbound") if inbound else None)
        text.append(GAP)
        channel = item.channel.value if item.channel is not None else "—"
        text.append(fit(channel, channel_w), self.style("accent"))
        text.append(GAP)
        text.append(fit(one_line(self.desk.person(item.author), author_w * 2), author_w))
        text.append(GAP)
        return self._tagged_body(text, item, row, body_w)

    def _gap(self, text: Text, item: TimelineEntry, row: int, body_w: int) -> int:
        """The pause since the row above, when longer than a day, at the start of the text; the width left."""
        marker = clip(gap_marker(item, self.item_at(row - 1) if row else None), body_w)
        text.append(marker, self.component_text_style("timeline--gap"))
        return body_w - cell_len(marker)

    def _tagged_body(self, text: Text, item: TimelineEntry, row: int, body_w: int) -> Text:
        """The state in brackets first (a decision's, a reply's delivery), the pause since the row above, then as
        much of the body as fits."""
        tag = state_tag(item, min(body_w, max(int(body_w * STATE_SHARE), SHORT_STATES)))
        if tag:
            text.append(tag, self.component_text_style("timeline--state"))
            text.append(" ")
        rest = self._gap(text, item, row, body_w - cell_len(tag) - (1 if tag else 0))
        if rest > 1:
            text.append(fit(one_line(item.body, rest * 2), rest))
        return text
