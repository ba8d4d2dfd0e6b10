"""What the front ends' store watchers read, on a plain read-only ``sqlite3`` connection.

One connection of their own per watcher (:func:`read_only_connection`), used from one
thread: ``PRAGMA data_version`` says whether anyone committed since the last look, and
the other functions read what the agent is told about then (escalations a lead decided,
decisions the backend refused). The watching itself lives in :mod:`agentdesk.desk.watch`.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from agentdesk.domain.model import Decision
from agentdesk.domain.timeline import from_utc_micros
from agentdesk.store.convert import decision_from_row

_DECIDED_ESCALATIONS = "approval IN ('approved', 'declined') AND kind = 'escalate' AND agent_id = ?"
"""SQL condition: ``agent_id``'s escalations that were approved or declined."""


def read_only_connection(path: Path | str) -> sqlite3.Connection:
    """A ``query_only`` connection with rows by name, usable from the thread that runs it."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA query_only = ON")
    connection.execute("PRAGMA busy_timeout = 5000")
    connection.row_factory = sqlite3.Row
    return connection


def data_version(db: sqlite3.Connection) -> int:
    """Changes whenever another connection committed since this one last asked; costs no disk read."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])


def decided_escalations(db: sqlite3.Connection, agent_id: str, known: frozenset[str]) -> list[Decision]:
    """``agent_id``'s decided escalations, except those in ``known``, in the order they were decided."""
    rows = db.execute(f"SELECT * FROM decision WHERE {_DECIDED_ESCALATIONS} ORDER BY approval_at_us, id",
                      (agent_id,)).fetchall()
    return [decision_from_row(row) for row in rows if row["id"] not in known]


def decided_escalation_ids(db: sqlite3.Connection, agent_id: str) -> frozenset[str]:
    """The ids of ``agent_id``'s escalations that were approved or declined."""
    rows = db.execute(f"SELECT id FROM decision WHERE {_DECIDED_ESCALATIONS}", (agent_id,)).fetchall()
    return frozenset(row["id"] for row in rows)


def unanswered_decision_ids(db: sqlite3.Connection, agent_id: str) -> frozenset[str]:
    """``agent_id``'s decisions still pending or queued: the backend has not answered them."""
    rows = db.execute("SELECT id FROM decision WHERE agent_id = ? AND state IN ('pending', 'queued')",
                      (agent_id,)).fetchall()
    return frozenset(row["id"] for row in rows)


def refused_decision(db: sqlite3.Connection, decision_id: str) -> Decision | None:
    """The decision when the backend refused it; None when it is in another state or not in the store."""
    row = db.execute("SELECT * FROM decision WHERE id = ? AND state = 'refused'", (decision_id,)).fetchone()
    return decision_from_row(row) if row is not None else None


def first_approving_decision(db: sqlite3.Connection, escalation_id: str) -> Decision | None:
    """The decision an approver took in place of the escalation (the first, should there be more)."""
    row = db.execute("SELECT * FROM decision WHERE approves = ? ORDER BY at_us LIMIT 1", (escalation_id,)).fetchone()
    return decision_from_row(row) if row is not None else None


def customer_name_and_zone(db: sqlite3.Connection, customer_id: str) -> tuple[str, str | None] | None:
    """The customer's name as stored and their IANA zone; None when the store does not hold them."""
    row = db.execute("SELECT name, timezone FROM customer WHERE id = ?", (customer_id,)).fetchone()
    return (row["name"], row["timezone"]) if row is not None else None


def last_decision_at(db: sqlite3.Connection, agent_id: str) -> datetime | None:
    """When ``agent_id`` last took a decision; None when never."""
    (last,) = db.execute("SELECT max(at_us) FROM decision WHERE agent_id = ?", (agent_id,)).fetchone()
    return from_utc_micros(last) if last is not None else None


QUEUED_REPLIES = ("SELECT id FROM timeline_entry WHERE json_extract(extra, '$.delivery') = 'queued' "
                   "AND json_extract(extra, '$.reply_by') = ?")
"""``agent_id``'s replies not yet sent (the partial index on the delivery state keeps this to the few queued)."""


def queued_reply_ids(db: sqlite3.Connection, agent_id: str) -> frozenset[str]:
    return frozenset(row["id"] for row in db.execute(QUEUED_REPLIES, (agent_id,)).fetchall())


def reply_delivery(db: sqlite3.Connection, entry_id: str) -> tuple[str, str, str, str | None] | None:
    """``(customer id, channel, delivery state, why it failed)`` of a reply; None when not in the store."""
    row = db.execute("SELECT customer_id, channel, json_extract(extra, '$.delivery') AS state, "
                     "json_extract(extra, '$.delivery_detail') AS detail FROM timeline_entry WHERE id = ?",
                     (entry_id,)).fetchone()
    return (row["customer_id"], row["channel"], row["state"], row["detail"]) if row is not None else None
