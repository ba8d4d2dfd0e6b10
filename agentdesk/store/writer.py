"""Bulk writes into the store: idempotent upserts of domain records, and the waiting list.

Used by import and the demo builder (never on the workstation's start-up path,
so SQLAlchemy is fine here). One :class:`StoreWriter` holds one connection of a
SQLAlchemy ``AsyncEngine`` over ``sqlite+aiosqlite``.

Every upsert is ``INSERT … ON CONFLICT(id) DO UPDATE SET … WHERE (cols) IS NOT
(excluded.cols)``: a row whose content is already in the store is not touched
at all (no write, same rowid), so importing the same data twice changes nothing.
The audit log is append-only: its rows are ``INSERT … ON CONFLICT(id) DO NOTHING``.
Writing decisions also gives each its line on the customer's timeline (derived
rows, see :meth:`StoreWriter.write_rows`).

The SQL is generated from the SQLModel table metadata in
:mod:`agentdesk.store.tables`; the values are bound at the driver level, many
rows to one multi-row ``INSERT`` (as many as SQLite's 32766 bound variables
allow, about 2,200 timeline rows): binding takes the GIL once per statement, and
the statement then runs inside SQLite with the GIL released, so the caller can
parse the next batch meanwhile. (A driver-level ``executemany`` would take the
GIL back after every row, which stalls a parser running beside it.)

The rows come from the one domain-to-row mapping, :mod:`agentdesk.store.rows`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Table, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlmodel import SQLModel

from agentdesk.domain.decision_text import ENTRY_ID_PREFIX, UNDONE, entry_id, timeline_entry
from agentdesk.domain.model import (
    Agent,
    AuditEntry,
    Case,
    Customer,
    Decision,
    EntryKind,
    Promise,
    Record,
    TimelineEntry,
)
from agentdesk.store.convert import (
    agent_from_row,
    article_from_row,
    audit_from_row,
    case_from_row,
    customer_from_row,
    decision_from_row,
    entry_from_row,
    promise_from_row,
)
from agentdesk.store.files import CONNECTION_PRAGMAS, prepare_store
from agentdesk.store.rows import COLUMNS as MAPPED_COLUMNS
from agentdesk.store.rows import TABLE_OF
from agentdesk.store.rows import row as record_row
from agentdesk.store.tables import (
    AgentRow,
    ArticleRow,
    AuditRow,
    CaseRow,
    CustomerRow,
    DecisionRow,
    PromiseRow,
    TimelineEntryRow,
    WaitingRow,
)

__all__ = [
    "AGENT",
    "ARTICLE",
    "AUDIT",
    "CASE",
    "COLUMNS",
    "CUSTOMER",
    "DECISION",
    "PROMISE",
    "REFERENCES",
    "TABLE_ORDER",
    "TIMELINE",
    "Record",
    "StoreWriter",
    "open_writer",
    "record_row",
    "record_table",
    "row_record",
    "upsert_sql",
]

AGENT = AgentRow.__tablename__
CUSTOMER = CustomerRow.__tablename__
CASE = CaseRow.__tablename__
TIMELINE = TimelineEntryRow.__tablename__
DECISION = DecisionRow.__tablename__
PROMISE = PromiseRow.__tablename__
WAITING = WaitingRow.__tablename__
AUDIT = AuditRow.__tablename__
ARTICLE = ArticleRow.__tablename__

def _table(model: type[SQLModel]) -> Table:
    """The model's table (read from its metadata: SQLModel does not declare ``__table__`` to a type checker)."""
    return model.metadata.tables[str(model.__tablename__)]


_MODELS = (AgentRow, CustomerRow, CaseRow, TimelineEntryRow, DecisionRow, PromiseRow, AuditRow, ArticleRow)
TABLE_ORDER: tuple[str, ...] = tuple(model.__tablename__ for model in _MODELS)
"""Tables of records in foreign-key order: a row refers to rows of earlier tables, or (a decision
approving an escalation) of its own. The one exception, a timeline line showing a decision, is
derived from the decision and written after it (see :meth:`StoreWriter.write_rows`)."""

