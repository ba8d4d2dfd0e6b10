"""The store's tables, defined once for SQLModel, Alembic and (later) the backend's API.

Times are two integers: ``*_us`` (microseconds since the epoch, UTC; what every
comparison uses) and ``*_offset_s`` (the offset the record arrived with, so an
export reproduces it). Money is a decimal string plus an ISO 4217 currency.
``extra`` holds the unknown interchange fields of a record as a JSON object.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class AgentRow(SQLModel, table=True):
    __tablename__ = "agent"

    id: str = Field(primary_key=True)
    name: str
    role: str
    email: str | None = None
    phone: str | None = None
    extra: str | None = None


class CustomerRow(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_email_key", "email_key"),
        Index("ix_customer_phone_key", "phone_key"),
    )

    id: str = Field(primary_key=True)
    name: str
    email: str | None = None
    phone: str | None = None
    email_key: str | None = None
    phone_key: str | None = None
    preferred_channel: str | None = None
    language: str | None = None
    timezone: str | None = None
    location: str | None = None
    owner: str | None = Field(default=None, foreign_key="agent.id")
    extra: str | None = None


class CaseRow(SQLModel, table=True):
    __tablename__ = "support_case"
    __table_args__ = (Index("ix_case_customer_status", "customer_id", "status"),)

    id: str = Field(primary_key=True)
    customer_id: str = Field(foreign_key="customer.id")
    subject: str
    status: str
    opened_at_us: int
    opened_at_offset_s: int
    disputed_amount: str | None = None
    currency: str | None = None
    urgency: str = Field(default="normal", sa_column_kwargs={"server_default": "normal"})
    extra: str | None = None


class TimelineEntryRow(SQLModel, table=True):
    __tablename__ = "timeline_entry"
    # One index range per customer, already in timeline order: the last page,
    # any page by position and the count all walk this index and nothing else.
    __table_args__ = (Index("ix_timeline_customer_at", "customer_id", "at_us", "id"),)

    id: str = Field(primary_key=True)
    customer_id: str = Field(foreign_key="customer.id")
    case_id: str | None = Field(default=None, foreign_key="support_case.id")
    kind: str
    channel: str | None = None
    direction: str
    at_us: int
    at_offset_s: int
    author: str
    body: str
    event_kind: str | None = None
    duration_s: int | None = None
    wait_s: int | None = None
    extra: str | None = None
    # Set on a decision's line (kind 'decision', id 'decision:<decision id>'): derived from
    # the decision, so export leaves it out; the reader joins the decision for its state.
    decision_id: str | None = Field(default=None, foreign_key="decision.id")


class WaitingRow(SQLModel, table=True):
    """Customers with inbound interactions newer than the last answer; the queue reads only this."""

    __tablename__ = "waiting"
    __table_args__ = (Index("ix_waiting_since", "since_us"),)

    customer_id: str = Field(primary_key=True, foreign_key="customer.id")
    since_us: int
    channels: str
    unanswered: int


class DecisionRow(SQLModel, table=True):
    """A decision; ``undo_until_us`` has no offset column: it is a machine deadline, kept in UTC."""

    __tablename__ = "decision"
    __table_args__ = (
        Index("ix_decision_customer_at", "customer_id", "at_us"),
        Index("ix_decision_approval", "approval", "escalate_to"),
        Index("ix_decision_state", "state"),
        Index("ix_decision_at", "at_us"),
    )

    id: str = Field(primary_key=True)
    customer_id: str = Field(foreign_key="customer.id")
    case_id: str | None = Field(default=None, foreign_key="support_case.id")
    kind: str
    amount: str | None = None
    currency: str | None = None
    agent_id: str = Field(foreign_key="agent.id")
    at_us: int
    at_offset_s: int
    state: str
    reason: str | None = None
    extra: str | None = None
    scheduled_us: int | None = None
    scheduled_offset_s: int | None = None
    phone: str | None = None
    undo_until_us: int | None = None
    escalate_to: str | None = None
    proposal_kind: str | None = None
    approval: str | None = None
    approval_by: str | None = None
    approval_at_us: int | None = None
    approval_offset_s: int | None = None
    approval_reason: str | None = None
    approves: str | None = Field(default=None, foreign_key="decision.id")


class PromiseRow(SQLModel, table=True):
    __tablename__ = "promise"
    __table_args__ = (
        Index("ix_promise_state_due", "state", "due_us"),
        Index("ix_promise_customer_state", "customer_id", "state"),
    )

    id: str = Field(primary_key=True)
    decision_id: str | None = Field(default=None, foreign_key="decision.id")
    customer_id: str = Field(foreign_key="customer.id")
    what: str
    due_us: int
    due_offset_s: int
    state: str
    extra: str | None = None


class AuditRow(SQLModel, table=True):
    """The append-only audit log; triggers in migration 0003 refuse UPDATE and DELETE.

    ``amount`` and ``limit_amount`` share ``currency``. ``decision_id`` is not a foreign
    key, so the log may name a decision that was refused and never stored.
    """

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_customer_at", "customer_id", "at_us"),)

    id: str = Field(primary_key=True)
    at_us: int
    at_offset_s: int
    actor: str
    action: str
    customer_id: str = Field(foreign_key="customer.id")
    decision_id: str | None = None
    kind: str | None = None
    amount: str | None = None
    currency: str | None = None
    rule: str | None = None
    limit_amount: str | None = None
    detail: str | None = None
    extra: str | None = None


class OutboxRow(SQLModel, table=True):
    """A mutation waiting to be pushed to the backend; ``seq`` is the push order, ``id`` the client-made id.

    ``body`` is frozen when the row is written, so every retry sends the same bytes
    and the backend can tell a retry (same id, same body) from a conflict.
    """

    __tablename__ = "outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True)
    kind: str
    body: str
    created_at_us: int
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_error: str | None = None


class ReplyDraftRow(SQLModel, table=True):
    """A reply the agent began and put aside (escape in the reply editor): one per agent and customer.

    Only on this workstation: a draft is not a message until it is sent, so it never syncs.
    """

    __tablename__ = "reply_draft"

    agent_id: str = Field(primary_key=True)
    customer_id: str = Field(primary_key=True)
    channel: str | None = None
    case_id: str | None = None
    text: str
    saved_at_us: int


class SyncStateRow(SQLModel, table=True):
    """What the workstation knows about its backend: the pull cursor, when the last sync succeeded."""

    __tablename__ = "sync_state"

    key: str = Field(primary_key=True)
    value: str


class SetAsideRow(SQLModel, table=True):
    """A record from the backend's changes that the store could not hold, kept to be tried again on each pull.

    ``record`` is the interchange object as the backend sent it, ``seq`` the change it came
    with, ``reason`` why it could not be applied (one line, in words); ``reported``: the
    backend's log has been told.
    """

    __tablename__ = "set_aside"

    type: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    seq: int
    reason: str
    record: str
    reported: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class ArticleRow(SQLModel, table=True):
    """A knowledge article (shared by every customer). ``products`` and ``tags`` are JSON arrays of strings.

    The full-text index ``article_search`` (SQLite FTS5 over title, tags, products and body; migration 0009)
    is kept up to date by triggers on this table, so every path that writes articles keeps it right.
    """

    __tablename__ = "article"

    id: str = Field(primary_key=True)
    title: str
    products: str = Field(default="[]", sa_column_kwargs={"server_default": "[]"})
    tags: str = Field(default="[]", sa_column_kwargs={"server_default": "[]"})
    body: str
    extra: str | None = None


SEARCH_INDEX = "article_search"
"""The FTS5 table over ``article``; it and its shadow tables (``article_search_*``) are not SQLModel tables."""


def described_here(name: str | None, kind: str, _parents: object = None) -> bool:
    """Whether a schema object is one these models describe (Alembic's ``include_name`` hook): the search
    index and its shadow tables are made by hand in migration 0009, so comparing leaves them out."""
    return not (kind == "table" and name is not None and name.startswith(SEARCH_INDEX))
