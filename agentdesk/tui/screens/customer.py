"""The single pane: who the customer is, everything that happened, what is still open."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from agentdesk.domain.model import Case, Promise, TimelineEntry
from agentdesk.domain.queue import URGENCY_WORDS
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration, until, zone
from agentdesk.store.reader import CustomerCard
from agentdesk.tui.screens import DeskScreen
from agentdesk.tui.widgets.desk_header import DeskHeader
from agentdesk.tui.widgets.key_bar import KeyBar
from agentdesk.tui.widgets.line_list import LineList
from agentdesk.tui.widgets.text_pane import TextPane, pane_bindings
from agentdesk.tui.widgets.timeline import DIRECTION_WORDS, TimelineView

if TYPE_CHECKING:
    from agentdesk.tui.app import Desk

SEP = "  ·  "


def minutes(seconds: int) -> str:
    """``9 min`` or ``9 min 05 s``: call durations and waits as minutes."""
    whole, rest = divmod(max(seconds, 0), 60)
    return f"{whole} min {rest:02d} s" if rest else f"{whole} min"


class EntryBody(TextPane):
    """The selected entry's full text, wrapped to the pane."""

    HELP_TITLE: ClassVar[str] = "Detail pane"
    BINDINGS: ClassVar[list[BindingType]] = [
        *pane_bindings("customer.detail"),
        Binding("escape", "screen.focus_timeline", "Back to the timeline", id="customer.detail_back"),
    ]

    def scrolled(self) -> None:
        if self.parent is not None:
            self.parent.border_subtitle = self.position_text


@dataclass(frozen=True, slots=True)
class CustomerData:
    card: CustomerCard
    count: int
    cases: list[Case]
    promises: list[Promise]
    tail_offset: int = 0
    tail: tuple[TimelineEntry, ...] = ()
    """The newest entries (whole pages), read with the count so the first paint needs nothing else."""


async def read_customer(desk: Desk, customer_id: str) -> CustomerData | None:
    """Everything the customer screen shows first, or None when there is no such customer.

    Called from workers (the app reads before it pushes the screen, so the screen
    is built with its data and paints once). Touches no widget.
    """
    reader = desk.reader
    # Asked together, the reads queue up in the store's thread back to back instead of
    # each waiting for the UI loop to come round.
    customer, count, cases, promises = await asyncio.gather(
        reader.customer(customer_id), reader.timeline_count(customer_id),
        reader.open_cases(customer_id), reader.open_promises(customer_id))
    if customer is None:
        return None
    offset, limit = TimelineView.tail_window(count)
    tail = await reader.timeline_page(customer_id, offset, limit, total=count) if limit else []
    owner = desk.agents.get(customer.owner) if customer.owner else None
    return CustomerData(CustomerCard(customer, owner), count, cases, promises, offset, tuple(tail))


