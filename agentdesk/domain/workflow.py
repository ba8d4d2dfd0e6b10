"""The decision use case, once: take, queue, approve, decline, and the backend's confirm or refuse.

Pure: no database, no I/O. What a use case needs to know of the world it reads through
:class:`World`, a small protocol with two implementations that both run inside a write
transaction, so what they read cannot change before what the use case produces is stored:

* the workstation's (:mod:`agentdesk.store.world`): ``sqlite3`` inside the ledger's ``BEGIN IMMEDIATE``;
* the backend's (:mod:`agentdesk.server.world`): its ``record`` table under the customer's lock.

The protocol is synchronous. The backend talks to its database through async SQLAlchemy, and
runs a whole use case as ``await connection.run_sync(...)``: inside it, SQLAlchemy drives the
async driver from a greenlet, so the same blocking calls serve both sides and the workflow
never needs two colours of functions.

The use cases produce domain records (:class:`Decision`, :class:`Promise`, :class:`AuditEntry`)
and verdicts or :class:`Refusal` (a rule name and one sentence); storing them, the outbox, the
change log and the replies are the callers' business.

Rules that live here and nowhere else:

* **What counts against the 30-day limits**: a decision of a kind in ``COUNTED_KINDS`` in a state
  in ``COUNTED_STATES`` (:func:`agentdesk.domain.authority.counts`) counted after
  ``window_start(now)``, plus any such decision on the case decided on (the disputed amount is
  not a 30-day matter). :meth:`World.counting_decisions` selects exactly these, each store in its
  own SQL built from those constants; a decision's ``at`` is the moment it counts from.
* **A closed case** is refused by ``check`` as rule ``case.status``; an amount not in the case's
  currency as ``case.currency`` (on both sides, before anything is stored).
* **An escalation waits for approval** while its approval is ``waiting`` and its state is
  ``queued`` or ``confirmed`` (:func:`escalation_refusal`). The backend never holds ``queued``
  (it stores only what it confirmed or refused), so there the rule reads "confirmed". On a
  workstation ``queued`` means this store sent it and has no answer yet; the approval is queued
  behind it in the same outbox, so the backend always decides the escalation first and, had it
  refused it, refuses the approval by this same rule. A refused, undone or still pending
  escalation is approvable nowhere.
* **An audit record carries one currency** (:func:`audit_entry`): the amount's; the verdict's
  limit is kept only when it is in that currency (or there is no amount).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from agentdesk.domain.authority import (
    AuthorityMatrix,
    Proposal,
    Situation,
    Verdict,
    check,
    check_approval,
    customer_zone,
    not_approved_by,
    window_start,
)
from agentdesk.domain.ids import new_id
from agentdesk.domain.model import Agent, AuditEntry, Case, Customer, Decision, Promise

APPROVABLE_STATES = ("queued", "confirmed")
"""An escalation in these states (and approval ``waiting``) can be approved or declined; see the module text."""
CARRIED_OUT_BY_BACKEND = ("refund", "voucher")
"""Promises the backend fulfils the moment it confirms the decision: they are "kept" at once."""


class World(Protocol):
    """What the decision rules read, inside the caller's write transaction."""

    def agent(self, agent_id: str) -> Agent | None:
        """The agent, with the role they decide in (on the backend: their token's role)."""

    def customer(self, customer_id: str) -> Customer | None: ...

    def case(self, case_id: str) -> Case | None: ...

    def decision(self, decision_id: str) -> Decision | None: ...

    def counting_decisions(self, customer_id: str, case_id: str | None, since: datetime,
                           now: datetime) -> Sequence[Decision]:
        """The customer's decisions that count (``authority.counts``), counted after ``since`` or on
        ``case_id``; each one's ``at`` is when it counts from, never after ``now``."""

    def booked_slots(self, agent_id: str, since: datetime) -> frozenset[datetime]:
        """Times of ``agent_id``'s counted callbacks from ``since`` on."""


