"""Reading, on a plain read-only ``sqlite3`` connection, which of an agent's escalations a lead decided.

Shared by the workstation's store watcher and the plain session, which both tell
the agent once an escalation was approved or declined.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agentdesk.domain.model import Decision
from agentdesk.store.convert import decision_from_row

DECIDED_ESCALATIONS = "approval IN ('approved', 'declined') AND kind = 'escalate' AND agent_id = ?"
"""SQL condition: ``agent_id``'s escalations that were approved or declined."""


def read_only_connection(path: Path | str) -> sqlite3.Connection:
    """A ``query_only`` connection with rows by name, usable from the thread that runs it."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA query_only = ON")
    connection.execute("PRAGMA busy_timeout = 5000")
    connection.row_factory = sqlite3.Row
    return connection


def decided_escalations(db: sqlite3.Connection, agent_id: str, known: frozenset[str]) -> list[Decision]:
    """``agent_id``'s decided escalations, except those in ``known``, in the order they were decided."""
    rows = db.execute(f"SELECT * FROM decision WHERE {DECIDED_ESCALATIONS} ORDER BY approval_at_us, id",
                      (agent_id,)).fetchall()
    return [decision_from_row(row) for row in rows if row["id"] not in known]
