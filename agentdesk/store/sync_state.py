"""The sync loop's notes in the store: the outbox rows it reads and answers, and ``sync_state``.

``sync_state`` keeps which backend the store pulls from and how far (``server``, ``cursor``),
when it last synced, and whom a token speaks for (by a one-way digest of the token, never
the token). Each statement is a ``(sql, params)`` pair for :meth:`StoreWriter.apply`, or a
query for :meth:`StoreWriter.fetch`; :func:`remembered_user` and :func:`remember_user_now`
serve the front ends on a plain ``sqlite3`` connection.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

Statement = tuple[str, tuple[Any, ...]]

REJECTED = "rejected: "
"""``last_error`` of a mutation the backend refused to take at all: kept, shown, not pushed again."""
_REJECTED_LIKE = REJECTED + "%"
_ITEM = "SELECT seq, id, kind, body, attempts, last_error FROM outbox "
_USER_KEY = "user:"
"""``sync_state`` key prefix: the user a token speaks for, by a digest of the token."""

PULL_STATE = "SELECT key, value FROM sync_state WHERE key IN ('server', 'cursor')"
"""``(key, value)`` rows: the backend pulled from and how far."""
LAST_SYNC = "SELECT value FROM sync_state WHERE key = 'last_sync'"


def to_push(after: int, limit: int) -> Statement:
    """Outbox rows to push, oldest first, after the outbox seq ``after``; those the backend rejected left out."""
    return (_ITEM + "WHERE seq > ? AND (last_error IS NULL OR last_error NOT LIKE ?) ORDER BY seq LIMIT ?",
            (after, _REJECTED_LIKE, limit))


def rejected_items() -> Statement:
    return _ITEM + "WHERE last_error LIKE ? ORDER BY seq", (_REJECTED_LIKE,)


def counts() -> Statement:
    """One row: outbox rows waiting, rejected by the backend, and changes set aside."""
    return ("SELECT count(*) - count(CASE WHEN last_error LIKE ? THEN 1 END), "
            "count(CASE WHEN last_error LIKE ? THEN 1 END), (SELECT count(*) FROM set_aside) FROM outbox",
            (_REJECTED_LIKE, _REJECTED_LIKE))


def answered(mutation_id: str) -> Statement:
    """The backend answered the mutation: it leaves the outbox."""
    return "DELETE FROM outbox WHERE id = ?", (mutation_id,)


def attempt_failed(mutation_id: str, error: str) -> Statement:
    return "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", (error, mutation_id)


def attempts(mutation_id: str) -> Statement:
    return "SELECT attempts FROM outbox WHERE id = ?", (mutation_id,)


def pull_from(server: str) -> list[Statement]:
    """Pull from ``server`` from the start (another backend than the one pulled from before)."""
    return [("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('server', ?)", (server,)),
            ("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', '0')", ())]


def set_cursor(cursor: int) -> Statement:
    return "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', ?)", (str(cursor),)


def synced_at(at: datetime) -> Statement:
    return "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('last_sync', ?)", (at.isoformat(),)


def user_of(token_key: str) -> Statement:
    """The query for whom the backend said the token speaks for (``token_key``: its digest)."""
    return "SELECT value FROM sync_state WHERE key = ?", (_USER_KEY + token_key,)


def remember_user(token_key: str, name: str) -> Statement:
    return "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", (_USER_KEY + token_key, name)


def remembered_user(path: Path, token_key: str) -> str | None:
    """:func:`user_of` on the store file at ``path``; None when not said before (or no store there)."""
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute(*user_of(token_key)).fetchone()
    except sqlite3.Error:  # no sync_state yet (an old or empty file): nothing remembered
        return None
    return str(row[0]) if row is not None else None


def remember_user_now(path: Path, token_key: str, name: str) -> bool:
    """:func:`remember_user` on the store file at ``path``, in its own transaction; False when it cannot be kept."""
    if not path.exists():
        return False
    try:
        with closing(sqlite3.connect(path, timeout=5.0)) as db, db:
            db.execute(*remember_user(token_key, name))
    except sqlite3.Error:
        return False
    return True

