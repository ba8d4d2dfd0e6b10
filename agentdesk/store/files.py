"""Opening a store file cheaply: create it private, switch on WAL, migrate only when needed.

Uses the standard library alone, so the workstation can open its store before
SQLAlchemy or Alembic are imported (they cost more than half a second).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

HEAD_REVISION = "0009_knowledge_articles"
"""The newest migration; a test keeps this equal to the head of ``migrations/``."""

CONNECTION_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
)
"""Set on every connection. WAL + NORMAL survives a process crash; issue-3 decisions ask for FULL per write."""


class StoreError(Exception):
    """The store cannot be opened or used; the message is one line for the user."""


def create_private_file(path: Path) -> None:
    """Create an empty store file readable by its owner only (the journal files inherit the mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def current_revision(path: Path) -> str | None:
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode = WAL")
        try:
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None
    finally:
        con.close()


def prepare_store(path: Path | str) -> Path:
    """Make ``path`` a store at the newest schema; cheap when it already is one."""
    path = Path(path)
    create_private_file(path)
    try:
        revision = current_revision(path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not an agentdesk store: {exc}") from exc
    if revision != HEAD_REVISION:
        from agentdesk.store.migrate import upgrade

        upgrade(path)
    return path
