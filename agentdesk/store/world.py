"""The workstation's :class:`agentdesk.domain.workflow.World`: its store, read inside the ledger's transaction."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from agentdesk.domain.authority import COUNTED_KINDS, COUNTED_STATES
from agentdesk.domain.model import Agent, Case, Customer, Decision
from agentdesk.domain.timeline import utc_micros
from agentdesk.store.convert import (
    agent_from_row,
    case_from_row,
    customer_from_row,
    decision_from_row,
    from_columns,
)

_KINDS = ", ".join("?" for _ in COUNTED_KINDS)
_STATES = ", ".join("?" for _ in COUNTED_STATES)
_COUNTED = (*COUNTED_KINDS, *sorted(COUNTED_STATES))

COUNTING_SQL = (f"SELECT * FROM decision WHERE customer_id = ? AND kind IN ({_KINDS}) AND state IN ({_STATES}) "
                "AND (at_us > ? OR case_id = ?) ORDER BY at_us, id")
"""What counts against the limits (``domain.workflow``): on the workstation a decision counts from its ``at``."""
SLOTS_SQL = (f"SELECT scheduled_us FROM decision WHERE kind = 'callback' AND agent_id = ? "
             f"AND state IN ({_STATES}) AND scheduled_us >= ?")


class StoreWorld:
    """Reads of one ``sqlite3`` connection; the caller holds the transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def agent(self, agent_id: str) -> Agent | None:
        row = self.db.execute("SELECT * FROM agent WHERE id = ?", (agent_id,)).fetchone()
        return agent_from_row(row) if row is not None else None

    def customer(self, customer_id: str) -> Customer | None:
        row = self.db.execute("SELECT * FROM customer WHERE id = ?", (customer_id,)).fetchone()
        return customer_from_row(row) if row is not None else None

    def case(self, case_id: str) -> Case | None:
        row = self.db.execute("SELECT * FROM support_case WHERE id = ?", (case_id,)).fetchone()
        return case_from_row(row) if row is not None else None

    def default_case(self, customer_id: str) -> Case | None:
        """The case a decision goes to when none is named: the oldest open one with money disputed."""
        row = self.db.execute(
            "SELECT * FROM support_case WHERE customer_id = ? AND status IN ('open', 'pending') "
            "ORDER BY disputed_amount IS NULL, opened_at_us, id LIMIT 1", (customer_id,)).fetchone()
        return case_from_row(row) if row is not None else None

    def decision(self, decision_id: str) -> Decision | None:
        row = self.db.execute("SELECT * FROM decision WHERE id = ?", (decision_id,)).fetchone()
        return decision_from_row(row) if row is not None else None

    def counting_decisions(self, customer_id: str, case_id: str | None, since: datetime,
                           now: datetime) -> list[Decision]:
        rows = self.db.execute(COUNTING_SQL, (customer_id, *_COUNTED, utc_micros(since), case_id)).fetchall()
        return [decision_from_row(row) for row in rows]

    def booked_slots(self, agent_id: str, since: datetime) -> frozenset[datetime]:
        rows = self.db.execute(SLOTS_SQL, (agent_id, *sorted(COUNTED_STATES), utc_micros(since))).fetchall()
        return frozenset(from_columns(us, 0) for (us,) in rows)
