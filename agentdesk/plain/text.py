"""The words of the plain session (``agentdesk --plain``): pure functions from domain values to lines.

No I/O and no Textual. The words around a decision come from
:mod:`agentdesk.domain.decision_text`, as in the workstation's decision bar, so users
of both talk about the same thing.

Every piece of customer text passes through :func:`agentdesk.domain.text.one_line`
(or :func:`~agentdesk.domain.text.display_text` for a body shown in full): it is
data, never markup or terminal control.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo

from agentdesk.domain import decision_text as words
from agentdesk.domain.authority import ESCALATABLE_KINDS, MONEY_KINDS, Option, Proposal, Role, Verdict
from agentdesk.domain.decision_text import at_least_zero, refusal_text
from agentdesk.domain.model import Case, Customer, Decision, EntryKind, Promise, TimelineEntry
from agentdesk.domain.queue import URGENCY_WORDS
from agentdesk.domain.text import display_text, one_line
from agentdesk.domain.timefmt import duration, until

WIDTH = 80
"""The body of an entry shown in full is wrapped at this many columns."""

DIRECTION_WORDS = {"in": "inbound, from the customer", "out": "outbound, to the customer", "internal": "internal"}


def viewer(at: datetime) -> datetime:
    """A time in the viewer's zone (the machine's, as ``agentdesk queue`` shows times)."""
    return at.astimezone()


def clock(at: datetime) -> str:
    """``Mon 14:15``."""
    return f"{at:%a %H:%M}"


# --------------------------------------------------------------------------- decisions


def proposal_words(proposal: Proposal, their_zone: tzinfo | None) -> str:
    """``refund 39.90 EUR``, ``callback Mon 14:15 their time (…)``, ``escalate refund 80.00 EUR``."""
    return words.proposal_words(proposal, their_zone, viewer)


def decision_words(decision: Decision, their_zone: tzinfo | None) -> str:
    """``refund 39.90 EUR``, ``escalate to lead: refund 80.00 EUR``, ``note “text”``."""
    return words.decision_words(decision, their_zone, viewer, note_chars=60)


def countdown(decision: Decision, now: datetime) -> str:
    """``queued in 8 s`` (an escalation: ``goes to lead in 8 s``); without a time limit, what ends it."""
    return words.countdown(decision, now) or f"{words.pending_verb(decision)} when you type send"


def sent_words(decision: Decision, *, backend: bool) -> str:
    """What happens once the undo window is over: with a backend, ``waiting for the backend`` until it answers."""
    if backend:
        return words.waiting_words(decision)
    if decision.kind == "escalate":
        return f"waits for approval by {decision.escalate_to or 'the next role up'}"
    return "queued for the backend"


def answer_line(decision: Decision, customer_name: str, their_zone: tzinfo | None,
                person: Callable[[str], str]) -> str:
    """The backend's answer to a decision: ``CONFIRMED voucher 15.00 EUR for Ole Brandt · by the backend``,
    ``REFUSED … · by the backend: <why>``, ``SENT escalation to lead: refund 80.00 EUR for … · waiting for
    lead's approval``."""
    answer = words.answer_words(decision, person)
    badge, said = answer if answer is not None else ("QUEUED", words.waiting_words(decision))
    if decision.kind == "escalate":
        inner = Proposal(decision.proposal_kind or "", decision.amount, decision.scheduled)
        head = f"{badge} escalation to {decision.escalate_to}: {proposal_words(inner, their_zone)}"
    else:
        head = f"{badge} {decision_words(decision, their_zone)}"
    return f"{one_line(head, 200)} for {customer_name} · {said}"


def escalate_command(proposal: Proposal, their_zone: tzinfo | None) -> str | None:
    """What to type to escalate exactly ``proposal``: ``escalate refund 80.00``; None when it cannot be."""
    if proposal.kind not in ESCALATABLE_KINDS:
        return None
    if proposal.amount is not None:
        return f"escalate {proposal.kind} {proposal.amount.text}"
    if proposal.at is not None:
        # On the customer's clock, as callback times are typed; without their zone, in the time's own offset.
        at = proposal.at.astimezone(their_zone) if their_zone is not None else proposal.at
        text = f"{at:%Y-%m-%d %H:%M}" if their_zone is not None else at.isoformat(timespec="minutes")
        return f"escalate callback {text}"
    return f"escalate {proposal.kind}"


