"""What the workstation and the plain front end read, over aiosqlite with hand-written SQL.

Kept free of SQLAlchemy so the workstation paints before the ORM is imported.
Every query here is served by an index; ``tests/test_query_plans.py`` holds them to it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import aiosqlite

from agentdesk.domain.contact import email_key, phone_key
from agentdesk.domain.decision_text import APPROVAL_WORDS, REFUSAL_FIELD
from agentdesk.domain.model import (
    Agent,
    Article,
    AuditEntry,
    Case,
    Channel,
    Customer,
    Decision,
    Promise,
    TimelineEntry,
    Urgency,
)
from agentdesk.domain.queue import CALLBACK_LEAD, MISSED_CALL_PREFIX, Waiting
from agentdesk.domain.timeline import utc_micros
from agentdesk.store import knowledge
from agentdesk.store.convert import (
    agent_from_row,
    audit_from_row,
    case_from_row,
    customer_from_row,
    decision_from_row,
    entry_from_row,
    from_columns,
    promise_from_row,
)
from agentdesk.store.files import CONNECTION_PRAGMAS, prepare_store

OPEN_CASE_STATES = ("open", "pending")
OPEN_PROMISE_STATES = ("open", "overdue")

_URGENCY_RANK = {Urgency.NORMAL: 0, Urgency.HIGH: 1, Urgency.NO_SERVICE: 2}
_RANK_URGENCY = {rank: urgency for urgency, rank in _URGENCY_RANK.items()}


def _urgency_rank_of(customer: str) -> str:
    return f"""(SELECT max(CASE s.urgency WHEN 'no_service' THEN 2 WHEN 'high' THEN 1 ELSE 0 END)
     FROM support_case AS s
    WHERE s.customer_id = {customer} AND s.status IN ('open', 'pending'))"""


def _first_open_promise_of(customer: str) -> str:
    return f"""(
    SELECT id FROM promise
     WHERE customer_id = {customer} AND state IN ('open', 'overdue')
     ORDER BY due_us LIMIT 1)"""


# The oldest unanswered inbound contact (the one the wait counts from): one step in the timeline index.
_OLDEST_WAITING = """(
    SELECT id FROM timeline_entry
     WHERE customer_id = w.customer_id AND at_us = w.since_us AND kind = 'interaction' AND direction = 'in'
     ORDER BY id LIMIT 1)"""

QUEUE_SQL = f"""
SELECT w.customer_id, c.name, w.since_us, w.channels,
  {_urgency_rank_of("w.customer_id")} AS urgency_rank,
  p.due_us, p.due_offset_s, p.what,
  f.channel,
  coalesce(json_extract(f.extra, '$.missed') IN (1, 'true'), 0) OR f.body LIKE '{MISSED_CALL_PREFIX}%' AS missed
FROM waiting AS w
JOIN customer AS c ON c.id = w.customer_id
LEFT JOIN promise AS p ON p.id = {_first_open_promise_of("w.customer_id")}
LEFT JOIN timeline_entry AS f ON f.id = {_OLDEST_WAITING}
"""

CALLBACKS_DUE_SQL = f"""
SELECT cb.customer_id, c.name, cb.due_us, cb.due_offset_s, cb.what,
  {_urgency_rank_of("cb.customer_id")} AS urgency_rank,
  p.due_us, p.due_offset_s, p.what
