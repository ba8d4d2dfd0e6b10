"""How a decision reads: its one-line summary, its state as people see it, its line on the timeline,
and the words both front ends (the workstation's decision bar and the plain session) put around it.

Shared by the importer (which derives timeline lines for imported decisions) and
the ledger (which writes the line when the decision is taken), so both say the
same thing. Pure: no clock, no locale (day and month names are English,
whatever the machine's locale).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from agentdesk.domain.authority import AuthorityMatrix, Proposal, Verdict
from agentdesk.domain.model import Agent, Case, Decision, Direction, EntryKind, TimelineEntry
from agentdesk.domain.money import Money
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration, zone

ENTRY_ID_PREFIX = "decision:"
"""A decision's timeline line has the id ``decision:<decision id>``."""

UNDONE = "undone"
"""The state of a decision taken back in its undo window: it has no line on the timeline."""

APPROVAL_WORDS = {"waiting": "waiting for approval", "approved": "approved", "declined": "declined"}
"""An escalation's state on screen, by its ``approval``; the reader's timeline SQL says the same."""

REFUSAL_FIELD = "refusal"
"""The extension field in which the backend says why it refused a decision (kept in ``Decision.extra``)."""

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def entry_id(decision_id: str) -> str:
    return ENTRY_ID_PREFIX + decision_id


def call_time(at: datetime, zone_name: str | None = None) -> str:
    """``Mon 24 Nov 14:30 (Europe/Berlin)`` in the named zone, or in the time's own offset (``UTC+01:00``)."""
    tz = zone(zone_name)
    if tz is not None:
        local, label = at.astimezone(tz), zone_name
    else:
        local, label = at, _offset_label(at)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local:%H:%M} ({label})"


def _offset_label(at: datetime) -> str:
    offset = at.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _what(kind: str, decision: Decision, zone_name: str | None) -> str:
    """``refund 39.90 EUR``, ``callback Mon 24 Nov 14:30 (Europe/Berlin) on +49 …``: a kind with its terms."""
    parts = [kind]
    if decision.amount is not None:
        parts.append(str(decision.amount))
    if kind == "callback" and decision.scheduled is not None:
        parts.append(call_time(decision.scheduled, zone_name))
    return " ".join(parts)


def terms(decision: Decision, zone_name: str | None = None) -> str:
    """What a decision decides, or an escalation proposes: ``refund 80.00 EUR``, ``callback Mon 24 Nov …``."""
    kind = decision.proposal_kind if decision.kind == "escalate" else decision.kind
    return _what(kind or "decision", decision, zone_name)


def summary(decision: Decision, zone_name: str | None = None) -> str:
    """One line saying what was decided, e.g. ``refund 39.90 EUR · double charge``.

    ``zone_name`` (the customer's IANA zone) is where a callback's time is shown;
    without it the time is shown in the offset it carries.
    """
    if decision.kind == "escalate":
        head = f"escalate to {decision.escalate_to}" if decision.escalate_to else "escalate"
        if decision.proposal_kind:
            head += ": " + _what(decision.proposal_kind, decision, zone_name)
    else:
        head = _what(decision.kind, decision, zone_name)
        if decision.kind == "callback" and decision.phone:
            head += f" on {decision.phone}"
    return f"{head} · {decision.reason}" if decision.reason else head


def shown_state(decision: Decision) -> str:
    """The state people see: a backend refusal with its reason, an escalation's approval in words,
    otherwise the decision's state.

    A refusal comes first: an escalation the backend refused is still ``waiting`` in its approval
    column, and saying so would send the agent waiting for nothing.
    """
    if decision.state == "refused":
        reason = refusal_reason(decision)
        return f"refused: {reason}" if reason else "refused"
    if decision.kind == "escalate" and decision.approval is not None:
        return APPROVAL_WORDS.get(decision.approval, decision.approval)
    return decision.state


def refusal_reason(decision: Decision) -> str | None:
    """Why the backend refused the decision, as it said it (None when it did not); make it safe to show."""
    reason = decision.extra.get(REFUSAL_FIELD)
    return reason if isinstance(reason, str) and reason else None


def timeline_entry(decision: Decision, zone_name: str | None = None) -> TimelineEntry:
    """The decision's line on its customer's timeline (written when it is made; undo removes it)."""
    return TimelineEntry(
        id=entry_id(decision.id),
        customer=decision.customer,
        kind=EntryKind.DECISION,
        at=decision.at,
        author=decision.agent,
        body=summary(decision, zone_name),
        direction=Direction.INTERNAL,
        case=decision.case,
        event_kind=decision.kind,
        decision_id=decision.id,
    )


# --------------------------------------------------------------------------- words around a decision


def limit_text(money: Money) -> str:
    """``50.00``: a limit beside an amount that already names the currency."""
    return money.text


