"""The outbox: mutations for the backend, written in the same transaction as the change they carry.

A row's body is frozen when it is written (the stored rows of the decision and its
promise, as JSON), so a retry after a lost answer sends the same bytes under the
same id and the backend recognises it. The sync layer turns bodies into the
backend's mutation format; the store only keeps them in order.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentdesk.domain.ids import new_id
from agentdesk.domain.timeline import utc_micros

DECISION, APPROVE, DECLINE = "decision", "approve", "decline"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    id: str
    kind: str
    body: dict[str, Any]
    attempts: int
    last_error: str | None


def stored_row(db: sqlite3.Connection, table: str, ident: str) -> dict[str, Any] | None:
    row = db.execute(f"SELECT * FROM {table} WHERE id = ?", (ident,)).fetchone()
    return dict(row) if row is not None else None


def enqueue(db: sqlite3.Connection, kind: str, body: dict[str, Any], now: datetime) -> str:
    """Add a mutation (inside the caller's transaction); returns its client-made id."""
    ident = new_id("m", now)
    db.execute("INSERT INTO outbox (id, kind, body, created_at_us) VALUES (?, ?, ?, ?)",
               (ident, kind, json.dumps(body, ensure_ascii=False, sort_keys=True), utc_micros(now)))
    return ident


def enqueue_decision(db: sqlite3.Connection, decision_id: str, promise_id: str | None, now: datetime,
                     *, approving: str | None = None) -> str:
    """The queued decision (and the promise it made) as they are stored now; an approval names its escalation."""
    body: dict[str, Any] = {
        "decision": stored_row(db, "decision", decision_id),
        "promise": stored_row(db, "promise", promise_id) if promise_id is not None else None,
    }
    if approving is not None:
        body["escalation"] = approving
    return enqueue(db, APPROVE if approving is not None else DECISION, body, now)


def waiting(db: sqlite3.Connection, limit: int | None = None) -> list[OutboxItem]:
    """The mutations not yet answered by the backend, in the order they were made."""
    sql = "SELECT seq, id, kind, body, attempts, last_error FROM outbox ORDER BY seq"
    rows = db.execute(sql + (" LIMIT ?" if limit is not None else ""),
                      (limit,) if limit is not None else ()).fetchall()
    return [OutboxItem(seq, ident, kind, json.loads(body), attempts, error)
            for seq, ident, kind, body, attempts, error in rows]


def waiting_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])


UNANSWERED_STATES = "('pending', 'queued')"
"""SQL: the states of a decision the backend has not answered yet."""


def rejected(mutation_id: str, last_error: str, decision_id: str | None,
             refusal: str) -> list[tuple[str, tuple[Any, ...]]]:
    """The backend will never take this mutation: it stays (with ``last_error``) and its decision, if it
    still waits for an answer, reads refused with ``refusal``; its open promise is cancelled."""
    statements: list[tuple[str, tuple[Any, ...]]] = [
        ("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", (last_error, mutation_id))]
    if decision_id is not None:
        statements += [
            ("UPDATE decision SET state = 'refused', extra = json_set(coalesce(extra, '{}'), '$.refusal', ?) "
             f"WHERE id = ? AND state IN {UNANSWERED_STATES}", (refusal, decision_id)),
            ("UPDATE promise SET state = 'cancelled' WHERE decision_id = ? AND state = 'open'", (decision_id,)),
        ]
    return statements


def unanswered(decision_ids: list[str]) -> tuple[str, tuple[Any, ...]]:
    """The query for which of ``decision_ids`` still wait for the backend's answer."""
    marks = ", ".join("?" * len(decision_ids))
    return f"SELECT id FROM decision WHERE id IN ({marks}) AND state IN {UNANSWERED_STATES}", tuple(decision_ids)
