"""The backend's tables (PostgreSQL and SQLite alike); their migrations are in ``migrations/server/``.

Every record is kept whole, as its canonical interchange JSON: the backend checks
decisions and hands records on. A decision also carries, beside its body, the few
columns the decision rules select by (:func:`decision_columns`), so the 30-day window
and the booked callback slots are filtered in SQL, not by reading every body. Counters and
times are BIGINT, so they do not overflow PostgreSQL's 32-bit INTEGER.

The tables live on a registry of their own, apart from the workstation store's
tables, so neither side's metadata ever sees the other's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from agentdesk.domain.timeline import utc_micros


class ServerTable(SQLModel, registry=registry()):
    """Base of the backend's tables."""


class ApiUser(ServerTable, table=True):
    __tablename__ = "api_user"

    name: str = Field(primary_key=True)
    role: str
    token_hash: str = Field(unique=True)
    """sha256 hex of the token; the token itself is never stored."""
    created_at_us: int = Field(sa_type=BigInteger)
    expires_at_us: int | None = Field(default=None, sa_type=BigInteger)
    """When the token stops working (None: a user made before tokens expired)."""


class StoredRecord(ServerTable, table=True):
    __tablename__ = "record"
    __table_args__ = (
        Index("ix_record_customer_type", "customer_id", "type"),
        Index("ix_record_seq", "seq"),
        Index("ix_record_decision_agent", "decision_agent", "decision_kind"),
    )

    type: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    customer_id: str | None = None
    """The customer the record belongs to (a customer's own id for a customer; none for agents)."""
    body: str = Field(sa_type=Text)
    seq: int = Field(sa_type=BigInteger)
    """The change that last wrote it."""
    received_us: int | None = Field(default=None, sa_type=BigInteger)
    """When a workstation's mutation first stored it (None for uploaded records)."""
    decision_kind: str | None = None
    """A decision's kind, state, case, agent, time and callback time (None on other records)."""
    decision_state: str | None = None
    decision_case: str | None = None
    decision_agent: str | None = None
    decision_at_us: int | None = Field(default=None, sa_type=BigInteger)
    decision_scheduled_us: int | None = Field(default=None, sa_type=BigInteger)


class ChangeLogEntry(ServerTable, table=True):
    __tablename__ = "change_log"

    seq: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    record_type: str
    record_id: str
    body: str = Field(sa_type=Text)
    at_us: int = Field(sa_type=BigInteger)


class ChangeCounter(ServerTable, table=True):
    __tablename__ = "change_counter"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(sa_type=BigInteger)
    """The highest seq given out."""
    floor: int = Field(sa_type=BigInteger)
    """Every seq up to and including this one has been trimmed from the change log."""


class AppliedMutation(ServerTable, table=True):
    __tablename__ = "mutation"

    id: str = Field(primary_key=True)
    user_name: str
    body_hash: str
    status: str
    result: str = Field(sa_type=Text)
    applied_at_us: int = Field(sa_type=BigInteger)


DECISION_COLUMNS = ("decision_kind", "decision_state", "decision_case", "decision_agent", "decision_at_us",
                    "decision_scheduled_us")