class Unknown(Exception):
    """The request names what this side does not hold; each side words it (``where``) and nothing is audited."""

    def __init__(self, rule: str, ident: str, customer: str | None = None) -> None:
        super().__init__(rule, ident, customer)
        self.rule, self.ident, self.customer = rule, ident, customer

    def words(self, where: str, *, quote: bool) -> str:
        ident = repr(self.ident) if quote else self.ident
        owner = f" for customer {self.customer}" if self.customer is not None else ""
        place = f" {where}" if where else ""
        return f"no {self.rule} {ident}{owner}{place}"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A precondition that does not hold: the rule and one sentence."""

    rule: str
    reason: str


class Refused(Exception):
    """A precondition failed; ``escalation``: the escalation it was about, when there is one."""

    def __init__(self, refusal: Refusal, escalation: Decision | None = None) -> None:
        super().__init__(refusal.reason)
        self.refusal, self.escalation = refusal, escalation


# --------------------------------------------------------------------------- reading the situation


def acting_agent(world: World, agent_id: str) -> Agent:
    agent = world.agent(agent_id)
    if agent is None:
        raise Unknown("agent", agent_id)
    return agent


def situation(world: World, agent: Agent, customer_id: str, case_id: str | None, now: datetime, *,
              with_slots: bool = True) -> Situation:
    """What ``check`` needs for ``agent`` deciding on this customer (and case); ``with_slots``: also the
    agent's booked callback times (only a callback needs them)."""
    customer = world.customer(customer_id)
    if customer is None:
        raise Unknown("customer", customer_id)
    case = None
    if case_id is not None:
        case = world.case(case_id)
        if case is None or case.customer != customer.id:
            raise Unknown("case", case_id, customer.id)
    decisions = world.counting_decisions(customer.id, case_id, window_start(now), now)
    slots = world.booked_slots(agent.id, now) if with_slots else frozenset()
    return Situation(agent.role, customer, case, list(decisions), now, slots)


def needs_slots(proposal: Proposal) -> bool:
    return "callback" in (proposal.kind, proposal.escalates.kind if proposal.escalates is not None else None)


@dataclass(frozen=True, slots=True)
class Judged:
    agent: Agent
    situation: Situation
    verdict: Verdict


def judge(world: World, matrix: AuthorityMatrix, agent_id: str, customer_id: str, case_id: str | None,
          proposal: Proposal, now: datetime) -> Judged:
    """The verdict on ``proposal``: the same on the workstation when taken and on the backend when sent."""
    agent = acting_agent(world, agent_id)
    seen = situation(world, agent, customer_id, case_id, now, with_slots=needs_slots(proposal))
    return Judged(agent, seen, check(matrix, seen, proposal))


# --------------------------------------------------------------------------- what a decision produces


def new_decision(matrix: AuthorityMatrix, agent: Agent, seen: Situation, proposal: Proposal, verdict: Verdict,
                 now: datetime, undo_window: timedelta | None) -> Decision:
    """The decision an allowed proposal becomes: pending for ``undo_window`` (None: until sent), or queued
    at once when the window is zero."""
    state = "queued" if undo_window is not None and undo_window <= timedelta(0) else "pending"
    undo_until = now + undo_window if state == "pending" and undo_window is not None else None
    common: dict[str, Any] = dict(id=new_id("d", now), customer=seen.customer.id, agent=agent.id, at=now, state=state,
                  case=seen.case.id if seen.case is not None else None, reason=proposal.reason,
                  undo_until=undo_until)
    if proposal.kind == "escalate":
        inner = proposal.escalates
        assert inner is not None  # check() refuses an escalation without a proposal
        return Decision(kind="escalate", amount=inner.amount, scheduled=_their_clock(matrix, seen.customer, inner.at),
                        escalate_to=verdict.escalate_to, proposal_kind=inner.kind, approval="waiting",
                        phone=seen.customer.phone if inner.kind == "callback" else None, **common)
    return Decision(kind=proposal.kind, amount=proposal.amount,
                    scheduled=_their_clock(matrix, seen.customer, proposal.at),
                    phone=seen.customer.phone if proposal.kind == "callback" else None, **common)


def _their_clock(matrix: AuthorityMatrix, customer: Customer, at: datetime | None) -> datetime | None:
    """A callback time in the customer's own offset, so its promise and the queue read their clock."""
    return at.astimezone(customer_zone(matrix, customer)) if at is not None else None


