"""The fair queue: who is next, and why.

Order is by *effective waiting time*: how long the customer has waited, plus
credits that anyone can read off the screen: a promised deadline drawing near
(or already missed) and urgency such as "no service at all". Credits are bounded,
so nobody waits forever behind a stream of urgent cases, and nothing about the
customer's value, spend or tariff takes part.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from agentdesk.domain.model import Channel, Urgency
from agentdesk.domain.timefmt import duration, until


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """The published rules of the queue; every number here is shown in the reasons."""

    urgency_credit: dict[Urgency, timedelta]
    deadline_horizon: timedelta
    """A deadline closer than this earns credit for the part of the horizon already used up."""
    overdue_credit: timedelta
    """A missed deadline earns the full horizon plus this."""

    @classmethod
    def default(cls) -> QueuePolicy:
        return cls(
            urgency_credit={
                Urgency.NORMAL: timedelta(0),
                Urgency.HIGH: timedelta(minutes=30),
                Urgency.NO_SERVICE: timedelta(hours=2),
            },
            deadline_horizon=timedelta(hours=2),
            overdue_credit=timedelta(hours=1),
        )


CALLBACK_LEAD = timedelta(minutes=15)
"""A promised callback heads the queue from this long before its time."""

URGENCY_WORDS = {
    Urgency.NORMAL: "",
    Urgency.HIGH: "urgent",
    Urgency.NO_SERVICE: "no service at all",
}


@dataclass(frozen=True, slots=True)
class Waiting:
    """What the store knows about one customer who is waiting for an answer."""

    customer_id: str
    name: str
    since: datetime
    channels: tuple[Channel, ...]
    urgency: Urgency = Urgency.NORMAL
    deadline: datetime | None = None
    deadline_what: str | None = None
    callback_due: datetime | None = None
    """The earliest open callback promise due within :data:`CALLBACK_LEAD`; shown in its own offset."""
    callback_what: str | None = None
    oldest_channel: Channel | None = None
    """The channel of the oldest unanswered inbound contact, which the wait is counted from."""
    oldest_missed_call: bool = False
    """That contact is a missed call (a phone contact the customer could not get through on)."""


MISSED_CALL_PREFIX = "Missed call"
"""A phone contact whose body starts so (or whose record says ``"missed": true``) is a missed call."""

CHANNEL_WORDS = {
    Channel.EMAIL: "e-mail",
    Channel.PHONE: "call",
    Channel.CHAT: "chat",
    Channel.SMS: "SMS",
    Channel.SOCIAL: "social",
    Channel.LETTER: "letter",
    Channel.SHOP: "shop visit",
    Channel.APP: "app",
    Channel.PORTAL: "portal",
}
"""What waits, in the words the queue's reason starts with."""


def waiting_words(item: Waiting, waited: timedelta) -> str:
    """``e-mail 12 min``, ``missed call 3 min``; ``waiting 12 min`` when what waits is not known."""
    if item.oldest_channel is None:
        what = "waiting"
    elif item.oldest_channel is Channel.PHONE and item.oldest_missed_call:
        what = "missed call"
    else:
        what = CHANNEL_WORDS[item.oldest_channel]
    return f"{what} {duration(waited)}"


@dataclass(frozen=True, slots=True)
class QueuePlace:
    position: int
    waiting: Waiting
    waited: timedelta
    effective: timedelta
    reason: str


def _deadline_credit(deadline: datetime | None, now: datetime, policy: QueuePolicy) -> timedelta:
    if deadline is None:
        return timedelta(0)
    left = deadline - now
    if left < timedelta(0):
        return policy.deadline_horizon + policy.overdue_credit
    return max(policy.deadline_horizon - left, timedelta(0))


def _reason(item: Waiting, waited: timedelta, urgency_credit: timedelta,
            deadline_credit: timedelta, now: datetime) -> str:
    parts = [waiting_words(item, waited)]
    if urgency_credit:
        parts.append(f"{URGENCY_WORDS[item.urgency]} +{duration(urgency_credit)}")
    if item.deadline is not None:
        what = f"{item.deadline_what} " if item.deadline_what else "promise "
        deadline_text = f"{what}{until(item.deadline, now)}"
        if deadline_credit:
            deadline_text += f" +{duration(deadline_credit)}"
        parts.append(deadline_text)
    elif urgency_credit == timedelta(0):
        return parts[0] + "; longest wait first"
    return "; ".join(parts)


def _callback_reason(item: Waiting, due: datetime, waited: timedelta, now: datetime) -> str:
    """``callback due 14:30 — overdue 5 min``, then the wait when the customer also wrote in.

    The time is shown in the offset the promise carries, so every viewer reads the same line.
    """
    # A callback missed by more than half a day says which day it was due.
    when = f"{due:%H:%M}" if abs(now - due) < timedelta(hours=12) else f"{due:%a %d %b %H:%M}"
    text = f"callback due {when}"
    if due < now:
        text += f" — overdue {duration(now - due)}"
    if item.channels:
        text += f"; {waiting_words(item, waited)}"
    return text


def order_queue(items: Iterable[Waiting], now: datetime,
                policy: QueuePolicy | None = None) -> list[QueuePlace]:
    """Rank waiting customers: due callbacks first (earliest due first), then longest effective wait.

    Ties go to the longer real wait, then the id.
    """
    policy = policy or QueuePolicy.default()
    scored = []
    for item in items:
        waited = max(now - item.since, timedelta(0))
        urgency_credit = policy.urgency_credit[item.urgency]
        deadline_credit = _deadline_credit(item.deadline, now, policy)
        effective = waited + urgency_credit + deadline_credit
        due = item.callback_due
        if due is not None and due <= now + CALLBACK_LEAD:
            key = (0, due - now, -waited, item.customer_id)
            reason = _callback_reason(item, due, waited, now)
        else:
            key = (1, -effective, -waited, item.customer_id)
            reason = _reason(item, waited, urgency_credit, deadline_credit, now)
        scored.append((key, effective, waited, item, reason))
    scored.sort(key=lambda row: row[0])
    return [
        QueuePlace(position, item, waited, effective, reason)
        for position, (_key, effective, waited, item, reason) in enumerate(scored, start=1)
    ]