def at_least_zero(money: Money) -> Money:
    """A budget left, never shown below zero."""
    return money if money.amount > 0 else Money(Decimal(0), money.currency)


def when_text(at: datetime, their_zone: tzinfo | None, to_viewer: Callable[[datetime], datetime]) -> str:
    """``Mon 14:15 their time (13:15 yours)``: the customer's day and clock, then the viewer's."""
    mine = to_viewer(at)
    if their_zone is None:
        return f"{mine:%a %H:%M} (your time; their zone is unknown)"
    theirs = at.astimezone(their_zone)
    yours = f"{mine:%H:%M}" if mine.date() == theirs.date() else f"{mine:%a %H:%M}"
    return f"{theirs:%a %H:%M} their time ({yours} yours)"


def proposal_words(proposal: Proposal, their_zone: tzinfo | None,
                  to_viewer: Callable[[datetime], datetime]) -> str:
    """``refund 39.90 EUR``, ``callback Mon 14:15 (…)``, ``escalate refund 80.00 EUR``."""
    if proposal.kind == "escalate" and proposal.escalates is not None:
        return "escalate " + proposal_words(proposal.escalates, their_zone, to_viewer)
    if proposal.amount is not None:
        return f"{proposal.kind} {proposal.amount}"
    if proposal.at is not None:
        return f"{proposal.kind} {when_text(proposal.at, their_zone, to_viewer)}"
    return proposal.kind


def refusal_text(verdict: Verdict) -> str:
    """Why, short, naming the limit: ``over your limit of 50.00 EUR``."""
    rule = verdict.rule
    if rule.endswith(".max") and verdict.limit is not None:
        return f"over your limit of {verdict.limit}"
    if rule.endswith(".per_customer_30d") and verdict.budget_left is not None:
        return f"over this customer's 30-day budget ({at_least_zero(verdict.budget_left)} left)"
    return verdict.reason or "not allowed"


def decision_words(decision: Decision, their_zone: tzinfo | None,
                   to_viewer: Callable[[datetime], datetime], note_chars: int = 40) -> str:
    """``refund 39.90 EUR``, ``escalate to lead: refund 80.00 EUR``, ``note “…”`` (cut at ``note_chars``)."""
    if decision.kind == "escalate":
        inner = Proposal(decision.proposal_kind or "", decision.amount, decision.scheduled)
        return f"escalate to {decision.escalate_to or 'the next role'}: " + proposal_words(inner, their_zone, to_viewer)
    if decision.kind == "note" and decision.reason:
        return f"note “{one_line(decision.reason, note_chars)}”"
    return proposal_words(Proposal(decision.kind, decision.amount, decision.scheduled), their_zone, to_viewer)


WAITING_FOR_BACKEND = "waiting for the backend"
"""A decision out of its undo window that the backend has not answered yet (a backend is in use)."""


def waiting_words(decision: Decision) -> str:
    """A queued decision with a backend in use: ``waiting for the backend`` (an escalation: ``…, then goes to lead``).

    Nothing is "sent" or "approved" before the backend has taken it: it may still refuse.
    """
    if decision.kind == "escalate":
        return f"{WAITING_FOR_BACKEND}, then goes to {decision.escalate_to or 'the next role up'}"
    return WAITING_FOR_BACKEND


def answer_words(decision: Decision, person: Callable[[str], str] = str) -> tuple[str, str] | None:
    """The answer a decision got, as a badge and words; None while there is none (pending, queued, undone).

    ``("CONFIRMED", "by the backend")``, ``("REFUSED", "by the backend: case k-1 is closed")``, an
    escalation the backend took ``("SENT", "waiting for lead's approval")``, then ``("APPROVED", "by
    Markus Brandt")`` or ``("DECLINED", "by Markus Brandt: no proof")``. An approval is an answer in
    any state: without a backend a lead approves on the same store. ``person`` names an agent id.
    """
    if decision.state == "refused":
        reason = refusal_reason(decision)
        return "REFUSED", f"by the backend: {one_line(reason, 300) if reason else 'no reason given'}"
    if decision.kind == "escalate" and decision.approval in ("approved", "declined"):
        who = one_line(person(decision.approval_by), 60) if decision.approval_by else "a lead"
        if decision.approval == "approved":
            return "APPROVED", f"by {who}"
        return "DECLINED", f"by {who}: {one_line(decision.approval_reason or 'no reason given', 300)}"
    if decision.state != "confirmed":
        return None
    if decision.kind == "escalate":
        return "SENT", f"waiting for {decision.escalate_to or 'the next role up'}'s approval"
    return "CONFIRMED", "by the backend"


APPROVAL_SENT = f"approval sent, {WAITING_FOR_BACKEND}"
"""A lead's approval the backend has not answered yet; only its answer makes it approved."""


