"""The one mapping from domain records to store rows, and plain inserts of them.

Each table has one row builder taking its columns by name (so a value cannot land in
another column) and giving the tuple in the table's column order (:data:`COLUMNS`),
the shape bulk statements bind; each record type has one function filling it. The bulk
writer, import's fast lane and the ledger all build their rows here. Standard library
only (no SQLAlchemy): the ledger runs on the workstation's start-up path.
``agentdesk.store.writer`` checks at import that :data:`COLUMNS` names exactly the
columns of the SQLModel tables, in their order.

Mapping from the domain: a time becomes ``*_us`` (UTC microseconds) plus
``*_offset_s`` (the offset it came with; a decision's ``undo_until`` is kept in UTC
only); money becomes the amount at the currency's precision plus the currency; a
customer's ``email_key`` is the lower-cased e-mail and ``phone_key`` the phone in E.164
(a national number read in the customer's country); ``extra`` becomes compact JSON text, or NULL when empty.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from agentdesk.domain.contact import customer_phone_key, email_key
from agentdesk.domain.model import (
    Agent,
    Article,
    AuditEntry,
    Case,
    Customer,
    Decision,
    Promise,
    Record,
    TimelineEntry,
)
from agentdesk.domain.timeline import utc_micros
from agentdesk.store.convert import (
    amount_column,
    currency_column,
    enum_column,
    extra_to_column,
    micros_column,
    offset_column,
    offset_seconds,
    words_to_column,
)

Row = tuple[Any, ...]

AGENT, CUSTOMER, CASE, TIMELINE = "agent", "customer", "support_case", "timeline_entry"
DECISION, PROMISE, AUDIT = "decision", "promise", "audit"
ARTICLE = "article"


# Each table's row, built by name: the parameters are the table's columns in its order, and the
# tuple repeats them in that order (a test holds the two together). Keyword calls cost about what
# a tuple display does, so the bulk paths use these too.

def agent_row(*, id: str, name: str, role: str, email: str | None, phone: str | None,  # noqa: A002 - the column
              extra: str | None) -> Row:
    return (id, name, role, email, phone, extra)


def customer_row(*, id: str, name: str, email: str | None, phone: str | None,  # noqa: A002
                 email_key: str | None, phone_key: str | None, preferred_channel: str | None,
                 language: str | None, timezone: str | None, location: str | None, owner: str | None,
                 extra: str | None) -> Row:
    return (id, name, email, phone, email_key, phone_key, preferred_channel, language, timezone, location, owner,
            extra)


def case_row(*, id: str, customer_id: str, subject: str, status: str, opened_at_us: int,  # noqa: A002
             opened_at_offset_s: int, disputed_amount: str | None, currency: str | None, urgency: str,
             extra: str | None) -> Row:
    return (id, customer_id, subject, status, opened_at_us, opened_at_offset_s, disputed_amount, currency, urgency,
            extra)


def timeline_row(*, id: str, customer_id: str, case_id: str | None, kind: str,  # noqa: A002
                 channel: str | None, direction: str, at_us: int, at_offset_s: int, author: str, body: str,
                 event_kind: str | None, duration_s: int | None, wait_s: int | None, extra: str | None,
                 decision_id: str | None) -> Row:
    return (id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, author, body, event_kind,
            duration_s, wait_s, extra, decision_id)


def decision_row(*, id: str, customer_id: str, case_id: str | None, kind: str,  # noqa: A002
                 amount: str | None, currency: str | None, agent_id: str, at_us: int, at_offset_s: int,
                 state: str, reason: str | None, extra: str | None, scheduled_us: int | None,
                 scheduled_offset_s: int | None, phone: str | None, undo_until_us: int | None,
                 escalate_to: str | None, proposal_kind: str | None, approval: str | None,
                 approval_by: str | None, approval_at_us: int | None, approval_offset_s: int | None,
                 approval_reason: str | None, approves: str | None) -> Row:
    return (id, customer_id, case_id, kind, amount, currency, agent_id, at_us, at_offset_s, state, reason, extra,
            scheduled_us, scheduled_offset_s, phone, undo_until_us, escalate_to, proposal_kind, approval,
            approval_by, approval_at_us, approval_offset_s, approval_reason, approves)


def promise_row(*, id: str, decision_id: str | None, customer_id: str, what: str, due_us: int,  # noqa: A002
                due_offset_s: int, state: str, extra: str | None) -> Row:
    return (id, decision_id, customer_id, what, due_us, due_offset_s, state, extra)


def audit_row(*, id: str, at_us: int, at_offset_s: int, actor: str, action: str, customer_id: str,  # noqa: A002
              decision_id: str | None, kind: str | None, amount: str | None, currency: str | None,
              rule: str | None, limit_amount: str | None, detail: str | None, extra: str | None) -> Row:
    return (id, at_us, at_offset_s, actor, action, customer_id, decision_id, kind, amount, currency, rule,
            limit_amount, detail, extra)


def article_row(*, id: str, title: str, products: str, tags: str, body: str,  # noqa: A002 - the column
                extra: str | None) -> Row:
    return (id, title, products, tags, body, extra)


ROW_BUILDERS: dict[str, Callable[..., Row]] = {
    AGENT: agent_row, CUSTOMER: customer_row, CASE: case_row, TIMELINE: timeline_row, DECISION: decision_row,
    PROMISE: promise_row, AUDIT: audit_row, ARTICLE: article_row,
}
COLUMNS: dict[str, tuple[str, ...]] = {
    table: build.__code__.co_varnames[:build.__code__.co_kwonlyargcount] for table, build in ROW_BUILDERS.items()
}
"""Per table of records, its columns in the table's order: the order of the rows' tuples."""


# ---------------------------------------------------------------------------
# domain record -> row

def _agent(r: Agent) -> Row:
    return agent_row(id=r.id, name=r.name, role=r.role, email=r.email, phone=r.phone, extra=extra_to_column(r.extra))


def _customer(r: Customer) -> Row:
    return customer_row(
        id=r.id, name=r.name, email=r.email, phone=r.phone,
        email_key=email_key(r.email), phone_key=customer_phone_key(r),
        preferred_channel=enum_column(r.preferred_channel), language=r.language, timezone=r.timezone,
        location=r.location, owner=r.owner, extra=extra_to_column(r.extra),
    )


def _case(r: Case) -> Row:
    return case_row(
        id=r.id, customer_id=r.customer, subject=r.subject, status=r.status._value_,
        opened_at_us=utc_micros(r.opened_at), opened_at_offset_s=offset_seconds(r.opened_at),
        disputed_amount=amount_column(r.disputed), currency=currency_column(r.disputed),
        urgency=r.urgency._value_, extra=extra_to_column(r.extra),
    )


def _entry(r: TimelineEntry) -> Row:
    return timeline_row(
        id=r.id, customer_id=r.customer, case_id=r.case, kind=r.kind._value_, channel=enum_column(r.channel),
        direction=r.direction._value_, at_us=utc_micros(r.at), at_offset_s=offset_seconds(r.at), author=r.author,
        body=r.body, event_kind=r.event_kind, duration_s=r.duration_s, wait_s=r.wait_s,
        extra=extra_to_column(r.extra), decision_id=r.decision_id,
    )


def _decision(r: Decision) -> Row:
    return decision_row(
        id=r.id, customer_id=r.customer, case_id=r.case, kind=r.kind, amount=amount_column(r.amount),
        currency=currency_column(r.amount), agent_id=r.agent, at_us=utc_micros(r.at), at_offset_s=offset_seconds(r.at),
        state=r.state, reason=r.reason, extra=extra_to_column(r.extra), scheduled_us=micros_column(r.scheduled),
        scheduled_offset_s=offset_column(r.scheduled), phone=r.phone, undo_until_us=micros_column(r.undo_until),
        escalate_to=r.escalate_to, proposal_kind=r.proposal_kind, approval=r.approval, approval_by=r.approval_by,
        approval_at_us=micros_column(r.approval_at), approval_offset_s=offset_column(r.approval_at),
        approval_reason=r.approval_reason, approves=r.approves,
    )


def _promise(r: Promise) -> Row:
    return promise_row(
        id=r.id, decision_id=r.decision, customer_id=r.customer, what=r.what, due_us=utc_micros(r.due),
        due_offset_s=offset_seconds(r.due), state=r.state, extra=extra_to_column(r.extra),
    )


def _audit(r: AuditEntry) -> Row:
    return audit_row(
        id=r.id, at_us=utc_micros(r.at), at_offset_s=offset_seconds(r.at), actor=r.actor, action=r.action,
        customer_id=r.customer, decision_id=r.decision, kind=r.kind, amount=amount_column(r.amount),
        currency=currency_column(r.amount or r.limit), rule=r.rule, limit_amount=amount_column(r.limit),
        detail=r.detail, extra=extra_to_column(r.extra),
    )


def _article(r: Article) -> Row:
    return article_row(id=r.id, title=r.title, products=words_to_column(r.products), tags=words_to_column(r.tags),
                       body=r.body, extra=extra_to_column(r.extra))


_MAPPING: dict[type, tuple[str, Callable[[Any], Row]]] = {
    Agent: (AGENT, _agent), Customer: (CUSTOMER, _customer), Case: (CASE, _case), TimelineEntry: (TIMELINE, _entry),
    Decision: (DECISION, _decision), Promise: (PROMISE, _promise), AuditEntry: (AUDIT, _audit),
    Article: (ARTICLE, _article),
}
TABLE_OF: dict[type, str] = {kind: table for kind, (table, _) in _MAPPING.items()}
"""The table each domain record type lives in."""


def row(record: Record) -> tuple[str, Row]:
    """``(table, row)`` for a domain record; the row follows :data:`COLUMNS`."""
    table, mapping = _MAPPING[type(record)]
    return table, mapping(record)


def columns(record: Record) -> tuple[str, dict[str, Any]]:
    """``(table, {column: value})`` for a domain record."""
    table, values = row(record)
    return table, dict(zip(COLUMNS[table], values, strict=True))


def insert_sql(table: str) -> str:
    """``INSERT INTO table (columns) VALUES (?, …)`` for one row in :data:`COLUMNS` order."""
    names = COLUMNS[table]
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


_INSERTS = {table: insert_sql(table) for table in COLUMNS}


def insert(db: sqlite3.Connection, record: Record) -> None:
    """Insert one domain record as a new row (inside the caller's transaction)."""
    table, values = row(record)
    db.execute(_INSERTS[table], values)


def insert_many(db: sqlite3.Connection, records: Iterable[Record]) -> None:
    """Insert domain records as new rows, each table's rows in one ``executemany``, tables in the order given."""
    grouped: dict[str, list[Row]] = {}
    for record in records:
        table, values = row(record)
        grouped.setdefault(table, []).append(values)
    for table, rows in grouped.items():
        db.executemany(_INSERTS[table], rows)