def option_line(option: Option, their_zone: tzinfo | None, *, waiting: bool = False) -> str | None:
    """One line of the decision bar, its command first: ``refund 39.90 EUR (limit 50.00)``.

    A refused suggestion says why and what to type to escalate it (or that it waits for approval).
    """
    kind, verdict, suggested = option.kind, option.verdict, option.suggested
    offer = ""
    if verdict.escalate_to and suggested is not None:
        command = escalate_command(suggested, their_zone)
        if waiting:
            offer = f" · waiting for {verdict.escalate_to}'s approval"
        elif command is not None:
            offer = f" · {command} asks {verdict.escalate_to}"
    elif verdict.escalate_to:
        offer = f" · escalate {kind} AMOUNT asks {verdict.escalate_to}" if kind in MONEY_KINDS else ""
    if kind in MONEY_KINDS:
        limit = f" (limit {verdict.limit.text})" if verdict.limit is not None else ""
        if suggested is not None and verdict.allowed:
            return f"{proposal_words(suggested, their_zone)}{limit}"
        if suggested is not None:
            return f"{proposal_words(suggested, their_zone)}: {refusal_text(verdict)}{offer}"
        left = verdict.budget_left
        if left is not None and left.amount <= 0:
            return f"{kind}: this customer's 30-day budget is used up{offer}"
        if verdict.reason and verdict.needs is None:
            return f"{kind}: {one_line(verdict.reason, 300)}{offer}"
        return f"{kind} AMOUNT: nothing to suggest here; give an amount{limit}"
    if kind == "callback":
        if suggested is not None and verdict.allowed:
            return proposal_words(suggested, their_zone)
        if suggested is None and verdict.needs == "time":
            return "callback TIME: no free slot in the next four weeks; give a time"
        return f"callback: {one_line(verdict.reason or 'not allowed', 300)}{offer}"
    if kind == "note":
        return "note TEXT"
    return None


def refused_line(verdict: Verdict, their_zone: tzinfo | None) -> str:
    """``REFUSED refund 80.00 EUR: over your limit of 50.00 EUR (rule agent.refund.max)`` and how to escalate."""
    what = one_line(proposal_words(verdict.proposal, their_zone), 200)
    line = f"REFUSED {what}: {refusal_text(verdict)} (rule {verdict.rule})"
    command = escalate_command(verdict.proposal, their_zone) if verdict.escalate_to else None
    if command is not None:
        line += f". To ask {verdict.escalate_to}, type: {command}"
    return line


# --------------------------------------------------------------------------- a customer


def header_lines(customer: Customer, owner_name: str | None, their_zone: tzinfo | None, now: datetime) -> list[str]:
    """Who the customer is, where, and what time it is for them and for you."""
    name = f"{one_line(customer.name, 80)} ({one_line(customer.id, 40)})"
    owner = one_line(owner_name, 60) if owner_name else (one_line(customer.owner, 40) if customer.owner else "none")
    prefers = f"prefers {customer.preferred_channel.value}" if customer.preferred_channel else "no preferred channel"
    language = f"language {one_line(customer.language, 12)}" if customer.language else "language unknown"
    place = one_line(customer.location, 60) if customer.location else "location unknown"
    if their_zone is not None:
        local = now.astimezone(their_zone)
        theirs = f"their time {clock(local)} {one_line(customer.timezone or '', 40)} ({local:%Z})"
    elif customer.timezone:
        theirs = f"their time unknown (zone {one_line(customer.timezone, 40)!r} not known)"
    else:
        theirs = "their time unknown"
    mine = viewer(now)
    return [name, f"owner {owner} · {prefers} · {language} · {place}",
            f"{theirs} · your time {clock(mine)} {mine:%Z}"]