FROM promise AS cb
JOIN decision AS d ON d.id = cb.decision_id
JOIN customer AS c ON c.id = cb.customer_id
LEFT JOIN promise AS p ON p.id = {_first_open_promise_of("cb.customer_id")}
WHERE cb.state IN ('open', 'overdue') AND cb.due_us <= ? AND d.kind = 'callback'
ORDER BY cb.due_us, cb.id
"""
"""Open callback promises due by a time, earliest first: they head the queue, waiting or not."""

TIMELINE_COLUMNS = (
    "id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, author, body, "
    "event_kind, duration_s, wait_s, extra, decision_id"
)

_APPROVAL_WORDS_SQL = " ".join(f"WHEN '{approval}' THEN '{words}'" for approval, words in APPROVAL_WORDS.items())

# The decision a line shows, as decision_text.shown_state says it. A scalar subquery, not a
# LEFT JOIN: it runs for the rows of the page only, not for every row an OFFSET skips.
TIMELINE_DECISION_STATE = f"""(
    SELECT CASE WHEN d.state = 'refused'
                THEN CASE WHEN json_type(d.extra, '$.{REFUSAL_FIELD}') = 'text'
                               AND json_extract(d.extra, '$.{REFUSAL_FIELD}') <> ''
                          THEN 'refused: ' || json_extract(d.extra, '$.{REFUSAL_FIELD}') ELSE 'refused' END
                WHEN d.kind = 'escalate' AND d.approval IS NOT NULL
                THEN CASE d.approval {_APPROVAL_WORDS_SQL} ELSE d.approval END
                ELSE d.state END
      FROM decision AS d WHERE d.id = timeline_entry.decision_id) AS decision_state"""

TIMELINE_PAGE_SQL = f"""
SELECT {TIMELINE_COLUMNS}, {TIMELINE_DECISION_STATE}
FROM timeline_entry
WHERE customer_id = ?
ORDER BY at_us, id
LIMIT ? OFFSET ?
"""

TIMELINE_PAGE_FROM_END_SQL = f"""
SELECT {TIMELINE_COLUMNS}, {TIMELINE_DECISION_STATE}
FROM timeline_entry
WHERE customer_id = ?
ORDER BY at_us DESC, id DESC
LIMIT ? OFFSET ?
"""

TIMELINE_STREAM_SQL = f"""
SELECT {TIMELINE_COLUMNS}, {TIMELINE_DECISION_STATE}
FROM timeline_entry
WHERE customer_id = ? AND (at_us, id) > (?, ?)
ORDER BY at_us, id
LIMIT ?
"""

TIMELINE_COUNT_SQL = "SELECT count(*) FROM timeline_entry WHERE customer_id = ?"

CUSTOMER_COLUMNS = (
    "id, name, email, phone, preferred_channel, language, timezone, location, owner, extra"
)

DECISION_COLUMNS = (
    "id, customer_id, case_id, kind, amount, currency, agent_id, at_us, at_offset_s, state, reason, extra, "
    "scheduled_us, scheduled_offset_s, phone, undo_until_us, escalate_to, proposal_kind, approval, approval_by, "
    "approval_at_us, approval_offset_s, approval_reason, approves"
)

DECISIONS_SQL = f"SELECT {DECISION_COLUMNS} FROM decision WHERE customer_id = ? AND at_us >= ? ORDER BY at_us, id"

PROMISE_COLUMNS = "id, decision_id, customer_id, what, due_us, due_offset_s, state, extra"

FLOOR_DECISIONS_SQL = f"SELECT {DECISION_COLUMNS} FROM decision WHERE at_us >= ? ORDER BY at_us, id"
FLOOR_ESCALATIONS_SQL = (f"SELECT {DECISION_COLUMNS} FROM decision WHERE approval = 'waiting' AND kind = 'escalate' "
                         "ORDER BY at_us, id")
FLOOR_PROMISES_SQL = (
    "SELECT p.id, p.decision_id, p.customer_id, p.what, p.due_us, p.due_offset_s, p.state, p.extra, "
    "d.agent_id AS owner FROM promise p LEFT JOIN decision d ON d.id = p.decision_id "
    "WHERE p.state IN ('open', 'overdue') ORDER BY p.due_us, p.id")
FLOOR_REPLIES_SQL = (
    "SELECT json_extract(extra, '$.reply_by'), count(*) FROM timeline_entry "
    "WHERE json_extract(extra, '$.delivery') = 'sent' AND at_us >= ? GROUP BY 1")

AUDIT_COLUMNS = (
    "id, at_us, at_offset_s, actor, action, customer_id, decision_id, kind, amount, currency, rule, "
    "limit_amount, detail, extra"
)

AUDIT_SQL = f"SELECT {AUDIT_COLUMNS} FROM audit WHERE customer_id = ? ORDER BY at_us, id"

_EARLIEST_US = -(1 << 62)


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
    async def open(cls, path: Path | str, *, query_only: bool = False) -> AsyncIterator[StoreReader]:
        """``query_only``: the connection refuses every write at the database (a read-only user's)."""
        import asyncio

        path = await asyncio.to_thread(prepare_store, path)
        connection = await aiosqlite.connect(path)
        try:
            for pragma in CONNECTION_PRAGMAS:
                await connection.execute(pragma)
            if query_only:
                await connection.execute("PRAGMA query_only = ON")
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
        """A customer by id, e-mail address or phone number (the commands' CUSTOMER)."""
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
        # Keys are E.164: a national number typed with its trunk 0 ("040 555…") is found by what follows it.
        digits = (phone_key(text) or "").lstrip("+0")
        if len(digits) >= 3:
            phone_like = "%" + digits + "%"
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

    async def waiting(self, now: datetime | None = None) -> list[Waiting]:
        """Every waiting customer with what the fair queue weighs; unordered.

        Besides customers with unanswered messages, everyone with an open callback
        promise due by ``now`` (default: the clock) plus ``CALLBACK_LEAD``: that
        callback fills ``callback_due``; a customer who has not written in waits
        since its due time, on no channel.
        """
        now = now or datetime.now(timezone.utc)
        async with self._db.execute(QUEUE_SQL) as cursor:
            rows = await cursor.fetchall()
        found: dict[str, Waiting] = {}
        for (customer_id, name, since_us, channels, urgency_rank, due_us, due_offset, what,
             oldest_channel, missed) in rows:
            found[customer_id] = Waiting(
                customer_id=customer_id,
                name=name,
                since=from_columns(since_us, 0),
                channels=tuple(Channel(c) for c in channels.split(",") if c),
                urgency=_RANK_URGENCY[urgency_rank or 0],
                deadline=from_columns(due_us, due_offset) if due_us is not None else None,
                deadline_what=what,
                oldest_channel=Channel(oldest_channel) if oldest_channel else None,
                oldest_missed_call=bool(missed),
            )
        async with self._db.execute(CALLBACKS_DUE_SQL, (utc_micros(now + CALLBACK_LEAD),)) as cursor:
            callbacks = await cursor.fetchall()
        for (customer_id, name, call_us, call_offset, call_what, urgency_rank,
             due_us, due_offset, what) in callbacks:
            if customer_id in found and found[customer_id].callback_due is not None:
                continue  # an earlier callback of theirs is already there (rows come earliest first)
            call_due = from_columns(call_us, call_offset)
            waiting = found.get(customer_id) or Waiting(
                customer_id=customer_id,
                name=name,
                since=call_due,
                channels=(),
                urgency=_RANK_URGENCY[urgency_rank or 0],
                deadline=from_columns(due_us, due_offset) if due_us is not None else None,
                deadline_what=what,
            )
            found[customer_id] = replace(waiting, callback_due=call_due, callback_what=call_what)
        return list(found.values())

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
        return await self.promises(OPEN_PROMISE_STATES, customer_id)

    async def promises(self, states: Sequence[str], customer_id: str | None = None) -> list[Promise]:
        """Promises in any of ``states``, due first; of one customer or of everyone."""
        if not states:
            return []
        where = f"state IN ({', '.join('?' * len(states))})"
        params: tuple = tuple(states)
        if customer_id is not None:
            where += " AND customer_id = ?"
            params += (customer_id,)
        async with self._db.execute(
            f"SELECT {PROMISE_COLUMNS} FROM promise WHERE {where} ORDER BY due_us, id", params
        ) as cursor:
            rows = await cursor.fetchall()
        return [promise_from_row(row) for row in rows]

    # --- decisions ------------------------------------------------------------

    async def decision(self, decision_id: str) -> Decision | None:
        async with self._db.execute(f"SELECT {DECISION_COLUMNS} FROM decision WHERE id = ?", (decision_id,)) as cursor:
            row = await cursor.fetchone()
        return decision_from_row(row) if row is not None else None

    async def decisions(self, customer_id: str, since: datetime | None = None) -> list[Decision]:
        """The customer's decisions (every state), oldest first; from ``since`` on when given."""
        start = utc_micros(since) if since is not None else _EARLIEST_US
        async with self._db.execute(DECISIONS_SQL, (customer_id, start)) as cursor:
            rows = await cursor.fetchall()
        return [decision_from_row(row) for row in rows]

    # --- the floor ----------------------------------------------------------------

    async def decisions_since(self, since: datetime) -> list[Decision]:
        """Every agent's decisions from ``since`` on, oldest first."""
        async with self._db.execute(FLOOR_DECISIONS_SQL, (utc_micros(since),)) as cursor:
            rows = await cursor.fetchall()
        return [decision_from_row(row) for row in rows]

    async def waiting_escalations(self) -> list[Decision]:
        """Escalations still waiting for someone to approve or decline them, oldest first."""
        async with self._db.execute(FLOOR_ESCALATIONS_SQL) as cursor:
            rows = await cursor.fetchall()
        return [decision_from_row(row) for row in rows]

    async def open_promises_by_owner(self) -> list[tuple[Promise, str | None]]:
        """Open promises, due first, each with the agent whose decision made it (None when not known)."""
        async with self._db.execute(FLOOR_PROMISES_SQL) as cursor:
            rows = await cursor.fetchall()
        return [(promise_from_row(row), row["owner"]) for row in rows]

    async def replies_sent_since(self, since: datetime) -> dict[str, int]:
        """How many replies each agent has had sent from ``since`` on."""
        async with self._db.execute(FLOOR_REPLIES_SQL, (utc_micros(since),)) as cursor:
            rows = await cursor.fetchall()
        return {str(row[0]): int(row[1]) for row in rows if row[0] is not None}

    async def customer_names(self, customer_ids: Iterable[str]) -> dict[str, str]:
        wanted = json.dumps(sorted(set(customer_ids)))
        async with self._db.execute(
            "SELECT id, name FROM customer WHERE id IN (SELECT value FROM json_each(?))", (wanted,)
        ) as cursor:
            rows = await cursor.fetchall()
        return {row[0]: row[1] for row in rows}

    async def audit(self, customer_id: str) -> list[AuditEntry]:
        """The audit log about one customer, oldest first."""
        async with self._db.execute(AUDIT_SQL, (customer_id,)) as cursor:
            rows = await cursor.fetchall()
        return [audit_from_row(row) for row in rows]

    async def timeline_count(self, customer_id: str) -> int:
        async with self._db.execute(TIMELINE_COUNT_SQL, (customer_id,)) as cursor:
            row = await cursor.fetchone()
        assert row is not None, "count(*) answers one row"
        return row[0]

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
                newest_first = list(await cursor.fetchall())  # aiosqlite's list, declared an Iterable
            return [entry_from_row(row) for row in reversed(newest_first)]
        async with self._db.execute(TIMELINE_PAGE_SQL, (customer_id, limit, offset)) as cursor:
            rows = await cursor.fetchall()
        return [entry_from_row(row) for row in rows]

    async def timeline_position(self, customer_id: str, at: datetime) -> int:
        """How many entries come before ``at``: the position to jump to for a date."""
        async with self._db.execute(
            "SELECT count(*) FROM timeline_entry WHERE customer_id = ? AND at_us < ?",
            (customer_id, utc_micros(at)),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None, "count(*) answers one row"
        return row[0]

    async def timeline(self, customer_id: str, page_size: int = 2000) -> AsyncIterator[TimelineEntry]:
        """The whole timeline, oldest first, streamed page by page (keyset, not offset)."""
        after: tuple[int, str] = (_EARLIEST_US, "")
        while True:
            async with self._db.execute(
                TIMELINE_STREAM_SQL, (customer_id, after[0], after[1], page_size)
            ) as cursor:
                rows = list(await cursor.fetchall())  # aiosqlite's list, declared an Iterable
            for row in rows:
                yield entry_from_row(row)
            if len(rows) < page_size:
                return
            after = (rows[-1]["at_us"], rows[-1]["id"])

    # --- knowledge articles (queries in store.knowledge) ------------------------

    async def article(self, article_id: str) -> Article | None:
        return await knowledge.article(self._db, article_id)

    async def search_articles(self, query: str, limit: int = 50) -> list[Article]:
        """Articles holding every word of ``query`` (words, never FTS syntax), best first; by title when empty."""
        return await knowledge.search(self._db, query, limit)

    async def articles_for_case(self, case: Case, customer: Customer | None, limit: int = 5) -> list[Article]:
        """Articles that fit a case: its product (the case's or customer's) and its subject words, best first."""
        return await knowledge.for_case(self._db, case, customer, limit)
