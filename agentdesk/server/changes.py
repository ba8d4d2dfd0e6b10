"""The change log: every record the backend writes, numbered so that clients never miss one.

A client pulls "every change after seq N" and moves its cursor to the last seq it
got. That is only safe if, whenever a reader can see seq S, every seq below S is
already committed and visible too. A plain sequence (or autoincrement) does not give
that: numbers are handed out when a row is inserted, not when its transaction
commits. T1 takes 11, T2 takes 12 and commits first; a reader sees 12, moves its
cursor to 12, and when T1 commits a moment later, 11 lies behind the cursor and is
never pulled.

So seqs come from one counter row, as the last step of the writing transaction::

    UPDATE change_counter SET last = last + :n WHERE id = 1 RETURNING last

The row lock that UPDATE takes is held until commit, so the next writer gets its
seqs only after this one has committed (on PostgreSQL its UPDATE waits, then reads
the committed value; on SQLite writers are serialised by BEGIN IMMEDIATE anyway).
Seq order is therefore commit order, and a reader that saw S has every seq below S.
Only the tail of each transaction is serialised: its work (checks, reads, locks on
its own customer) runs in parallel with other writers.

Retention: with ``keep`` set, the log keeps the newest ``keep`` seqs and raises
``change_counter.floor`` over what it trimmed; a client whose cursor is below the
floor must fetch a snapshot instead (410 "refetch").

On PostgreSQL the transaction also issues ``NOTIFY agentdesk_changes, '<last>'``;
PostgreSQL delivers it at commit (and never for a rolled-back transaction), so every
backend process on the database learns the new head at once (see ``live``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.interchange.codec import Record, to_json_obj
from agentdesk.server.contact_keys import contact_keys
from agentdesk.server.tables import (
    DECISION_COLUMNS,
    change_counter,
    change_log,
    contact_key,
    decision_columns,
    record,
)

NOTIFY_CHANNEL = "agentdesk_changes"


def canonical(obj: Any) -> str:
    """The one text of a JSON value: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class Change:
    """One record to store, as its canonical interchange text (and the object that text was made from)."""

    type: str
    id: str
    customer_id: str | None
    body: str
    obj: dict[str, Any] = field(compare=False, repr=False)

    @classmethod
    def of(cls, stored: Record) -> Change:
        obj = to_json_obj(stored)
        return cls(obj["type"], obj["id"], customer_of(obj), canonical(obj), obj)


def customer_of(obj: Mapping[str, Any]) -> str | None:
    if obj["type"] == "customer":
        return obj["id"]
    return obj.get("customer")


def _upsert(dialect: Any) -> Any:
    # ``received_us`` is left out of the update: a record keeps when a mutation first stored it.
    insert = dialect.insert(record)
    return insert.on_conflict_do_update(index_elements=[record.c.type, record.c.id],
                                        set_={"customer_id": insert.excluded.customer_id,
                                              "body": insert.excluded.body, "seq": insert.excluded.seq,
                                              **{name: insert.excluded[name] for name in DECISION_COLUMNS}})


_UPSERT = {True: _upsert(postgresql), False: _upsert(sqlite)}
"""Built once: building an upsert costs more than some of the mutations it stores."""


async def write_changes(connection: AsyncConnection, changes: Sequence[Change], *, postgres: bool,
                        keep: int | None = None, received_us: int | None = None) -> int | None:
    """Store ``changes`` and log them with the next seqs; returns the last seq (None when there were none).

    ``received_us``: when a workstation's mutation brought them (None for uploads); a record
    already stored keeps the value it had.

    Call it as the last step of the transaction: from here to commit every other
    writer waits on the counter row.
    """
    if not changes:
        return None
    last_seq, floor = await _take_seqs(connection, len(changes))
    rows = _rows(changes, last_seq - len(changes) + 1, received_us)
    await connection.execute(_UPSERT[postgres], rows)
    await _keep_contact_keys(connection, [c for c in changes if c.type == "customer"])
    await _log(connection, rows, last_seq, floor, postgres=postgres, keep=keep)
    return last_seq


STAGED_SEQ = 0
"""The seq of a record stored by :func:`stage_changes` until :func:`publish_staged` numbers it. No reader
ever sees it: the rows are the writing transaction's own until it commits, numbered by then."""


async def stage_changes(connection: AsyncConnection, changes: Sequence[Change], *, postgres: bool,
                        received_us: int | None = None) -> None:
    """Store ``changes`` now, unnumbered, so the rest of the transaction reads them (a batch of mutations,
    each seeing the ones before it); :func:`publish_staged` numbers and logs them at its end."""
    if changes:
        await connection.execute(_UPSERT[postgres], _rows(changes, STAGED_SEQ, received_us, step=0))