def proposal_of(decision: Decision) -> Proposal:
    """The proposal a stored decision was taken as."""
    if decision.kind == "escalate":
        inner = Proposal(decision.proposal_kind or "", decision.amount, decision.scheduled, decision.reason)
        return Proposal("escalate", escalates=inner, reason=decision.reason)
    return Proposal(decision.kind, decision.amount, decision.scheduled, decision.reason)


def promise_for(matrix: AuthorityMatrix, decision: Decision, customer: Customer) -> Promise | None:
    """What queuing ``decision`` commits the company to, if anything (open until carried out)."""
    terms = matrix.promises
    if decision.kind == "refund":
        what, due = f"refund {decision.amount}", decision.at + terms.refund
    elif decision.kind == "voucher":
        what, due = f"goodwill voucher {decision.amount}", decision.at + terms.voucher
    elif decision.kind == "callback" and decision.scheduled is not None:
        local = decision.scheduled.astimezone(customer_zone(matrix, customer))
        what = f"callback on {decision.phone} at {local:%a %d %b %H:%M} {local.tzname()}"
        due = decision.scheduled
    else:
        return None
    return Promise(new_id("p", decision.at), decision.customer, what, due, "open", decision=decision.id)


def queued(decision: Decision) -> Decision:
    """pending -> queued: on its way to the backend; the undo window is over."""
    return replace(decision, state="queued", undo_until=None)


def audit_entry(now: datetime, actor: str, action: str, customer: str, decision: str | None, proposal: Proposal,
                verdict: Verdict | None = None, *, rule: str | None = None, detail: str | None = None) -> AuditEntry:
    """The one way an audit line is made; its amount is the proposal's (an escalation's: the proposed one)."""
    amount = proposal.escalates.amount if proposal.escalates is not None else proposal.amount
    limit = verdict.limit if verdict is not None else None
    if limit is not None and amount is not None and limit.currency != amount.currency:
        limit = None  # one audit line carries one currency: the amount's
    return AuditEntry(id=new_id("au", now), at=now, actor=actor, action=action, customer=customer,
                      decision=decision, kind=proposal.kind, amount=amount,
                      rule=rule if rule is not None else (verdict.rule if verdict is not None else None),
                      limit=limit,
                      detail=detail if detail is not None else (verdict.reason if verdict is not None else None))


# --------------------------------------------------------------------------- escalations


@dataclass(frozen=True, slots=True)
class OpenEscalation:
    escalation: Decision
    approver: Agent
    escalated_by: Agent


def escalation_refusal(matrix: AuthorityMatrix, escalation: Decision, approver: Agent,
                       escalated_by: Agent | None) -> Refusal | None:
    """Why ``approver`` may not approve or decline ``escalation`` now; None when they may."""
    # Worded for the approver on either side: the workstation shows the backend's reason as it is.
    if escalation.approval != "waiting":
        return Refusal("escalation.approval", f"this escalation is already {escalation.approval}")
    if escalation.state not in APPROVABLE_STATES:
        return Refusal("escalation.state", f"this escalation is {escalation.state}, not waiting for approval")
    if approver.id == escalation.agent:
        return Refusal("escalation.self", "nobody approves their own escalation")
    if escalated_by is None:
        return Refusal("escalation", f"agent {escalation.agent}, who escalated, is not known here")
    role = matrix.role(approver.role)
    if role is None or role.read_only or escalated_by.role not in role.approves:
        name = role.name if role is not None else approver.role
        reason = (not_approved_by(role, escalated_by.role) if role is not None
                  else f"the {name} role does not approve escalations of {escalated_by.role}")
        return Refusal(f"{name}.approves", reason)
    return None