class CustomerScreen(DeskScreen):
    """Header, timeline with detail pane, and the side panel of open cases and promises."""

    CSS_PATH = "customer.tcss"
    HELP_TITLE: ClassVar[str] = "Customer screen"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to queue", id="customer.back"),
        Binding("p", "toggle_side", "Cases panel", id="customer.side_panel"),
    ]

    class Loaded(Message):
        def __init__(self, data: CustomerData | None) -> None:
            super().__init__()
            self.data = data

    def __init__(self, desk: Desk, customer_id: str, data: CustomerData | None = None) -> None:
        """``data`` as read by :func:`read_customer`; without it the screen reads it itself."""
        super().__init__()
        self.desk = desk
        self.customer_id = customer_id
        self.data: CustomerData | None = None
        self._initial = data
        self._shown_entry: object | None = None

    # --- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.preset_breakpoints()
        if self._initial is None:
            self.load()  # the store is read while the screen is being built
        yield DeskHeader(app_name=self.app.title, person=self.desk.person_label,
                         read_only=self.desk.read_only, now=self.desk.viewer_now, id="header")
        yield Static(Text("Loading customer…"), id="banner")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield TimelineView(self.desk, id="timeline")
                with Vertical(id="detail"):
                    yield Static(Text(""), id="detail-head")
                    yield EntryBody(id="detail-body")
            with VerticalScroll(id="side", can_focus=False):
                yield Static(Text("…"), id="cases")
                yield Static(Text("…"), id="promises")
        yield KeyBar()

    @property
    def timeline(self) -> TimelineView:
        return self.query_one("#timeline", TimelineView)

    @property
    def detail(self) -> EntryBody:
        return self.query_one("#detail-body", EntryBody)

    def on_mount(self) -> None:
        self.timeline.border_title = "Timeline"
        self.query_one("#detail").border_title = "Entry"
        self.query_one("#cases").border_title = "Open cases"
        self.query_one("#promises").border_title = "Open promises"
        self.timeline.focus()
        self.set_interval(30, self._refresh_times)
        if self._initial is not None:
            self._show(self._initial)  # before the first layout: the screen paints once, with data
            self._initial = None

    # --- loading ----------------------------------------------------------------------

    @work(exclusive=True, group="customer", exit_on_error=False)
    async def load(self) -> None:
        """Worker: read what the screen shows first; posts it, touches no widget."""
        self.post_message(self.Loaded(await read_customer(self.desk, self.customer_id)))

    def on_customer_screen_loaded(self, message: CustomerScreen.Loaded) -> None:
        if message.data is None:
            self.notify(f"No customer {one_line(self.customer_id, 60)!r} in this store.",
                        severity="error", markup=False)
            self.dismiss()
            return
        self._show(message.data)

    def show_customer(self, customer_id: str, data: CustomerData) -> None:
        """Show another customer on this (installed, reused) screen."""
        self.customer_id = customer_id
        self._shown_entry = None
        if not self.is_mounted:
            self._initial = data
            return
        self._show(data)
        self.timeline.focus()

    def _show(self, data: CustomerData) -> None:
        self.data = data
        self.query_one(DeskHeader).set_context(Text(one_line(data.card.customer.name, 60)))
        self._render_banner()
        self._render_side()
        loader = partial(self.desk.reader.timeline_page, self.customer_id, total=data.count)
        timeline = self.timeline
        timeline.set_source(data.count, loader, cursor="end", preloaded=(data.tail_offset, data.tail))
        self._show_entry(timeline.cursor, timeline.cursor_item)  # now, not a message later

    def _refresh_times(self) -> None:
        if self.data is not None:
            self._render_banner()
            self._render_side()

    # --- header -----------------------------------------------------------------------

    def _render_banner(self) -> None:
        assert self.data is not None
        customer = self.data.card.customer
        owner = self.data.card.owner
        muted = "dim"
        now = self.desk.now()
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(one_line(customer.name, 80), "bold")
        line.append(f"  {one_line(customer.id, 40)}", muted)
        line.append(SEP, muted)
        line.append("owner ", muted)
        line.append(one_line(owner.name, 40) if owner else (one_line(customer.owner, 40) if customer.owner else "none"))
        line.append(SEP, muted)
        if customer.preferred_channel:
            line.append("prefers ", muted)
            line.append(customer.preferred_channel.value)
        else:
            line.append("no preferred channel", muted)
        line.append(SEP, muted)
        line.append("language ", muted)
        line.append(one_line(customer.language, 12) if customer.language else "unknown")
        line.append("\n")
        line.append("location ", muted)
        line.append(one_line(customer.location, 60) if customer.location else "unknown")
        line.append(SEP, muted)
        their_zone = zone(customer.timezone)
        line.append("their time ", muted)
        if their_zone is not None:
            local = now.astimezone(their_zone)
            line.append(local.strftime("%a %H:%M"), "bold")
            line.append(f" {customer.timezone} ({local.strftime('%Z')})")
        else:
            line.append("unknown" + (f" (zone {one_line(customer.timezone, 40)!r} not known)" if customer.timezone else ""))
        line.append(SEP, muted)
        line.append("your time ", muted)
        mine = self.desk.to_viewer(now)
        line.append(mine.strftime("%a %H:%M %Z"))
        self.query_one("#banner", Static).update(line, layout=False)  # fixed height: no relayout

    # --- side panel -------------------------------------------------------------------

    def _render_side(self) -> None:
        assert self.data is not None
        now = self.desk.now()
        cases, promises = self.data.cases, self.data.promises
        cases_box = self.query_one("#cases", Static)
        cases_box.border_title = f"Open cases · {len(cases)}"
        text = Text(end="")
        if not cases:
            text.append("No open cases.", "dim italic")
        for index, case in enumerate(cases):
            if index:
                text.append("\n\n")
            text.append(one_line(case.id, 40), "bold")
            text.append("  ")
            text.append(one_line(case.subject, 200))
            text.append("\n")
            text.append(f"{case.status.value} · opened {duration(now - case.opened_at)} ago", "dim")
            if case.disputed is not None:
                text.append("\ndisputed ")
                text.append(str(case.disputed), "bold")
            urgency = URGENCY_WORDS.get(case.urgency, "")
            if urgency:
                text.append("\n")
                text.append(f"! {urgency}", "bold")
        cases_box.update(text)

        promises_box = self.query_one("#promises", Static)
        promises_box.border_title = f"Open promises · {len(promises)}"
        text = Text(end="")
        if not promises:
            text.append("No open promises.", "dim italic")
        for index, promise in enumerate(promises):
            if index:
                text.append("\n\n")
            text.append(one_line(promise.what, 200))
            text.append("\n")
            overdue = promise.due < now or promise.state == "overdue"
            if overdue:
                text.append(" OVERDUE ", "bold reverse")
                text.append(" ")
            text.append(until(promise.due, now), "bold" if overdue else None)
            text.append("\n")
            text.append(f"due {self.desk.to_viewer(promise.due).strftime('%a %d %b %H:%M')}", "dim")
        promises_box.update(text)

    def action_toggle_side(self) -> None:
        self.toggle_class("-side-toggled")

    # --- timeline and detail ------------------------------------------------------------

    @on(LineList.Highlighted, "#timeline")
    def _entry_highlighted(self, message: LineList.Highlighted) -> None:
        self._show_entry(message.row, message.item)

    def _show_entry(self, row: int, entry: object | None) -> None:
        if entry is not None and entry is self._shown_entry:
            return
        self._shown_entry = entry
        detail = self.query_one("#detail")
        count = self.timeline.row_count
        detail.border_title = f"Entry {row + 1:,} of {count:,}" if count else "Entry"
        if not isinstance(entry, TimelineEntry):
            self.query_one("#detail-head", Static).update(Text("Loading…", "dim"), layout=False)
            self.detail.set_text(None)
            return
        self.query_one("#detail-head", Static).update(self.entry_head(entry), layout=False)
        self.detail.set_text(entry.body, placeholder="(no text)")

    def entry_head(self, entry: TimelineEntry) -> Text:
        """The detail pane's header: what and who first, then when (both zones) and the ids."""
        muted = "dim"
        head = Text(no_wrap=True, overflow="ellipsis", end="")
        if entry.is_internal:
            head.append("◆ internal event ")
            head.append(one_line(entry.event_kind or "event", 60), "bold")
        else:
            head.append(entry.channel.value if entry.channel else "no channel", "bold")
            head.append(SEP, muted)
            head.append(DIRECTION_WORDS[entry.direction])
        head.append(SEP, muted)
        head.append("by ", muted)
        head.append(one_line(self.desk.person(entry.author), 60) or "unknown")
        if entry.duration_s is not None:
            head.append(SEP, muted)
            head.append("call ", muted)
            head.append(minutes(entry.duration_s))
        if entry.wait_s is not None:
            head.append(SEP, muted)
            head.append("waited ", muted)
            head.append(minutes(entry.wait_s))
        head.append("\n")
        mine = self.desk.to_viewer(entry.at)
        head.append(mine.strftime("%a %d %b %Y %H:%M %Z"))
        assert self.data is not None
        their_zone = zone(self.data.card.customer.timezone)
        if their_zone is not None:
            theirs = entry.at.astimezone(their_zone)
            head.append(SEP, muted)
            head.append("customer's time ", muted)
            head.append(theirs.strftime("%H:%M %Z"))
        if entry.case:
            head.append(SEP, muted)
            head.append("case ", muted)
            head.append(one_line(entry.case, 40))
        head.append(SEP, muted)
        head.append(f"entry {one_line(entry.id, 40)}", muted)
        return head

    @on(LineList.Selected, "#timeline")
    def _entry_selected(self, message: LineList.Selected) -> None:
        self.detail.focus()

    def action_focus_timeline(self) -> None:
        self.timeline.focus()

    def action_back(self) -> None:
        self.dismiss()
