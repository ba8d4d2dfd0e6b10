"""The last step of a batch of mutations: number what it staged, log it, and store each mutation's result.

Every writer waits on the change counter's row from the moment one takes its seqs until it commits
(:mod:`agentdesk.server.changes`). In a busy backend process each statement a writer sends in that
time also waits for its turn on the event loop, behind the work of every other request, so the lock
is held for as many turns as there are statements. On PostgreSQL this step is therefore one
statement: the counter, the records' seqs, the change log, the mutations' results and the notice to
other backend processes, then the commit. On SQLite, where writers run one after another anyway, it
is the plain sequence of statements.

A result's text is the canonical JSON of the answer (sorted keys, so ``cursor`` comes first); its
cursor is known only inside the statement, so the statement puts it in front of the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ARRAY, BigInteger, Text, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.server.changes import NOTIFY_CHANNEL, Change, canonical, head, now_us, publish_staged, trim
from agentdesk.server.tables import mutation


@dataclass(frozen=True, slots=True)
class Answered:
    """A mutation of the batch, applied: what its stored result is made of."""

    id: str
    digest: str
    status: str
    answer: dict
    """Its result without the cursor."""
    through: int
    """How many of the batch's staged changes are its own or came before (its cursor is the seq of the last)."""


def result_text(cursor: int, answer: dict) -> str:
    """The canonical text of ``answer`` with its ``cursor``: exactly ``canonical({**answer, "cursor": cursor})``."""
    return _with_cursor(cursor, _after_cursor(answer))


def _with_cursor(cursor: int, after_cursor: str) -> str:
    return f'{{"cursor":{cursor},{after_cursor}'


def _after_cursor(answer: dict) -> str:
    assert min(answer) > "cursor", "the cursor must sort first"
    return canonical(answer)[1:]


_IN_ONE = text("""
WITH counter AS (
    UPDATE change_counter SET last = last + :count WHERE id = 1 RETURNING last - :count AS before, last, floor
), staged AS (
    SELECT * FROM unnest(:types, :ids, :bodies) WITH ORDINALITY AS s(type, id, body, place)
), renumbered AS (
    UPDATE record SET seq = counter.before + latest.place
    FROM counter, (SELECT type, id, max(place) AS place FROM staged GROUP BY type, id) AS latest
    WHERE record.type = latest.type AND record.id = latest.id
), logged AS (
    INSERT INTO change_log (seq, record_type, record_id, body, at_us)
    SELECT counter.before + staged.place, staged.type, staged.id, staged.body, :at_us FROM counter, staged
), applied AS (
    INSERT INTO mutation (id, user_name, body_hash, status, result, applied_at_us)
    SELECT m.id, :user_name, m.digest, m.status,
           '{"cursor":' || CAST(counter.before + m.through AS TEXT) || ',' || m.rest, :at_us
    FROM counter, unnest(:mutation_ids, :digests, :statuses, :rests, :throughs) AS m(id, digest, status, rest, through)
)
SELECT counter.before, counter.last, counter.floor,
       (SELECT pg_notify(:channel, CAST(counter.last AS TEXT)) WHERE :count > 0)
FROM counter
""").bindparams(*(bindparam(name, type_=ARRAY(Text)) for name in
                  ("types", "ids", "bodies", "mutation_ids", "digests", "statuses", "rests")),
                bindparam("throughs", type_=ARRAY(BigInteger)), bindparam("count", type_=BigInteger),
                bindparam("at_us", type_=BigInteger))


async def publish(connection: AsyncConnection, staged: Sequence[Change], answered: Sequence[Answered], *,
                  postgres: bool, keep: int | None, user_name: str) -> list[str]:
    """Number and log ``staged`` (in order), store each of ``answered`` with its result; returns the results'
    texts, in order. Mutations stage no customers, so no contact keys change here."""
    assert not any(change.type == "customer" for change in staged), "a mutation staged a customer"
    rests = [_after_cursor(a.answer) for a in answered]  # the canonical text of each, made once
    if postgres:
        row = (await connection.execute(_IN_ONE, {
            "count": len(staged), "types": [c.type for c in staged], "ids": [c.id for c in staged],
            "bodies": [c.body for c in staged], "at_us": now_us(), "user_name": user_name,
            "mutation_ids": [a.id for a in answered], "digests": [a.digest for a in answered],
            "statuses": [a.status for a in answered], "rests": rests,
            "throughs": [a.through for a in answered], "channel": NOTIFY_CHANNEL})).one()
        before, last, floor = int(row[0]), int(row[1]), int(row[2])
        await trim(connection, last, floor, keep)
        return [_with_cursor(before + a.through, rest) for a, rest in zip(answered, rests, strict=True)]
    numbered = await publish_staged(connection, staged, keep=keep)
    before = (numbered - len(staged)) if numbered is not None else (await head(connection))[0]
    texts = [_with_cursor(before + a.through, rest) for a, rest in zip(answered, rests, strict=True)]
    at_us = now_us()
    await connection.execute(mutation.insert(), [
        {"id": a.id, "user_name": user_name, "body_hash": a.digest, "status": a.status, "result": result,
         "applied_at_us": at_us} for a, result in zip(answered, texts, strict=True)])
    return texts
