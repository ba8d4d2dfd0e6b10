"""The waiting list for one customer, with ``sqlite3`` (the ledger's connection, no SQLAlchemy).

The rule is the writer's (``agentdesk.store.writer``, after migration 0002's backfill): a customer
waits from their oldest inbound interaction newer than the last outbound one.
"""

from __future__ import annotations

import sqlite3

_FORGET = "DELETE FROM waiting WHERE customer_id = ?"
_COMPUTE = """
INSERT INTO waiting (customer_id, since_us, channels, unanswered)
SELECT e.customer_id, min(e.at_us), group_concat(DISTINCT e.channel), count(*)
FROM timeline_entry AS e
WHERE e.customer_id = :customer AND e.kind = 'interaction' AND e.direction = 'in'
  AND e.at_us > coalesce((SELECT o.at_us FROM timeline_entry AS o
                          WHERE o.customer_id = :customer AND o.kind = 'interaction' AND o.direction = 'out'
                          ORDER BY o.at_us DESC LIMIT 1), -9223372036854775808)
GROUP BY e.customer_id
"""


def recompute_waiting(db: sqlite3.Connection, customer_id: str) -> None:
    """Bring ``waiting`` up to date for one customer, inside the caller's transaction."""
    db.execute(_FORGET, (customer_id,))
    db.execute(_COMPUTE, {"customer": customer_id})
