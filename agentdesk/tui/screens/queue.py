"""The queue: who is next, in fair order, and why; ``/`` searches every customer.

For a lead, a line above the queue says how many escalations wait for their
approval, and ``w`` opens them. The queue re-reads itself when the store changes
(:class:`~agentdesk.tui.messages.StoreChanged`) and when a callback falls due.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import WorkerCancelled, WorkerFailed

from agentdesk.domain.model import Customer
from agentdesk.domain.presence import on_customer, queue_mark
from agentdesk.domain.queue import QueuePlace, order_queue
from agentdesk.domain.text import one_line
from agentdesk.tui.keymap import key_shown
from agentdesk.tui.messages import CallbacksDue, OpenCustomer, PresenceSeen, Presenting, QueuePainted, StoreChanged
from agentdesk.tui.screens import DeskScreen
from agentdesk.tui.widgets.desk_header import DeskHeader
from agentdesk.tui.widgets.key_bar import KeyBar
from agentdesk.tui.widgets.line_list import LineList
from agentdesk.tui.widgets.queue_list import QueueList, SearchHit, SearchResults
from agentdesk.tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from agentdesk.tui.app import Desk

REFRESH_SECONDS = 30


class SearchInput(TextInput):
    """The search field: typing searches (debounced), down or tab goes to the results."""

    HELP_TITLE: ClassVar[str] = "Search field"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,tab", "screen.search_results", "Go to results", id="search.to_results"),
    ]


class QueueScreen(DeskScreen):
    """The agent's worklist."""

    CSS_PATH = "queue.tcss"
    HELP_TITLE: ClassVar[str] = "Queue screen"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="queue.search"),
        Binding("ctrl+r", "reload", "Reload queue", id="queue.reload"),
        Binding("escape", "close_search", "Close search", id="queue.close_search"),
        Binding("w", "approvals", "Approvals", id="queue.approvals"),
        Binding("f", "floor", "Floor", id="queue.floor"),
    ]
    SEARCH_DEBOUNCE: ClassVar[float] = 0.2
    """Seconds of quiet typing before the search runs (down, tab or enter search at once)."""

    class QueueLoaded(Message):
        def __init__(self, places: list[QueuePlace], now: datetime) -> None:
            super().__init__()
            self.places = places
            self.now = now

    class ApprovalsCounted(Message):
        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class SearchDone(Message):
        def __init__(self, query: str, customers: list[Customer]) -> None:
            super().__init__()
            self.query = query
            self.customers = customers

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._waiting_ids: set[str] = set()
        self._count = 0
        self._painted_once = False
        self._searching_for: str | None = None
        self._shown_query: str | None = None
        self._open_when_found = False
        self.approvals_waiting = 0
        """Escalations waiting for the signed-in agent's approval, as last read."""

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.preset_breakpoints()
        yield DeskHeader(app_name=self.app.title, person=lambda: self.desk.person_label,
                         read_only=self.desk.read_only, now=self.desk.viewer_now, sync=self.desk.sync_line,
                         id="header")
        with Vertical(id="search-bar"):
            yield SearchInput(placeholder="Search customers by name, e-mail or phone", id="search-input")
        yield Static(id="approvals-line", markup=False)
        yield QueueList(id="queue")
        yield SearchResults(id="results")
        yield Static(id="why", markup=False)
        yield KeyBar()

    @property
    def queue(self) -> QueueList:
        return self.query_one("#queue", QueueList)

    @property
    def results(self) -> SearchResults:
        return self.query_one("#results", SearchResults)

    @property
    def search_input(self) -> SearchInput:
        return self.query_one("#search-input", SearchInput)

    @property
    def searching(self) -> bool:
        return self.has_class("-searching")

    async def on_mount(self) -> None:
        self.queue.border_title = "Queue"
        self.results.border_title = "Search"
        self.queue.focus()
        self.set_interval(REFRESH_SECONDS, self.load_queue)
        # The first read is awaited here, so the screen's first paint already shows the queue
        # (one paint instead of "Loading…" and then the rows). The worker does the I/O and
        # returns the result; this handler applies it.
        try:
            first = await self.load_queue(post=False).wait()
        except (WorkerCancelled, WorkerFailed) as error:
            self.notify(f"Could not read the queue: {error}", severity="error", markup=False)
            return
        self._show_queue(first)
        self.refresh_bindings()  # who is working is known now: the approvals key shows for a lead only
        self.load_approvals()

    def on_screen_resume(self) -> None:
        self.app.post_message(Presenting(None))
        self.queue.set_presence(self.desk.presence)
        self._show_why(self.queue.cursor_item)
        if self.searching and self.focused is self.search_input:
            # Back from a customer: the results keep the keys, so "/" goes back to the search box, not into it.
            self.results.focus()
        if self._painted_once:
            self.load_approvals()

    def on_presence_seen(self, message: PresenceSeen) -> None:
        self.queue.set_presence(message.seen)
        self._show_why(self.queue.cursor_item)

    def on_store_changed(self, message: StoreChanged) -> None:
        """Another workstation (or this one) committed: read the queue and the approvals again."""
        self.load_queue()
        self.load_approvals()

    def on_callbacks_due(self, message: CallbacksDue) -> None:
        """A callback fell due: the queue is read again, so that customer heads it."""
        self.load_queue()

    # --- the queue ------------------------------------------------------------------

    @work(exclusive=True, group="queue", exit_on_error=False)
    async def load_queue(self, post: bool = True) -> QueueScreen.QueueLoaded:
        """Worker: read the waiting customers and rank them. Returns (and posts) the result; touches no widget."""
        reader = await self.desk.wait_ready()
        now = self.desk.now()
        waiting = await reader.waiting(now)
        loaded = self.QueueLoaded(order_queue(waiting, now), now)
        if post:
            self.post_message(loaded)
        return loaded

    def on_queue_screen_queue_loaded(self, message: QueueScreen.QueueLoaded) -> None:
        self._show_queue(message)

    def _show_queue(self, message: QueueScreen.QueueLoaded) -> None:
        queue = self.queue
        current = queue.cursor_item
        keep = current.waiting.customer_id if current is not None else None
        queue.set_places(message.places, message.now, keep=keep)
        self._waiting_ids = {place.waiting.customer_id for place in message.places}
        self._count = len(message.places)
        context = Text(f"{self._count} waiting")
        self.query_one(DeskHeader).set_context(context)
        queue.border_title = f"Queue · {self._count} waiting · fair order: longest effective wait first"
        self._show_why(queue.cursor_item)

    def action_reload(self) -> None:
        self.load_queue()
        self.load_approvals()
        self.notify("Queue reloaded.", timeout=2)

    # --- approvals (leads) ----------------------------------------------------------

    @work(exclusive=True, group="approvals", exit_on_error=False)
    async def load_approvals(self) -> None:
        """Worker: count the escalations waiting for this agent's approval; posts the count."""
        ledger, agent = await self.desk.wait_ledger(), self.desk.agent
        if not self.desk.approves or ledger is None or agent is None:
            return
        self.post_message(self.ApprovalsCounted(len(await ledger.waiting_approvals(agent.id))))

    def on_queue_screen_approvals_counted(self, message: QueueScreen.ApprovalsCounted) -> None:
        self.approvals_waiting = message.count
        line = self.query_one("#approvals-line", Static)
        self.set_class(message.count > 0, "-approvals")
        if not message.count:
            line.update("", layout=False)
            return
        noun = "escalation waits" if message.count == 1 else "escalations wait"
        key = key_shown(self, "approvals") or "w"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{message.count} {noun} for your approval", "bold")
        text.append(" · ")
        text.append(key, "bold reverse")
        text.append(" to review")
        line.update(text)

    def action_floor(self) -> None:
        from agentdesk.tui.screens.floor import FloorScreen

        self.app.push_screen(FloorScreen(self.desk))

    def action_approvals(self) -> None:
        if not self.desk.approves:
            return
        from agentdesk.tui.screens.approvals import ApprovalsScreen

        self.app.push_screen(ApprovalsScreen(self.desk))

    @on(LineList.Painted, "#queue")
    def _queue_painted(self, message: LineList.Painted) -> None:
        if not self._painted_once:
            self._painted_once = True
            self.app.post_message(QueuePainted(self._count))

    @on(LineList.Highlighted, "#queue")
    def _queue_highlighted(self, message: LineList.Highlighted) -> None:
        item = message.item
        self._show_why(item if isinstance(item, QueuePlace) else None)

    def _show_why(self, place: QueuePlace | None) -> None:
        why = self.query_one("#why", Static)
        if place is None:
            why.update(Text(""), layout=False)
            return
        text = Text(overflow="ellipsis")
        text.append(f"#{place.position} ", "bold")
        text.append(one_line(place.waiting.name, 60))
        text.append(" — ")
        mark = queue_mark(on_customer(self.queue.presence, place.waiting.customer_id))
        if mark:
            text.append(f"● {mark}", "bold")
            text.append("; ")
        text.append(one_line(place.reason))
        why.update(text, layout=False)

    @on(LineList.Selected, "#queue")
    @on(LineList.Selected, "#results")
    def _open(self, message: LineList.Selected) -> None:
        item = message.item
        if isinstance(item, QueuePlace):
            self.post_message(OpenCustomer(item.waiting.customer_id))
        elif isinstance(item, SearchHit):
            self.post_message(OpenCustomer(item.customer.id))

    # --- search ---------------------------------------------------------------------

    def action_search(self) -> None:
        self.add_class("-searching")
        self.search_input.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_search" and not self.searching:
            return False
        if action == "approvals" and not self.desk.approves:
            return False  # agents who approve nothing, and read-only, have no such key at all
        return True

    def action_close_search(self) -> None:
        if not self.searching:
            return
        self.remove_class("-searching")
        self.workers.cancel_group(self, "search")
        self._open_when_found = False
        self.queue.focus()

    def action_search_results(self) -> None:
        """Down or tab in the search field: search for the text now (no debounce) and go to the results."""
        query = self.search_input.value.strip()
        if query and query != self._shown_query and query != self._searching_for:
            self._start_search(query, debounce=False)
        self.results.focus()

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if not query:
            self.workers.cancel_group(self, "search")
            self._shown_query = self._searching_for = None
            self.results.loading_message = SearchResults.loading_message
            self.results.set_items([])
            self.results.border_title = "Search"
            return
        self._start_search(query, debounce=True)

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in the field opens the highlighted result (after the search for this text, if needed)."""
        query = event.value.strip()
        if query and query == self._shown_query and self.results.cursor_item is not None:
            self.post_message(OpenCustomer(self.results.cursor_item.customer.id))
            return
        if query:
            self._open_when_found = True
            if query != self._searching_for:
                self._start_search(query, debounce=False)

    @on(SearchResults.OpenPending)
    def _open_pending(self) -> None:
        """Enter on the results while their search is still running: open the first hit when it lands."""
        if self._searching_for is not None:
            self._open_when_found = True

    def _start_search(self, query: str, *, debounce: bool) -> None:
        self._searching_for = query
        self.results.searching = True
        if not self.results.is_ready:
            self.results.loading_message = "Searching…"
        self.search(query, self.SEARCH_DEBOUNCE if debounce else 0.0)

    @work(exclusive=True, group="search", exit_on_error=False)
    async def search(self, query: str, delay: float = 0.0) -> None:
        """Worker: wait out the typing (a newer keystroke cancels this worker), ask the store, post the hits.

        The debounce lives in the worker, so ``await app.workers.wait_for_complete()``
        after typing waits for the search too.
        """
        if delay:
            await asyncio.sleep(delay)
        reader = await self.desk.wait_ready()
        customers = await reader.search_customers(query)
        self.post_message(self.SearchDone(query, customers))

    def on_queue_screen_search_done(self, message: QueueScreen.SearchDone) -> None:
        if message.query != self.search_input.value.strip():
            return  # the field changed since; a newer search is coming
        self._shown_query = message.query
        self._searching_for = None
        self.results.searching = False
        hits = [SearchHit(customer, customer.id in self._waiting_ids) for customer in message.customers]
        results = self.results
        results.empty_message = f"No customer matches {one_line(message.query, 60)!r}."
        results.set_items(hits, cursor="start")
        found = len(hits)
        results.border_title = f"Search · {found}{'+' if found >= 200 else ''} found"
        if self._open_when_found:
            self._open_when_found = False
            if hits:
                self.post_message(OpenCustomer(hits[0].customer.id))

    @on(SearchResults.LeaveTop)
    def _results_top(self) -> None:
        self.search_input.focus()