APPEND_ONLY = frozenset({AUDIT})
"""Tables whose rows are written once and never changed: a second write of an id is ignored."""

COLUMNS: dict[str, tuple[str, ...]] = {
    model.__tablename__: tuple(column.name for column in _table(model).columns) for model in _MODELS
}
"""Column names per table, in the metadata's order; rows are tuples in this order."""


def _references(model: type[SQLModel]) -> tuple[tuple[int, str, str], ...]:
    found = []
    for index, column in enumerate(_table(model).columns):
        for key in column.foreign_keys:
            found.append((index, key.column.table.name, column.name.removesuffix("_id")))
    return tuple(found)


REFERENCES: dict[str, tuple[tuple[int, str, str], ...]] = {
    model.__tablename__: _references(model) for model in _MODELS
}
"""Per table, its foreign keys as ``(column position, table referred to, name)``,
e.g. ``(1, "customer", "customer")``."""

_PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    model.__tablename__: tuple(column.name for column in _table(model).primary_key.columns)
    for model in (*_MODELS, WaitingRow)
}

# SQLite has allowed 32766 bound variables per statement since 3.32 (999 before).
MAX_VARIABLES = 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upsert_tail(table: str, columns: Sequence[str]) -> str:
    """``ON CONFLICT(pk) DO UPDATE SET … WHERE (cols) IS NOT (excluded.cols)``."""
    keys = _PRIMARY_KEYS[table]
    rest = [c for c in columns if c not in keys]
    if not rest or table in APPEND_ONLY:
        return f" ON CONFLICT({', '.join(map(_quote, keys))}) DO NOTHING"
    mine = ", ".join(_quote(c) for c in rest)
    theirs = ", ".join("excluded." + _quote(c) for c in rest)
    assignments = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in rest)
    return (
        f" ON CONFLICT({', '.join(map(_quote, keys))}) DO UPDATE SET {assignments}"
        f" WHERE ({mine}) IS NOT ({theirs})"
    )


def upsert_sql(table: str, rows: int = 1) -> str:
    """The upsert of ``rows`` rows (one ``VALUES`` group each) into ``table``."""
    columns = COLUMNS[table]
    group = "(" + ", ".join("?" * len(columns)) + ")"
    return (
        f"INSERT INTO {_quote(table)} ({', '.join(map(_quote, columns))}) VALUES "
        + ", ".join([group] * rows)
        + upsert_tail(table, columns)
    )


# ---------------------------------------------------------------------------
# domain record -> row: agentdesk.store.rows, whose columns must be the tables' own

if MAPPED_COLUMNS != COLUMNS:
    raise RuntimeError(
        "store.rows maps other columns than the tables have: "
        + "; ".join(f"{table}: {MAPPED_COLUMNS.get(table)} vs {COLUMNS[table]}"
                    for table in COLUMNS if MAPPED_COLUMNS.get(table) != COLUMNS[table])
    )


def record_table(record: Record) -> str:
    """The table a domain record lives in."""
    return TABLE_OF[type(record)]


# ---------------------------------------------------------------------------
# row -> domain record

_FROM_ROW: dict[str, Callable[[Mapping[str, Any]], Record]] = {
    AGENT: agent_from_row, CUSTOMER: customer_from_row, CASE: case_from_row,
    TIMELINE: entry_from_row, DECISION: decision_from_row, PROMISE: promise_from_row, AUDIT: audit_from_row,
    ARTICLE: article_from_row,
}


def row_record(table: str, row: Sequence[Any]) -> Record:
    """The domain record for a row of ``table`` (a tuple in :data:`COLUMNS` order)."""
    return _FROM_ROW[table](dict(zip(COLUMNS[table], row, strict=True)))


# ---------------------------------------------------------------------------
# Reading, in dump order

DUMP_ORDER_BY: dict[str, str] = {
    AGENT: "id",
    CUSTOMER: "id",
    CASE: "id",
    TIMELINE: "customer_id, at_us, id",
    DECISION: "id",
    PROMISE: "id",
    AUDIT: "id",
    ARTICLE: "id",
}