def case_line(case: Case, now: datetime) -> str:
    parts = [f"case {one_line(case.id, 40)}: {one_line(case.subject, 200)}", case.status.value,
             f"opened {duration(now - case.opened_at)} ago"]
    if case.disputed is not None:
        parts.append(f"disputed {case.disputed}")
    urgency = URGENCY_WORDS.get(case.urgency, "")
    if urgency:
        parts.append(urgency)
    return " · ".join(parts)


def promise_when(promise: Promise, now: datetime) -> str:
    """``OVERDUE by 2 h 05 min`` or ``due in 3 d``."""
    if promise.due < now or promise.state == "overdue":
        return f"OVERDUE by {duration(now - promise.due)}"
    return until(promise.due, now)


def authority_lines(role: Role, options: dict[str, Option]) -> list[str]:
    """What this agent may decide for this customer: limits, 30-day budget left, callbacks, escalation."""
    if role.read_only:
        return [f"{one_line(role.name, 30)}: read-only, you decide nothing"]
    lines = []
    for kind in MONEY_KINDS:
        rule = role.money_rule(kind)
        if rule is None:
            lines.append(f"{kind}: not yours to decide")
            continue
        option = options.get(kind)
        limit = option.verdict.limit if option is not None else None
        left = option.verdict.budget_left if option is not None else None
        line = f"{kind} up to {limit if limit is not None else rule.max}"
        if left is not None:
            line += f" · {at_least_zero(left)} left for this customer (30 days)"
        lines.append(line)
    callback = role.callback
    if callback is None or not callback.allowed:
        lines.append("callbacks: not yours to promise")
    else:
        lines.append("callbacks: yes" + (", abroad too" if callback.international else ", home country only"))
    if role.escalate_to:
        lines.append(f"escalates to {one_line(role.escalate_to, 30)}")
    if role.approves:
        lines.append(f"approves escalations of {one_line(', '.join(role.approves), 60)}")
    return lines


# --------------------------------------------------------------------------- one entry in full


def minutes(seconds: int) -> str:
    whole, rest = divmod(max(seconds, 0), 60)
    return f"{whole} min {rest:02d} s" if rest else f"{whole} min"


def entry_lines(entry: TimelineEntry, number: int, count: int, person: Callable[[str], str],
                their_zone: tzinfo | None) -> list[str]:
    """Every field of one entry, one a line, what and who first (the body follows separately)."""
    if entry.kind is EntryKind.DECISION:
        what = f"decision {one_line(entry.event_kind or 'decision', 60)}"
        if entry.decision_state:
            what += f" [{one_line(entry.decision_state, 40)}]"
    elif entry.is_internal:
        what = f"internal event {one_line(entry.event_kind or 'event', 60)}"
    else:
        channel = entry.channel.value if entry.channel else "no channel"
        what = f"{channel}, {DIRECTION_WORDS[entry.direction.value]}"
    lines = [f"Entry {number:,} of {count:,}: {what}", f"by {one_line(person(entry.author), 80) or 'unknown'}"]
    mine = viewer(entry.at)
    when = f"at {mine:%a %d %b %Y %H:%M %Z}"
    if their_zone is not None:
        when += f" · customer's time {entry.at.astimezone(their_zone):%H:%M %Z}"
    lines.append(when)
    if entry.duration_s is not None:
        lines.append(f"call {minutes(entry.duration_s)}")
    if entry.wait_s is not None:
        lines.append(f"waited {minutes(entry.wait_s)}")
    if entry.case:
        lines.append(f"case {one_line(entry.case, 40)}")
    lines.append(f"id {one_line(entry.id, 80)}")
    return lines


def wrapped(body: str, width: int = WIDTH) -> Iterator[str]:
    """The body made safe and wrapped at ``width`` columns, line by line (lazily: bodies may be megabytes)."""
    if not body:
        yield "(no text)"
        return
    start = 0
    while start < len(body):
        end = body.find("\n", start)
        if end < 0:
            end = len(body)
        paragraph = display_text(body[start:end]).replace("\n", " ")
        if not paragraph.strip():
            yield ""
        else:
            yield from textwrap.wrap(paragraph, width, break_long_words=True, break_on_hyphens=False,
                                     replace_whitespace=False, drop_whitespace=True) or [""]
        start = end + 1
