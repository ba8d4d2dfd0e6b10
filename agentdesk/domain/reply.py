"""A reply to the customer: written by a named agent, on a channel the customer can be reached on, sent once.

Written once here, so the workstation (when it queues one) and the backend (when it takes the
mutation, and when it sends) make the same record, sign it the same way and refuse the same
things in the same words.

A reply is an outbound ``interaction`` whose ``extra`` says who wrote it (``reply_by``), where it
goes (``to``, and ``subject`` for an e-mail) and how far its delivery got (``delivery``:
``queued``, ``sent`` or ``failed``, with ``delivery_detail`` saying why it failed). Its body is
exactly what the customer receives: the text, then the agent's signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from agentdesk.domain.ids import new_id
from agentdesk.domain.model import Agent, Case, Channel, Customer, Direction, EntryKind, TimelineEntry
from agentdesk.domain.sms import segments
from agentdesk.domain.text import one_line

SENDABLE = (Channel.EMAIL, Channel.SMS)
"""The channels the backend can send on (SMTP, the SMS provider); others are answered by phone or logged."""
MAX_REPLY_CHARS = 20_000
"""A reply's own text, at most (an e-mail, not an attachment)."""
MAX_SMS_SEGMENTS = 10
"""An SMS longer than this many parts is refused: it would arrive as a pile of fragments."""
SIGNATURE_SEPARATOR = "\n\n-- \n"
"""The usenet signature separator: mail programs recognise it and fold what follows."""

REPLY_BY, TO, SUBJECT, DELIVERY, DELIVERY_DETAIL = "reply_by", "to", "subject", "delivery", "delivery_detail"
QUEUED, SENT, FAILED = "queued", "sent", "failed"
DELIVERY_STATES = (QUEUED, SENT, FAILED)


