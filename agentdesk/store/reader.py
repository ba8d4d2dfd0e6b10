"""What the workstation and the plain front end read, over aiosqlite with hand-written SQL.

Kept free of SQLAlchemy so the workstation paints before the ORM is imported.
Every query here is served by an index; ``tests/test_query_plans.py`` holds them to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from agentdesk.domain.contact import email_key, phone_key
from agentdesk.domain.model import (
    Agent,
    Case,
    Channel,
    Customer,
    Promise,
    TimelineEntry,
    Urgency,
)
from agentdesk.domain.queue import Waiting
from agentdesk.domain.timeline import utc_micros
from agentdesk.store.convert import (
    agent_from_row,
    case_from_row,
    customer_from_row,
    entry_from_row,
    from_columns,
    promise_from_row,
)
from agentdesk.store.files import CONNECTION_PRAGMAS, prepare_store

OPEN_CASE_STATES = ("open", "pending")
OPEN_PROMISE_STATES = ("open", "overdue")

_URGENCY_RANK = {Urgency.NORMAL: 0, Urgency.HIGH: 1, Urgency.NO_SERVICE: 2}
_RANK_URGENCY = {rank: urgency for urgency, rank in _URGENCY_RANK.items()}

QUEUE_SQL = """
SELECT w.customer_id, c.name, w.since_us, w.channels,
  (SELECT max(CASE s.urgency WHEN 'no_service' THEN 2 WHEN 'high' THEN 1 ELSE 0 END)
     FROM support_case AS s
    WHERE s.customer_id = w.customer_id AND s.status IN ('open', 'pending')) AS urgency_rank,
  p.due_us, p.due_offset_s, p.what
FROM waiting AS w
JOIN customer AS c ON c.id = w.customer_id
LEFT JOIN promise AS p ON p.id = (
    SELECT id FROM promise
     WHERE customer_id = w.customer_id AND state IN ('open', 'overdue')
     ORDER BY due_us LIMIT 1)
"""

TIMELINE_PAGE_SQL = """
SELECT id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, author, body,
       event_kind, duration_s, wait_s, extra
FROM timeline_entry
WHERE customer_id = ?
ORDER BY at_us, id
LIMIT ? OFFSET ?
"""

TIMELINE_PAGE_FROM_END_SQL = """
SELECT id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, author, body,
       event_kind, duration_s, wait_s, extra