def decision_columns(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The selecting columns of a record's interchange object (all None unless it is a decision)."""
    if obj.get("type") != "decision":
        return dict.fromkeys(DECISION_COLUMNS)
    scheduled = obj.get("scheduled")
    return {"decision_kind": obj.get("kind"), "decision_state": obj.get("state"), "decision_case": obj.get("case"),
            "decision_agent": obj.get("agent"), "decision_at_us": _micros(obj["at"]),
            "decision_scheduled_us": _micros(scheduled) if isinstance(scheduled, str) else None}


def _micros(text: str) -> int:
    return utc_micros(datetime.fromisoformat(text))


# Read from the registry's metadata: SQLModel sets each model's __table__ but does not declare it.
api_user = ServerTable.metadata.tables[ApiUser.__tablename__]
record = ServerTable.metadata.tables[StoredRecord.__tablename__]
change_log = ServerTable.metadata.tables[ChangeLogEntry.__tablename__]
change_counter = ServerTable.metadata.tables[ChangeCounter.__tablename__]
mutation = ServerTable.metadata.tables[AppliedMutation.__tablename__]


class InboundMessage(ServerTable, table=True):
    """A message a channel brought in, by its provider id: taken once, whichever backend process got it."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_message_message_id", "message_id"),)

    source_id: str = Field(primary_key=True)
    """``email:<Message-ID>``, ``twilio-sms:<MessageSid>``, ``twilio-call:<CallSid>``, ``webhook:<id>``."""
    interaction_id: str
    customer_id: str
    message_id: str | None = None
    """Its own Message-ID, so a later reply that names it lands on the same case."""
    received_us: int = Field(sa_type=BigInteger)


class ContactKey(ServerTable, table=True):
    """How a customer is found by what a message says of its sender: ``email`` (lower-cased), ``phone``
    (E.164), ``handle``; kept by :func:`agentdesk.server.changes.write_changes` with every customer record."""

    __tablename__ = "contact_key"
    __table_args__ = (Index("ix_contact_key_customer", "customer_id"),)

    kind: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    customer_id: str = Field(primary_key=True)


class WebhookRefusal(ServerTable, table=True):
    """A webhook call refused for its signature: when, which route, why and from where (never its body)."""

    __tablename__ = "webhook_refusal"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite"))
    route: str
    reason: str
    address: str | None = None
    at_us: int = Field(sa_type=BigInteger)


inbound_message = ServerTable.metadata.tables[InboundMessage.__tablename__]
contact_key = ServerTable.metadata.tables[ContactKey.__tablename__]
webhook_refusal = ServerTable.metadata.tables[WebhookRefusal.__tablename__]


class ImapMailbox(ServerTable, table=True):
    """How far the IMAP connector has filed one mailbox: the highest UID filed, under its UIDVALIDITY."""

    __tablename__ = "imap_mailbox"

    account: str = Field(primary_key=True)
    """``user@host:port/mailbox``."""
    uidvalidity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(sa_type=BigInteger)


imap_mailbox = ServerTable.metadata.tables[ImapMailbox.__tablename__]


class ReplyDelivery(ServerTable, table=True):
    """A reply the backend sends: queued in the transaction that stored it, then sent once.

    ``state``: ``queued`` (waiting for ``next_try_us``), ``sending`` (claimed at ``claimed_us`` by a
    backend process, the provider called), ``sent`` or ``failed``. A row left ``sending`` by a process
    that died is never sent again: whether the provider took it cannot be known, so it fails, saying so.
    """

    __tablename__ = "reply_delivery"
    __table_args__ = (Index("ix_reply_delivery_due", "state", "next_try_us"),)

    interaction_id: str = Field(primary_key=True)
    customer_id: str
    channel: str
    state: str
    attempts: int = Field(default=0, sa_type=Integer)
    next_try_us: int = Field(sa_type=BigInteger)
    claimed_us: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = Field(default=None, sa_type=Text)
    provider_id: str | None = None
    """The provider's id of what it took: the SMTP Message-ID, Twilio's message SID."""
    queued_us: int = Field(sa_type=BigInteger)


reply_delivery = ServerTable.metadata.tables[ReplyDelivery.__tablename__]


class Presence(ServerTable, table=True):
    """Which customer a workstation has open, and whether its agent is typing a reply: ephemeral.

    Never part of customer data or the audit; a row older than the expiry means nothing and is deleted.
    On PostgreSQL the table is UNLOGGED: nothing of it needs to survive a crash.
    """

    __tablename__ = "presence"

    user_name: str = Field(primary_key=True)
    customer_id: str | None = None
    typing: bool = False
    seen_us: int = Field(sa_type=BigInteger)


presence = ServerTable.metadata.tables[Presence.__tablename__]


class AccessRefusal(ServerTable, table=True):
    """A write a user's role may not make (a supervisor's token on a mutating route), refused and kept here."""

    __tablename__ = "access_refusal"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite"))
    user_name: str
    role: str
    route: str
    reason: str = Field(sa_type=Text)
    at_us: int = Field(sa_type=BigInteger)


access_refusal = ServerTable.metadata.tables[AccessRefusal.__tablename__]
