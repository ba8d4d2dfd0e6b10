"""``agentdesk serve --channels FILE`` as real processes filing a real dovecot mailbox on loopback, exactly once:
across a SIGKILL in the middle of a batch, and with two processes on one PostgreSQL watching the same mailbox."""

from __future__ import annotations

import asyncio
import imaplib
import json
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.backend import Server, database, fetch  # noqa: F401 (fixture)
from tests.imap_server import ImapServer, Mailbox, imap_server  # noqa: F401 (fixture)

DEADLINE_S = 60.0
PASSWORD_ENV = "AGENTDESK_IMAP_PASSWORD"
STAGING = "Staging"
"""A folder the connector does not watch: mail is put there first, then copied into INBOX in one command."""
_FILED_LINE = re.compile(r"imap \S+: mail UID (\d+) from \S+, [^:]+: (new|repeat) ")


def _channels_file(folder: Path, server: ImapServer, mailbox: Mailbox) -> Path:
    path = folder / "channels.toml"
    path.write_text(f'[imap]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
                    f'user = "{mailbox.user}"\npassword_env = "{PASSWORD_ENV}"\n')
    return path


def _mail(number: int) -> bytes:
    """Mail ``number`` from one of three senders; every fifth has no Message-ID (filed once by its UID)."""
    message = EmailMessage()
    message["From"] = f"Customer {number % 3} <c{number % 3}@example.org>"
    message["To"] = "service@example.com"
    message["Subject"] = f"Question {number}"
    if number % 5:
        message["Message-ID"] = f"<q{number}-{time.monotonic_ns()}@example.org>"
    message.set_content(f"Question number {number}.\n" + "Some more words about the order. " * 40)
    return message.as_bytes()


def _expected_subjects(count: int) -> list[str]:
    return sorted(f"Question {number}" for number in range(1, count + 1))


def _deliver_at_once(server: ImapServer, mailbox: Mailbox, numbers: range) -> None:
    """These mails into INBOX in one step (UID COPY from a staging folder): the connector sees them as one
    batch, not one by one as they are appended."""
    with server.connect(mailbox) as imap:
        imap.create(STAGING)
        for number in numbers:
            status, answer = imap.append(STAGING, "", imaplib.Time2Internaldate(time.time()), _mail(number))
            assert status == "OK", answer
        assert imap.select(STAGING)[0] == "OK"
        status, answer = imap.uid("COPY", "1:*", "INBOX")
        assert status == "OK", answer


def _deliver_one_by_one(server: ImapServer, mailbox: Mailbox, numbers: range) -> None:
    with server.connect(mailbox) as imap:
        for number in numbers:
            status, answer = imap.append("INBOX", "", imaplib.Time2Internaldate(time.time()), _mail(number))
            assert status == "OK", answer


def _interactions(database: str) -> list[dict]:
    return [json.loads(body) for (body,) in fetch(database, "SELECT body FROM record WHERE type = 'interaction'")]


def _inbound_rows(database: str) -> int:
    return int(fetch(database, "SELECT count(*) FROM inbound_message")[0][0])


def _last_uid(database: str) -> int:
    rows = fetch(database, "SELECT last_uid FROM imap_mailbox")
    return int(rows[0][0]) if rows else 0


def _until(condition: Callable[[], bool], what: str, *servers: Server) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            said = "\n".join(server.output()[-3000:] for server in servers)
            pytest.fail(f"not within {DEADLINE_S} s: {what}\n{said}")
        time.sleep(0.005)


def _assert_each_mail_once(database: str, count: int) -> None:
    interactions = _interactions(database)
    assert sorted(interaction["subject"] for interaction in interactions) == _expected_subjects(count)
    assert len({interaction["id"] for interaction in interactions}) == count
    assert len({interaction["source"] for interaction in interactions}) == count
    assert _inbound_rows(database) == count
    assert sorted(key for (key,) in fetch(database, "SELECT key FROM contact_key WHERE kind = 'email'")) == [
        "c0@example.org", "c1@example.org", "c2@example.org"]
    assert len(fetch(database, "SELECT id FROM record WHERE type = 'customer'")) == 3


def _filed_lines(server: Server) -> list[tuple[int, str]]:
    return [(int(uid), status) for uid, status in _FILED_LINE.findall(server.output())]


