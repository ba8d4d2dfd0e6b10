"""Who else has a customer open, in words: ``Anna Berg has this customer open · typing a reply``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agentdesk.domain.text import one_line


@dataclass(frozen=True, slots=True)
class Seen:
    """Another workstation's agent and what they have open."""

    user: str
    name: str
    customer: str | None
    typing: bool


def on_customer(seen: Iterable[Seen], customer_id: str) -> list[Seen]:
    return [s for s in seen if s.customer == customer_id]


def presence_words(others: list[Seen]) -> str:
    """One line for the customer's header; empty when nobody else is on the customer."""
    if not others:
        return ""
    if len(others) == 1:
        (one,) = others
        return f"{one_line(one.name, 60)} has this customer open" + (" · typing a reply" if one.typing else "")
    names = [one_line(s.name, 40) + (" (typing a reply)" if s.typing else "") for s in others]
    return f"{', '.join(names[:-1])} and {names[-1]} have this customer open"


def queue_mark(others: list[Seen]) -> str:
    """A few words for the queue: ``Anna Berg is on it``, ``2 agents are on it``."""
    if not others:
        return ""
    if len(others) == 1:
        return f"{one_line(others[0].name, 40)} is on it"
    return f"{len(others)} agents are on it"