FROM timeline_entry
WHERE customer_id = ?
ORDER BY at_us DESC, id DESC
LIMIT ? OFFSET ?
"""

TIMELINE_COUNT_SQL = "SELECT count(*) FROM timeline_entry WHERE customer_id = ?"

CUSTOMER_COLUMNS = (
    "id, name, email, phone, preferred_channel, language, timezone, location, owner, extra"
)


@dataclass(frozen=True, slots=True)
class CustomerCard:
    """A customer with what the header needs beside them: the owner as a person."""

    customer: Customer
    owner: Agent | None


class StoreReader:
    """Read access to one store file. Use :meth:`open` as an async context manager."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path | str) -> AsyncIterator[StoreReader]:
        import asyncio

        path = await asyncio.to_thread(prepare_store, path)
        connection = await aiosqlite.connect(path)
        try:
            for pragma in CONNECTION_PRAGMAS:
                await connection.execute(pragma)
            connection.row_factory = sqlite3.Row  # rows by column name, for store.convert
            yield cls(connection, path)
        finally:
            await connection.close()

    # --- people ---------------------------------------------------------------

    async def agent(self, agent_id: str) -> Agent | None:
        async with self._db.execute(
            "SELECT id, name, role, email, phone, extra FROM agent WHERE id = ?", (agent_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return agent_from_row(row) if row is not None else None

    async def agents(self) -> list[Agent]:
        async with self._db.execute(
            "SELECT id, name, role, email, phone, extra FROM agent ORDER BY id"
        ) as cursor:
            rows = await cursor.fetchall()
        return [agent_from_row(row) for row in rows]

    async def customer(self, customer_id: str) -> Customer | None:
        async with self._db.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customer WHERE id = ?", (customer_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return customer_from_row(row) if row else None

    async def customer_card(self, customer_id: str) -> CustomerCard | None:
        customer = await self.customer(customer_id)
        if customer is None:
            return None
        owner = await self.agent(customer.owner) if customer.owner else None
        return CustomerCard(customer, owner)

    async def find_customer(self, reference: str) -> Customer | None:
        """A customer by id, e-mail address or phone number (as the contract's CUSTOMER)."""
        reference = reference.strip()
        found = await self.customer(reference)
        if found is not None:
            return found
        if "@" in reference:
            column, key = "email_key", email_key(reference)
        else:
            column, key = "phone_key", phone_key(reference)
        if not key:
            return None
        async with self._db.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customer WHERE {column} = ? ORDER BY id LIMIT 1", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        return customer_from_row(row) if row else None

    async def search_customers(self, text: str, limit: int = 200) -> list[Customer]:
        """Customers whose name, e-mail or phone contains ``text`` (case-insensitive), by name."""
        text = text.strip()
        if not text:
            return []
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        phone_like = None
        key = phone_key(text)
        if key and len(key.lstrip("+")) >= 3:
            phone_like = "%" + key.lstrip("+") + "%"
        async with self._db.execute(
            f"SELECT {CUSTOMER_COLUMNS} FROM customer "
            "WHERE name LIKE ?1 ESCAPE '\\' OR email_key LIKE lower(?1) ESCAPE '\\' "
            "OR (?2 IS NOT NULL AND phone_key LIKE ?2) "
            "ORDER BY name COLLATE NOCASE, id LIMIT ?3",
            (like, phone_like, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [customer_from_row(row) for row in rows]

    # --- queue ----------------------------------------------------------------

    async def waiting(self) -> list[Waiting]:
        """Every waiting customer with what the fair queue weighs; unordered."""
        async with self._db.execute(QUEUE_SQL) as cursor:
            rows = await cursor.fetchall()
        result = []
        for customer_id, name, since_us, channels, urgency_rank, due_us, due_offset, what in rows:
            result.append(Waiting(
                customer_id=customer_id,
                name=name,
                since=from_columns(since_us, 0),
                channels=tuple(Channel(c) for c in channels.split(",") if c),
                urgency=_RANK_URGENCY[urgency_rank or 0],
                deadline=from_columns(due_us, due_offset) if due_us is not None else None,
                deadline_what=what,
            ))
        return result

    # --- one customer ---------------------------------------------------------

    async def open_cases(self, customer_id: str) -> list[Case]:
        async with self._db.execute(
            "SELECT id, customer_id, subject, status, opened_at_us, opened_at_offset_s, disputed_amount, "
            "currency, urgency, extra FROM support_case "
            "WHERE customer_id = ? AND status IN ('open', 'pending') ORDER BY opened_at_us, id",
            (customer_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [case_from_row(row) for row in rows]

    async def open_promises(self, customer_id: str | None = None) -> list[Promise]:
        """Open promises, due first; of one customer or of everyone."""
        where = "state IN ('open', 'overdue')"
        params: tuple = ()
        if customer_id is not None:
            where += " AND customer_id = ?"
            params = (customer_id,)
        async with self._db.execute(
            "SELECT id, decision_id, customer_id, what, due_us, due_offset_s, state, extra "
            f"FROM promise WHERE {where} ORDER BY due_us, id",
            params,
        ) as cursor:
            rows = await cursor.fetchall()
        return [promise_from_row(row) for row in rows]

    async def timeline_count(self, customer_id: str) -> int:
        async with self._db.execute(TIMELINE_COUNT_SQL, (customer_id,)) as cursor:
            (count,) = await cursor.fetchone()
        return count

    async def timeline_page(self, customer_id: str, offset: int, limit: int,
                            total: int | None = None) -> list[TimelineEntry]:
        """Entries ``offset`` … ``offset + limit - 1`` of the customer's timeline, oldest first.

        An OFFSET walks the index from its start, so with ``total`` (the count) a page
        in the newer half is read from the newest end instead: the last page of a
        100,000-entry history costs what the first one does.
        """
        offset = max(offset, 0)
        if total is not None and offset > total // 2:
            take = max(min(limit, total - offset), 0)
            params = (customer_id, take, max(total - offset - take, 0))
            async with self._db.execute(TIMELINE_PAGE_FROM_END_SQL, params) as cursor:
                rows = await cursor.fetchall()
            rows.reverse()
        else:
            async with self._db.execute(TIMELINE_PAGE_SQL, (customer_id, limit, offset)) as cursor:
                rows = await cursor.fetchall()
        return [entry_from_row(row) for row in rows]

    async def timeline_position(self, customer_id: str, at: datetime) -> int:
        """How many entries come before ``at``: the position to jump to for a date."""
        async with self._db.execute(
            "SELECT count(*) FROM timeline_entry WHERE customer_id = ? AND at_us < ?",
            (customer_id, utc_micros(at)),
        ) as cursor:
            (count,) = await cursor.fetchone()
        return count

    async def timeline(self, customer_id: str, page_size: int = 2000) -> AsyncIterator[TimelineEntry]:
        """The whole timeline, oldest first, streamed page by page (keyset, not offset)."""
        after: tuple[int, str] = (-(1 << 62), "")
        while True:
            async with self._db.execute(
                "SELECT id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, author, body, "
                "event_kind, duration_s, wait_s, extra FROM timeline_entry "
                "WHERE customer_id = ? AND (at_us, id) > (?, ?) ORDER BY at_us, id LIMIT ?",
                (customer_id, after[0], after[1], page_size),
            ) as cursor:
                rows = await cursor.fetchall()
            for row in rows:
                yield entry_from_row(row)
            if len(rows) < page_size:
                return
            after = (rows[-1]["at_us"], rows[-1]["id"])
