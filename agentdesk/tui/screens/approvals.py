"""Approvals: the escalations waiting for the signed-in lead, approved or declined with one key each.

``y`` approves the selected escalation (the lead takes the proposed decision as
their own, checked against their own limits), ``d`` declines it at once, ``D``
declines it with a reason typed in a small dialog. ``enter`` opens the customer;
``escape`` goes back to the queue. Every change goes through the ledger; the
outcome is said in one line above the list.

With a backend, an approval is final only once the backend has taken it: until then the
line says ``approval sent, waiting for the backend`` and the row stays, saying so; the line
says ``Approved: …`` when the backend's answer is in the store, and a refusal stays on its row
(for :data:`REFUSALS_SHOWN_FOR`) with the backend's reason. Without a backend the local
approval is the last word, as it always was.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from agentdesk.domain.decision_text import APPROVAL_SENT, refusal_reason, terms
from agentdesk.domain.model import Case, Customer, Decision
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration
from agentdesk.tui.keymap import key_shown
from agentdesk.tui.messages import DecisionsQueued, OpenCustomer, Presenting, StoreChanged
from agentdesk.tui.screens import DeskScreen
from agentdesk.tui.screens.prompt import PromptScreen
from agentdesk.tui.widgets.approval_list import ApprovalItem, ApprovalList
from agentdesk.tui.widgets.decision_bar import uses_backend
from agentdesk.tui.widgets.desk_header import DeskHeader
from agentdesk.tui.widgets.key_bar import KeyBar
from agentdesk.tui.widgets.line_list import LineList

if TYPE_CHECKING:
    from agentdesk.tui.app import Desk

__all__ = ["ApprovalsScreen"]

REFRESH_SECONDS = 30
REFUSALS_SHOWN_FOR = timedelta(days=1)
"""An approval the backend refused stays on the list this long (a working day), with why."""


@dataclass(frozen=True, slots=True)
class SentApproval:
    """An approval this screen sent, until the backend answered it: what the outcome line then says."""

    escalation_id: str
    what: str
    """``refund 80.00 EUR for Ole Brandt``, made safe to show."""
    promise: str
    """``, promise due Fri 17 Jul 14:00`` or nothing."""
    escalated_by: str


class ApprovalsScreen(DeskScreen):
    """The lead's worklist of escalations."""

    CSS_PATH = "approvals.tcss"
    HELP_TITLE: ClassVar[str] = "Approvals screen"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "approve", "Approve", id="approvals.approve"),
        Binding("d", "decline", "Decline", id="approvals.decline"),
        Binding("D,shift+d", "decline_with_reason", "Decline with a reason", id="approvals.decline_with_reason"),
        Binding("escape", "back", "Back to queue", id="approvals.back"),
    ]

    class Loaded(Message):
        def __init__(self, items: list[ApprovalItem], now: datetime, answered: tuple[Decision, ...] = ()) -> None:
            super().__init__()
            self.items = items
            self.now = now
            self.answered = answered
            """Approvals sent from this screen that the backend has answered since (confirmed or refused)."""

    class Done(Message):
        """An approve or decline finished: ``line`` says how, ``kind`` is approved/sent/refused/declined/failed."""

        def __init__(self, escalation_id: str, kind: str, line: str) -> None:
            super().__init__()
            self.escalation_id = escalation_id
            self.kind = kind
            self.line = line

    class Sent(Message):
        """An approval is stored and queued for the backend (with a backend): it is not approved before it answers."""

        def __init__(self, approval_id: str, sent: SentApproval) -> None:
            super().__init__()
            self.approval_id = approval_id
            self.sent = sent

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._busy: set[str] = set()
        """Escalations with an approve or decline on its way (a second key press is ignored)."""
        self.last_outcome: str = ""
        self._sent: dict[str, SentApproval] = {}
        """Approval decision id -> what to say when the backend has answered it (with a backend only)."""

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.preset_breakpoints()
        yield DeskHeader(app_name=self.app.title, person=lambda: self.desk.person_label,
                         read_only=self.desk.read_only, now=self.desk.viewer_now, sync=self.desk.sync_line,
                         id="header")
        # The outcome goes above the list: notices (callbacks, outcomes) pop up at the bottom right.
        yield Static(id="outcome", markup=False)
        yield ApprovalList(self.desk.person, id="approvals")
        yield Static(id="detail", markup=False)
        yield KeyBar()

    @property
    def approvals(self) -> ApprovalList:
        return self.query_one("#approvals", ApprovalList)

    def on_mount(self) -> None:
        self.approvals.border_title = "Waiting for your approval"
        self.query_one(DeskHeader).set_context(Text("Approvals"))
        self.approvals.focus()
        self.set_interval(REFRESH_SECONDS, self.load)  # the waiting times move on

    def on_store_changed(self, message: StoreChanged) -> None:
        """Another lead may have decided one, or an agent escalated a new one: read the list again."""
        self.load()

    def on_screen_resume(self) -> None:
        """Shown (first push, or back from a customer): read the list (it may have changed meanwhile)."""
        self.app.post_message(Presenting(None))
        self.load()

    # --- reading --------------------------------------------------------------------

    @work(exclusive=True, group="approvals", exit_on_error=False, description="Reading the escalations")
    async def load(self) -> None:
        """Worker: the waiting escalations with their customers and cases; posts them, touches no widget."""
        reader = await self.desk.wait_ready()
        ledger, agent = self.desk.ledger, self.desk.agent
        if ledger is None or agent is None:
            self.post_message(self.Loaded([], self.desk.now()))
            return
        now = self.desk.now()
        rows: list[tuple[Decision, Decision | None]] = [(d, None) for d in await ledger.waiting_approvals(agent.id)]
        unsettled = await ledger.unsettled_approvals(agent.id, now - REFUSALS_SHOWN_FOR) if self.uses_backend else []
        escalations = await asyncio.gather(*(reader.decision(approval.approves or "") for approval in unsettled))
        rows += [(escalation, approval) for escalation, approval in zip(escalations, unsettled, strict=True)
                 if escalation is not None]
        rows.sort(key=lambda row: (row[0].at, row[0].id))
        customer_ids = list(dict.fromkeys(escalation.customer for escalation, _ in rows))
        customers: list[Customer | None] = list(await asyncio.gather(*(reader.customer(c) for c in customer_ids)))
        cases_of: list[list[Case]] = list(await asyncio.gather(*(reader.open_cases(c) for c in customer_ids)))
        by_id = dict(zip(customer_ids, customers, strict=True))
        cases = {case.id: case for found in cases_of for case in found}
        items = [ApprovalItem(escalation, by_id.get(escalation.customer), cases.get(escalation.case or ""), approval)
                 for escalation, approval in rows]
        sent = await asyncio.gather(*(ledger.decision(ident) for ident in list(self._sent)))
        answered = tuple(d for d in sent if d is not None and d.state in ("confirmed", "refused"))
        self.post_message(self.Loaded(items, now, answered))

    @property
    def uses_backend(self) -> bool:
        """With a backend an approval is final once the backend has taken it; local only, once it is stored."""
        return uses_backend(self.app)

    def on_approvals_screen_loaded(self, message: ApprovalsScreen.Loaded) -> None:
        approvals = self.approvals
        current = approvals.cursor_item
        keep = current.escalation.id if current is not None else None
        row = approvals.cursor
        for index, item in enumerate(message.items):
            if item.escalation.id == keep:
                row = index
                break
        approvals.now = message.now
        approvals.set_items(message.items, cursor=min(row, max(len(message.items) - 1, 0)))
        count = sum(item.approval is None for item in message.items)
        approvals.border_title = f"Waiting for your approval · {count}"
        self._show_detail(approvals.cursor_item)
        self.refresh_bindings()
        for approval in message.answered:
            self._answered(approval)

    def _answered(self, approval: Decision) -> None:
        """The backend took an approval sent from here, or refused it: the outcome line says which."""
        sent = self._sent.pop(approval.id, None)
        if sent is None:
            return
        if approval.state == "confirmed":
            line = f"Approved: {sent.what}{sent.promise}; {sent.escalated_by} is told."
            self._tell(ApprovalsScreen.Done(sent.escalation_id, "approved", line))
        else:
            reason = refusal_reason(approval)
            line = (f"Not approved: the backend refused your approval of {sent.what}: "
                    f"{one_line(reason, 300) if reason else 'no reason given'}.")
            self._tell(ApprovalsScreen.Done(sent.escalation_id, "refused", line))

    @on(LineList.Highlighted, "#approvals")
    def _highlighted(self, message: LineList.Highlighted) -> None:
        item = message.item
        self._show_detail(item if isinstance(item, ApprovalItem) else None)

    def _show_detail(self, item: ApprovalItem | None) -> None:
        """Under the list, the selected escalation in full sentences (the row may be cut)."""
        detail = self.query_one("#detail", Static)
        if item is None:
            detail.update(Text(""))
            return
        escalation = item.escalation
        text = Text()
        text.append(one_line(self.desk.person(escalation.agent), 60), "bold")
        text.append(f" asks the {one_line(escalation.escalate_to or 'next role up', 30)} to approve ")
        text.append(one_line(item.proposal, 80), "bold")
        text.append(" for ")
        text.append(one_line(item.customer_name, 60), "bold")
        if item.case is not None:
            text.append(f" (case {one_line(item.case.id, 30)}: {one_line(item.case.subject, 60)})")
        elif escalation.case:
            text.append(f" (case {one_line(escalation.case, 30)})")
        text.append(f", waiting {duration(self.desk.now() - escalation.at)}.\n")
        # The reason is the escalating agent's: their own words, or the refusal they were given,
        # so it is quoted as theirs.
        text.append("Why", "bold")
        text.append(f" (in {one_line(self.desk.person(escalation.agent), 60)}'s escalation): ")
        if escalation.reason:
            text.append(f"“{one_line(escalation.reason, 300)}”")
        else:
            text.append("no reason given")
        if item.status is not None:
            text.append("\nYou approved it: ", "bold")
            text.append(item.status)
        detail.update(text)

    # --- deciding -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "decline", "decline_with_reason"):
            if not self.desk.approves:
                return False  # never offered to who approves nothing (the queue has no way here then)
            item = self.approvals.cursor_item
            return True if item is not None and item.approval is None else None  # a sent approval is decided
        return True

    def _selected(self) -> ApprovalItem | None:
        item = self.approvals.cursor_item
        if item is None or item.approval is not None or item.escalation.id in self._busy or not self.desk.approves:
            return None
        return item

    def action_approve(self) -> None:
        item = self._selected()
        if item is not None:
            self._busy.add(item.escalation.id)
            self.approve(item)

    def action_decline(self) -> None:
        item = self._selected()
        if item is not None:
            self._busy.add(item.escalation.id)
            self.decline(item, f"declined by {self._me}")

    def action_decline_with_reason(self) -> None:
        item = self._selected()
        if item is None:
            return

        def declined(reason: str | None) -> None:
            if reason and item.escalation.id not in self._busy:
                self._busy.add(item.escalation.id)
                self.decline(item, reason)

        escalated_by = one_line(self.desk.person(item.escalation.agent), 60)
        question = Text("Decline ")
        question.append(one_line(item.proposal, 80), "bold")
        question.append(" for ")
        question.append(one_line(item.customer_name, 60), "bold")
        question.append(f"?\n{escalated_by} sees the reason you give.")
        self.app.push_screen(PromptScreen("Decline with a reason", question, placeholder="Why is it declined?",
                                          submit="declines",
                                          when_empty=f"Type a reason first, or {{cancel}} "
                                                     f"({key_shown(self, 'decline') or 'd'} declines without one)."),
                             declined)

    @property
    def _me(self) -> str:
        agent = self.desk.agent
        return one_line(agent.name, 60) if agent is not None else "the lead"

    @work(group="decide", exit_on_error=False, description="Approving")
    async def approve(self, item: ApprovalItem) -> None:
        """Worker: approve through the ledger; posts the outcome in one line."""
        from agentdesk.desk.store import LedgerError

        ledger, agent = self.desk.ledger, self.desk.agent
        assert ledger is not None and agent is not None
        escalation = item.escalation
        customer = one_line(item.customer_name, 60)
        try:
            taken = await ledger.approve(agent.id, escalation.id)
        except (LedgerError, sqlite3.Error) as error:  # said in one line; the row can be tried again
            self.post_message(self.Done(escalation.id, "failed", f"Could not approve: {one_line(str(error))}"))
            return
        decision = taken.decision
        if decision is None:
            verdict = taken.verdict
            reason = one_line(verdict.reason or "outside your authority")
            higher = f"; the {verdict.escalate_to} could decide it" if verdict.escalate_to else ""
            self.post_message(self.Done(escalation.id, "refused",
                                        f"Not approved — your own limits refuse it: {reason}{higher}. It still waits."))
            return
        self.app.post_message(DecisionsQueued((decision.id,)))  # the approval is in the outbox: pushed at once
        what = f"{terms(decision, item.customer.timezone if item.customer else None)} for {customer}"
        promise = taken.promise
        due = f", promise due {self.desk.to_viewer(promise.due):%a %d %b %H:%M}" if promise is not None else ""
        escalated_by = one_line(self.desk.person(escalation.agent), 60)
        if self.uses_backend:  # approved once the backend has taken it: it may still refuse
            self.post_message(self.Sent(decision.id, SentApproval(escalation.id, what, due, escalated_by)))
            return
        words = f"Approved: {what} queued{due}; {escalated_by} is told."
        self.post_message(self.Done(escalation.id, "approved", words))

    @work(group="decide", exit_on_error=False, description="Declining")
    async def decline(self, item: ApprovalItem, reason: str) -> None:
        """Worker: decline through the ledger with ``reason``; posts the outcome in one line."""
        from agentdesk.desk.store import LedgerError

        ledger, agent = self.desk.ledger, self.desk.agent
        assert ledger is not None and agent is not None
        escalation = item.escalation
        try:
            declined = await ledger.decline(agent.id, escalation.id, reason)
        except (LedgerError, sqlite3.Error) as error:
            self.post_message(self.Done(escalation.id, "failed", f"Could not decline: {one_line(str(error))}"))
            return
        self.app.post_message(DecisionsQueued())  # the decline is in the outbox: pushed at once
        self.post_message(self.Done(
            escalation.id, "declined",
            f"Declined: {item.proposal} for {one_line(item.customer_name, 60)} "
            f"({one_line(declined.approval_reason or reason, 200)}); "
            f"{one_line(self.desk.person(escalation.agent), 60)} is told."))

    def on_approvals_screen_sent(self, message: ApprovalsScreen.Sent) -> None:
        self._sent[message.approval_id] = sent = message.sent
        self._tell(ApprovalsScreen.Done(sent.escalation_id, "sent",
                                        f"{APPROVAL_SENT.capitalize()}: {sent.what}; "
                                        f"{sent.escalated_by} is told once the backend has taken it."))

    def on_approvals_screen_done(self, message: ApprovalsScreen.Done) -> None:
        self._tell(message)

    def _tell(self, message: ApprovalsScreen.Done) -> None:
        """Say the outcome above the list, and read the list again (the row moves on)."""
        self._busy.discard(message.escalation_id)
        self.last_outcome = message.line
        outcome = self.query_one("#outcome", Static)
        outcome.set_classes(f"-{message.kind}")
        outcome.update(Text(message.line))
        self.load()

    # --- moving ---------------------------------------------------------------------

    @on(LineList.Selected, "#approvals")
    def _open(self, message: LineList.Selected) -> None:
        item = message.item
        if isinstance(item, ApprovalItem):
            self.post_message(OpenCustomer(item.escalation.customer))

    def action_back(self) -> None:
        self.dismiss()
