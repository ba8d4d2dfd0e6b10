"""The outbox: mutations for the backend, written in the same transaction as the change they carry.

A row's body is the mutation exactly as it is pushed, frozen when it is written: the
decision and its promise as canonical interchange JSON, so a retry after a lost answer
sends the same bytes under the same id, and sync sends the body without converting
anything. The store only keeps the bodies in order.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentdesk.domain.ids import new_id
from agentdesk.domain.model import Decision, Promise, TimelineEntry
from agentdesk.domain.timeline import utc_micros
from agentdesk.interchange.codec import to_json_obj

DECISION, APPROVE, DECLINE, CONTACT, REPLY = "decision", "approve", "decline", "contact", "reply"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    id: str
    kind: str
    body: dict[str, Any]
    """The mutation as the backend takes it: ``kind``, then ``decision``/``promise`` (interchange
    objects) and ``escalation`` for an approval, ``escalation``/``reason``/``at`` for a decline, or
    ``interaction`` for a contact logged by hand or a reply."""
    attempts: int
    last_error: str | None

    @classmethod
    def from_row(cls, row: Any) -> OutboxItem:
        """One row of :data:`SELECT_ITEMS` (``store.sync_state`` selects the same columns, without importing
        this module: it is on the workstation's start-up path, the codec is not)."""
        seq, ident, kind, body, attempts, last_error = row
        return cls(seq, ident, kind, json.loads(body), attempts, last_error)


SELECT_ITEMS = "SELECT seq, id, kind, body, attempts, last_error FROM outbox "
"""The columns :meth:`OutboxItem.from_row` reads; a caller adds its ``WHERE`` and ``ORDER BY``."""


def decided(kind: str, decision: Decision, promise: Promise | None, *,
            approving: str | None = None) -> dict[str, Any]:
    """The mutation of a queued decision (``DECISION``) or of an approval (``APPROVE``, naming its escalation)."""
    mutation: dict[str, Any] = {
        "kind": kind,
        "decision": to_json_obj(decision),
        "promise": to_json_obj(promise) if promise is not None else None,
    }
    if approving is not None:
        mutation["escalation"] = approving
    return mutation


def declined(escalation_id: str, reason: str, at: datetime) -> dict[str, Any]:
    """The mutation of a declined escalation."""
    return {"kind": DECLINE, "escalation": escalation_id, "reason": reason, "at": at.isoformat()}


def logged(interaction: TimelineEntry) -> dict[str, Any]:
    """The mutation of a contact logged by hand: its interaction record."""
    return {"kind": CONTACT, "interaction": to_json_obj(interaction)}


def replied(interaction: TimelineEntry) -> dict[str, Any]:
    """The mutation of a reply: its interaction record, signed and ``queued``."""
    return {"kind": REPLY, "interaction": to_json_obj(interaction)}


def _enqueue(db: sqlite3.Connection, mutation: dict[str, Any], now: datetime) -> str:
    """Add a mutation (inside the caller's transaction), frozen as it will be pushed; returns its client-made id."""
    ident = new_id("m", now)
    db.execute("INSERT INTO outbox (id, kind, body, created_at_us) VALUES (?, ?, ?, ?)",
               (ident, mutation["kind"], json.dumps(mutation, ensure_ascii=False, sort_keys=True), utc_micros(now)))
    return ident


def enqueue_decided(db: sqlite3.Connection, decision: Decision, promise: Promise | None, now: datetime,
                    *, approving: str | None = None) -> str:
    """The queued decision (and the promise it made); an approval names its escalation."""
    kind = APPROVE if approving is not None else DECISION
    return _enqueue(db, decided(kind, decision, promise, approving=approving), now)


def enqueue_decline(db: sqlite3.Connection, escalation_id: str, reason: str, now: datetime) -> str:
    """The escalation declined now, and why."""
    return _enqueue(db, declined(escalation_id, reason, now), now)


def enqueue_contact(db: sqlite3.Connection, interaction: TimelineEntry, now: datetime) -> str:
    """A contact logged by hand, on its way to every other workstation."""
    return _enqueue(db, logged(interaction), now)


def enqueue_reply(db: sqlite3.Connection, interaction: TimelineEntry, now: datetime) -> str:
    """A reply, on its way to the backend that sends it."""
    return _enqueue(db, replied(interaction), now)


def waiting(db: sqlite3.Connection, limit: int | None = None) -> list[OutboxItem]:
    """The mutations not yet answered by the backend, in the order they were made."""
    sql = SELECT_ITEMS + "ORDER BY seq"
    rows = db.execute(sql + (" LIMIT ?" if limit is not None else ""),
                      (limit,) if limit is not None else ()).fetchall()
    return [OutboxItem.from_row(row) for row in rows]


def waiting_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])


UNANSWERED_STATES = "('pending', 'queued')"
"""SQL: the states of a decision the backend has not answered yet."""


def rejected(mutation_id: str, last_error: str, decision_id: str | None,
             refusal: str, reply_id: str | None = None) -> list[tuple[str, tuple[Any, ...]]]:
    """The backend will never take this mutation: it stays (with ``last_error``) and its decision, if it
    still waits for an answer, reads refused with ``refusal``; its open promise is cancelled. A reply
    still queued reads failed, with ``refusal`` as the reason."""
    statements: list[tuple[str, tuple[Any, ...]]] = [
        ("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", (last_error, mutation_id))]
    if decision_id is not None:
        statements += [
            ("UPDATE decision SET state = 'refused', extra = json_set(coalesce(extra, '{}'), '$.refusal', ?) "
             f"WHERE id = ? AND state IN {UNANSWERED_STATES}", (refusal, decision_id)),
            ("UPDATE promise SET state = 'cancelled' WHERE decision_id = ? AND state = 'open'", (decision_id,)),
        ]
    if reply_id is not None:
        statements.append((
            "UPDATE timeline_entry SET extra = json_set(coalesce(extra, '{}'), '$.delivery', 'failed', "
            "'$.delivery_detail', ?) WHERE id = ? AND json_extract(extra, '$.delivery') = 'queued'",
            (refusal, reply_id)))
    return statements


def unanswered(decision_ids: list[str]) -> tuple[str, tuple[Any, ...]]:
    """The query for which of ``decision_ids`` still wait for the backend's answer."""
    marks = ", ".join("?" * len(decision_ids))
    return f"SELECT id FROM decision WHERE id IN ({marks}) AND state IN {UNANSWERED_STATES}", tuple(decision_ids)
