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
    DECISION = "decision"
    """A decision shown on the timeline: derived from the decision record, never exported on its own."""


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
    decision_id: str | None = None
    """On a decision entry: the decision it shows."""
    decision_state: str | None = None
    """On a decision entry read from the store: the decision's state as shown now
    (``waiting for approval``/``approved``/``declined`` for an escalation); never stored."""

    @property
    def is_internal(self) -> bool:
        return self.kind is not EntryKind.INTERACTION or self.direction is Direction.INTERNAL


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
    scheduled: datetime | None = None
    """A callback: when to call (an escalation: the proposed callback time)."""
    phone: str | None = None
    """A callback: the number to call."""
    undo_until: datetime | None = None
    """While pending: when the undo window ends; None while pending means no time limit."""
    escalate_to: str | None = None
    """An escalation: the role asked to decide."""
    proposal_kind: str | None = None
    """An escalation: what is proposed (refund, voucher, callback); its amount is ``amount``, its time ``scheduled``."""
    approval: str | None = None
    """An escalation: ``waiting``, ``approved`` or ``declined``."""
    approval_by: str | None = None
    """The agent who approved or declined."""
    approval_at: datetime | None = None
    approval_reason: str | None = None
    """Why (a decline)."""
    approves: str | None = None
    """A decision taken by approving an escalation: that escalation's id."""
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


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit log: who did what to which decision, under which rule and limit.

    ``amount`` and ``limit`` share one currency (the interchange format carries one ``currency``).
    """

    id: str
    at: datetime
    actor: str
    action: str
    customer: str
    decision: str | None = None
    kind: str | None = None
    amount: Money | None = None
    rule: str | None = None
    limit: Money | None = None
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.amount is not None and self.limit is not None and self.amount.currency != self.limit.currency:
            raise ValueError(
                f"audit {self.id}: amount in {self.amount.currency} and limit in {self.limit.currency} "
                "must share one currency"
            )


@dataclass(frozen=True, slots=True)
class Article:
    """A knowledge article: what the desk knows about a product or a situation, in Markdown.

    Shared by every customer, so it names none; ``products`` and ``tags`` are what a case is matched on.
    """

    id: str
    title: str
    body: str
    products: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


Record = Agent | Customer | Case | TimelineEntry | Decision | Promise | AuditEntry | Article
"""Any record the interchange format carries."""
