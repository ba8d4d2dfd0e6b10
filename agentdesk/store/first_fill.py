"""A first sync into an empty store, written the way a bulk load is: the timeline's index and the waiting list last.

Kept up row by row, the timeline's ``(customer, time)`` index and the waiting list cost more
than the rows themselves when a million of them arrive page after page (each page touches every
customer's part of the index again, and recomputes every customer's waiting row). So a pull that
starts on a store holding no records drops that index, stops checkpointing the WAL after every
page, and applies its pages without touching ``waiting``; when it ends (complete or not), the
index is built once, in order, and ``waiting`` is computed once for every customer.

The pages still commit one by one with their cursor. A ``filling`` note in ``sync_state``,
written with the index drop, says the store is in the middle of such a fill: a sync loop that
finds the note (the last one was stopped in the middle) finishes the fill before anything else.
Each statement is a ``(sql, params)`` pair for :meth:`StoreWriter.apply`, or a query for
:meth:`StoreWriter.fetch`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex

from agentdesk.store.tables import CustomerRow, TimelineEntryRow

Statement = tuple[str, tuple[Any, ...]]

_INDEX = next(index for index in TimelineEntryRow.metadata.tables[TimelineEntryRow.__tablename__].indexes
              if index.name == "ix_timeline_customer_at")
_CREATE_INDEX = str(CreateIndex(_INDEX, if_not_exists=True).compile(dialect=sqlite.dialect()))

HOLDS_RECORDS = (f"SELECT EXISTS (SELECT 1 FROM {TimelineEntryRow.__tablename__})"
                 f" OR EXISTS (SELECT 1 FROM {CustomerRow.__tablename__})")
"""One row: whether the store holds any customer or timeline entry (a fill is only for a store that holds none)."""

FILLING = "SELECT 1 FROM sync_state WHERE key = 'filling'"
"""A row when a fill was begun and not finished."""

CUSTOMERS = f"SELECT id FROM {CustomerRow.__tablename__}"
"""Every customer, whose waiting rows a finished fill computes."""

WAL_UNCHECKED = ("PRAGMA wal_autocheckpoint = 0", ())
"""This connection leaves the WAL to grow during the fill: checkpointed once at its end instead of after each page."""

WAL_CHECKED = ("PRAGMA wal_autocheckpoint = 1000", ())
"""SQLite's default again."""

WAL_CHECKPOINT = "PRAGMA wal_checkpoint(TRUNCATE)"


def begin() -> list[Statement]:
    """In one transaction: the note that a fill is under way, and the index gone until its end."""
    return [("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('filling', '1')", ()),
            (f"DROP INDEX IF EXISTS {_INDEX.name}", ())]


def build_index() -> list[Statement]:
    return [(_CREATE_INDEX, ())]


def done() -> Statement:
    return "DELETE FROM sync_state WHERE key = 'filling'", ()