DUMP_WHERE: dict[str, str] = {TIMELINE: f"kind <> '{EntryKind.DECISION.value}'"}
"""Rows a dump leaves out: a decision's timeline line is derived from the decision record."""


def select_sql(table: str) -> str:
    where = f" WHERE {DUMP_WHERE[table]}" if table in DUMP_WHERE else ""
    return (
        f"SELECT {', '.join(map(_quote, COLUMNS[table]))} FROM {_quote(table)}{where}"
        f" ORDER BY {DUMP_ORDER_BY[table]}"
    )


# ---------------------------------------------------------------------------
# Decisions on the timeline: each has a line, the same one the ledger writes when it is taken

_DECISION_STATE = COLUMNS[DECISION].index("state")
_DECISION_ID = COLUMNS[DECISION].index("id")

_DECISIONS_WITHOUT_A_LINE = f"""
SELECT {', '.join('d.' + _quote(column) for column in COLUMNS[DECISION])}, c.timezone
FROM json_each(?) AS j
JOIN main.{DECISION} AS d ON d.id = j.value
JOIN main.{CUSTOMER} AS c ON c.id = d.customer_id
WHERE NOT EXISTS (SELECT 1 FROM main.{TIMELINE} AS t WHERE t.id = '{ENTRY_ID_PREFIX}' || d.id)
"""

_INSERT_LINE = (
    f"INSERT INTO main.{TIMELINE} ({', '.join(map(_quote, COLUMNS[TIMELINE]))})"
    f" VALUES ({', '.join('?' * len(COLUMNS[TIMELINE]))}) ON CONFLICT(id) DO NOTHING"
)

_DELETE_LINES = f"DELETE FROM main.{TIMELINE} WHERE id IN (SELECT value FROM json_each(?))"


def _decision_line(row: Sequence[Any]) -> tuple[Any, ...]:
    """The timeline row for a decision row followed by its customer's time zone."""
    decision = decision_from_row(dict(zip(COLUMNS[DECISION], row[:-1], strict=True)))
    return record_row(timeline_entry(decision, row[-1]))[1]


# ---------------------------------------------------------------------------
# The waiting list (same rule as migration 0002's BACKFILL_WAITING, for some customers)

_WAITING_COLUMNS = tuple(column.name for column in _table(WaitingRow).columns)

# Inside a trigger, SQLite replaces a statement's own conflict clause with that of the statement
# that fired it, and an upsert's DO UPDATE fires with ABORT: ``INSERT OR IGNORE`` would fail on the
# second entry of one customer moving in the same upsert. So the triggers insert only what is absent.
_TOUCH_OLD_CUSTOMER = ("INSERT INTO agentdesk_touched (customer_id) SELECT old.customer_id WHERE NOT EXISTS"
                       " (SELECT 1 FROM agentdesk_touched WHERE customer_id = old.customer_id)")

_TOUCHED_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS agentdesk_touched (customer_id TEXT PRIMARY KEY) WITHOUT ROWID",
    # An entry that moves to another customer leaves its old customer to recompute.
    f"""CREATE TEMP TRIGGER IF NOT EXISTS agentdesk_entry_moved
        AFTER UPDATE OF customer_id ON main.{TIMELINE}
        WHEN old.customer_id IS NOT new.customer_id
        BEGIN {_TOUCH_OLD_CUSTOMER}; END""",
    f"""CREATE TEMP TRIGGER IF NOT EXISTS agentdesk_entry_deleted
        AFTER DELETE ON main.{TIMELINE}
        BEGIN {_TOUCH_OLD_CUSTOMER}; END""",
)

