"""Alembic upgrades of the backend's database (``migrations/server/``), SQLite or PostgreSQL.

Alembic is imported only when the database is behind: reading its scripts costs a starting
backend about a fifth of a second, every start.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from agentdesk.server.database import Database

HEAD_REVISION = "0007_presence"
"""The newest backend migration; a test keeps this equal to the head of ``migrations/server/``."""

_MIGRATION_LOCK = 0x61676E74  # any constant all backend processes agree on ("agnt")


def migrations_dir() -> Path:
    """``migrations/server`` beside the package in a checkout, or packed inside it in a wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_migrations" / "server", package.parent / "migrations" / "server"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("the backend's migrations folder is missing from this installation")


def _alembic_upgrade(connection, revision: str) -> None:  # noqa: ANN001 - a sync Connection
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(url: URL, revision: str = "head") -> None:
    """Bring the database to ``revision``; safe when several backends start at once."""
    database = Database.create(url)
    try:
        async with database.write() as connection:
            if database.postgres:
                # Two servers starting together: the second waits here, then finds nothing to do
                # (PostgreSQL's DDL is transactional, so it sees the first one's tables or none).
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            # On SQLite the writer's BEGIN IMMEDIATE already serialises the two.
            if revision == "head" and await _current_revision(connection) == HEAD_REVISION:
                return
            await connection.run_sync(_alembic_upgrade, revision)
    finally:
        await database.dispose()


async def _current_revision(connection) -> str | None:  # noqa: ANN001 - an AsyncConnection
    """The revision the database is at; None for a new one."""
    try:
        async with connection.begin_nested():  # a missing table must not end PostgreSQL's transaction
            return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except DBAPIError:
        return None
