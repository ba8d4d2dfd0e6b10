"""The one mapping from domain records to store rows, and plain inserts of them.

Each record type has one function giving its row as a column dict (every column
named beside its value, so a value cannot land in the wrong column); :func:`row`
gives the same values as a tuple in the table's column order (:data:`COLUMNS`), the
shape bulk statements bind. The bulk writer, import's fast lane and the ledger all
build their rows here. Standard library only (no SQLAlchemy): the ledger runs on the
workstation's start-up path. ``agentdesk.store.writer`` checks at import that
:data:`COLUMNS` names exactly the columns of the SQLModel tables, in their order.

Mapping from the domain: a time becomes ``*_us`` (UTC microseconds) plus
``*_offset_s`` (the offset it came with; a decision's ``undo_until`` is kept in UTC
only); money becomes the amount at the currency's precision plus the currency; a
customer's ``email_key`` is the lower-cased e-mail and ``phone_key`` the phone in E.164
(a national number read in the customer's country); ``extra`` becomes compact JSON text, or NULL when empty.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from typing import Any

from agentdesk.domain.contact import customer_phone_key, email_key
from agentdesk.domain.model import Agent, AuditEntry, Case, Customer, Decision, Promise, Record, TimelineEntry
from agentdesk.domain.timeline import utc_micros
from agentdesk.store.convert import (
    amount_column,
    currency_column,
    enum_column,
    extra_to_column,
    micros_column,
    offset_column,
    offset_seconds,
)

Row = tuple[Any, ...]
Columns = dict[str, Any]

AGENT, CUSTOMER, CASE, TIMELINE = "agent", "customer", "support_case", "timeline_entry"
DECISION, PROMISE, AUDIT = "decision", "promise", "audit"

COLUMNS: dict[str, tuple[str, ...]] = {
    AGENT: ("id", "name", "role", "email", "phone", "extra"),
    CUSTOMER: ("id", "name", "email", "phone", "email_key", "phone_key", "preferred_channel", "language",
               "timezone", "location", "owner", "extra"),
    CASE: ("id", "customer_id", "subject", "status", "opened_at_us", "opened_at_offset_s", "disputed_amount",
           "currency", "urgency", "extra"),
    TIMELINE: ("id", "customer_id", "case_id", "kind", "channel", "direction", "at_us", "at_offset_s", "author",
               "body", "event_kind", "duration_s", "wait_s", "extra", "decision_id"),
    DECISION: ("id", "customer_id", "case_id", "kind", "amount", "currency", "agent_id", "at_us", "at_offset_s",
               "state", "reason", "extra", "scheduled_us", "scheduled_offset_s", "phone", "undo_until_us",
               "escalate_to", "proposal_kind", "approval", "approval_by", "approval_at_us", "approval_offset_s",
               "approval_reason", "approves"),
    PROMISE: ("id", "decision_id", "customer_id", "what", "due_us", "due_offset_s", "state", "extra"),
    AUDIT: ("id", "at_us", "at_offset_s", "actor", "action", "customer_id", "decision_id", "kind", "amount",
            "currency", "rule", "limit_amount", "detail", "extra"),
}
"""Per table of records, its columns in the table's order: the order of :func:`row`'s tuples."""


def agent_columns(r: Agent) -> Columns:
    return {"id": r.id, "name": r.name, "role": r.role, "email": r.email, "phone": r.phone,
            "extra": extra_to_column(r.extra)}


def customer_columns(r: Customer) -> Columns:
    return {
        "id": r.id, "name": r.name, "email": r.email, "phone": r.phone,
        "email_key": email_key(r.email), "phone_key": customer_phone_key(r),
        "preferred_channel": enum_column(r.preferred_channel), "language": r.language,
        "timezone": r.timezone, "location": r.location, "owner": r.owner, "extra": extra_to_column(r.extra),
    }


def case_columns(r: Case) -> Columns:
    return {
        "id": r.id, "customer_id": r.customer, "subject": r.subject, "status": r.status._value_,
        "opened_at_us": utc_micros(r.opened_at), "opened_at_offset_s": offset_seconds(r.opened_at),
        "disputed_amount": amount_column(r.disputed), "currency": currency_column(r.disputed),
        "urgency": r.urgency._value_, "extra": extra_to_column(r.extra),
    }


def entry_columns(r: TimelineEntry) -> Columns:
    return {
        "id": r.id, "customer_id": r.customer, "case_id": r.case, "kind": r.kind._value_,
        "channel": enum_column(r.channel), "direction": r.direction._value_,
        "at_us": utc_micros(r.at), "at_offset_s": offset_seconds(r.at), "author": r.author, "body": r.body,
        "event_kind": r.event_kind, "duration_s": r.duration_s, "wait_s": r.wait_s,
        "extra": extra_to_column(r.extra), "decision_id": r.decision_id,
    }


def decision_columns(r: Decision) -> Columns:
    return {
        "id": r.id, "customer_id": r.customer, "case_id": r.case, "kind": r.kind,
        "amount": amount_column(r.amount), "currency": currency_column(r.amount), "agent_id": r.agent,
        "at_us": utc_micros(r.at), "at_offset_s": offset_seconds(r.at), "state": r.state,
        "reason": r.reason, "extra": extra_to_column(r.extra),
        "scheduled_us": micros_column(r.scheduled), "scheduled_offset_s": offset_column(r.scheduled),
        "phone": r.phone, "undo_until_us": micros_column(r.undo_until), "escalate_to": r.escalate_to,
        "proposal_kind": r.proposal_kind, "approval": r.approval, "approval_by": r.approval_by,
        "approval_at_us": micros_column(r.approval_at), "approval_offset_s": offset_column(r.approval_at),
        "approval_reason": r.approval_reason, "approves": r.approves,
    }


def promise_columns(r: Promise) -> Columns:
    return {
        "id": r.id, "decision_id": r.decision, "customer_id": r.customer, "what": r.what,
        "due_us": utc_micros(r.due), "due_offset_s": offset_seconds(r.due), "state": r.state,
        "extra": extra_to_column(r.extra),
    }


def audit_columns(r: AuditEntry) -> Columns:
    return {
        "id": r.id, "at_us": utc_micros(r.at), "at_offset_s": offset_seconds(r.at), "actor": r.actor,
        "action": r.action, "customer_id": r.customer, "decision_id": r.decision, "kind": r.kind,
        "amount": amount_column(r.amount), "currency": currency_column(r.amount or r.limit), "rule": r.rule,
        "limit_amount": amount_column(r.limit), "detail": r.detail, "extra": extra_to_column(r.extra),
    }


_MAPPING: dict[type, tuple[str, Callable[[Any], Columns]]] = {
    Agent: (AGENT, agent_columns), Customer: (CUSTOMER, customer_columns), Case: (CASE, case_columns),
    TimelineEntry: (TIMELINE, entry_columns), Decision: (DECISION, decision_columns),
    Promise: (PROMISE, promise_columns), AuditEntry: (AUDIT, audit_columns),
}
TABLE_OF: dict[type, str] = {kind: table for kind, (table, _) in _MAPPING.items()}
"""The table each domain record type lives in."""

_IN_ORDER: dict[str, Callable[[Mapping[str, Any]], Row]] = {
    table: itemgetter(*columns) for table, columns in COLUMNS.items()
}


def in_order(table: str) -> Callable[[Mapping[str, Any]], Row]:
    """What turns a column dict of ``table`` into its row: a tuple in :data:`COLUMNS` order (KeyError on a
    missing column). For a lane that builds rows without a domain record (import's fast lane)."""
    return _IN_ORDER[table]


def columns(record: Record) -> tuple[str, Columns]:
    """``(table, column dict)`` for a domain record."""
    table, mapping = _MAPPING[type(record)]
    return table, mapping(record)


def row(record: Record) -> tuple[str, Row]:
    """``(table, row)`` for a domain record; the row follows :data:`COLUMNS`."""
    table, mapping = _MAPPING[type(record)]
    return table, _IN_ORDER[table](mapping(record))


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
