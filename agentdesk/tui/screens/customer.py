"""The single pane: who the customer is, everything that happened, what is still open, what you may decide.

Decisions
---------
The decision bar (:class:`~agentdesk.tui.widgets.decision_bar.DecisionBar`, above
the key bar) lists what this agent may decide here, from the ledger's choices,
each with its key: ``r`` refund, ``v`` voucher, ``c`` callback, ``e`` escalate,
``n`` note, ``a`` adjust; while a decision is pending it also shows the countdown
with ``u`` undo and ``s`` send now. One key takes the suggested decision. Every
write runs in a worker that awaits the ledger (durable on disk when it returns)
and only then posts :class:`CustomerScreen.DecisionDone`; the handler says what
happened, and the customer's data (timeline, promises, bar) is read again.

Decision keys pressed while a write (and the read after it) is on its way run
after it, in order, on what it changed; the same key again meanwhile is a double
press and is dropped. Keys typed ahead of a dialog that is still opening never
decide anything behind it.

A refusal names its rule and limit; ``e`` then escalates exactly the refused
proposal (never one already waiting for approval). Read-only (no ledger, no
agent, or a read-only role) the bar says so and the decision keys are not in
force at all (``check_action`` returns False: not shown, not run).

The customer is read again whenever the store changes (``StoreChanged`` from the
app's watcher): a lead's approval shows on the agent's timeline within a second.

Hook for benchmarks and tests
-----------------------------
:attr:`CustomerScreen.decision_painted` is an :class:`asyncio.Event`: cleared when
a decision key is pressed, set after the refresh that first shows its outcome
(the ``PENDING`` strip, the refusal, or an error), i.e. once the decision is
durable *and* on screen. ``await screen.decision_painted.wait()``.
:meth:`CustomerScreen.tick` is the 1-second countdown step (a timer calls it while
something is pending); tests call it after moving their clock to release a decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from agentdesk.desk.store import Choices, CustomerCard, LedgerError, ReplyContext, Taken
from agentdesk.domain import reply
from agentdesk.domain.authority import ESCALATABLE_KINDS, MONEY_KINDS, Proposal, Verdict
from agentdesk.domain.decision_text import (
    DECISIONS_NOT_AVAILABLE,
    WAITING_FOR_BACKEND,
    NoDecisions,
    answer_words,
    at_least_zero,
    countdown,
    decision_words,
    proposal_words,
    refusal_text,
    role_decides_nothing,
)
from agentdesk.domain.model import Case, Channel, Decision, Direction, EntryKind, Promise, TimelineEntry
from agentdesk.domain.presence import on_customer, presence_words
from agentdesk.domain.queue import URGENCY_WORDS
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration, until, zone
from agentdesk.tui.keymap import key_shown
from agentdesk.tui.messages import DecisionsQueued, PresenceSeen, Presenting, RepliesQueued, StoreChanged
from agentdesk.tui.screens import DeskScreen
from agentdesk.tui.screens.help import scroll_bindings
from agentdesk.tui.themes import text_style
from agentdesk.tui.widgets.decision_bar import (
    NO_AGENT_TEXT,
    READ_ONLY_TEXT,
    DecisionBar,
    Group,
    no_decisions_text,
    options_items,
    sent_words,
    uses_backend,
)
from agentdesk.tui.widgets.desk_header import DeskHeader
from agentdesk.tui.widgets.key_bar import KeyBar
from agentdesk.tui.widgets.knowledge_panel import KnowledgePanel
from agentdesk.tui.widgets.line_list import LineList
from agentdesk.tui.widgets.text_pane import TextPane, pane_bindings
from agentdesk.tui.widgets.timeline import DIRECTION_WORDS, TimelineView, state_tag

if TYPE_CHECKING:
    from agentdesk.tui.app import Desk
    from agentdesk.tui.screens.adjust import AdjustResult
    from agentdesk.tui.screens.contact import LoggedContact
    from agentdesk.tui.screens.reply import ReplyAction

SEP = "  ·  "
BAR_SEP = " · "


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
        if isinstance(self.parent, Widget):
            self.parent.border_subtitle = self.position_text


MAX_DEFERRED = 8
"""Decision keys kept while a write settles; more are dropped (a held-down key, not intent)."""
DECISION_ACTIONS = frozenset({"take_refund", "take_voucher", "take_callback", "escalate", "note", "undo",
                              "send_now", "adjust", "log_contact", "reply"})
"""The screen's actions that write decisions: not in force when read-only or without a ledger."""


def role_unavailable(desk: Desk) -> str | None:
    """Why the signed-in agent's role decides nothing (read-only, or not in the matrix); None when it may."""
    if desk.matrix is None or desk.agent is None:
        return None
    reason = role_decides_nothing(desk.agent, desk.matrix)
    return no_decisions_text(reason) if reason is not None else None


class SidePanel(VerticalScroll, inherit_bindings=False):
    """Cases, promises and the agent's authority: in the tab order, and scrolled by keys when taller than the screen."""

    HELP_TITLE: ClassVar[str] = "Cases panel"
    BINDINGS: ClassVar[list[BindingType]] = scroll_bindings("customer.side")


@dataclass(frozen=True, slots=True)
class DecisionState:
    """What the decision bar needs: the ledger's choices here and this agent's pending decisions."""

    choices: Choices | None = None
    pending: tuple[Decision, ...] = ()
    """This agent's decisions still in their undo window (any customer), oldest first."""
    waiting: tuple[Decision, ...] = ()
    """This customer's escalations waiting for approval: not offered for escalation again."""
    unavailable: str | None = None
    """Why there is nothing to decide (read-only, no agent, an error), in one line."""
    current: Mapping[str, Decision] = field(default_factory=dict)
    """This customer's decisions as stored now, by id: the outcome line follows its decision's state."""
    names: Mapping[str, str] = field(default_factory=dict)
    """The names of the other customers that pending decisions are for, by id: the strip says whose they are."""