def approval_refused(approval: Decision) -> str:
    """``approval refused by the backend: <why>``: a lead's approval (their decision in place of the escalation)."""
    reason = refusal_reason(approval)
    return f"approval refused by the backend: {one_line(reason, 300) if reason else 'no reason given'}"


def pending_verb(decision: Decision) -> str:
    """What ends a decision's undo window does to it: ``queued``, or ``goes to lead`` for an escalation."""
    return f"goes to {decision.escalate_to}" if decision.kind == "escalate" and decision.escalate_to else "queued"


def countdown(decision: Decision, now: datetime) -> str | None:
    """``queued in 8 s`` (an escalation: ``goes to lead in 8 s``) or ``… now``; None without a time limit."""
    if decision.undo_until is None:
        return None
    verb = pending_verb(decision)
    left = decision.undo_until - now
    if left.total_seconds() <= 0:
        return f"{verb} now"
    seconds = int(left.total_seconds() + 0.999)  # 7.2 s left reads "8 s": never says less than there is
    return f"{verb} in {seconds} s" if seconds < 60 else f"{verb} in {duration(left)}"


# --------------------------------------------------------------------------- what the agent is told meanwhile


def outcome_sentence(escalation: Decision, customer_name: str, approver_name: str | None,
                     zone_name: str | None = None) -> str:
    """``Mira Scholz approved your refund 80.00 EUR for Petra Lindner`` (or ``declined …: <reason>``).

    Told to the agent who escalated, by every front end; names come as stored and are made safe here.
    """
    who = one_line(approver_name or "A lead", 60)
    what = one_line(terms(escalation, zone_name), 200)
    customer = one_line(customer_name, 60)
    if escalation.approval == "approved":
        return f"{who} approved your {what} for {customer}"
    reason = one_line(escalation.approval_reason or "no reason given", 300)
    return f"{who} declined your {what} for {customer}: {reason}"


def backend_refusal_sentence(decision: Decision, customer_name: str, zone_name: str | None = None) -> str:
    """``refund 39.90 EUR for Petra Lindner was not carried out: case k-55 is closed``.

    Told to the agent whose decision the backend refused, by every front end.
    """
    what = terms(decision, zone_name)
    if decision.kind == "escalate":
        what = "escalation of " + what
    reason = refusal_reason(decision)
    return (f"{one_line(what, 200)} for {one_line(customer_name, 60)} was not carried out: "
            f"{one_line(reason, 300) if reason else 'the backend gave no reason'}")


# --------------------------------------------------------------------------- when nothing may be decided

DECISIONS_NOT_AVAILABLE = "decisions are not available"


@dataclass(frozen=True, slots=True)
class NoDecisions:
    """Why a front end decides nothing, in two parts each front end joins its own way: the workstation's
    decision bar as ``READ-ONLY · the supervisor role decides nothing``, the plain session as
    ``read-only: the supervisor role decides nothing``."""

    head: str
    words: str
    read_only: bool = False
    """``head`` is the read-only mark, which the workstation shows as a badge."""

    def line(self, separator: str, *, read_only_mark: str = "read-only") -> str:
        return f"{read_only_mark if self.read_only else self.head}{separator}{self.words}"


READ_ONLY_SESSION = NoDecisions("read-only", DECISIONS_NOT_AVAILABLE, read_only=True)
"""A session started read-only, as a supervisor works."""
NO_AGENT = NoDecisions("no agent selected", f"{DECISIONS_NOT_AVAILABLE} (start with --as AGENT)")


def role_decides_nothing(agent: Agent, matrix: AuthorityMatrix) -> NoDecisions | None:
    """Why ``agent``'s role decides nothing (read-only, or not in the matrix); None when it may decide."""
    role = matrix.role(agent.role)
    if role is None:
        return NoDecisions(DECISIONS_NOT_AVAILABLE,
                           f"the role '{one_line(agent.role, 30)}' is not in the authority matrix")
    if role.read_only:
        return NoDecisions("read-only", f"the {one_line(role.name, 30)} role decides nothing", read_only=True)
    return None


def why_no_decisions(read_only: bool, agent: Agent | None, matrix: AuthorityMatrix | None) -> NoDecisions | None:
    """Why a session decides nothing, or None when it may: read-only, nobody signed in, or the role."""
    if read_only:
        return READ_ONLY_SESSION
    if agent is None or matrix is None:
        return NO_AGENT
    return role_decides_nothing(agent, matrix)


def nothing_to_suggest(kind: str, case: Case | None) -> str:
    """Why there is no amount to suggest for a ``refund`` or ``voucher``: the same words in every front end."""
    if kind == "refund":
        if case is None:
            return "the customer has no open case with a disputed amount"
        if case.disputed is None:
            return f"no disputed amount on case {one_line(case.id, 30)}"
        return f"the {case.disputed} disputed on case {one_line(case.id, 30)} is refunded already"
    return "this customer's 30-day voucher budget is used up"