async def publish_staged(connection: AsyncConnection, staged: Sequence[Change], *,
                         keep: int | None = None) -> int | None:
    """SQLite: number the records :func:`stage_changes` stored, in the order staged, and log them; returns the
    last seq (None when nothing was staged). Like :func:`write_changes`, the last step of the transaction.
    (On PostgreSQL a batch of mutations does this in one statement: :mod:`agentdesk.server.publish`.)
    Mutations stage no customers, so no contact keys change here."""
    if not staged:
        return None
    last_seq, floor = await _take_seqs(connection, len(staged))
    first_seq = last_seq - len(staged) + 1
    # A record staged twice (an escalation a later mutation of the batch approved) takes its last seq.
    numbered = {(change.type, change.id): first_seq + i for i, change in enumerate(staged)}
    await connection.execute(_RENUMBER, [{"the_type": key[0], "the_id": key[1], "the_seq": seq}
                                         for key, seq in numbered.items()])
    await _log(connection, _rows(staged, first_seq, None), last_seq, floor, postgres=False, keep=keep)
    return last_seq


_RENUMBER = (update(record).where(record.c.type == bindparam("the_type"), record.c.id == bindparam("the_id"))
             .values(seq=bindparam("the_seq")))


async def _take_seqs(connection: AsyncConnection, count: int) -> tuple[int, int]:
    """``(last, floor)`` after taking ``count`` seqs; the counter row stays locked until commit."""
    last = (await connection.execute(
        update(change_counter).where(change_counter.c.id == 1)
        .values(last=change_counter.c.last + count).returning(change_counter.c.last, change_counter.c.floor)
    )).one()
    return int(last[0]), int(last[1])


def _rows(changes: Sequence[Change], first_seq: int, received_us: int | None, *, step: int = 1) -> list[dict]:
    return [{"type": c.type, "id": c.id, "customer_id": c.customer_id, "body": c.body, "seq": first_seq + i * step,
             "received_us": received_us, **decision_columns(c.obj)} for i, c in enumerate(changes)]


async def _log(connection: AsyncConnection, rows: Sequence[dict], last_seq: int, floor: int, *, postgres: bool,
               keep: int | None) -> None:
    """The change log's rows for ``rows``, the trim, and the notice to every backend process."""
    at_us = now_us()
    await connection.execute(change_log.insert(), [
        {"seq": row["seq"], "record_type": row["type"], "record_id": row["id"], "body": row["body"], "at_us": at_us}
        for row in rows])
    await trim(connection, last_seq, floor, keep)
    if postgres:
        await connection.execute(text("SELECT pg_notify(:channel, :payload)"),
                                 {"channel": NOTIFY_CHANNEL, "payload": str(last_seq)})


async def trim(connection: AsyncConnection, last_seq: int, floor: int, keep: int | None) -> None:
    """With ``keep`` set, drop the changes below the newest ``keep`` and raise the floor over them."""
    if keep is not None and last_seq - keep > floor:
        new_floor = last_seq - keep
        await connection.execute(delete(change_log).where(change_log.c.seq <= new_floor))
        await connection.execute(update(change_counter).where(change_counter.c.id == 1).values(floor=new_floor))


async def _keep_contact_keys(connection: AsyncConnection, customers: Sequence[Change]) -> None:
    """The customers' ``contact_key`` rows as their new bodies say (inbound messages find them by these)."""
    if not customers:
        return
    await connection.execute(delete(contact_key).where(contact_key.c.customer_id.in_([c.id for c in customers])))
    keys = [{"kind": kind, "key": key, "customer_id": c.id} for c in customers for kind, key in contact_keys(c.obj)]
    if keys:
        await connection.execute(contact_key.insert(), keys)


async def head(connection: AsyncConnection) -> tuple[int, int]:
    """``(last, floor)`` of the change counter."""
    row = (await connection.execute(select(change_counter.c.last, change_counter.c.floor)
                                    .where(change_counter.c.id == 1))).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True, slots=True)
class Page:
    changes: list[tuple[int, str]]
    """``(seq, body text)`` in seq order."""
    cursor: int
    head: int
    floor: int


class CursorTooOld(Exception):
    def __init__(self, cursor: int, floor: int, head: int) -> None:
        super().__init__(cursor, floor, head)
        self.cursor, self.floor, self.head = cursor, floor, head

    def __str__(self) -> str:
        if self.cursor > self.head:
            return (f"cursor {self.cursor} is ahead of this backend's newest change ({self.head}); "
                    "its database was replaced; refetch")
        return f"cursor {self.cursor} is older than the change log keeps (oldest: {self.floor}); refetch"


async def page_after(connection: AsyncConnection, after: int, limit: int) -> Page:
    """Changes after ``after``, at most ``limit``; :class:`CursorTooOld` when some were trimmed."""
    rows = (await connection.execute(
        select(change_log.c.seq, change_log.c.body).where(change_log.c.seq > after)
        .order_by(change_log.c.seq).limit(limit))).all()
    # Read the counter after the rows: trimming only raises the floor, so a floor still at
    # or below ``after`` now was so when the rows were read; nothing after it was missing.
    last, floor = await head(connection)
    if after < floor or after > last:
        raise CursorTooOld(after, floor, last)
    changes = [(int(seq), body) for seq, body in rows]
    return Page(changes, changes[-1][0] if changes else after, last, floor)