# For each customer: the newest answer (walking their timeline index backwards to
# the first outbound interaction), then the inbound interactions after it (an
# index range). Same result as BACKFILL_WAITING, without scanning whole timelines.
_WAITING_COMPUTED = f"""
WITH answered AS MATERIALIZED (
    SELECT t.customer_id,
           coalesce((SELECT o.at_us FROM main.{TIMELINE} AS o
                     WHERE o.customer_id = t.customer_id AND o.kind = 'interaction' AND o.direction = 'out'
                     ORDER BY o.at_us DESC LIMIT 1), -9223372036854775808) AS answered_us
    FROM agentdesk_touched AS t
)
SELECT e.customer_id, min(e.at_us), group_concat(DISTINCT e.channel), count(*)
FROM answered AS a
CROSS JOIN main.{TIMELINE} AS e ON e.customer_id = a.customer_id AND e.at_us > a.answered_us
WHERE e.kind = 'interaction' AND e.direction = 'in'
GROUP BY e.customer_id
"""

_WAITING_STEPS = (
    "CREATE TEMP TABLE IF NOT EXISTS agentdesk_waiting"
    " (customer_id TEXT PRIMARY KEY, since_us INTEGER, channels TEXT, unanswered INTEGER)",
    "DELETE FROM agentdesk_waiting",
    f"INSERT INTO agentdesk_waiting ({', '.join(_WAITING_COLUMNS)}) {_WAITING_COMPUTED}",
    f"""DELETE FROM main.{WAITING}
        WHERE customer_id IN (SELECT customer_id FROM agentdesk_touched)
          AND customer_id NOT IN (SELECT customer_id FROM agentdesk_waiting)""",
    f"INSERT INTO main.{WAITING} ({', '.join(_WAITING_COLUMNS)})"
    f" SELECT {', '.join(_WAITING_COLUMNS)} FROM agentdesk_waiting WHERE true"
    + upsert_tail(WAITING, _WAITING_COLUMNS),
    "DELETE FROM agentdesk_waiting",
    "DELETE FROM agentdesk_touched",
)


# ---------------------------------------------------------------------------
# The writer


WRITER_PRAGMAS = ("PRAGMA cache_size = -65536",)
"""On top of ``CONNECTION_PRAGMAS``: a 64 MiB page cache, so bulk index updates stay in memory."""


def _apply_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in (*CONNECTION_PRAGMAS, *WRITER_PRAGMAS):
            cursor.execute(pragma)
    finally:
        cursor.close()


# Timeline rows are written grouped by customer, the first column of the timeline
# index: each batch then touches each index page about once instead of at random
# (about a fifth faster on a large store). Other tables are small or have no such order.
_ID_POSITION = {table: columns.index("id") for table, columns in COLUMNS.items()}
_LOCALITY = {TIMELINE: itemgetter(COLUMNS[TIMELINE].index("customer_id"))}


