"""The fair queue as a line list, and the customer search results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import BindingType
from textual.message import Message

from agentdesk.domain.model import Customer
from agentdesk.domain.presence import Seen, on_customer, queue_mark
from agentdesk.domain.queue import QueuePlace
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration, until
from agentdesk.tui.widgets.columns import clip, fit
from agentdesk.tui.widgets.line_list import LineList, list_bindings

GAP = "  "
OVERDUE_MARK = "! "


def channels_text(place: QueuePlace) -> str:
    """Waiting channels as words: ``chat+sms``."""
    return "+".join(channel.value for channel in place.waiting.channels) or "—"


def deadline_text(place: QueuePlace, now: datetime) -> tuple[str, bool]:
    """The nearest deadline in words and whether it is overdue (then marked ``!``)."""
    deadline = place.waiting.deadline
    if deadline is None:
        return "—", False
    overdue = deadline < now
    text = until(deadline, now)
    return (OVERDUE_MARK + text if overdue else text), overdue


@dataclass(frozen=True, slots=True)
class QueueColumns:
    position: int
    name: int
    channels: int
    waited: int
    deadline: int
    reason: int

    @classmethod
    def for_width(cls, width: int) -> QueueColumns:
        if width >= 104:
            name = max(18, min(28, width // 6))
            fixed = 4 + name + 14 + 13 + 24 + 5 * len(GAP)
            return cls(4, name, 14, 13, 24, max(width - fixed, 0))
        channels, waited, deadline = 10, 11, 24
        name = max(width - (4 + channels + waited + deadline + 4 * len(GAP)), 8)
        return cls(4, name, channels, waited, deadline, 0)


class QueueList(LineList[QueuePlace]):
    """Waiting customers in fair order: position, name, channels, waited, nearest deadline, why."""

    HELP_TITLE: ClassVar[str] = "Queue"
    BINDINGS: ClassVar[list[BindingType]] = list_bindings(
        "queue", open_description="Open customer", noun="customer")
    header_rows = 1
    loading_message = "Loading the queue…"
    empty_message = "Nobody is waiting right now. New contacts will appear here."

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.now = datetime.now(timezone.utc)
        self.presence: tuple[Seen, ...] = ()
        """Who else has which customer open: a customer someone is on says so first in its reason."""

    def set_presence(self, seen: tuple[Seen, ...]) -> None:
        self.presence = seen
        self.refresh()

    def set_places(self, places: Sequence[QueuePlace], now: datetime, keep: str | None = None) -> None:
        """Show ``places``; the cursor stays on customer ``keep`` when they are still waiting."""
        self.now = now
        cursor: int | str = "start"
        if keep is not None:
            for index, place in enumerate(places):
                if place.waiting.customer_id == keep:
                    cursor = index
                    break
        self.set_items(places, cursor=cursor)

    def render_header(self, width: int) -> Text:
        columns = QueueColumns.for_width(width)
        parts = [fit("#", columns.position - 1, "right") + " ", fit("Customer", columns.name),
                 fit("Waiting on", columns.channels), fit("Waited", columns.waited),
                 fit("Nearest deadline", columns.deadline)]
        if columns.reason:
            parts.append(fit("Why this place", columns.reason))
        return Text(GAP.join(parts), end="", no_wrap=True)

    def render_row(self, item: QueuePlace, row: int, width: int) -> Text:
        columns = QueueColumns.for_width(width)
        muted = self.style("muted")
        text = Text(end="", no_wrap=True)
        text.append(fit(str(item.position), columns.position - 1, "right") + " ", muted)
        text.append(GAP)
        text.append(fit(one_line(item.waiting.name, columns.name * 2), columns.name))
        text.append(GAP)
        text.append(fit(channels_text(item), columns.channels), self.style("accent"))
        text.append(GAP)
        text.append(fit(duration(item.waited), columns.waited))
        text.append(GAP)
        deadline, overdue = deadline_text(item, self.now)
        if overdue:
            text.append(fit(deadline, columns.deadline), self.style("warning"))
        else:
            text.append(fit(deadline, columns.deadline), muted if deadline == "—" else None)
        if columns.reason:
            text.append(GAP)
            mark = queue_mark(on_customer(self.presence, item.waiting.customer_id))
            if mark:
                mark = clip(f"● {mark}", columns.reason)
                text.append(mark, self.style("warning"))
            rest = columns.reason - cell_len(mark) - (2 if mark else 0)
            if rest > 1:
                text.append(("; " if mark else "") + fit(one_line(item.reason, rest * 2), rest), muted)
        return text


@dataclass(frozen=True, slots=True)
class SearchHit:
    customer: Customer
    waiting: bool


class SearchResults(LineList[SearchHit]):
    """Customers found by name, e-mail or phone, with whether they are waiting."""

    HELP_TITLE: ClassVar[str] = "Search results"
    BINDINGS: ClassVar[list[BindingType]] = list_bindings(
        "search", open_description="Open customer", noun="result")
    header_rows = 1
    loading_message = "Type a name, an e-mail address or a phone number."
    empty_message = "No customer matches."

    class LeaveTop(Message):
        """Up on the first result: focus goes back to the search field."""

    class OpenPending(Message):
        """Enter while the search for the current text is still running."""

    searching = False
    """Set by the screen while a search for the current text runs."""

    def action_select(self) -> None:
        if self.cursor_item is None and self.searching:
            self.post_message(self.OpenPending())
            return
        super().action_select()

    def action_cursor_up(self) -> None:
        if self.cursor == 0:
            self.post_message(self.LeaveTop())
            return
        super().action_cursor_up()

    @staticmethod
    def _widths(width: int) -> tuple[int, int, int, int, int]:
        waits = 11
        if width >= 100:
            name, phone = 28, 18
            email = min(36, width - (name + phone + waits + 16 + 4 * len(GAP)))
            location = max(width - (name + email + phone + waits + 4 * len(GAP)), 10)
            location = min(location, 32)
            return name, email, phone, location, waits
        name, phone = 20, 16
        email = max(width - (name + phone + waits + 3 * len(GAP)), 10)
        return name, email, phone, 0, waits

    def render_header(self, width: int) -> Text:
        name, email, phone, location, waits = self._widths(width)
        parts = [fit("Customer", name), fit("E-mail", email), fit("Phone", phone)]
        if location:
            parts.append(fit("Location", location))
        parts.append(fit("In queue", waits))
        return Text(GAP.join(parts), end="", no_wrap=True)

    def render_row(self, item: SearchHit, row: int, width: int) -> Text:
        name, email, phone, location, waits = self._widths(width)
        customer = item.customer
        muted = self.style("muted")
        text = Text(end="", no_wrap=True)
        text.append(fit(one_line(customer.name, name * 2), name))
        text.append(GAP)
        text.append(fit(one_line(customer.email or "—", email * 2), email), None if customer.email else muted)
        text.append(GAP)
        text.append(fit(one_line(customer.phone or "—", phone * 2), phone), None if customer.phone else muted)
        if location:
            text.append(GAP)
            text.append(fit(one_line(customer.location or "—", location * 2), location), muted)
        text.append(GAP)
        if item.waiting:
            text.append(fit("● waiting", waits), self.style("accent"))
        else:
            text.append(fit("not waiting", waits), muted)
        return text