MAILS_IN_THE_BATCH = 40


@contextmanager
def _filing_blocked(database: str) -> Iterator[None]:
    """No mail can be filed meanwhile: the test holds what filing needs to write (SQLite's write lock; on
    PostgreSQL an EXCLUSIVE lock on ``inbound_message``, which reads pass and inserts wait for)."""
    if not database.startswith("postgresql"):
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.close()
        return
    import asyncpg

    locked, release = threading.Event(), threading.Event()

    async def hold() -> None:
        connection = await asyncpg.connect(database)
        try:
            async with connection.transaction():
                await connection.execute("LOCK TABLE inbound_message IN EXCLUSIVE MODE")
                locked.set()
                await asyncio.get_running_loop().run_in_executor(None, release.wait)
        finally:
            await connection.close()

    holder_thread = threading.Thread(target=asyncio.run, args=(hold(),))
    holder_thread.start()
    try:
        assert locked.wait(DEADLINE_S), "the lock on inbound_message was not granted"
        yield
    finally:
        release.set()
        holder_thread.join()


def _a_filing_waits(database: str) -> bool:
    """Whether a backend connection waits for a lock (PostgreSQL): the connector has fetched and is filing."""
    return bool(fetch(database, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                "AND query ILIKE '%inbound_message%'")[0][0])


def test_serve_killed_in_the_middle_of_a_batch_files_every_mail_exactly_once_after_its_restart(
        database: str, imap_server: ImapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kill lands mid-batch for certain, not by timing: the first mail is filed, then the test blocks
    filing, delivers the rest and kills the backend while it cannot file them."""
    mailbox = imap_server.new_mailbox()
    monkeypatch.setenv(PASSWORD_ENV, mailbox.password)
    channels = _channels_file(tmp_path, imap_server, mailbox)
    with Server(database, flags=["--channels", str(channels)]) as server:
        _until(lambda: "waiting by IDLE" in server.output(), "the connector waiting in IDLE", server)
        _deliver_one_by_one(imap_server, mailbox, range(1, 2))
        _until(lambda: _last_uid(database) == 1, "the first mail filed", server)
        with _filing_blocked(database):
            _deliver_at_once(imap_server, mailbox, range(2, MAILS_IN_THE_BATCH + 1))
            if database.startswith("postgresql"):
                _until(lambda: _a_filing_waits(database), "the connector filing the second mail", server)
            assert server.kill() == -9

        assert _inbound_rows(database) == len(_interactions(database)) == 1
        assert _last_uid(database) == 1

        server.start()
        _until(lambda: _last_uid(database) == MAILS_IN_THE_BATCH, "every mail taken after the restart", server)
        output = server.output()

    _assert_each_mail_once(database, MAILS_IN_THE_BATCH)
    assert mailbox.password not in output


MAILS_TO_BOTH = 24


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_two_serve_processes_on_one_postgresql_watching_one_mailbox_file_each_mail_once(
        database: str, imap_server: ImapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox = imap_server.new_mailbox()
    monkeypatch.setenv(PASSWORD_ENV, mailbox.password)
    flags = ["--channels", str(_channels_file(tmp_path, imap_server, mailbox))]
    with Server(database, flags=flags) as first, Server(database, flags=flags) as second:
        _until(lambda: all("waiting by IDLE" in server.output() for server in (first, second)),
               "both connectors waiting in IDLE", first, second)
        _deliver_one_by_one(imap_server, mailbox, range(1, MAILS_TO_BOTH + 1))
        _until(lambda: _last_uid(database) == MAILS_TO_BOTH, "every mail taken", first, second)
        _until(lambda: Counter(status for server in (first, second) for _, status in _filed_lines(server))["new"]
               == MAILS_TO_BOTH, "a log line for each mail filed", first, second)
        new = sorted(uid for server in (first, second) for uid, status in _filed_lines(server) if status == "new")
        outputs = [first.output(), second.output()]

    _assert_each_mail_once(database, MAILS_TO_BOTH)
    assert new == list(range(1, MAILS_TO_BOTH + 1)), "each UID filed as new by exactly one of the two processes"
    for output in outputs:
        assert mailbox.password not in output
