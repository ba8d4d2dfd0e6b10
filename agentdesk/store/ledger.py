"""Taking decisions: checked, durable before anyone is told, and applied exactly once.

Every decision goes through :class:`Ledger`. Each operation is one SQLite
transaction (``BEGIN IMMEDIATE``) that runs the use case of :mod:`agentdesk.domain.workflow`
over this store (:class:`agentdesk.store.world.StoreWorld`) and writes the decision, its timeline row, its
promise and its audit record together; the commit is ``synchronous = FULL``, so
when a call returns, the decision is on disk and survives a crash or power loss.
Reading inside the write transaction matters: two workstations on one store
cannot both spend the same budget.

The ledger owns one connection used from one thread of its own, so the UI's
event loop never waits on a disk flush.

A decision lives through these states::

    pending --(undo window ends, or "send now")--> queued --(backend)--> confirmed
       |                                              `----(backend)--> refused
       `--(undo)--> undone

It is counted against limits from the moment it is pending. Promises are made
when it is queued: that is when the company is committed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from agentdesk.domain import reply, workflow
from agentdesk.domain.authority import AuthorityMatrix, Option, Proposal, Role, Situation, Verdict, options
from agentdesk.domain.contact_log import ContactRefused, logged_contact
from agentdesk.domain.decision_text import entry_id, timeline_entry
from agentdesk.domain.limits import free_text_refusal
from agentdesk.domain.model import (
    Agent,
    AuditEntry,
    Case,
    Channel,
    Customer,
    Decision,
    Direction,
    Promise,
    TimelineEntry,
)
from agentdesk.domain.timefmt import duration, zone
from agentdesk.domain.timeline import utc_micros
from agentdesk.store import rows
from agentdesk.store.convert import decision_from_row, promise_from_row
from agentdesk.store.files import CONNECTION_PRAGMAS, prepare_store
from agentdesk.store.outbox import enqueue_contact, enqueue_decided, enqueue_decline, enqueue_reply
from agentdesk.store.own_thread import OwnThread
from agentdesk.store.waiting import recompute_waiting
from agentdesk.store.world import StoreWorld

T = TypeVar("T")

DURABLE_PRAGMA = "PRAGMA synchronous = FULL"
"""Every commit of the ledger is flushed to disk before it returns (WAL + FULL)."""

_APPROVABLE = ", ".join("?" for _ in workflow.APPROVABLE_STATES)
_SET_STATE = "UPDATE decision SET state = ?, undo_until_us = ? WHERE id = ?"
_SET_APPROVAL = ("UPDATE decision SET approval = ?, approval_by = ?, approval_at_us = ?, approval_offset_s = ?, "
                 "approval_reason = ? WHERE id = ?")


class LedgerError(Exception):
    """An operation that cannot be done as asked; the message is one line for the user."""


def _within_text_limit(reason: str | None) -> None:
    """Refuse what the backend would refuse for its size, before it is on disk or queued."""
    refusal = free_text_refusal("reason", reason)
    if refusal is not None:
        raise LedgerError(refusal)


@dataclass(frozen=True, slots=True)
class Taken:
    """What became of a proposal: the verdict, and the stored decision when it was allowed."""

    verdict: Verdict
    decision: Decision | None
    promise: Promise | None = None
    """The promise made when the decision was queued at once (no undo window, or an approval)."""


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    channel: Channel | None
    case_id: str | None
    text: str


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """Who replies to whom, where it can go (the default first), on which case, signed how."""

    agent: Agent
    customer: Customer
    case: Case | None
    destinations: list[reply.Destination]
    signature: str
    draft: ReplyDraft | None
    may_write: bool


@dataclass(frozen=True, slots=True)
class Choices:
    """What the decision bar shows for one customer: the case decided on, the role, the options."""

    agent: Agent
    role: Role | None
    case: Case | None
    options: dict[str, Option]
    situation: Situation
    """What the options were checked against; adjusting checks a typed proposal against it too."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Ledger:
    """Decisions on one store file. Use :meth:`open` as an async context manager."""

    def __init__(self, thread: OwnThread, matrix: AuthorityMatrix, clock: Callable[[], datetime]) -> None:
        self._db = thread.db
        self._world = StoreWorld(thread.db)
        self._run = thread.run
        self.matrix = matrix
        self.clock = clock

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path | str, matrix: AuthorityMatrix,
                   clock: Callable[[], datetime] | None = None) -> AsyncIterator[Ledger]:
        async with OwnThread.open(partial(_connect, Path(path)), "agentdesk-ledger") as thread:
            yield cls(thread, matrix, clock or _utc_now)

    # --- reading --------------------------------------------------------------------

    async def choices(self, agent_id: str, customer_id: str, case_id: str | None = None) -> Choices:
        """The decision bar for ``agent_id`` on this customer (and case, or the one a decision would go to)."""
        return await self._run(self._choices, agent_id, customer_id, case_id)

    def _choices(self, agent_id: str, customer_id: str, case_id: str | None) -> Choices:
        agent, situation = self._situation(agent_id, customer_id, case_id, self.clock())
        return Choices(agent, self.matrix.role(agent.role), situation.case, options(self.matrix, situation), situation)

    async def decision(self, decision_id: str) -> Decision | None:
        return await self._run(self._decision, decision_id)

    def _decision(self, decision_id: str) -> Decision | None:
        row = self._db.execute("SELECT * FROM decision WHERE id = ?", (decision_id,)).fetchone()
        return decision_from_row(row) if row is not None else None

    async def pending(self, agent_id: str) -> list[Decision]:
        """This agent's decisions still in their undo window, oldest first."""
        return await self._run(self._select_decisions,
                               "SELECT * FROM decision WHERE state = 'pending' AND agent_id = ? ORDER BY at_us, id",
                               (agent_id,))

    async def waiting_approvals(self, agent_id: str) -> list[Decision]:
        """Escalations this agent's role may approve, oldest first (none for a read-only role)."""
        return await self._run(self._waiting_approvals, agent_id)

    def _waiting_approvals(self, agent_id: str) -> list[Decision]:
        agent = self._agent(agent_id)
        role = self.matrix.role(agent.role)
        if role is None or role.read_only or not role.approves:
            return []
        # What the workflow lets an approver take (never one still in its undo window).
        return self._select_decisions(
            f"SELECT * FROM decision WHERE approval = 'waiting' AND escalate_to = ? AND state IN ({_APPROVABLE}) "
            "ORDER BY at_us, id", (role.name, *workflow.APPROVABLE_STATES))

    async def unsettled_approvals(self, agent_id: str, refused_since: datetime) -> list[Decision]:
        """``agent_id``'s approvals the backend has not taken: queued (no answer yet), or refused
        from ``refused_since`` on; oldest first."""
        return await self._run(self._select_decisions,
                               "SELECT * FROM decision WHERE state IN ('queued', 'refused') AND approves IS NOT NULL "
                               "AND agent_id = ? AND (state = 'queued' OR at_us >= ?) ORDER BY at_us, id",
                               (agent_id, utc_micros(refused_since)))

    async def due_callbacks(self, agent_id: str, until: datetime) -> list[tuple[Decision, Promise]]:
        """This agent's callbacks that are open and due by ``until``, earliest first."""
        return await self._run(self._due_callbacks, agent_id, until)

    def _due_callbacks(self, agent_id: str, until: datetime) -> list[tuple[Decision, Promise]]:
        rows = self._db.execute(
            "SELECT p.id AS promise_id, p.decision_id, p.customer_id AS promise_customer, p.what, p.due_us, "
            "p.due_offset_s, p.state AS promise_state, p.extra AS promise_extra, d.* "
            "FROM promise AS p JOIN decision AS d ON d.id = p.decision_id "
            "WHERE p.state IN ('open', 'overdue') AND p.due_us <= ? AND d.kind = 'callback' AND d.agent_id = ? "
            "ORDER BY p.due_us, p.id", (utc_micros(until), agent_id)).fetchall()
        result = []
        for row in rows:
            promise = promise_from_row({
                "id": row["promise_id"], "decision_id": row["decision_id"], "customer_id": row["promise_customer"],
                "what": row["what"], "due_us": row["due_us"], "due_offset_s": row["due_offset_s"],
                "state": row["promise_state"], "extra": row["promise_extra"]})
            result.append((decision_from_row(row), promise))
        return result

    def _select_decisions(self, sql: str, params: tuple[Any, ...]) -> list[Decision]:
        return [decision_from_row(row) for row in self._db.execute(sql, params).fetchall()]

    # --- deciding -------------------------------------------------------------------

    async def take(self, agent_id: str, customer_id: str, proposal: Proposal, *, case_id: str | None = None,
                   undo_window: timedelta | None = timedelta(seconds=10)) -> Taken:
        """Check and record a decision. Durable on disk when this returns.

        ``undo_window``: how long it stays pending and undoable; ``None`` means until the
        agent sends it (no time limit), zero queues it at once. A refusal is audited and
        returned with ``decision`` None.
        """
        _within_text_limit(proposal.reason)
        return await self._run(self._take, agent_id, customer_id, proposal, case_id, undo_window)

    def _take(self, agent_id: str, customer_id: str, proposal: Proposal, case_id: str | None,
              undo_window: timedelta | None) -> Taken:
        now = self.clock()
        with self._transaction():
            judged = self._known(lambda: workflow.judge(
                self._world, self.matrix, agent_id, customer_id, self._case_id(customer_id, case_id), proposal, now))
            verdict = judged.verdict
            if not verdict.allowed:
                rows.insert(self._db, workflow.audit_entry(now, judged.agent.id, "refused", customer_id, None,
                                                           proposal, verdict))
                return Taken(verdict, None)
            decision = workflow.new_decision(self.matrix, judged.agent, judged.situation, proposal, verdict, now,
                                             undo_window)
            self._insert_decision(decision, workflow.audit_entry(
                now, judged.agent.id, "escalated" if decision.kind == "escalate" else "taken", customer_id,
                decision.id, proposal, verdict))
            promise = None
            if decision.state == "queued":
                decision, promise = self._queue(decision, now)
        return Taken(verdict, decision, promise)

    async def undo(self, agent_id: str, decision_id: str) -> Decision:
        """Take back a pending decision while its window is open; it leaves the timeline, not the audit."""
        return await self._run(self._undo, agent_id, decision_id)

    def _undo(self, agent_id: str, decision_id: str) -> Decision:
        now = self.clock()
        with self._transaction():
            decision = self._pending_of(agent_id, decision_id, "undo")
            closed = decision.undo_until is not None and decision.undo_until <= now
            undone = replace(decision, state="undone", undo_until=None)
            if closed:
                # Not yet released, but its time is up: it goes ahead, as the agent was shown.
                self._queue(decision, now)
            else:
                self._set_state(undone)
                self._db.execute("DELETE FROM timeline_entry WHERE id = ?", (entry_id(decision.id),))
                rows.insert(self._db, workflow.audit_entry(now, agent_id, "undone", decision.customer, decision.id,
                                                           workflow.proposal_of(decision)))
        if closed:
            assert decision.undo_until is not None
            raise LedgerError(f"the undo window of this {decision.kind} closed "
                              f"{duration(now - decision.undo_until)} ago; it is queued")
        return undone

    async def send_now(self, agent_id: str, decision_id: str) -> Decision:
        """Close a pending decision's undo window early: it is queued for the backend now."""
        return await self._run(self._send_now, agent_id, decision_id)

    def _send_now(self, agent_id: str, decision_id: str) -> Decision:
        now = self.clock()
        with self._transaction():
            return self._queue(self._pending_of(agent_id, decision_id, "send"), now)[0]

    async def release_due(self) -> list[Decision]:
        """Queue every decision whose undo window has ended (also those left pending by a crash)."""
        return await self._run(self._release_due)

    def _release_due(self) -> list[Decision]:
        now = self.clock()
        with self._transaction():
            due = self._select_decisions(
                "SELECT * FROM decision WHERE state = 'pending' AND undo_until_us IS NOT NULL AND undo_until_us <= ? "
                "ORDER BY at_us, id", (utc_micros(now),))
            return [self._queue(decision, now)[0] for decision in due]

    def _pending_of(self, agent_id: str, decision_id: str, verb: str) -> Decision:
        decision = self._decision(decision_id)
        if decision is None:
            raise LedgerError(f"no decision {decision_id!r}")
        if decision.agent != agent_id:
            raise LedgerError(f"only {decision.agent}, who took it, may {verb} this {decision.kind}")
        if decision.state != "pending":
            raise LedgerError(f"this {decision.kind} is already {decision.state}; its undo window has closed")
        return decision

    def _queue(self, decision: Decision, now: datetime, *,
               approving: str | None = None) -> tuple[Decision, Promise | None]:
        """pending -> queued, with the promise it commits the company to (inside the caller's transaction).

        Queued means on its way to the backend: the outbox row is written in the same
        transaction, so a decision is never queued without being pushed, nor pushed twice.
        """
        queued = workflow.queued(decision)
        self._set_state(queued)
        customer = self._world.customer(decision.customer)
        assert customer is not None  # the decision's foreign key
        promise = workflow.promise_for(self.matrix, queued, customer)
        audit = workflow.audit_entry(now, decision.agent, "queued", decision.customer, decision.id,
                                     workflow.proposal_of(decision))
        rows.insert_many(self._db, [audit] if promise is None else [promise, audit])
        enqueue_decided(self._db, queued, promise, now, approving=approving)
        return queued, promise

    # --- escalations ----------------------------------------------------------------

    async def approve(self, agent_id: str, escalation_id: str) -> Taken:
        """Approve an escalation: the proposal is decided by the approver, queued at once."""
        return await self._run(self._approve, agent_id, escalation_id)

    def _approve(self, agent_id: str, escalation_id: str) -> Taken:
        now = self.clock()
        with self._transaction():
            opened = self._open_escalation(agent_id, escalation_id)
            escalation = opened.escalation
            approval = self._known(lambda: workflow.judge_approval(
                self._world, self.matrix, opened, workflow.approval_proposal(escalation), now))
            verdict = approval.verdict
            if not verdict.allowed:
                rows.insert(self._db, workflow.audit_entry(now, opened.approver.id, "refused", escalation.customer,
                                                           escalation.id, approval.proposal, verdict))
                return Taken(verdict, None)
            decision = replace(workflow.new_decision(self.matrix, opened.approver, approval.situation,
                                                     approval.proposal, verdict, now, timedelta(0)),
                               approves=escalation.id, reason=f"approved escalation from {opened.escalated_by.name}")
            self._insert_decision(decision)
            self._set_approval(workflow.approved(escalation, opened.approver.id, now))
            rows.insert(self._db, workflow.approved_audit(now, escalation, opened.approver.id, decision.id, verdict))
            return Taken(verdict, *self._queue(decision, now, approving=escalation.id))

    async def decline(self, agent_id: str, escalation_id: str, reason: str) -> Decision:
        """Decline an escalation, saying why; the agent who escalated sees the reason."""
        _within_text_limit(reason)
        return await self._run(self._decline, agent_id, escalation_id, reason)

    def _decline(self, agent_id: str, escalation_id: str, reason: str) -> Decision:
        now = self.clock()
        with self._transaction():
            opened = self._open_escalation(agent_id, escalation_id)
            declined = workflow.declined(opened.escalation, opened.approver.id, now, reason)
            self._set_approval(declined)
            rows.insert(self._db, workflow.declined_audit(now, declined, opened.approver.id))
            assert declined.approval_reason is not None  # workflow.declined always gives one
            enqueue_decline(self._db, declined.id, declined.approval_reason, now)
        return declined

    def _open_escalation(self, agent_id: str, escalation_id: str) -> workflow.OpenEscalation:
        try:
            return self._known(lambda: workflow.open_escalation(self._world, self.matrix, agent_id, escalation_id))
        except workflow.Refused as refused:
            raise LedgerError(refused.refusal.reason) from None

    # --- contacts logged by hand ------------------------------------------------------

    async def log_contact(self, agent_id: str, customer_id: str, channel: Channel, direction: Direction,
                          summary: str) -> TimelineEntry:
        """A letter, shop visit or any other contact, on the timeline and queued for the backend at once.

        An inbound contact makes the customer wait like any message; an outbound one answers.
        A read-only role logs nothing (the backend would refuse it too).
        """
        return await self._run(self._log_contact, agent_id, customer_id, channel, direction, summary)

    def _log_contact(self, agent_id: str, customer_id: str, channel: Channel, direction: Direction,
                     summary: str) -> TimelineEntry:
        now = self.clock()
        with self._transaction():
            agent = self._agent(agent_id)
            if not self._may_write(agent):
                raise LedgerError(f"{agent.name} ({agent.role}) may look but not log contacts")
            customer = self._world.customer(customer_id)
            if customer is None:
                raise LedgerError(f"no customer {customer_id!r} in this store")
            author = customer.name if direction is Direction.IN else agent.id
            try:
                entry = logged_contact(agent.id, customer.id, author, channel, direction, summary,
                                       now.astimezone(zone(customer.timezone) or timezone.utc))
            except ContactRefused as refused:
                raise LedgerError(str(refused)) from None
            rows.insert(self._db, entry)
            recompute_waiting(self._db, customer.id)
            enqueue_contact(self._db, entry, now)
        return entry

    # --- replies ----------------------------------------------------------------------

    async def reply_context(self, agent_id: str, customer_id: str, case_id: str | None = None) -> ReplyContext:
        """What the reply editor shows above the text: who, where to, which case; and the draft put aside."""
        return await self._run(self._reply_context, agent_id, customer_id, case_id)

    def _reply_context(self, agent_id: str, customer_id: str, case_id: str | None) -> ReplyContext:
        agent = self._agent(agent_id)
        customer = self._world.customer(customer_id)
        if customer is None:
            raise LedgerError(f"no customer {customer_id!r} in this store")
        row = self._db.execute("SELECT channel, case_id, text FROM reply_draft WHERE agent_id = ? AND customer_id = ?",
                               (agent.id, customer.id)).fetchone()
        draft = ReplyDraft(Channel(row[0]) if row[0] else None, row[1], row[2]) if row is not None else None
        chosen = draft.case_id if draft is not None and draft.case_id and case_id is None else case_id
        case_ident = self._case_id(customer.id, chosen)
        case = self._world.case(case_ident) if case_ident is not None else None
        return ReplyContext(agent, customer, case, reply.destinations(customer), reply.signature(agent), draft,
                            self._may_write(agent))

    async def reply(self, agent_id: str, customer_id: str, text: str, channel: Channel | None = None,
                    case_id: str | None = None) -> TimelineEntry:
        """A reply on the timeline (``queued``) and in the outbox in one transaction; its draft goes.

        The backend sends it. A read-only role replies to nobody.
        """
        return await self._run(self._reply, agent_id, customer_id, text, channel, case_id)

    def _reply(self, agent_id: str, customer_id: str, text: str, channel: Channel | None,
               case_id: str | None) -> TimelineEntry:
        now = self.clock()
        with self._transaction():
            agent = self._agent(agent_id)
            if not self._may_write(agent):
                raise LedgerError(f"{agent.name} ({agent.role}) may look but not reply")
            customer = self._world.customer(customer_id)
            if customer is None:
                raise LedgerError(f"no customer {customer_id!r} in this store")
            case_ident = self._case_id(customer.id, case_id)
            case = self._world.case(case_ident) if case_ident is not None else None
            if case_id is not None and case is None:
                raise LedgerError(f"no case {case_id!r} in this store")
            try:
                local_now = now.astimezone(zone(customer.timezone) or timezone.utc)
                entry = reply.reply_entry(agent, customer, text, local_now, channel=channel, case=case)
            except reply.ReplyRefused as refused:
                raise LedgerError(str(refused)) from None
            rows.insert(self._db, entry)
            recompute_waiting(self._db, customer.id)
            enqueue_reply(self._db, entry, now)
            self._db.execute("DELETE FROM reply_draft WHERE agent_id = ? AND customer_id = ?", (agent.id, customer.id))
        return entry

    async def save_draft(self, agent_id: str, customer_id: str, text: str, channel: Channel | None = None,
                         case_id: str | None = None) -> bool:
        """Keep the reply being written for later; an empty text throws the draft away. True when one is kept."""
        return await self._run(self._save_draft, agent_id, customer_id, text, channel, case_id)

    def _save_draft(self, agent_id: str, customer_id: str, text: str, channel: Channel | None,
                    case_id: str | None) -> bool:
        with self._transaction():
            if not text.strip():
                self._db.execute("DELETE FROM reply_draft WHERE agent_id = ? AND customer_id = ?",
                                 (agent_id, customer_id))
                return False
            self._db.execute(
                "INSERT INTO reply_draft (agent_id, customer_id, channel, case_id, text, saved_at_us) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id, customer_id) DO UPDATE SET "
                "channel = excluded.channel, case_id = excluded.case_id, text = excluded.text, "
                "saved_at_us = excluded.saved_at_us",
                (agent_id, customer_id, channel.value if channel is not None else None, case_id, text,
                 utc_micros(self.clock())))
        return True

    def _may_write(self, agent: Agent) -> bool:
        role = self.matrix.role(agent.role)
        return role is not None and not role.read_only

    # --- reading what the rules need --------------------------------------------------

    def _known(self, use_case: Callable[[], T]) -> T:
        """Runs ``use_case``; what it names and this store does not hold is a :class:`LedgerError`."""
        try:
            return use_case()
        except workflow.Unknown as unknown:
            raise LedgerError(unknown.words("in this store" if unknown.customer is None else "", quote=True)) from None

    def _agent(self, agent_id: str) -> Agent:
        return self._known(lambda: workflow.acting_agent(self._world, agent_id))

    def _case_id(self, customer_id: str, case_id: str | None) -> str | None:
        """The named case, or the one a decision goes to by default."""
        if case_id is not None:
            return case_id
        default = self._world.default_case(customer_id)
        return default.id if default is not None else None

    def _situation(self, agent_id: str, customer_id: str, case_id: str | None,
                   now: datetime) -> tuple[Agent, Situation]:
        agent = self._agent(agent_id)
        return agent, self._known(lambda: workflow.situation(
            self._world, agent, customer_id, self._case_id(customer_id, case_id), now))

    # --- writing --------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _insert_decision(self, decision: Decision, *also: AuditEntry) -> None:
        """A new decision with its line on the customer's timeline (and the audit lines that go with it)."""
        customer = self._world.customer(decision.customer)
        line = timeline_entry(decision, customer.timezone if customer is not None else None)
        rows.insert_many(self._db, [decision, line, *also])

    def _set_state(self, decision: Decision) -> None:
        """Store the decision's move along its states (its undo window goes with it)."""
        values = rows.columns(decision)[1]
        self._db.execute(_SET_STATE, (values["state"], values["undo_until_us"], decision.id))

    def _set_approval(self, escalation: Decision) -> None:
        """Store an approver's answer to an escalation."""
        values = rows.columns(escalation)[1]
        self._db.execute(_SET_APPROVAL, (values["approval"], values["approval_by"], values["approval_at_us"],
                                          values["approval_offset_s"], values["approval_reason"], escalation.id))


def _connect(path: Path) -> sqlite3.Connection:
    path = prepare_store(path)
    # Autocommit mode: transactions are begun and ended explicitly (BEGIN IMMEDIATE).
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (*CONNECTION_PRAGMAS, DURABLE_PRAGMA):
        connection.execute(pragma)
    connection.row_factory = sqlite3.Row
    return connection