async def read_decisions(desk: Desk, customer_id: str) -> DecisionState:
    """The ledger's choices and pending decisions; never raises for a ledger refusal."""
    if desk.read_only:
        return DecisionState(unavailable=READ_ONLY_TEXT)
    if desk.agent is None:
        if not desk.identity_note:
            return DecisionState(unavailable=NO_AGENT_TEXT)
        asking = NoDecisions(DECISIONS_NOT_AVAILABLE, desk.identity_note)
        return DecisionState(unavailable=no_decisions_text(asking))
    ledger = await desk.wait_ledger()
    if ledger is None:
        return DecisionState(unavailable=f"{DECISIONS_NOT_AVAILABLE} (the ledger is not open)")
    role_problem = role_unavailable(desk)
    if role_problem is not None:
        return DecisionState(unavailable=role_problem)
    try:
        choices, pending, decisions = await asyncio.gather(
            ledger.choices(desk.agent.id, customer_id), ledger.pending(desk.agent.id),
            desk.reader.decisions(customer_id))
    except LedgerError as error:
        return DecisionState(unavailable=f"{DECISIONS_NOT_AVAILABLE}: {one_line(str(error), 200)}")
    waiting = tuple(d for d in decisions if d.kind == "escalate" and d.approval == "waiting"
                    and d.state in ("pending", "queued", "confirmed"))
    others = list(dict.fromkeys(d.customer for d in pending if d.customer != customer_id))
    found = await asyncio.gather(*(desk.reader.customer(other) for other in others))
    names = {customer.id: customer.name for customer in found if customer is not None}
    return DecisionState(choices, tuple(pending), waiting, current={d.id: d for d in decisions}, names=names)


@dataclass(frozen=True, slots=True)
class CustomerData:
    card: CustomerCard
    count: int
    cases: list[Case]
    promises: list[Promise]
    tail_offset: int = 0
    tail: tuple[TimelineEntry, ...] = ()
    """The newest entries (whole pages), read with the count so the first paint needs nothing else."""
    decisions: DecisionState = DecisionState()


async def read_customer(desk: Desk, customer_id: str) -> CustomerData | None:
    """Everything the customer screen shows first, or None when there is no such customer.

    Called from workers (the app reads before it pushes the screen, so the screen
    is built with its data and paints once). Touches no widget. The ledger's
    choices are read at the same time, on the ledger's own thread.
    """
    reader = desk.reader
    # Asked together, the reads queue up in the store's thread back to back instead of
    # each waiting for the UI loop to come round.
    customer, count, cases, promises, decisions = await asyncio.gather(
        reader.customer(customer_id), reader.timeline_count(customer_id),
        reader.open_cases(customer_id), reader.open_promises(customer_id), read_decisions(desk, customer_id))
    if customer is None:
        return None
    offset, limit = TimelineView.tail_window(count)
    tail = await reader.timeline_page(customer_id, offset, limit, total=count) if limit else []
    owner = desk.agents.get(customer.owner) if customer.owner else None
    return CustomerData(CustomerCard(customer, owner), count, cases, promises, offset, tuple(tail), decisions)


@dataclass(frozen=True, slots=True)
class Followed:
    """The outcome line follows this decision out of its undo window until the backend has answered it."""

    badge: str
    """Until there is an answer: ``TAKEN`` (queued at once) or ``QUEUED`` (its window ended, or sent now)."""
    decision: Decision
    """As it was when the line was set; the stored version in :attr:`DecisionState.current` wins."""


ANSWER_STYLES = {"REFUSED": "refused", "DECLINED": "badge"}
"""The badge style of an answer (:func:`answer_words`); the others are ``done``."""


