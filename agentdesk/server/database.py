"""Which database the backend runs on, and the engines it talks to it through.

A plain path or ``sqlite:///path`` is a SQLite file (the default: one backend on one
machine); ``postgresql://…`` is PostgreSQL (many backend processes on one database).

SQLite serialises writers itself, but only if a writing transaction says so at its
start: a deferred ``BEGIN`` that reads first and writes later can find, at its first
write, that another process committed in between and fail with SQLITE_BUSY instead of
waiting. So the backend keeps two engines on the file: ``writer`` begins every
transaction with ``BEGIN IMMEDIATE`` (takes the write lock up front, waiting up to
``busy_timeout`` for it), ``reader`` with a plain ``BEGIN`` (WAL lets reads run beside
a writer, each in its own consistent snapshot). On PostgreSQL both are one engine;
writers lock what they depend on row by row (``SELECT … FOR UPDATE``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import ARRAY, BigInteger, bindparam, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from tenacity import AsyncRetrying

from agentdesk.retry import transaction_attempts

BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another process's write lock before it gives up."""

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    # A confirmed decision is on disk before the workstation is told it was confirmed.
    "PRAGMA synchronous = FULL",
)

_POSTGRES_NAMES = ("postgresql", "postgres", "postgresql+asyncpg")
_SQLITE_NAMES = ("sqlite", "sqlite+aiosqlite")


RETRY_SQLSTATES = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization failure and deadlock: the transaction was undone whole; run it again."""


def worth_retrying(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES


# OFFSET 0 keeps the ordered list a subquery of its own, so the locks are taken in its order.
_ADVISORY_LOCKS = text(
    "SELECT pg_advisory_xact_lock(key) FROM (SELECT key FROM unnest(CAST(:keys AS BIGINT[])) WITH ORDINALITY AS "
    "named(key, place) ORDER BY place OFFSET 0) AS ordered"
).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))


async def lock_names(connection: AsyncConnection, names: Iterable[str]) -> None:
    """PostgreSQL: hold a lock on each of ``names`` until this transaction ends (``pg_advisory_xact_lock`` of a
    signed 64-bit digest of each; a collision only makes two writers wait in turn), taken in sorted order in
    one statement, so writers that share names never wait on each other in a circle."""
    keys = [int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)
            for name in sorted(set(names))]
    if keys:
        await connection.execute(_ADVISORY_LOCKS, {"keys": keys})


def transaction_retries() -> AsyncRetrying:
    """``async for attempt in transaction_retries(): with attempt: …`` runs a transaction again when
    PostgreSQL undid it whole, up to :data:`~agentdesk.retry.TRANSACTION_ATTEMPTS` times."""
    return transaction_attempts(worth_retrying)


class DatabaseUrlError(ValueError):
    """A ``--database`` value the backend cannot use; the message is one line."""


def database_url(value: str | Path) -> URL:
    """The async SQLAlchemy URL for a path, ``sqlite:///path`` or ``postgresql://…``."""
    text = str(value).strip()
    if not text:
        raise DatabaseUrlError("the database is empty (give a file path or a postgresql:// URL)")
    if "://" not in text:
        return URL.create("sqlite+aiosqlite", database=str(Path(text).expanduser()))
    try:
        url = make_url(text)
    except ArgumentError:
        raise DatabaseUrlError("the database URL cannot be read (expected sqlite:///PATH or "
                               "postgresql://USER@HOST:PORT/NAME)") from None
    if url.drivername in _POSTGRES_NAMES:
        return url.set(drivername="postgresql+asyncpg")
    if url.drivername in _SQLITE_NAMES:
        if not url.database or url.database == ":memory:":
            # Each connection of an in-memory database is a database of its own.
            raise DatabaseUrlError("a SQLite backend needs a file (sqlite:///PATH), not memory")
        return url.set(drivername="sqlite+aiosqlite")
    raise DatabaseUrlError(f"unsupported database {url.drivername!r} (use a file path, sqlite:///PATH "
                           "or postgresql://…)")


def is_postgres(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def describe(url: URL) -> str:
    """The database for a log line: the file, or the server and database name without password or options."""
    if not is_postgres(url):
        return f"sqlite {url.database}"
    shown = url.set(drivername="postgresql", password=None, query={})
    return shown.render_as_string(hide_password=True)


def asyncpg_dsn(url: URL) -> str:
    """The URL as asyncpg's own ``connect()`` takes it (for the LISTEN connection)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _prepare_sqlite_file(path: str) -> None:
    """Create the file owner-only: it holds every customer's data and the token hashes."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not file.exists():
        os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_engine(url: URL, begin: str) -> AsyncEngine:
    engine = create_async_engine(url, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001 - SQLAlchemy's callback signature
        # The driver must not begin transactions on its own: we say BEGIN IMMEDIATE or BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        connection.exec_driver_sql(begin)

    return engine


@dataclass
class Database:
    """The backend's engines on one database. Use :meth:`open` as an async context manager."""

    url: URL
    writer: AsyncEngine
    reader: AsyncEngine
    group_commits: dict[object, object] = field(default_factory=dict, repr=False, compare=False)
    """Writers that batch concurrent requests into one transaction (see ``group_commit``), by their owner's key."""

    @property
    def postgres(self) -> bool:
        return is_postgres(self.url)

    @classmethod
    def create(cls, url: URL) -> Database:
        if is_postgres(url):
            engine = create_async_engine(url, hide_parameters=True, pool_size=10, max_overflow=20,
                                         pool_pre_ping=True)
            return cls(url, engine, engine)
        assert url.database is not None
        _prepare_sqlite_file(url.database)
        return cls(url, _sqlite_engine(url, "BEGIN IMMEDIATE"), _sqlite_engine(url, "BEGIN"))

    @classmethod
    @asynccontextmanager
    async def open(cls, url: URL) -> AsyncIterator[Database]:
        database = cls.create(url)
        try:
            yield database
        finally:
            await database.dispose()

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()

    def write(self):  # noqa: ANN201 - an async context manager of AsyncConnection
        """A writing transaction (BEGIN IMMEDIATE on SQLite), committed when the block ends."""
        return self.writer.begin()

    @asynccontextmanager
    async def read(self, *, snapshot: bool = False) -> AsyncIterator[AsyncConnection]:
        """A reading transaction; ``snapshot``: every statement sees the same moment (PG REPEATABLE READ).

        On SQLite every read transaction already is one snapshot (WAL).
        """
        async with self.reader.connect() as connection:
            if snapshot and self.postgres:
                await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                yield connection
