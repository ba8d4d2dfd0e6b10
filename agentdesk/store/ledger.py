"""Taking decisions: checked, durable before anyone is told, and applied exactly once.

Every decision goes through :class:`Ledger`. Each operation is one SQLite
transaction (``BEGIN IMMEDIATE``) that reads what the rules need, checks it with
:mod:`agentdesk.domain.authority` and writes the decision, its timeline row, its
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

from agentdesk.domain.authority import (
    COUNTED_STATES,
    MONEY_KINDS,
    WINDOW,
    AuthorityMatrix,
    Option,
    Proposal,
    Role,
    Situation,
    Verdict,
    check,
    check_approval,
    customer_zone,
    options,
)
from agentdesk.domain.decision_text import entry_id, timeline_entry
from agentdesk.domain.ids import new_id
from agentdesk.domain.limits import free_text_refusal
from agentdesk.domain.model import Agent, Case, Customer, Decision, Promise
from agentdesk.domain.money import Money
from agentdesk.domain.timefmt import duration
from agentdesk.domain.timeline import utc_micros
from agentdesk.store.convert import (
    agent_from_row,
    case_from_row,
    customer_from_row,
    decision_from_row,
    from_columns,
    promise_from_row,
    to_columns,
)
from agentdesk.store.files import CONNECTION_PRAGMAS, prepare_store
from agentdesk.store.outbox import DECLINE, enqueue, enqueue_decision
from agentdesk.store.own_thread import OwnThread

T = TypeVar("T")

DURABLE_PRAGMA = "PRAGMA synchronous = FULL"
"""Every commit of the ledger is flushed to disk before it returns (WAL + FULL)."""

_MONEY_SQL = ", ".join(f"'{kind}'" for kind in MONEY_KINDS)
_COUNTED_SQL = ", ".join(f"'{state}'" for state in sorted(COUNTED_STATES))


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
        # Only decisions whose undo window has closed are put before the approver.
        return self._select_decisions(
            "SELECT * FROM decision WHERE approval = 'waiting' AND escalate_to = ? AND state IN ('queued', 'confirmed') "
            "ORDER BY at_us, id", (role.name,))

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
            agent, situation = self._situation(agent_id, customer_id, case_id, now,
                                               with_slots="callback" in (proposal.kind, _inner_kind(proposal)))
            verdict = check(self.matrix, situation, proposal)
            if not verdict.allowed:
                self._audit(now, agent.id, "refused", customer_id, None, proposal, verdict)
                return Taken(verdict, None)
            decision = self._new_decision(agent, situation, proposal, verdict, now, undo_window)
            self._insert_decision(decision)
            self._audit(now, agent.id, "escalated" if decision.kind == "escalate" else "taken",
                        customer_id, decision.id, proposal, verdict)
            promise = None
            if decision.state == "queued":
                decision, promise = self._queue(decision, now)
        return Taken(verdict, decision, promise)

    def _new_decision(self, agent: Agent, situation: Situation, proposal: Proposal, verdict: Verdict,
                      now: datetime, undo_window: timedelta | None) -> Decision:
        state = "queued" if undo_window is not None and undo_window <= timedelta(0) else "pending"
        undo_until = now + undo_window if state == "pending" and undo_window is not None else None
        case = situation.case.id if situation.case is not None else None
        common = dict(id=new_id("d", now), customer=situation.customer.id, agent=agent.id, at=now, state=state,
                      case=case, reason=proposal.reason, undo_until=undo_until)
        if proposal.kind == "escalate":
            inner = proposal.escalates
            assert inner is not None  # check() refuses an escalation without a proposal
            return Decision(kind="escalate", amount=inner.amount, scheduled=self._their_clock(situation, inner.at),
                            escalate_to=verdict.escalate_to,
                            proposal_kind=inner.kind, approval="waiting",
                            phone=situation.customer.phone if inner.kind == "callback" else None, **common)
        return Decision(kind=proposal.kind, amount=proposal.amount, scheduled=self._their_clock(situation, proposal.at),
                        phone=situation.customer.phone if proposal.kind == "callback" else None, **common)

    def _their_clock(self, situation: Situation, at: datetime | None) -> datetime | None:
        """A callback time in the customer's own offset, so its promise and the queue read their clock."""
        return at.astimezone(customer_zone(self.matrix, situation.customer)) if at is not None else None

    async def undo(self, agent_id: str, decision_id: str) -> Decision:
        """Take back a pending decision while its window is open; it leaves the timeline, not the audit."""
        return await self._run(self._undo, agent_id, decision_id)

    def _undo(self, agent_id: str, decision_id: str) -> Decision:
        now = self.clock()
        with self._transaction():
            decision = self._pending_of(agent_id, decision_id, "undo")
            closed = decision.undo_until is not None and decision.undo_until <= now
            if closed:
                # Not yet released, but its time is up: it goes ahead, as the agent was shown.
                self._queue(decision, now)
            else:
                self._db.execute("UPDATE decision SET state = 'undone', undo_until_us = NULL WHERE id = ?",
                                 (decision.id,))
                self._db.execute("DELETE FROM timeline_entry WHERE id = ?", (entry_id(decision.id),))
                self._audit(now, agent_id, "undone", decision.customer, decision.id, _proposal_of(decision), None)
        if closed:
            assert decision.undo_until is not None
            raise LedgerError(f"the undo window of this {decision.kind} closed "
                              f"{duration(now - decision.undo_until)} ago; it is queued")
        return replace(decision, state="undone", undo_until=None)

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
        queued = replace(decision, state="queued", undo_until=None)
        self._db.execute("UPDATE decision SET state = 'queued', undo_until_us = NULL WHERE id = ?", (decision.id,))
        promise = self._promise_for(queued)
        if promise is not None:
            self._insert_promise(promise)
        self._audit(now, decision.agent, "queued", decision.customer, decision.id, _proposal_of(decision), None)
        enqueue_decision(self._db, decision.id, promise.id if promise is not None else None, now,
                         approving=approving)
        return queued, promise

    # --- escalations ----------------------------------------------------------------

    async def approve(self, agent_id: str, escalation_id: str) -> Taken:
        """Approve an escalation: the proposal is decided by the approver, queued at once."""
        return await self._run(self._approve, agent_id, escalation_id)

    def _approve(self, agent_id: str, escalation_id: str) -> Taken:
        now = self.clock()
        with self._transaction():
            escalation, approver, escalating_role = self._open_escalation(agent_id, escalation_id)
            proposal = Proposal(escalation.proposal_kind or "", escalation.amount, escalation.scheduled,
                                escalation.reason)
            _, situation = self._situation(approver.id, escalation.customer, escalation.case, now)
            verdict = check_approval(self.matrix, situation, escalating_role, proposal)
            if not verdict.allowed:
                self._audit(now, approver.id, "refused", escalation.customer, escalation.id, proposal, verdict)
                return Taken(verdict, None)
            escalated_by = self._agent(escalation.agent).name
            decision = replace(self._new_decision(approver, situation, proposal, verdict, now, timedelta(0)),
                               approves=escalation.id, reason=f"approved escalation from {escalated_by}")
            self._insert_decision(decision)
            self._db.execute(
                "UPDATE decision SET approval = 'approved', approval_by = ?, approval_at_us = ?, approval_offset_s = ? "
                "WHERE id = ?", (approver.id, *to_columns(now), escalation.id))
            self._audit(now, approver.id, "approved", escalation.customer, escalation.id, proposal, verdict)
            return Taken(verdict, *self._queue(decision, now, approving=escalation.id))

    async def decline(self, agent_id: str, escalation_id: str, reason: str) -> Decision:
        """Decline an escalation, saying why; the agent who escalated sees the reason."""
        _within_text_limit(reason)
        return await self._run(self._decline, agent_id, escalation_id, reason)

    def _decline(self, agent_id: str, escalation_id: str, reason: str) -> Decision:
        now = self.clock()
        reason = reason.strip() or "declined without a reason"
        with self._transaction():
            escalation, approver, _ = self._open_escalation(agent_id, escalation_id)
            self._db.execute(
                "UPDATE decision SET approval = 'declined', approval_by = ?, approval_at_us = ?, approval_offset_s = ?, "
                "approval_reason = ? WHERE id = ?", (approver.id, *to_columns(now), reason, escalation.id))
            self._audit(now, approver.id, "declined", escalation.customer, escalation.id,
                        _proposal_of(escalation), None, detail=reason)
            at_us, at_offset_s = to_columns(now)
            enqueue(self._db, DECLINE, {"escalation": escalation.id, "agent": approver.id, "reason": reason,
                                        "at_us": at_us, "at_offset_s": at_offset_s}, now)
        return replace(escalation, approval="declined", approval_by=approver.id, approval_at=now,
                       approval_reason=reason)

    def _open_escalation(self, agent_id: str, escalation_id: str) -> tuple[Decision, Agent, str]:
        escalation = self._decision(escalation_id)
        if escalation is None or escalation.kind != "escalate":
            raise LedgerError(f"no escalation {escalation_id!r}")
        if escalation.approval != "waiting":
            raise LedgerError(f"this escalation is already {escalation.approval}")
        if escalation.state not in ("queued", "confirmed"):
            raise LedgerError(f"this escalation is {escalation.state}, not waiting for approval")
        approver = self._agent(agent_id)
        if approver.id == escalation.agent:
            raise LedgerError("nobody approves their own escalation")
        escalating_role = self._agent(escalation.agent).role
        role = self.matrix.role(approver.role)
        if role is None or escalating_role not in role.approves:
            raise LedgerError(f"the {approver.role} role does not approve escalations of {escalating_role}")
        return escalation, approver, escalating_role

    # --- reading what the rules need --------------------------------------------------

    def _agent(self, agent_id: str) -> Agent:
        row = self._db.execute("SELECT * FROM agent WHERE id = ?", (agent_id,)).fetchone()
        if row is None:
            raise LedgerError(f"no agent {agent_id!r} in this store")
        return agent_from_row(row)

    def _situation(self, agent_id: str, customer_id: str, case_id: str | None, now: datetime,
                   with_slots: bool = True) -> tuple[Agent, Situation]:
        """The agent and what the rules need; ``with_slots``: also the agent's booked callback times."""
        agent = self._agent(agent_id)
        row = self._db.execute("SELECT * FROM customer WHERE id = ?", (customer_id,)).fetchone()
        if row is None:
            raise LedgerError(f"no customer {customer_id!r} in this store")
        customer = customer_from_row(row)
        case = self._case(customer, case_id)
        since = utc_micros(now - WINDOW)
        # Only money that counts takes part in the rules; notes, undone and refused decisions
        # are left in the store, so a long history costs nothing here.
        decisions = self._select_decisions(
            f"SELECT * FROM decision WHERE customer_id = ? AND (at_us > ? OR case_id = ?) "
            f"AND kind IN ({_MONEY_SQL}) AND state IN ({_COUNTED_SQL}) ORDER BY at_us, id",
            (customer.id, since, case.id if case is not None else None))
        slots: frozenset[datetime] = frozenset()
        if with_slots:
            taken = self._db.execute(
                f"SELECT scheduled_us FROM decision WHERE kind = 'callback' AND agent_id = ? "
                f"AND state IN ({_COUNTED_SQL}) AND scheduled_us >= ?", (agent.id, utc_micros(now))).fetchall()
            slots = frozenset(from_columns(us, 0) for (us,) in taken)
        return agent, Situation(agent.role, customer, case, decisions, now, slots)

    def _case(self, customer: Customer, case_id: str | None) -> Case | None:
        """The named case, or the one a decision goes to by default: the oldest open one with money disputed."""
        if case_id is not None:
            row = self._db.execute("SELECT * FROM support_case WHERE id = ?", (case_id,)).fetchone()
            if row is None or row["customer_id"] != customer.id:
                raise LedgerError(f"no case {case_id!r} for customer {customer.id}")
            return case_from_row(row)
        row = self._db.execute(
            "SELECT * FROM support_case WHERE customer_id = ? AND status IN ('open', 'pending') "
            "ORDER BY disputed_amount IS NULL, opened_at_us, id LIMIT 1", (customer.id,)).fetchone()
        return case_from_row(row) if row is not None else None

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

    def _insert_decision(self, decision: Decision) -> None:
        at_us, at_offset = to_columns(decision.at)
        scheduled = to_columns(decision.scheduled) if decision.scheduled is not None else (None, None)
        amount = decision.amount
        self._db.execute(
            "INSERT INTO decision (id, customer_id, case_id, kind, amount, currency, agent_id, at_us, at_offset_s, "
            "state, reason, scheduled_us, scheduled_offset_s, phone, undo_until_us, escalate_to, proposal_kind, "
            "approval, approves) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (decision.id, decision.customer, decision.case, decision.kind,
             amount.text if amount else None, amount.currency if amount else None, decision.agent, at_us, at_offset,
             decision.state, decision.reason, *scheduled, decision.phone,
             utc_micros(decision.undo_until) if decision.undo_until is not None else None,
             decision.escalate_to, decision.proposal_kind, decision.approval, decision.approves))
        line = timeline_entry(decision, self._customer_zone_name(decision.customer))
        self._db.execute(
            "INSERT INTO timeline_entry (id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, "
            "author, body, event_kind, decision_id) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
            (line.id, line.customer, line.case, line.kind.value, line.direction.value, *to_columns(line.at),
             line.author, line.body, line.event_kind, line.decision_id))

    def _customer_zone_name(self, customer_id: str) -> str | None:
        row = self._db.execute("SELECT timezone FROM customer WHERE id = ?", (customer_id,)).fetchone()
        return row["timezone"] if row is not None else None

    def _promise_for(self, decision: Decision) -> Promise | None:
        terms = self.matrix.promises
        if decision.kind == "refund":
            what, due = f"refund {decision.amount}", decision.at + terms.refund
        elif decision.kind == "voucher":
            what, due = f"goodwill voucher {decision.amount}", decision.at + terms.voucher
        elif decision.kind == "callback" and decision.scheduled is not None:
            row = self._db.execute("SELECT * FROM customer WHERE id = ?", (decision.customer,)).fetchone()
            local = decision.scheduled.astimezone(customer_zone(self.matrix, customer_from_row(row)))
            what = f"callback on {decision.phone} at {local:%a %d %b %H:%M} {local.tzname()}"
            due = decision.scheduled
        else:
            return None
        return Promise(new_id("p", decision.at), decision.customer, what, due, "open", decision=decision.id)

    def _insert_promise(self, promise: Promise) -> None:
        self._db.execute(
            "INSERT INTO promise (id, decision_id, customer_id, what, due_us, due_offset_s, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (promise.id, promise.decision, promise.customer, promise.what, *to_columns(promise.due), promise.state))

    def _audit(self, now: datetime, actor: str, action: str, customer_id: str, decision_id: str | None,
               proposal: Proposal, verdict: Verdict | None, detail: str | None = None) -> None:
        amount = proposal.escalates.amount if proposal.escalates is not None else proposal.amount
        limit: Money | None = verdict.limit if verdict is not None else None
        currency = amount.currency if amount is not None else (limit.currency if limit is not None else None)
        self._db.execute(
            "INSERT INTO audit (id, at_us, at_offset_s, actor, action, customer_id, decision_id, kind, amount, "
            "currency, rule, limit_amount, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new_id("au", now), *to_columns(now), actor, action, customer_id, decision_id, proposal.kind,
             amount.text if amount is not None else None, currency,
             verdict.rule if verdict is not None else None,
             limit.text if limit is not None else None,
             detail if detail is not None else (verdict.reason if verdict is not None else None)))


def _inner_kind(proposal: Proposal) -> str | None:
    return proposal.escalates.kind if proposal.escalates is not None else None


def _proposal_of(decision: Decision) -> Proposal:
    if decision.kind == "escalate":
        inner = Proposal(decision.proposal_kind or "", decision.amount, decision.scheduled)
        return Proposal("escalate", escalates=inner, reason=decision.reason)
    return Proposal(decision.kind, decision.amount, decision.scheduled, decision.reason)


def _connect(path: Path) -> sqlite3.Connection:
    path = prepare_store(path)
    # Autocommit mode: transactions are begun and ended explicitly (BEGIN IMMEDIATE).
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (*CONNECTION_PRAGMAS, DURABLE_PRAGMA):
        connection.execute(pragma)
    connection.row_factory = sqlite3.Row
    return connection