class ReplyRefused(ValueError):
    """The reply cannot be sent as given; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Destination:
    channel: Channel
    address: str
    """The e-mail address or phone number, as the customer record has it."""

    def words(self) -> str:
        """``e-mail to p.lindner@example.net``."""
        return f"{channel_words(self.channel)} to {self.address}"


CHANNEL_WORDS = {"email": Channel.EMAIL, "e-mail": Channel.EMAIL, "sms": Channel.SMS}
"""What a user types to name a channel a reply goes out on."""


def channel_named(word: str) -> Channel | None:
    """``email``, ``e-mail`` or ``sms`` (any case) as a channel a reply can go out on; None for anything else."""
    return CHANNEL_WORDS.get(word.strip().lower())


def channel_words(channel: Channel) -> str:
    return {Channel.EMAIL: "e-mail", Channel.SMS: "SMS"}.get(channel, channel.value)


def destinations(customer: Customer) -> list[Destination]:
    """Where a reply to ``customer`` can go: the preferred channel first, then the others with an address."""
    found = []
    if customer.email and customer.email.strip():
        found.append(Destination(Channel.EMAIL, customer.email.strip()))
    if customer.phone and customer.phone.strip():
        found.append(Destination(Channel.SMS, customer.phone.strip()))
    preferred = customer.preferred_channel
    # Someone who prefers the phone or a text message is closer to an SMS than to an e-mail.
    if preferred in (Channel.SMS, Channel.PHONE, Channel.CHAT, Channel.APP):
        found.sort(key=lambda d: d.channel is not Channel.SMS)
    return found


def destination(customer: Customer, channel: Channel | None = None) -> Destination:
    """Where a reply on ``channel`` (default: the customer's preferred one that can be sent) goes."""
    reachable = destinations(customer)
    if channel is not None and channel not in SENDABLE:
        names = " or ".join(channel_words(c) for c in SENDABLE)
        raise ReplyRefused(f"a reply goes out by {names}, not {channel_words(channel)}")
    for found in reachable:
        if channel is None or found.channel is channel:
            return found
    if channel is None:
        raise ReplyRefused(f"{one_line(customer.name, 80)} has no e-mail address and no phone number to reply to")
    what = "e-mail address" if channel is Channel.EMAIL else "phone number"
    raise ReplyRefused(f"{one_line(customer.name, 80)} has no {what} for a reply by {channel_words(channel)}")


def signature(agent: Agent) -> str:
    """Who answers, as a person: name, role (and team), how to reach them directly."""
    team = agent.extra.get("team")
    role = agent.role.capitalize() + (f", {one_line(str(team), 80)}" if isinstance(team, str) and team else "")
    # " / ", not " · ": a character outside the GSM alphabet would make every signed SMS UCS-2 (70 a part)
    contact = " / ".join(part.strip() for part in (agent.email, agent.phone) if part and part.strip())
    return "\n".join(line for line in (one_line(agent.name, 120), role, contact) if line)


def signed(text: str, agent: Agent) -> str:
    return text + SIGNATURE_SEPARATOR + signature(agent)


def reply_text(text: str) -> str:
    """The reply's own text as the agent wrote it, trailing blanks gone; refused when empty or too long."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    cleaned = "\n".join(lines).strip("\n")
    if not cleaned.strip():
        raise ReplyRefused("the reply is empty: write what the customer should read")
    if len(cleaned) > MAX_REPLY_CHARS:
        raise ReplyRefused(f"the reply is {len(cleaned):,} characters; the limit is {MAX_REPLY_CHARS:,}")
    return cleaned


def subject_for(case: Case | None) -> str:
    """``Re: <the case's subject>`` (one ``Re:``), or a plain one when there is no case."""
    if case is None:
        return "Your message to our service team"
    subject = one_line(case.subject, 200)
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def reply_entry(agent: Agent, customer: Customer, text: str, now: datetime, *, channel: Channel | None = None,
                case: Case | None = None) -> TimelineEntry:
    """The interaction record of a reply ``agent`` writes now: signed, addressed, ``queued``."""
    if case is not None and case.customer != customer.id:
        raise ReplyRefused(f"case {case.id} is not {one_line(customer.name, 80)}'s")
    if case is not None and not case.status.is_open:
        raise ReplyRefused(f"case {case.id} is {case.status.value}: reopen it or reply without a case")
    where = destination(customer, channel)
    body = signed(reply_text(text), agent)
    if where.channel is Channel.SMS:
        parts = segments(body).segments
        if parts > MAX_SMS_SEGMENTS:
            raise ReplyRefused(f"the SMS would be {parts} parts; at most {MAX_SMS_SEGMENTS}: shorten it or send "
                               "an e-mail")
    extra: dict[str, Any] = {REPLY_BY: agent.id, TO: where.address, DELIVERY: QUEUED}
    if where.channel is Channel.EMAIL:
        extra[SUBJECT] = subject_for(case)
    return TimelineEntry(id=new_id("i", now), customer=customer.id, kind=EntryKind.INTERACTION, at=now,
                         author=agent.id, body=body, direction=Direction.OUT, channel=where.channel,
                         case=case.id if case is not None else None, extra=extra)


def is_reply(entry: TimelineEntry) -> bool:
    return entry.kind is EntryKind.INTERACTION and REPLY_BY in entry.extra


def check_reply(entry: TimelineEntry, agent: Agent, customer: Customer, case: Case | None) -> None:
    """The backend's check of a pushed reply, against its own records; :class:`ReplyRefused` says what is wrong."""
    if not is_reply(entry) or entry.direction is not Direction.OUT or entry.channel is None:
        raise ReplyRefused("a reply is an outbound interaction with reply_by")
    if entry.extra.get(REPLY_BY) != agent.id or entry.author != agent.id:
        raise ReplyRefused(f"reply {entry.id} was written by {entry.extra.get(REPLY_BY)!r}, not {agent.id!r}")
    if entry.extra.get(DELIVERY) != QUEUED:
        raise ReplyRefused(f"a new reply is queued, not {entry.extra.get(DELIVERY)!r}")
    text, separator, signed_by = entry.body.rpartition(SIGNATURE_SEPARATOR)
    if not separator or signed_by != signature(agent):
        raise ReplyRefused(f"reply {entry.id} is not signed as {one_line(agent.name, 80)}'s record says")
    again = reply_entry(agent, customer, text, entry.at, channel=entry.channel, case=case)
    if entry.extra.get(TO) != again.extra[TO]:
        raise ReplyRefused(f"reply {entry.id} goes to {entry.extra.get(TO)!r}; the customer's "
                           f"{channel_words(entry.channel)} is {again.extra[TO]!r}")


def delivery(entry: TimelineEntry) -> str | None:
    """``queued``, ``sent`` or ``failed: <why>`` for a reply; None for anything else."""
    state = entry.extra.get(DELIVERY) if is_reply(entry) else None
    if state not in DELIVERY_STATES:
        return None
    detail = entry.extra.get(DELIVERY_DETAIL)
    return f"{state}: {one_line(str(detail), 300)}" if state == FAILED and detail else str(state)


def delivered(entry: TimelineEntry, state: str, detail: str | None = None,
              more: Mapping[str, Any] | None = None) -> TimelineEntry:
    """The reply record as its delivery now stands."""
    extra = {key: value for key, value in entry.extra.items() if key != DELIVERY_DETAIL}
    extra.update(more or {})
    extra[DELIVERY] = state
    if detail:
        extra[DELIVERY_DETAIL] = one_line(detail, 500)
    return replace(entry, extra=extra)


def outcome_sentence(channel: str | None, customer_name: str, state: str, detail: str | None) -> str:
    """``e-mail reply to Petra Lindner sent``, or ``… was not sent: <why>``: one line, safe to show."""
    try:
        what = channel_words(Channel(channel)) if channel else "reply"
    except ValueError:
        what = "reply"
    name = one_line(customer_name, 80)
    if state == SENT:
        return f"{what} reply to {name} sent"
    return f"{what} reply to {name} was not sent: {one_line(detail or 'no reason given', 300)}"
