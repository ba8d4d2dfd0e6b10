"""The records the product is about, as plain immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from agentdesk.domain.money import Money


class Channel(str, Enum):
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    SMS = "sms"
    SOCIAL = "social"
    LETTER = "letter"
    SHOP = "shop"
    APP = "app"
    PORTAL = "portal"


class Direction(str, Enum):
    IN = "in"
    OUT = "out"
    INTERNAL = "internal"


class CaseStatus(str, Enum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self in (CaseStatus.OPEN, CaseStatus.PENDING)


class Urgency(str, Enum):
    """How badly the customer is affected; feeds the fair queue, never a value score."""

    NORMAL = "normal"
    HIGH = "high"
    NO_SERVICE = "no_service"


class EntryKind(str, Enum):
    INTERACTION = "interaction"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    role: str
    email: str | None = None
    phone: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    preferred_channel: Channel | None = None
    language: str | None = None
    timezone: str | None = None
    location: str | None = None
    owner: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    customer: str
    subject: str
    status: CaseStatus
    opened_at: datetime
    disputed: Money | None = None
    urgency: Urgency = Urgency.NORMAL
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a customer's history: an interaction on a channel, or an internal event.

    ``at`` is timezone-aware; ordering uses UTC, display may use any zone.
    """

    id: str
    customer: str
    kind: EntryKind
    at: datetime
    author: str
    body: str
    direction: Direction
    channel: Channel | None = None
    case: str | None = None
    event_kind: str | None = None
    duration_s: int | None = None
    wait_s: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_internal(self) -> bool:
        return self.kind is EntryKind.EVENT or self.direction is Direction.INTERNAL


@dataclass(frozen=True, slots=True)
class Decision:
    id: str
    customer: str
    kind: str
    agent: str
    at: datetime
    state: str
    case: str | None = None
    amount: Money | None = None
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Promise:
    id: str
    customer: str
    what: str
    due: datetime
    state: str
    decision: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Record = Agent | Customer | Case | TimelineEntry | Decision | Promise
"""Any record the interchange format carries."""