class CustomerScreen(DeskScreen):
    """Header, timeline with detail pane, the side panel (cases, promises, your authority), the decision bar."""

    CSS_PATH = "customer.tcss"
    HELP_TITLE: ClassVar[str] = "Customer screen"
    COMPONENT_CLASSES: ClassVar[set[str]] = {"customer--muted", "customer--note"}
    """Labels and dates beside the data (muted), sentences saying there is nothing (note): see customer.tcss."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to queue", id="customer.back"),
        Binding("p", "toggle_side", "Show or hide cases", id="customer.side_panel"),
        # The decision bar shows these with their suggestions, so the key bar leaves them out.
        Binding("r", "take_refund", "Refund (suggested amount)", show=False, id="customer.refund"),
        Binding("v", "take_voucher", "Voucher (suggested amount)", show=False, id="customer.voucher"),
        Binding("c", "take_callback", "Callback (next free slot)", show=False, id="customer.callback"),
        Binding("e", "escalate", "Escalate to the next role up", show=False, id="customer.escalate"),
        Binding("n", "note", "Internal note", show=False, id="customer.note"),
        Binding("a", "adjust", "Adjust amount or time, then decide", show=False, id="customer.adjust"),
        Binding("u", "undo", "Undo the last pending decision", show=False, id="customer.undo"),
        Binding("s", "send_now", "Send the pending decision now", show=False, id="customer.send_now"),
        Binding("l", "log_contact", "Log a contact (letter, shop visit, …)", show=False, id="customer.log_contact"),
        Binding("m", "reply", "Reply (e-mail or SMS)", id="customer.reply"),
        # priority: "k" is also the lists' vi key for up (the arrow keeps doing that here)
        Binding("k", "knowledge", "Knowledge articles", priority=True, id="customer.knowledge"),
    ]

    class Loaded(Message):
        def __init__(self, data: CustomerData | None) -> None:
            super().__init__()
            self.data = data

    class DecisionDone(Message):
        """A worker's ledger call returned (the change is on disk), or failed with a one-line reason."""

        def __init__(self, customer_id: str, verb: str, *, taken: Taken | None = None,
                     decision: Decision | None = None, error: str | None = None) -> None:
            super().__init__()
            self.customer_id = customer_id
            self.verb = verb
            """``take``, ``undo``, ``send`` or ``release``."""
            self.taken = taken
            self.decision = decision
            self.error = error

    class ContactLogged(Message):
        """A worker's ledger call logged a contact (on disk, in the outbox)."""

        def __init__(self, entry: TimelineEntry) -> None:
            super().__init__()
            self.entry = entry

    class ReplyReady(Message):
        """The reply editor's context was read: open it."""

        def __init__(self, context: ReplyContext) -> None:
            super().__init__()
            self.context = context

    class DraftKept(Message):
        def __init__(self, kept: bool) -> None:
            super().__init__()
            self.kept = kept

    class Replied(Message):
        """A worker's ledger call queued a reply (on disk, in the outbox)."""

        def __init__(self, entry: TimelineEntry) -> None:
            super().__init__()
            self.entry = entry

    class Settled(Message):
        """A decision write and the re-read after it are done (posted after ``Refreshed``)."""

    class Released(Message):
        """Undo windows ended: these decisions are queued now."""

        def __init__(self, decisions: list[Decision]) -> None:
            super().__init__()
            self.decisions = decisions

    class Refreshed(Message):
        """The customer read again after a decision changed (``serial`` orders overlapping reads)."""

        def __init__(self, customer_id: str, serial: int, data: CustomerData | None) -> None:
            super().__init__()
            self.customer_id = customer_id
            self.serial = serial
            self.data = data

    def __init__(self, desk: Desk, customer_id: str, data: CustomerData | None = None) -> None:
        """``data`` as read by :func:`read_customer`; without it the screen reads it itself."""
        super().__init__()
        self.desk = desk
        self.customer_id = customer_id
        self.data: CustomerData | None = None
        self._initial = data
        self._shown_entry: object | None = None
        self.decision_painted = asyncio.Event()
        """Set once a decision key's outcome is durable and painted (see the module docstring)."""
        self._pending: tuple[Decision, ...] = ()
        self._names: dict[str, str] = {}
        """Customers' names by id, for a decision shown here that is for another customer than the one open."""
        self._refused: tuple[Proposal, Verdict] | None = None
        """The last refusal on this customer that could be escalated: ``e`` escalates exactly that."""
        self._outcome: Group | Followed | None = None
        """What just happened, under the PENDING strip: a fixed line, or a decision whose state it follows."""
        self._busy = False
        """A ledger write and the read after it are on their way: decision keys wait for them, in order."""
        self._deferred: list[Callable[[], None]] = []
        self._running_action: Callable[[], None] | None = None
        """Decision keys pressed meanwhile, run when the write is settled (with what it changed)."""
        self._refresh_serial = 0
        self._applied_serial = 0
        self._ticker: Timer | None = None
        self._releasing = False
        self._escalated_refusals: dict[str, tuple[Proposal, Verdict] | None] = {}
        """Escalation id -> the refusal it settled, given back to ``e`` if the escalation is undone."""

    # --- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.preset_breakpoints()
        if self._initial is None:
            self.load()  # the store is read while the screen is being built
        yield DeskHeader(app_name=self.app.title, person=lambda: self.desk.person_label,
                         read_only=self.desk.read_only, now=self.desk.viewer_now, sync=self.desk.sync_line,
                         id="header")
        yield Static(Text("Loading customer…"), id="banner")
        yield Static(Text(""), id="presence")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield TimelineView(self.desk, id="timeline")
                with Vertical(id="detail"):
                    yield Static(Text(""), id="detail-head")
                    yield EntryBody(id="detail-body")
            with SidePanel(id="side"):
                yield Static(Text("…"), id="cases")
                yield Static(Text("…"), id="promises")
                yield Static(Text("…"), id="authority")
                yield KnowledgePanel(id="articles")
        yield DecisionBar(id="decisions")
        yield KeyBar()

    @property
    def timeline(self) -> TimelineView:
        return self.query_one("#timeline", TimelineView)

    @property
    def detail(self) -> EntryBody:
        return self.query_one("#detail-body", EntryBody)

    @property
    def decision_bar(self) -> DecisionBar:
        return self.query_one("#decisions", DecisionBar)

    def on_screen_resume(self) -> None:
        self.app.post_message(Presenting(self.customer_id))
        self._render_presence()

    def on_presence_seen(self, message: PresenceSeen) -> None:
        self._render_presence()

    def _render_presence(self) -> None:
        """``Anna Berg has this customer open · typing a reply``: before deciding or answering twice."""
        words = presence_words(on_customer(self.desk.presence, self.customer_id))
        line = self.query_one("#presence", Static)
        line.update(Text(f"● {words}", end="") if words else Text(""))
        line.display = bool(words)

    def on_mount(self) -> None:
        self.timeline.border_title = "Timeline"
        self.query_one("#detail").border_title = "Entry"
        self.query_one("#cases").border_title = "Open cases"
        self.query_one("#promises").border_title = "Open promises"
        self.query_one("#authority").border_title = "Your authority"
        self.timeline.focus()
        self.set_interval(30, self._refresh_times)
        self._ticker = self.set_interval(1, self.tick, pause=True)
        # a keymap change (or anything else that changes the keys in force) shows in the bar
        self.bindings_updated_signal.subscribe(self, self._bindings_changed)
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
        if customer_id != self.customer_id:
            self._refused = None
            self._deferred.clear()  # keys pressed for the last customer are not for this one
        self._outcome = None  # what happened before is on the timeline; the bar starts afresh
        self.customer_id = customer_id
        self._shown_entry = None
        if not self.is_mounted:
            self._initial = data
            return
        self._show(data)
        self.timeline.focus()

    def _show(self, data: CustomerData, cursor: int | str | None = "end") -> None:
        self.data = data
        self._names[data.card.customer.id] = data.card.customer.name
        self.query_one(DeskHeader).set_context(Text(one_line(data.card.customer.name, 60)))
        self._render_banner()
        self._set_decisions(data.decisions)
        self._render_side()
        self._show_articles()
        loader = partial(self.desk.reader.timeline_page, self.customer_id, total=data.count)
        timeline = self.timeline
        timeline.set_source(data.count, loader, cursor=cursor, preloaded=(data.tail_offset, data.tail))
        self._show_entry(timeline.cursor, timeline.cursor_item)  # now, not a message later

    def on_resize(self) -> None:
        if self.data is not None:
            self._render_banner()  # the narrow form puts both clocks first

    def _refresh_times(self) -> None:
        if self.data is not None:
            self._render_banner()
            self._render_side()

    # --- header -----------------------------------------------------------------------

    def _render_banner(self) -> None:
        assert self.data is not None
        customer = self.data.card.customer
        owner = self.data.card.owner
        muted = text_style(self, "customer--muted")
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
        narrow = self.has_class("-narrow")
        sep = BAR_SEP if narrow else SEP
        place = Text(end="")
        if not narrow:
            place.append("location ", muted)
        place.append(one_line(customer.location, 60) if customer.location else "location unknown")
        if not narrow:
            line.append_text(place)
            line.append(sep, muted)
        their_zone = zone(customer.timezone)
        line.append("their time ", muted)
        if their_zone is not None:
            local = now.astimezone(their_zone)
            line.append(local.strftime("%a %H:%M"), "bold")
            # narrow: the short zone name only, so both clocks fit in 80 columns
            line.append(f" {local.strftime('%Z')}" if narrow else f" {customer.timezone} ({local.strftime('%Z')})")
        else:
            unknown = f" (zone {one_line(customer.timezone, 40)!r} not known)" if customer.timezone else ""
            line.append("unknown" + unknown)
        line.append(sep, muted)
        line.append("your time ", muted)
        mine = self.desk.to_viewer(now)
        line.append(mine.strftime("%a %H:%M %Z"))
        if narrow:
            line.append(sep, muted)
            line.append_text(place)
        self.query_one("#banner", Static).update(line, layout=False)  # fixed height: no relayout

    # --- side panel -------------------------------------------------------------------

    def _render_side(self) -> None:
        assert self.data is not None
        now = self.desk.now()
        muted = text_style(self, "customer--muted")
        cases, promises = self.data.cases, self.data.promises
        cases_box = self.query_one("#cases", Static)
        cases_box.border_title = f"Open cases · {len(cases)}"
        text = Text(end="")
        if not cases:
            text.append("No open cases.", text_style(self, "customer--note"))
        for index, case in enumerate(cases):
            if index:
                text.append("\n\n")
            text.append(one_line(case.id, 40), "bold")
            text.append("  ")
            text.append(one_line(case.subject, 200))
            text.append("\n")
            text.append(f"{case.status.value} · opened {duration(now - case.opened_at)} ago", muted)
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
            text.append("No open promises.", text_style(self, "customer--note"))
        for index, promise in enumerate(promises):
            if index:
                text.append("\n\n")
            text.append(one_line(promise.what, 200))
            text.append("\n")
            overdue = promise.due < now or promise.state == "overdue"
            if overdue:
                text.append(" OVERDUE ", "bold reverse")
                text.append(" ")
            when = until(promise.due, now)
            text.append(when.removeprefix("overdue ") if overdue else when, "bold" if overdue else None)
            text.append("\n")
            text.append(f"due {self.desk.to_viewer(promise.due).strftime('%a %d %b %H:%M %Z')}", muted)
        promises_box.update(text)
        self._render_authority()

    def _render_authority(self) -> None:
        """What this agent may decide for this customer: limits, 30-day budget left, callbacks, escalation."""
        box = self.query_one("#authority", Static)
        decisions = self.data.decisions if self.data is not None else DecisionState()
        choices = decisions.choices
        role = choices.role if choices is not None else None
        text = Text(end="")
        if choices is None or role is None:
            box.border_title = "Your authority"
            text.append(decisions.unavailable or "You decide nothing here.", text_style(self, "customer--note"))
            box.update(text)
            return
        box.border_title = Text(f"Your authority · {one_line(role.name, 30)}")
        if role.read_only:
            text.append("Read-only: you decide nothing.", text_style(self, "customer--note"))
            box.update(text)
            return
        lines = 0
        for kind in MONEY_KINDS:
            rule = role.money_rule(kind)
            if lines:
                text.append("\n")
            lines += 1
            if rule is None:
                text.append(f"{kind}: ", "bold")
                text.append("not yours to decide")
                continue
            option = choices.options.get(kind)
            limit = option.verdict.limit if option is not None else None
            left = option.verdict.budget_left if option is not None else None
            text.append(f"{kind} ", "bold")
            text.append(f"up to {limit}" if limit is not None else f"up to {rule.max}")
            if left is not None:
                text.append("\n  ")
                text.append(f"{at_least_zero(left)} left here", "bold" if left.amount <= 0 else None)
                text.append(" (30 days)", text_style(self, "customer--muted"))
        text.append("\n")
        text.append("callbacks ", "bold")
        callback = role.callback
        if callback is None or not callback.allowed:
            text.append("not yours to promise")
        else:
            text.append("yes" + (", abroad too" if callback.international else ", home country only"))
        if role.escalate_to:
            text.append("\n")
            text.append("escalates to ", "bold")
            text.append(one_line(role.escalate_to, 30))
        if role.approves:
            text.append("\n")
            text.append("approves ", "bold")
            text.append(one_line(", ".join(role.approves), 60))
        box.update(text)

    def action_toggle_side(self) -> None:
        self.toggle_class("-side-toggled")

    # --- timeline and detail ------------------------------------------------------------

    @on(LineList.Highlighted, "#timeline")
    def _entry_highlighted(self, message: LineList.Highlighted) -> None:
        self._show_entry(message.row, message.item)

    def _show_entry(self, row: int, entry: object | None) -> None:
        detail = self.query_one("#detail")
        count = self.timeline.row_count
        detail.border_title = f"Entry {row + 1:,} of {count:,}" if count else "Entry"
        if entry is not None and entry == self._shown_entry:
            return  # the same entry read again (after a decision): keep the detail pane where it is
        self._shown_entry = entry
        if not isinstance(entry, TimelineEntry):
            loading = Text("Loading…", text_style(self, "customer--note"))
            self.query_one("#detail-head", Static).update(loading, layout=False)
            self.detail.set_text(None)
            return
        self.query_one("#detail-head", Static).update(self.entry_head(entry), layout=False)
        self.detail.set_text(entry.body, placeholder="(no text)")

    def entry_head(self, entry: TimelineEntry) -> Text:
        """The detail pane's header: what and who first, then when (both zones) and the ids."""
        muted = text_style(self, "customer--muted")
        head = Text(no_wrap=True, overflow="ellipsis", end="")
        if entry.kind is EntryKind.DECISION:
            head.append("◆ decision ")
            head.append(one_line(entry.event_kind or "decision", 60), "bold")
            tag = state_tag(entry)
            if tag:
                head.append(" ")
                head.append(tag, "bold")
        elif entry.is_internal:
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
        delivery = reply.delivery(entry)
        if delivery is not None:
            head.append(SEP, muted)
            head.append("reply to ", muted)
            head.append(one_line(str(entry.extra.get(reply.TO, "")), 60))
            head.append(SEP, muted)
            head.append(delivery, "bold")
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

    # --- decisions: the bar -----------------------------------------------------------

    @property
    def decisions_available(self) -> bool:
        """False when read-only, without a signed-in agent, or without a ledger: no write path at all."""
        desk = self.desk
        return (not desk.read_only and desk.ledger is not None and desk.agent is not None
                and role_unavailable(desk) is None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DECISION_ACTIONS and not self.decisions_available:
            return False  # not in force: neither shown (help, palette) nor run
        return True

    @property
    def pending(self) -> tuple[Decision, ...]:
        """This agent's decisions in their undo window (any customer), oldest first."""
        return self._pending

    def key_of(self, action: str) -> str | None:
        """The key in force for one of this screen's own actions (keymaps included), as Textual shows it."""
        return key_shown(self, action, self)

    def _bindings_changed(self, screen: object) -> None:
        if self.data is not None:
            self._render_bar()

    def _set_decisions(self, decisions: DecisionState) -> None:
        self._names.update(decisions.names)
        self._set_pending(decisions.pending, render=False)
        self._render_bar()

    def _set_pending(self, pending: tuple[Decision, ...] | list[Decision], *, render: bool = True) -> None:
        self._pending = tuple(pending)
        if self._ticker is not None:
            if self._pending:
                self._ticker.resume()
            else:
                self._ticker.pause()
        if render:
            self._render_bar()

    def _their_zone(self):  # noqa: ANN202 - tzinfo | None
        return zone(self.data.card.customer.timezone) if self.data is not None else None

    def is_waiting(self, proposal: Proposal) -> bool:
        """Is exactly this proposal already escalated here and waiting for approval?"""
        waiting = self.data.decisions.waiting if self.data is not None else ()
        return any(d.proposal_kind == proposal.kind and d.amount == proposal.amount and d.scheduled == proposal.at
                   for d in waiting)

    def _escalation(self) -> tuple[Proposal, str | None] | None:
        """What ``e`` escalates: the last refusal here, else the bar's first suggestion beyond a limit.

        Never one that is already waiting for approval: a second key press asks nobody twice.
        """
        if self._refused is not None:
            proposal, verdict = self._refused
            if not self.is_waiting(proposal):
                return proposal, verdict.reason
        choices = self.data.decisions.choices if self.data is not None else None
        if choices is None:
            return None
        for kind in ESCALATABLE_KINDS:
            option = choices.options.get(kind)
            if (option is not None and not option.allowed and option.suggested is not None
                    and option.verdict.escalate_to and not self.is_waiting(option.suggested)):
                return option.suggested, option.verdict.reason
        return None

    def _render_bar(self) -> None:
        bar = self.decision_bar
        key_style = bar.style_of("key")
        decisions = self.data.decisions if self.data is not None else DecisionState()
        groups: list[Group | list[Text]] = []
        if not self.decisions_available or decisions.unavailable is not None:
            reason = decisions.unavailable or (READ_ONLY_TEXT if self.desk.read_only else NO_AGENT_TEXT)
            line = Text(end="")
            head, _, rest = reason.partition(" · ")
            line.append(head, bar.style_of("badge"))
            if rest:
                line.append(" · " + rest)
            bar.show([[line]])
            return
        their_zone, to_viewer = self._their_zone(), self.desk.to_viewer
        if self._pending:
            newest = self._pending[-1]
            what = one_line(decision_words(newest, their_zone, to_viewer), 200) + self._whose(newest)
            parts: list[str | Text] = [what, countdown(newest, self.desk.now()) or "no time limit"]
            for action, words in (("undo", "undo"), ("send_now", "send now")):
                key = self.key_of(action)
                if key is not None:
                    parts.append(Text.assemble((key, key_style), " " + words))
            if len(self._pending) > 1:
                parts.append(f"{len(self._pending) - 1} more pending")
            groups.append(self._badge_line("PENDING", "badge", *parts))
        if isinstance(self._outcome, Followed):
            groups.append(self._followed_line(self._outcome))
        elif self._outcome is not None:
            groups.append(self._outcome)
        choices = decisions.choices
        if choices is not None:
            escalation = self._escalation()
            items = options_items(choices, self.key_of, their_zone, to_viewer,
                                  escalation[0] if escalation is not None else None, self.is_waiting)
            group = []
            for key, words in items:
                item = Text(end="")
                item.append(key, key_style)
                item.append(" " + words)
                group.append(item)
            groups.append(group)
        bar.show(groups)

    @property
    def uses_backend(self) -> bool:
        """With a backend nothing is sent or final before it answered (local only, the store is the last word)."""
        return uses_backend(self.app)

    def _followed_line(self, followed: Followed) -> Group:
        """`` CONFIRMED  refund 39.90 EUR · by the backend``: the decision's state as stored now, in words."""
        current = self.data.decisions.current if self.data is not None else {}
        decision = current.get(followed.decision.id, followed.decision)
        what = one_line(decision_words(decision, self._their_zone(), self.desk.to_viewer), 200) + self._whose(decision)
        answer = answer_words(decision, self.desk.person)
        if answer is not None:
            badge, words = answer
            return self._badge_line(badge, ANSWER_STYLES.get(badge, "done"), what, words)
        backend = self.uses_backend
        return self._badge_line(followed.badge, "badge" if backend else "done", what,
                                sent_words(decision, backend=backend))

    def _whose(self, decision: Decision) -> str:
        """`` for Sven Albrecht (not this customer)`` when the decision is for another customer than the one open."""
        if decision.customer == self.customer_id:
            return ""
        name = self._names.get(decision.customer)
        who = one_line(name, 60) if name else f"customer {one_line(decision.customer, 40)}"
        return f" for {who} (not this customer)"

    def _say(self, outcome: Group | str) -> None:
        """Put one line of outcome in the bar (and release anyone waiting for the paint)."""
        self._outcome = outcome if isinstance(outcome, Group) else Group([Text(outcome, end="")])
        self._render_bar()
        self.call_after_refresh(self.decision_painted.set)

    def _badge_line(self, badge: str, style_name: str, *parts: str | Text) -> Group:
        """`` PENDING  refund 39.90 EUR · queued in 8 s · u undo``: a badge in words, then the parts."""
        items = [part if isinstance(part, Text) else Text(part, end="") for part in parts]
        head = Text(end="")
        head.append(f" {badge} ", self.decision_bar.style_of(style_name))
        head.append(" ")
        head.append_text(items[0] if items else Text(""))
        return Group([head, *items[1:]], sep=BAR_SEP)

    def _refusal_line(self, verdict: Verdict) -> Group:
        """``REFUSED refund 80.00 EUR: over your limit of 50.00 EUR · rule agent.refund.max · e escalate to lead``."""
        what = proposal_words(verdict.proposal, self._their_zone(), self.desk.to_viewer)
        parts: list[str | Text] = [f"{one_line(what, 200)}: {refusal_text(verdict)}", f"rule {verdict.rule}"]
        key = self.key_of("escalate")
        if verdict.escalate_to and key is not None and verdict.proposal.kind in ESCALATABLE_KINDS:
            parts.append(Text.assemble((key, self.decision_bar.style_of("key")), f" escalate to {verdict.escalate_to}"))
        return self._badge_line("REFUSED", "refused", *parts)

    # --- decisions: keys ----------------------------------------------------------------

    def _choices_or_say(self) -> Choices | None:
        if not self.is_active:
            # A key typed ahead while a dialog was opening reaches this screen's timeline
            # first: it must not decide anything behind the dialog's back.
            return None
        choices = self.data.decisions.choices if self.data is not None else None
        if choices is None:
            self.decision_painted.clear()
            self._say("the decisions for this customer are still being read; try again in a moment")
        return choices

    def _later(self, action: Callable[[], None], *, key: bool = True) -> bool:
        """While a write settles, keep the key for afterwards (it then sees what the write changed).

        The same key again while its own write is on its way is a double press or a
        held-down key, not a second decision: it is dropped.
        """
        if not self._busy:
            if key:  # the key that starts the next write (not the write's own inner step)
                self._running_action = action
            return False
        last = self._deferred[-1] if self._deferred else self._running_action
        if action != last and len(self._deferred) < MAX_DEFERRED:
            self._deferred.append(action)
        return True

    def action_take_refund(self) -> None:
        if not self._later(self.action_take_refund):
            self._take_option("refund")

    def action_take_voucher(self) -> None:
        if not self._later(self.action_take_voucher):
            self._take_option("voucher")

    def action_take_callback(self) -> None:
        if not self._later(self.action_take_callback):
            self._take_option("callback")

    def _take_option(self, kind: str) -> None:
        """One key: take the bar's suggestion; with nothing to suggest, adjust first."""
        choices = self._choices_or_say()
        if choices is None:
            return
        option = choices.options.get(kind)
        if option is None:
            return
        if option.suggested is not None:
            self._take(option.suggested)
        elif option.verdict.needs is not None:
            self.action_adjust(kind)
        else:
            self.decision_painted.clear()
            self._say(self._refusal_line(option.verdict))

    def action_escalate(self) -> None:
        if self._later(self.action_escalate):
            return
        choices = self._choices_or_say()
        if choices is None:
            return
        role = choices.role
        if role is None or role.escalate_to is None:
            self.decision_painted.clear()
            name = role.name if role is not None else "your role"
            self._say(self._badge_line("NOT POSSIBLE", "refused", f"there is no role above {name} to escalate to"))
            return
        target = self._escalation()
        if target is None:
            self.action_adjust(None, mode="escalate")  # say what to propose first
            return
        proposal, reason = target
        self._take(Proposal("escalate", escalates=proposal, reason=reason))

    def action_adjust(self, kind: str | None = None, mode: str = "take") -> None:
        if self._later(partial(self.action_adjust, kind, mode)):
            return
        choices = self._choices_or_say()
        if choices is None or self.data is None:
            return
        from agentdesk.tui.screens.adjust import AdjustScreen

        start = self._refused[0] if self._refused is not None and kind is None else None
        self.app.push_screen(AdjustScreen(self.desk, self.data.card.customer, choices, kind=kind, mode=mode,
                                          start=start), self._adjusted)

    def _adjusted(self, result: AdjustResult | None) -> None:
        if result is not None:  # escape: nothing changes
            self._take(result.proposal)

    def action_note(self) -> None:
        if self._later(self.action_note) or self._choices_or_say() is None or self.data is None:
            return
        from agentdesk.tui.screens.prompt import PromptScreen

        name = one_line(self.data.card.customer.name, 60)
        question = Text(f"Internal note on {name} (colleagues see it, the customer does not)", "bold", end="")
        self.app.push_screen(PromptScreen("Internal note", question, placeholder="what the next colleague should know",
                                          submit="saves",
                                          when_empty="write the note first, or press {cancel} to cancel"),
                             self._noted)

    def _noted(self, text: str | None) -> None:
        if text:
            self._take(Proposal("note", reason=text))

    def action_log_contact(self) -> None:
        if self._later(self.action_log_contact) or not self.is_active or self.data is None:
            return
        from agentdesk.tui.screens.contact import ContactScreen

        name = one_line(self.data.card.customer.name, 60)
        question = Text(f"A contact with {name} that reached us another way (a letter, a shop visit, …)",
                        "bold", end="")
        self.app.push_screen(ContactScreen(question), self._contact_given)

    def _contact_given(self, contact: LoggedContact | None) -> None:
        if contact is None:
            return
        if self._later(partial(self._contact_given, contact), key=False) or not self._begin():
            return
        self._log_worker(self.customer_id, contact)

    # --- knowledge articles -------------------------------------------------------------

    def _show_articles(self) -> None:
        """The side panel's articles for this customer's open cases (read in the panel's own worker)."""
        key = self.key_of("knowledge")
        self.query_one(KnowledgePanel).show_for(self.desk.reader, self.customer_id,
                                                f"{key} searches every article" if key else "")

    def action_knowledge(self) -> None:
        from agentdesk.tui.screens.knowledge import KnowledgeScreen

        if self.is_active:
            self.app.push_screen(KnowledgeScreen(self.desk))

    def action_reply(self) -> None:
        if self._later(self.action_reply) or not self.is_active or self.data is None:
            return
        self._reply_context_worker(self.customer_id)

    @work(group="reply", exclusive=True, exit_on_error=False, description="opening the reply editor")
    async def _reply_context_worker(self, customer_id: str) -> None:
        ledger, agent = self.desk.ledger, self.desk.agent
        assert ledger is not None and agent is not None  # check_action keeps the key out otherwise
        try:
            context = await ledger.reply_context(agent.id, customer_id)
        except Exception as error:  # noqa: BLE001 - said in one line; the screen stays usable
            self.post_message(self.DecisionDone(customer_id, "reply", error=f"cannot reply: {error}"))
            return
        self.post_message(self.ReplyReady(context))

    def on_customer_screen_reply_ready(self, message: CustomerScreen.ReplyReady) -> None:
        from agentdesk.tui.screens.reply import ReplyScreen

        if self.is_active and message.context.customer.id == self.customer_id:
            self.app.push_screen(ReplyScreen(message.context, self.desk), partial(self._reply_given, self.customer_id))

    def _reply_given(self, customer_id: str, action: ReplyAction | None) -> None:
        if action is None:
            return
        if action.what == "draft":
            self._draft_worker(customer_id, action)
            return
        if self._later(partial(self._reply_given, customer_id, action), key=False) or not self._begin():
            return
        self._reply_worker(customer_id, action)

    @work(group="reply-draft", exit_on_error=False, description="keeping the draft")
    async def _draft_worker(self, customer_id: str, action: ReplyAction) -> None:
        ledger, agent = self.desk.ledger, self.desk.agent
        assert ledger is not None and agent is not None
        try:
            kept = await ledger.save_draft(agent.id, customer_id, action.text, action.channel, action.case_id)
        except Exception as error:  # noqa: BLE001 - said in one line
            self.post_message(self.DecisionDone(customer_id, "reply", error=f"draft not kept: {error}"))
            return
        self.post_message(self.DraftKept(kept))

    def on_customer_screen_draft_kept(self, message: CustomerScreen.DraftKept) -> None:
        reopen = self.key_of("reply") or "m"
        self._say(f"draft kept: {reopen} opens it again" if message.kept else "reply thrown away (it was empty)")

    @work(group="decide", exit_on_error=False, description="queueing the reply")
    async def _reply_worker(self, customer_id: str, action: ReplyAction) -> None:
        ledger, agent = self.desk.ledger, self.desk.agent
        assert ledger is not None and agent is not None
        try:
            entry = await ledger.reply(agent.id, customer_id, action.text, action.channel, action.case_id)
        except Exception as error:  # noqa: BLE001 - said in one line; the text is kept as a draft
            await ledger.save_draft(agent.id, customer_id, action.text, action.channel, action.case_id)
            self.post_message(self.DecisionDone(customer_id, "reply",
                                                error=f"not sent: {error} (kept as a draft)"))
        else:
            self.app.post_message(RepliesQueued(entry.id))  # the sync loop pushes at once
            self.post_message(self.Replied(entry))
        try:
            await self._reread(customer_id)
        finally:
            self.post_message(self.Settled())

    def on_customer_screen_replied(self, message: CustomerScreen.Replied) -> None:
        entry = message.entry
        where = reply.Destination(entry.channel or Channel.EMAIL, str(entry.extra.get(reply.TO, "")))
        self._outcome = self._badge_line("QUEUED", "done", f"reply by {where.words()}",
                                         "the backend sends it; the timeline says when it is sent")
        self._render_bar()
        self.call_after_refresh(self.decision_painted.set)

    def action_undo(self) -> None:
        if not self._later(self.action_undo):
            self._on_newest_pending("undo", "nothing to undo: none of your decisions is pending")

    def action_send_now(self) -> None:
        if not self._later(self.action_send_now):
            self._on_newest_pending("send", "nothing to send: none of your decisions is pending")

    def _on_newest_pending(self, verb: str, nothing: str) -> None:
        if not self.is_active:
            return  # typed ahead into a dialog that was opening (see _choices_or_say)
        if not self._pending:
            self.decision_painted.clear()
            self._say(nothing)
            return
        if self._begin():
            self._change_worker(self.customer_id, verb, self._pending[-1])

    def _take(self, proposal: Proposal) -> None:
        if self._later(partial(self._take, proposal), key=False):
            return  # from a dialog that closed while another write settled
        choices = self.data.decisions.choices if self.data is not None else None
        if choices is None or not self._begin():
            return
        self._take_worker(self.customer_id, proposal, choices.case.id if choices.case is not None else None)

    def _begin(self) -> bool:
        """A decision key: clear the paint hook; one ledger write at a time (callers defer while busy)."""
        self.decision_painted.clear()
        if self._busy:
            return False
        self._busy = True
        return True

    # --- decisions: workers (ledger calls; they post, the handlers below own the state) ------

    @work(group="decide", exit_on_error=False, description="saving the decision")
    async def _take_worker(self, customer_id: str, proposal: Proposal, case_id: str | None) -> None:
        ledger, agent = self.desk.ledger, self.desk.agent
        assert ledger is not None and agent is not None  # check_action keeps the keys out otherwise
        try:
            taken = await ledger.take(agent.id, customer_id, proposal, case_id=case_id,
                                      undo_window=self.desk.undo_window)
        except Exception as error:  # noqa: BLE001 - said in one line; the screen stays usable
            self.post_message(self.DecisionDone(customer_id, "take", error=f"not saved: {error}"))
        else:
            if taken.decision is not None and taken.decision.state == "queued":  # no undo window: on its way
                self.app.post_message(DecisionsQueued((taken.decision.id,)))
            self.post_message(self.DecisionDone(customer_id, "take", taken=taken))
        try:
            await self._reread(customer_id)
        finally:
            self.post_message(self.Settled())

    @work(group="decide", exit_on_error=False, description="logging the contact")
    async def _log_worker(self, customer_id: str, contact: LoggedContact) -> None:
        ledger, agent = self.desk.ledger, self.desk.agent
        assert ledger is not None and agent is not None  # check_action keeps the key out otherwise
        try:
            entry = await ledger.log_contact(agent.id, customer_id, contact.channel, contact.direction,
                                             contact.summary)
        except Exception as error:  # noqa: BLE001 - said in one line; the screen stays usable
            self.post_message(self.DecisionDone(customer_id, "log", error=f"not logged: {error}"))
        else:
            self.app.post_message(DecisionsQueued())  # on its way: the sync loop pushes at once
            self.post_message(self.ContactLogged(entry))
        try:
            await self._reread(customer_id)
        finally:
            self.post_message(self.Settled())

    @work(group="decide", exit_on_error=False, description="changing the decision")
    async def _change_worker(self, customer_id: str, verb: str, decision: Decision) -> None:
        ledger, agent = self.desk.ledger, self.desk.agent
        assert ledger is not None and agent is not None
        call: Callable[[str, str], Awaitable[Decision]] = ledger.undo if verb == "undo" else ledger.send_now
        try:
            changed = await call(agent.id, decision.id)
        except Exception as error:  # noqa: BLE001 - LedgerError says why in one line
            self.post_message(self.DecisionDone(customer_id, verb, decision=decision,
                                                error=f"could not {verb}: {error}"))
        else:
            if changed.state == "queued":  # sent now (or its window had just closed): on its way
                self.app.post_message(DecisionsQueued((changed.id,)))
            self.post_message(self.DecisionDone(customer_id, verb, decision=changed))
        try:
            await self._reread(customer_id)
        finally:
            self.post_message(self.Settled())

    @work(group="release", exit_on_error=False, description="queueing decisions whose undo window ended")
    async def _release_worker(self) -> None:
        ledger = self.desk.ledger
        if ledger is None:
            return
        try:
            released = await ledger.release_due()
        finally:
            self._releasing = False
        if released:
            self.app.post_message(DecisionsQueued(tuple(decision.id for decision in released)))
        self.post_message(self.Released(released))
        await self._reread(self.customer_id)

    async def _reread(self, customer_id: str) -> None:
        self._refresh_serial += 1
        serial = self._refresh_serial
        self.post_message(self.Refreshed(customer_id, serial, await read_customer(self.desk, customer_id)))

    def tick(self) -> None:
        """The 1-second step while something is pending: the countdown, and the release of ended windows."""
        if not self._pending:
            if self._ticker is not None:
                self._ticker.pause()
            return
        now = self.desk.now()
        if not self._releasing and any(d.undo_until is not None and d.undo_until <= now for d in self._pending):
            self._releasing = True
            self._release_worker()
        self._render_bar()

    # --- decisions: results -------------------------------------------------------------

    def on_customer_screen_settled(self, message: CustomerScreen.Settled) -> None:
        """The write and the read after it are done: run the next key pressed meanwhile."""
        self._busy = False
        if self._deferred:
            self._deferred.pop(0)()

    def on_customer_screen_decision_done(self, message: CustomerScreen.DecisionDone) -> None:
        if message.error is not None:
            self._outcome = self._badge_line("NOT DONE", "refused", one_line(message.error, 300))
        elif message.verb == "take" and message.taken is not None:
            taken = message.taken
            decision = taken.decision
            if decision is None:
                verdict = taken.verdict
                if message.customer_id == self.customer_id:
                    escalatable = verdict.escalate_to and verdict.proposal.kind in ESCALATABLE_KINDS
                    self._refused = (verdict.proposal, verdict) if escalatable else None
                self._outcome = self._refusal_line(verdict)
            else:
                if decision.kind == "escalate":
                    # settled; an undo of the escalation brings the refusal back for e
                    self._escalated_refusals[decision.id] = self._refused
                    self._refused = None
                if decision.state == "pending":
                    self._outcome = None  # the PENDING strip says it
                    self._set_pending((*self._pending, decision), render=False)
                else:
                    self._outcome = Followed("TAKEN", decision)
        elif message.decision is not None:
            decision = message.decision
            self._set_pending(tuple(d for d in self._pending if d.id != decision.id), render=False)
            if message.verb == "undo":
                restored = self._escalated_refusals.pop(decision.id, None)
                if restored is not None and message.customer_id == self.customer_id:
                    self._refused = restored
                words = one_line(decision_words(decision, self._their_zone(), self.desk.to_viewer), 200)
                self._outcome = self._badge_line("UNDONE", "done", words, "taken back, nothing was sent")
            else:
                self._outcome = Followed("QUEUED", decision)
        self._render_bar()
        self.call_after_refresh(self.decision_painted.set)

    def on_customer_screen_contact_logged(self, message: CustomerScreen.ContactLogged) -> None:
        entry = message.entry
        channel = entry.channel.value if entry.channel is not None else "contact"
        answer = "waits for an answer" if entry.direction is Direction.IN else "counts as an answer"
        self._outcome = self._badge_line("LOGGED", "done", f"{channel} {entry.direction.value}",
                                         one_line(entry.body, 120), answer)
        self._render_bar()
        self.call_after_refresh(self.decision_painted.set)

    def on_customer_screen_released(self, message: CustomerScreen.Released) -> None:
        mine = {d.id for d in self._pending}
        released = [d for d in message.decisions if d.id in mine]
        if not released:
            return
        self._set_pending(tuple(d for d in self._pending if d.id not in {d.id for d in released}), render=False)
        if len(released) == 1:
            self._outcome = Followed("QUEUED", released[0])
        else:
            parts = [f"{len(released)} of your decisions left their undo window"]
            if self.uses_backend:
                parts.append(WAITING_FOR_BACKEND)
            self._outcome = self._badge_line("QUEUED", "badge" if self.uses_backend else "done", *parts)
        self._render_bar()

    def on_customer_screen_refreshed(self, message: CustomerScreen.Refreshed) -> None:
        if message.serial < self._applied_serial or message.data is None:
            return
        self._applied_serial = message.serial
        if message.customer_id != self.customer_id:
            self._names.update(message.data.decisions.names)
            self._set_pending(message.data.decisions.pending)  # agent-wide; the rest belongs to another customer
            return
        timeline = self.timeline
        at_end = timeline.cursor >= timeline.row_count - 1
        self._show(message.data, cursor="end" if at_end else None)

    def on_store_changed(self, message: StoreChanged) -> None:
        """Read again: someone committed to the store (a lead approved, another workstation decided, the backend).

        The outcome line follows its decision's state as read again; a decision on this customer that
        the backend refused takes the line over, whichever decision it followed.
        """
        for refusal in message.refusals:
            if refusal.decision.customer == self.customer_id:
                self._outcome = Followed("REFUSED", refusal.decision)
        if self.data is not None and self.is_mounted:
            self._reread_worker(self.customer_id)

    @work(group="customer-reread", exclusive=True, exit_on_error=False, description="reading the customer again")
    async def _reread_worker(self, customer_id: str) -> None:
        await self._reread(customer_id)
