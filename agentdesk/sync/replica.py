"""The workstation's store as the sync loop sees it: the outbox to push, the cursor to pull from.

Everything the backend sends is applied through the store's writer, so pulled
records take the same idempotent upsert as an import, decisions get their timeline
lines, and the waiting list stays right. A page and the cursor after it are one
transaction; an answered mutation and the removal of its outbox row are one
transaction. A crash between two of them repeats work, never loses or doubles it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from agentdesk.interchange.codec import RecordError
from agentdesk.interchange.load import to_row
from agentdesk.store.outbox import OutboxItem
from agentdesk.store.writer import COLUMNS, TIMELINE, StoreWriter, open_writer

REJECTED = "rejected: "
"""``last_error`` of a mutation the backend refused to take at all: kept, shown, not pushed again."""

_ENTRY_CUSTOMER = COLUMNS[TIMELINE].index("customer_id")
_USER_KEY = "user:"
"""``sync_state`` key prefix: the user a token speaks for, by a digest of the token (see :meth:`Replica.user_of`)."""


class ReplicaError(Exception):
    """A record from the backend that this workstation cannot store; one line."""


class Replica:
    """Sync state on one store file. Use :meth:`open` as an async context manager."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path | str) -> AsyncIterator[Replica]:
        writer = await open_writer(path)
        try:
            yield cls(writer)
        finally:
            await writer.close()

    # --- the outbox ---------------------------------------------------------------

    async def outbox(self, limit: int = 100) -> list[OutboxItem]:
        """Mutations to push, oldest first; those the backend rejected are left out."""
        rows = await self._writer.fetch(
            "SELECT seq, id, kind, body, attempts, last_error FROM outbox "
            "WHERE last_error IS NULL OR last_error NOT LIKE ? ORDER BY seq LIMIT ?", (REJECTED + "%", limit))
        return [OutboxItem(seq, ident, kind, json.loads(body), attempts, error)
                for seq, ident, kind, body, attempts, error in rows]

    async def counts(self) -> tuple[int, int]:
        """``(waiting, rejected)`` outbox rows."""
        (row,) = await self._writer.fetch(
            "SELECT count(*) - count(CASE WHEN last_error LIKE ? THEN 1 END), "
            "count(CASE WHEN last_error LIKE ? THEN 1 END) FROM outbox", (REJECTED + "%", REJECTED + "%"))
        return int(row[0]), int(row[1])

    async def rejected(self) -> list[OutboxItem]:
        rows = await self._writer.fetch(
            "SELECT seq, id, kind, body, attempts, last_error FROM outbox WHERE last_error LIKE ? ORDER BY seq",
            (REJECTED + "%",))
        return [OutboxItem(seq, ident, kind, json.loads(body), attempts, error)
                for seq, ident, kind, body, attempts, error in rows]

    async def answered(self, mutation_id: str, records: Iterable[Mapping[str, Any]], *,
                       server: str | None = None, cursor: int | None = None) -> None:
        """Store the backend's answer to a mutation and take it off the outbox, together.

        ``cursor`` is the answer's (the seq of its last change on ``server``). When the pull
        from that server has already gone past it, the answer is old news: a repeat after a
        lost answer gets the result stored back then, and the pull may since have brought
        newer versions of its records (an escalation approved meanwhile), which the old ones
        must not overwrite. Then only the outbox row goes.
        """
        if server is not None and cursor is not None:
            state = await self._pull_state()
            if state.get("server") == server and int(state.get("cursor", 0)) >= cursor:
                records = ()
        await self._apply(records, [("DELETE FROM outbox WHERE id = ?", (mutation_id,))])

    async def failed(self, mutation_id: str, error: str, *, rejected: bool) -> None:
        """Count a failed attempt; a rejected mutation is kept but not pushed again."""
        await self._writer.apply({}, statements=[(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            ((REJECTED if rejected else "") + error, mutation_id))])

    # --- the pull cursor ------------------------------------------------------------

    async def cursor(self, server: str) -> int:
        """Where the pull from ``server`` goes on; a different backend than last time starts from 0."""
        state = await self._pull_state()
        if state.get("server") != server:
            await self._writer.apply({}, statements=[
                ("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('server', ?)", (server,)),
                ("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', '0')", ()),
            ])
            return 0
        return int(state.get("cursor", 0))

    async def _pull_state(self) -> dict[str, str]:
        """``server`` (the backend pulled from) and ``cursor`` (how far), as far as known."""
        return dict(await self._writer.fetch("SELECT key, value FROM sync_state WHERE key IN ('server', 'cursor')"))

    async def pulled(self, records: Iterable[Mapping[str, Any]], cursor: int) -> int:
        """Apply one page from the backend and move the cursor past it, in one transaction."""
        return await self._apply(records, [_set_cursor(cursor)])

    async def pulled_part(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Apply part of a snapshot; the cursor moves only when the whole snapshot is in (see :meth:`set_cursor`)."""
        return await self._apply(records, [])

    async def set_cursor(self, cursor: int) -> None:
        await self._writer.apply({}, statements=[_set_cursor(cursor)])

    async def synced_at(self, at: datetime) -> None:
        await self._writer.apply({}, statements=[
            ("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('last_sync', ?)", (at.isoformat(),))])

    async def last_synced(self) -> datetime | None:
        rows = await self._writer.fetch("SELECT value FROM sync_state WHERE key = 'last_sync'")
        return datetime.fromisoformat(rows[0][0]) if rows else None

    async def user_of(self, token_key: str) -> str | None:
        """Who a token speaks for, as the backend said before (``token_key``: a one-way digest of the token).

        A token is never given to another user, so the answer holds for good; the workstation
        knows who is working even when it starts offline.
        """
        rows = await self._writer.fetch("SELECT value FROM sync_state WHERE key = ?", (_USER_KEY + token_key,))
        return rows[0][0] if rows else None

    async def remember_user(self, token_key: str, name: str) -> None:
        await self._writer.apply({}, statements=[
            ("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", (_USER_KEY + token_key, name))])

    async def _apply(self, records: Iterable[Mapping[str, Any]],
                     statements: list[tuple[str, tuple[Any, ...]]]) -> int:
        rows_by_table: dict[str, list[tuple[Any, ...]]] = {}
        customers: list[str] = []
        for obj in records:
            try:
                table, row = to_row(obj)
            except RecordError as exc:
                raise ReplicaError(f"the backend sent a record this workstation cannot store: {exc}") from exc
            rows_by_table.setdefault(table, []).append(row)
            if table == TIMELINE:
                customers.append(row[_ENTRY_CUSTOMER])
        await self._writer.apply(rows_by_table, waiting_for=customers, statements=statements)
        return sum(map(len, rows_by_table.values()))


def _set_cursor(cursor: int) -> tuple[str, tuple[Any, ...]]:
    return "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', ?)", (str(cursor),)