def open_escalation(world: World, matrix: AuthorityMatrix, approver_id: str, escalation_id: str,
                    customer_id: str | None = None) -> OpenEscalation:
    """The escalation ``approver_id`` is about to approve or decline; :class:`Unknown` when it is not held
    (or not ``customer_id``'s), :class:`Refused` when a precondition fails."""
    escalation = world.decision(escalation_id)
    if escalation is None or escalation.kind != "escalate" or customer_id not in (None, escalation.customer):
        raise Unknown("escalation", escalation_id)
    approver = acting_agent(world, approver_id)
    escalated_by = world.agent(escalation.agent)
    refusal = escalation_refusal(matrix, escalation, approver, escalated_by)
    if refusal is not None:
        raise Refused(refusal, escalation)
    assert escalated_by is not None
    return OpenEscalation(escalation, approver, escalated_by)


def approval_proposal(escalation: Decision) -> Proposal:
    """What an approver decides: the escalated proposal, as their own decision."""
    return Proposal(escalation.proposal_kind or "", escalation.amount, escalation.scheduled, escalation.reason)


@dataclass(frozen=True, slots=True)
class Approval:
    opened: OpenEscalation
    situation: Situation
    proposal: Proposal
    verdict: Verdict


def judge_approval(world: World, matrix: AuthorityMatrix, opened: OpenEscalation, proposal: Proposal,
                   now: datetime) -> Approval:
    """The verdict on approving ``opened`` as ``proposal``, under the approver's own limits."""
    escalation = opened.escalation
    seen = situation(world, opened.approver, escalation.customer, escalation.case, now,
                     with_slots=needs_slots(proposal))
    return Approval(opened, seen, proposal,
                    check_approval(matrix, seen, opened.escalated_by.role, proposal))


def approved_audit(now: datetime, escalation: Decision, approver: str, decision_id: str,
                   verdict: Verdict) -> AuditEntry:
    return audit_entry(now, approver, "approved", escalation.customer, escalation.id, proposal_of(escalation),
                       verdict, detail=f"approved as decision {decision_id}")


def approved(escalation: Decision, approver: str, now: datetime) -> Decision:
    return replace(escalation, approval="approved", approval_by=approver, approval_at=now)


def declined(escalation: Decision, approver: str, now: datetime, reason: str | None) -> Decision:
    return replace(escalation, approval="declined", approval_by=approver, approval_at=now,
                   approval_reason=decline_reason(reason))


def decline_reason(reason: str | None) -> str:
    return (reason or "").strip() or "declined without a reason"


def declined_audit(now: datetime, escalation: Decision, approver: str) -> AuditEntry:
    return audit_entry(now, approver, "declined", escalation.customer, escalation.id, proposal_of(escalation),
                       detail=escalation.approval_reason)


# --------------------------------------------------------------------------- the backend's answer


def confirmed(decision: Decision, promise: Promise | None, verdict: Verdict, actor: str,
              now: datetime) -> list[Decision | Promise | AuditEntry]:
    """The records of a decision the backend confirmed: the decision, its promise, the audit line."""
    decision = replace(decision, state="confirmed", undo_until=None)
    if decision.kind == "escalate":
        decision = replace(decision, approval="waiting", approval_by=None, approval_at=None, approval_reason=None,
                           escalate_to=verdict.escalate_to or decision.escalate_to)
    records: list[Decision | Promise | AuditEntry] = [decision]
    if promise is not None:
        records.append(replace(promise, state="kept" if decision.kind in CARRIED_OUT_BY_BACKEND else "open"))
    records.append(audit_entry(now, actor, "confirmed", decision.customer, decision.id, proposal_of(decision),
                               verdict))
    return records


def refused(decision: Decision, promise: Promise | None, refusal: Refusal, verdict: Verdict | None, actor: str,
            now: datetime, *, audited: bool = True) -> list[Decision | Promise | AuditEntry]:
    """The records of a decision the backend refused: kept with the reason, its promise cancelled."""
    decision = replace(decision, state="refused", undo_until=None,
                       extra={**decision.extra, "refusal": refusal.reason, "refusal_rule": refusal.rule})
    records: list[Decision | Promise | AuditEntry] = [decision]
    if promise is not None:
        records.append(replace(promise, state="cancelled"))
    if audited:
        records.append(audit_entry(now, actor, "refused", decision.customer, decision.id, proposal_of(decision),
                                   verdict, rule=refusal.rule, detail=refusal.reason))
    return records