def _in_index_order(table: str, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    key = _LOCALITY.get(table)
    if key is None or len(rows) < 2:
        return rows
    ident = _ID_POSITION[table]
    latest = {row[ident]: row for row in rows}  # the same id twice in a batch: the later one wins, as in input order
    return sorted(latest.values(), key=key)


class StoreWriter:
    """Idempotent bulk writes into one store file; use as ``async with await open_writer(path) as w``.

    Each ``upsert*``/``write_rows`` call is one transaction and returns how many
    rows it inserted or changed (rows already holding the same values are not
    counted, and not written).
    """

    def __init__(self, engine: AsyncEngine, path: Path, *, rows_per_statement: int | None = None) -> None:
        self.engine = engine
        self.path = path
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._statement_rows = {
            table: max(1, min(rows_per_statement or MAX_VARIABLES, MAX_VARIABLES // len(cols)))
            for table, cols in COLUMNS.items()
        }
        self._sql: dict[tuple[str, int], str] = {}

    # -- connection -------------------------------------------------------------

    async def connection(self) -> AsyncConnection:
        """The writer's one connection (opened on first use)."""
        if self._conn is None:
            conn = await self.engine.connect()
            try:
                for statement in _TOUCHED_DDL:
                    await conn.exec_driver_sql(statement)
                await conn.commit()
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
        return self._conn

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()
        await self.engine.dispose()

    async def __aenter__(self) -> StoreWriter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- upserts ----------------------------------------------------------------

    def _statement(self, table: str, rows: int) -> str:
        key = (table, rows)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = upsert_sql(table, rows)
        return sql

    async def _upsert(self, conn: AsyncConnection, table: str, rows: Sequence[Sequence[Any]]) -> int:
        rows = _in_index_order(table, rows)
        per_statement = self._statement_rows[table]
        changed = 0
        if per_statement == 1:
            result = await conn.exec_driver_sql(self._statement(table, 1), list(map(tuple, rows)))
            return max(result.rowcount, 0)
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = tuple(chain.from_iterable(chunk))
            result = await conn.exec_driver_sql(self._statement(table, len(chunk)), params)
            changed += max(result.rowcount, 0)
        return changed

    async def write_rows(self, rows_by_table: Mapping[str, Sequence[Sequence[Any]]]) -> dict[str, int]:
        """Upsert rows of several tables in one transaction, in foreign-key order.

        Rows are tuples in :data:`COLUMNS` order (see :func:`record_row`). Decisions get
        their timeline lines in the same transaction (not counted: they are derived).
        Returns the number of rows inserted or changed per table. On any error
        the whole transaction is rolled back and the error raised.
        """
        return await self.apply(rows_by_table)

    async def apply(self, rows_by_table: Mapping[str, Sequence[Sequence[Any]]], *,
                    waiting_for: Iterable[str] = (),
                    statements: Sequence[tuple[str, Sequence[Any]]] = ()) -> dict[str, int]:
        """:meth:`write_rows`, plus ``waiting`` brought up to date for ``waiting_for`` and ``statements``
        run after the rows, all in one transaction: a page from the backend and the cursor
        that follows it are stored together or not at all.
        """
        unknown = set(rows_by_table) - set(TABLE_ORDER)
        if unknown:
            raise ValueError(f"not a table of records: {', '.join(sorted(unknown))}")
        async with self._lock:
            conn = await self.connection()
            counts: dict[str, int] = {}
            try:
                for table in TABLE_ORDER:
                    rows = rows_by_table.get(table)
                    if rows:
                        counts[table] = await self._upsert(conn, table, rows)
                if rows_by_table.get(DECISION):
                    await self._line_up_decisions(conn, rows_by_table[DECISION])
                customers = json.dumps(list(dict.fromkeys(waiting_for)))
                if customers != "[]":
                    await self._recompute_waiting(conn, customers)
                for sql, params in statements:
                    await conn.exec_driver_sql(sql, tuple(params))
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
            return counts

    async def _line_up_decisions(self, conn: AsyncConnection, rows: Sequence[Sequence[Any]]) -> None:
        """Give each decision its timeline line when it has none yet; an undone decision loses its line.

        The lines are derived, so they are not counted: re-importing the same decisions
        writes nothing, and a decision whose line exists keeps the words it was taken with.
        """
        undone = [row[_DECISION_ID] for row in rows if row[_DECISION_STATE] == UNDONE]
        shown = [row[_DECISION_ID] for row in rows if row[_DECISION_STATE] != UNDONE]
        if undone:
            await conn.exec_driver_sql(_DELETE_LINES, (json.dumps([entry_id(ident) for ident in undone]),))
        if shown:
            result = await conn.exec_driver_sql(_DECISIONS_WITHOUT_A_LINE, (json.dumps(shown),))
            lines = [_decision_line(row) for row in result.fetchall()]
            if lines:
                await conn.exec_driver_sql(_INSERT_LINE, lines)

    async def upsert(self, records: Iterable[Record]) -> int:
        """Upsert domain records of any kinds in one transaction; returns rows inserted or changed."""
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for record in records:
            table, row = record_row(record)
            grouped.setdefault(table, []).append(row)
        counts = await self.write_rows(grouped)
        return sum(counts.values())

    async def upsert_agents(self, records: Iterable[Agent]) -> int:
        return await self.upsert(records)

    async def upsert_customers(self, records: Iterable[Customer]) -> int:
        return await self.upsert(records)

    async def upsert_cases(self, records: Iterable[Case]) -> int:
        return await self.upsert(records)

    async def upsert_timeline(self, records: Iterable[TimelineEntry]) -> int:
        """Interactions and events; call :meth:`recompute_waiting` for their customers afterwards."""
        return await self.upsert(records)

    async def upsert_decisions(self, records: Iterable[Decision]) -> int:
        return await self.upsert(records)

    async def upsert_promises(self, records: Iterable[Promise]) -> int:
        return await self.upsert(records)

    async def append_audit(self, records: Iterable[AuditEntry]) -> int:
        """Audit records whose ids are new; an id already stored is left as it is (append-only)."""
        return await self.upsert(records)

    # -- look-ups ---------------------------------------------------------------

    async def known_ids(self, table: str, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are already rows of ``table``."""
        if table not in COLUMNS:
            raise ValueError(f"not a table of records: {table}")
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return set()
        rows = await self.fetch(
            f"SELECT id FROM {_quote(table)} WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(wanted),)
        )
        return {row[0] for row in rows}

    # -- waiting ----------------------------------------------------------------

    async def recompute_waiting(self, customer_ids: Iterable[str]) -> None:
        """Bring ``waiting`` up to date for these customers (and any whose entries moved away).

        A customer waits when they have inbound interactions newer than their
        last outbound one: ``since_us`` is the oldest of those, ``channels``
        their distinct channels (comma-joined, in order of first arrival),
        ``unanswered`` their count. Rows whose values are already right are
        not written.
        """
        ids = json.dumps(list(dict.fromkeys(customer_ids)))
        async with self._lock:
            conn = await self.connection()
            try:
                await self._recompute_waiting(conn, ids)
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise

    async def _recompute_waiting(self, conn: AsyncConnection, customer_ids_json: str) -> None:
        await conn.exec_driver_sql(
            "INSERT OR IGNORE INTO agentdesk_touched (customer_id)"
            f" SELECT value FROM json_each(?) WHERE value IN (SELECT id FROM main.{CUSTOMER})",
            (customer_ids_json,),
        )
        for statement in _WAITING_STEPS:
            await conn.exec_driver_sql(statement)

    # -- reading ----------------------------------------------------------------

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query, read on the writer's connection (so after its own writes)."""
        async with self._lock:
            conn = await self.connection()
            try:
                result = await conn.exec_driver_sql(sql, tuple(params))
                rows = [tuple(row) for row in result.fetchall()]
            except BaseException:
                # A cancellation mid-query invalidates the connection; only a rollback revives it.
                await conn.rollback()
                raise
            await conn.commit()
            return rows

    async def stream_rows(
        self, tables: Sequence[str] = TABLE_ORDER, *, chunk: int = 2000
    ) -> AsyncIterator[tuple[str, list[tuple[Any, ...]]]]:
        """``(table, rows)`` chunks of the given tables in dump order, from one consistent snapshot.

        Agents, customers, cases, decisions and promises by id; timeline
        entries by customer, time and id. Memory stays at one chunk.
        """
        async with self._lock:
            conn = await self.connection()
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection  # the aiosqlite connection: no per-row wrapping
            assert driver is not None  # a pooled connection that is open
            await conn.commit()
            await driver.execute("BEGIN")
            try:
                for table in tables:
                    cursor = await driver.execute(select_sql(table))
                    try:
                        while True:
                            rows = await cursor.fetchmany(chunk)
                            if not rows:
                                break
                            yield table, rows
                    finally:
                        await cursor.close()
            finally:
                await driver.rollback()


async def open_writer(
    path: Path | str, *, rows_per_statement: int | None = None, echo: bool = False
) -> StoreWriter:
    """Make ``path`` a store at the newest schema (see ``prepare_store``) and return a writer on it.

    ``rows_per_statement`` caps how many rows one ``INSERT`` carries (default:
    as many as SQLite's bound-variable limit allows); 1 means a driver-level
    ``executemany`` of one-row statements instead, which holds the GIL once per row.
    """
    path = await asyncio.to_thread(prepare_store, path)
    engine = create_async_engine(URL.create("sqlite+aiosqlite", database=str(path)), echo=echo)
    event.listen(engine.sync_engine, "connect", _apply_pragmas)
    return StoreWriter(engine, path, rows_per_statement=rows_per_statement)
