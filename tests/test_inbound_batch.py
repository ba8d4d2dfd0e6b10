"""Group commit of inbound filing on SQLite and PostgreSQL: messages that arrive together are filed in one
transaction, exactly as filing them one by one would; and the group commit's own rules (one answer each,
an error to every waiting caller, a caller that gave up left out)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from agentdesk.server.database import Database
from agentdesk.server.group_commit import GroupCommit
from agentdesk.server.inbound import Filed, Inbound, InboundInvalid, file_inbound
from tests.backend import Server, database, fetch, postgres_database  # noqa: F401 (fixture)
from tests.test_inbound import AT, CASE, PETRA, _database
from tests.test_webhooks import SECRET, _secrets, message, signed  # noqa: F401 (fixture)

MESSAGES = [
    Inbound("webhook:k-1", "chat", AT, "known sender, one open case", email="p.lindner@example.net"),
    Inbound("email:<new-1@x>", "email", AT, "first of a new sender", email="Jo.New@example.org", name="Jo New",
            phone="+491515550199", message_id="<new-1@x>"),
    Inbound("webhook:k-1", "chat", AT, "a repeat inside the batch", email="p.lindner@example.net"),
    Inbound("sms:new-2", "sms", AT, "second of the new sender", email="jo.new@example.org"),
    Inbound("webhook:nobody", "chat", AT, "names a customer the backend does not know", customer="c-nobody"),
    Inbound("sms:new-3", "sms", AT, "the new sender found by phone", phone="+49 151 5550199"),
    Inbound("email:<new-4@x>", "email", AT, "a reply to the first", email="jo.new@example.org",
            thread=("<new-1@x>",)),
    Inbound("webhook:named", "chat", AT, "by customer id", customer="c-1001"),
]
"""Every rule of filing at once: a known sender, a new one (then found by e-mail, by phone), a repeat, a message
that cannot be filed, a reply, a named customer."""


@contextmanager
def _another(database: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind."""
    if database.startswith("postgresql://"):
        with postgres_database() as url:
            yield url
    else:
        yield str(tmp_path / "one-by-one.db")


def _outcome(answer: Filed | BaseException) -> tuple:
    if isinstance(answer, Filed):
        return answer.status, answer.customer, answer.interaction, answer.new_customer
    return type(answer).__name__, str(answer)


def _stored(url: str) -> tuple[list[tuple], list[tuple]]:
    """The records as stored, and the change log's record ids in seq order."""
    return (sorted(fetch(url, "SELECT type, id, customer_id, body FROM record")),
            fetch(url, "SELECT record_type, record_id FROM change_log ORDER BY seq"))


async def _file_each(db: Database, messages: Sequence[Inbound]) -> list[Filed | BaseException]:
    answers: list[Filed | BaseException] = []
    for inbound in messages:
        try:
            answers.append(await file_inbound(db, inbound))
        except InboundInvalid as exc:
            answers.append(exc)
    return answers


async def test_messages_filed_together_are_filed_as_one_by_one(database: str, tmp_path: Path) -> None:
    together = await _database(database, [PETRA, CASE])
    try:
        answers = await asyncio.gather(*(file_inbound(together, inbound) for inbound in MESSAGES),
                                       return_exceptions=True)
    finally:
        await together.dispose()
    with _another(database, tmp_path) as one_by_one_url:
        one_by_one = await _database(one_by_one_url, [PETRA, CASE])
        try:
            expected = await _file_each(one_by_one, MESSAGES)
        finally:
            await one_by_one.dispose()
        assert [_outcome(answer) for answer in answers] == [_outcome(answer) for answer in expected]
        assert _stored(database) == _stored(one_by_one_url)

    # One transaction: every record the batch wrote has the same time of receipt.
    filed_now = "SELECT DISTINCT received_us FROM record WHERE id LIKE 'i-in-%' OR id LIKE 'c-in-%'"
    assert len(fetch(database, filed_now)) == 1
    statuses = [_outcome(answer)[0] for answer in answers]
    assert statuses == ["new", "new", "repeat", "new", "InboundInvalid", "new", "new", "new"]
    new_customer = answers[1]
    assert isinstance(new_customer, Filed) and new_customer.new_customer
    assert {answer.customer for answer in (answers[3], answers[5], answers[6]) if isinstance(answer, Filed)} \
        == {new_customer.customer}
    assert fetch(database, "SELECT count(*) FROM record WHERE type = 'customer'") == [(2,)]
    reply = answers[6]
    assert isinstance(reply, Filed)
    assert "case" not in json.loads(fetch(database, f"SELECT body FROM record WHERE id = '{reply.interaction}'")[0][0])
    known = answers[0]
    assert isinstance(known, Filed) and known.cursor is not None
    assert json.loads(fetch(database, f"SELECT body FROM record WHERE id = '{known.interaction}'")[0][0])["case"] \
        == "k-55"
    # Each answer names its own seq, in the order the batch filed them.
    cursors = [answer.cursor for answer in answers if isinstance(answer, Filed) and answer.status == "new"]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)


async def test_many_first_messages_of_one_unknown_sender_make_one_customer(database: str) -> None:
    db = await _database(database, [])
    try:
        answers = await asyncio.gather(*(file_inbound(db, Inbound(f"webhook:m-{n}", "chat", AT, f"message {n}",
                                                                  email="first.time@example.org"))
                                         for n in range(30)))
    finally:
        await db.dispose()
    assert [answer.status for answer in answers] == ["new"] * 30
    assert [answer.new_customer for answer in answers] == [True] + [False] * 29
    assert len({answer.customer for answer in answers}) == 1
    assert fetch(database, "SELECT count(*) FROM record WHERE type = 'interaction'") == [(30,)]


