"""A contact the agent logs by hand: a letter, a shop visit, a call taken on another phone.

Written once here, so the workstation (when it logs one) and the backend (when it takes the
mutation) make the same interaction record and refuse the same things in the same words.
"""

from __future__ import annotations

from datetime import datetime

from agentdesk.domain.ids import new_id
from agentdesk.domain.limits import free_text_refusal
from agentdesk.domain.model import Channel, Direction, EntryKind, TimelineEntry

LOGGABLE_DIRECTIONS = (Direction.IN, Direction.OUT)
"""From the customer (they wait for an answer) or to them (it answers what waited)."""

LOGGED_FIELD = "logged_by"
"""The ``extra`` field naming who logged the contact by hand (the author is who it came from)."""


class ContactRefused(ValueError):
    """The contact cannot be logged as given; the message is one line for the user."""


def channel_named(name: str) -> Channel:
    """``letter`` → :attr:`Channel.LETTER`; ``e-mail`` is read as ``email``."""
    key = name.strip().lower().replace("-", "")
    try:
        return Channel(key)
    except ValueError:
        names = ", ".join(c.value for c in Channel)
        raise ContactRefused(f"no channel {name!r}; one of {names}") from None


def direction_named(name: str) -> Direction:
    try:
        direction = Direction(name.strip().lower())
    except ValueError:
        direction = None
    if direction not in LOGGABLE_DIRECTIONS:
        raise ContactRefused(f"direction {name!r}: in (from the customer) or out (to the customer)")
    return direction


def summary_line(summary: str) -> str:
    """The summary on one line, refused when empty or over the free-text limit."""
    line = " ".join(summary.split())
    if not line:
        raise ContactRefused("say in a few words what the contact was about")
    refusal = free_text_refusal("summary", line)
    if refusal is not None:
        raise ContactRefused(refusal)
    return line


def logged_contact(agent_id: str, customer_id: str, author: str, channel: Channel, direction: Direction,
                   summary: str, now: datetime, case_id: str | None = None) -> TimelineEntry:
    """The interaction record of a contact ``agent_id`` logs now; ``author`` is who it came from
    (the customer's name for an inbound contact, the agent for an outbound one)."""
    if direction not in LOGGABLE_DIRECTIONS:
        raise ContactRefused(f"direction {direction.value!r}: in (from the customer) or out (to the customer)")
    return TimelineEntry(
        id=new_id("i", now), customer=customer_id, kind=EntryKind.INTERACTION, at=now, author=author,
        body=summary_line(summary), direction=direction, channel=channel, case=case_id,
        extra={LOGGED_FIELD: agent_id})


def check_logged(entry: TimelineEntry, agent_id: str) -> None:
    """The backend's check of a pushed contact: an interaction, logged by the user who sends it."""
    if entry.kind is not EntryKind.INTERACTION or entry.channel is None:
        raise ContactRefused("a logged contact is an interaction on a channel")
    if entry.direction not in LOGGABLE_DIRECTIONS:
        raise ContactRefused(f"direction {entry.direction.value!r}: in or out")
    if entry.extra.get(LOGGED_FIELD) != agent_id:
        raise ContactRefused(f"interaction {entry.id} was logged by {entry.extra.get(LOGGED_FIELD)!r}, "
                             f"not {agent_id!r}")
    summary_line(entry.body)