def test_two_servers_filing_the_same_messages_in_batches_take_each_once(tmp_path: Path) -> None:
    """Two ``serve`` processes on one PostgreSQL, each sent every message (of one new sender and of many) at once."""
    channels = tmp_path / "channels.toml"
    channels.write_text('[webhook]\nsecret_env = "T_SECRET"\n', encoding="utf-8")
    with postgres_database() as url, Server(url, flags=["--channels", str(channels)]) as one, \
            Server(url, flags=["--channels", str(channels)]) as two:

        async def send_all() -> list[tuple[int, str]]:
            bodies = [signed(message(f"batch-{n}", email="same.sender@example.org" if n % 2 else
                                     f"sender.{n}@example.org")) for n in range(40)]
            async with httpx.AsyncClient(timeout=30) as client:
                sends = [client.post(f"{server.url}/webhooks/messages", content=raw, headers=headers)
                         for server in (one, two) for raw, headers in bodies]
                return [(answer.status_code, answer.json()["status"]) for answer in await asyncio.gather(*sends)]

        answers = asyncio.run(send_all())
        assert sorted(answers) == [(200, "new")] * 40 + [(200, "repeat")] * 40
        assert fetch(url, "SELECT count(*) FROM record WHERE type = 'interaction'") == [(40,)]
        assert fetch(url, "SELECT count(*) FROM record WHERE type = 'customer'") == [(21,)]
        assert fetch(url, "SELECT count(*) FROM change_log WHERE record_type = 'interaction'") == [(40,)]


async def test_a_failed_flush_answers_every_waiting_caller_with_its_error() -> None:
    flushed: list[list[int]] = []

    async def flush(batch: Sequence[int]) -> list[int | Exception]:
        flushed.append(list(batch))
        if 3 in batch:
            raise ConnectionError("the database went away")
        return [item * 10 if item else ValueError("zero") for item in batch]

    group: GroupCommit[int, int] = GroupCommit(flush, batch=4)
    answers = await asyncio.gather(*(group.submit(item) for item in (1, 2, 3, 4, 0, 5)), return_exceptions=True)
    assert flushed == [[1, 2, 3, 4], [0, 5]]  # bounded batches, in order
    assert [type(answer).__name__ for answer in answers[:5]] == ["ConnectionError"] * 4 + ["ValueError"]
    assert answers[5] == 50  # its own answer: another's error in its batch does not sink it


async def test_a_caller_that_gave_up_before_its_batch_is_left_out() -> None:
    release = asyncio.Event()
    flushed: list[list[str]] = []

    async def flush(batch: Sequence[str]) -> list[str | Exception]:
        flushed.append(list(batch))
        await release.wait()
        return [item.upper() for item in batch]

    group: GroupCommit[str, str] = GroupCommit(flush)
    first = asyncio.create_task(group.submit("a"))
    while not flushed:  # the first batch is being filed; the next ones wait for it
        await asyncio.sleep(0)
    waiting = [asyncio.create_task(group.submit(item)) for item in ("b", "c", "d")]
    await asyncio.sleep(0)
    waiting[1].cancel()
    release.set()
    assert await first == "A"
    assert [await waiting[0], await waiting[2]] == ["B", "D"]
    assert flushed == [["a"], ["b", "d"]]


async def test_a_message_the_database_refuses_fails_alone() -> None:
    """PostgreSQL cannot store a NUL in text; the batch it was in is filed again message by message."""
    from sqlalchemy.exc import DBAPIError

    with postgres_database() as url:
        db = await _database(url, [PETRA])
        try:
            answers = await asyncio.gather(*(file_inbound(db, Inbound(source, "chat", AT, "hello",
                                                                      email="p.lindner@example.net"))
                                             for source in ("webhook:ok-1", "webhook:nul\x00", "webhook:ok-2")),
                                           return_exceptions=True)
        finally:
            await db.dispose()
        assert isinstance(answers[1], DBAPIError)
        assert [_outcome(answer)[:2] for answer in (answers[0], answers[2])] == [("new", "c-1001")] * 2
        assert fetch(url, "SELECT count(*) FROM record WHERE type = 'interaction'") == [(2,)]


async def test_the_next_batch_waits_for_as_many_callers_as_the_last_one_held() -> None:
    flushed: list[list[str]] = []

    async def flush(batch: Sequence[str]) -> list[str | Exception]:
        flushed.append(list(batch))
        return list(batch)

    # A long gathering time: the callers arrive one by one, and the batch waits for all three.
    group: GroupCommit[str, str] = GroupCommit(flush, gather_s=60)
    assert await asyncio.gather(*(group.submit(item) for item in "abc")) == ["a", "b", "c"]
    first = asyncio.create_task(group.submit("d"))
    while not group._waiting:  # noqa: SLF001 - "d" is queued; the drain task waits for two more
        await asyncio.sleep(0)
    later = [asyncio.create_task(group.submit(item)) for item in "ef"]
    assert [await first, *[await task for task in later]] == ["d", "e", "f"]
    assert flushed == [["a", "b", "c"], ["d", "e", "f"]]
