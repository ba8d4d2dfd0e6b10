"""The IMAP connector against a real dovecot on loopback, filing into SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
import trustme

from agentdesk.channels.config import tls_context
from agentdesk.retry import Policy
from agentdesk.server.database import Database, database_url
from agentdesk.server.imap import ImapConnector
from agentdesk.server.migrate import upgrade
from tests.backend import database, fetch  # noqa: F401 (fixture)
from tests.imap_server import ImapServer, Mailbox, imap_server, imap_tls_server  # noqa: F401 (fixture)
from tests.smtp_server import Ca, tls_ca  # noqa: F401 (fixture)

DEADLINE_S = 20.0


@dataclass(frozen=True)
class Account:
    """The connector's view of an [imap] section, for a dovecot user (``ImapSettings`` reads it from a file)."""

    host: str
    port: int
    user: str
    secret: str
    security: str = "none"
    mailbox: str = "INBOX"
    ca_file: str | None = None

    def password(self) -> str:
        return self.secret

    def tls_context(self) -> ssl.SSLContext:
        return tls_context(self.ca_file)


def _account(server: ImapServer, mailbox: Mailbox) -> Account:
    return Account("127.0.0.1", server.port, mailbox.user, mailbox.password)


def _mail(number: int, *, sender: str = "anna@example.org", message_id: bool = True) -> bytes:
    message = EmailMessage()
    message["From"] = f"Anna Berg <{sender}>"
    message["To"] = "service@example.com"
    message["Subject"] = f"Question {number}"
    if message_id:
        message["Message-ID"] = f"<q{number}-{time.monotonic_ns()}@example.org>"
    message.set_content(f"Question number {number}.\n")
    return message.as_bytes()


@asynccontextmanager
async def _opened(db: str) -> AsyncIterator[Database]:
    url = database_url(db)
    await upgrade(url)
    async with Database.open(url) as opened:
        yield opened


@asynccontextmanager
async def _running(connector: ImapConnector) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(connector.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _bodies(db: str) -> list[str]:
    rows = fetch(db, "SELECT body FROM record WHERE type = 'interaction'")
    return sorted(json.loads(body)["body"] for (body,) in rows)


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {DEADLINE_S} s: {what}")
        await asyncio.sleep(0.05)


async def test_mail_in_the_mailbox_and_mail_arriving_later_is_filed_once(database: str, imap_server: ImapServer):
    mailbox = imap_server.new_mailbox()
    for number in (1, 2):
        mailbox.deliver(_mail(number))
    mailbox.deliver(_mail(3, message_id=False))
    async with _opened(database) as opened, _running(ImapConnector(opened, _account(imap_server, mailbox))):
        await _until(lambda: len(_bodies(database)) == 3, "three mails filed")
        await asyncio.to_thread(mailbox.deliver, _mail(4, sender="Bo@Example.net"))
        await _until(lambda: len(_bodies(database)) == 4, "the mail that came during IDLE filed")
        # The UID is remembered in its own transaction after the mail is filed (a crash between the two
        # files nothing twice): wait for it too before the connector is stopped.
        await _until(lambda: fetch(database, "SELECT last_uid FROM imap_mailbox") == [(4,)], "UID 4 remembered")

    assert _bodies(database) == [f"Subject: Question {n}\n\nQuestion number {n}." for n in (1, 2, 3, 4)]
    senders = {key for (key,) in fetch(database, "SELECT key FROM contact_key WHERE kind = 'email'")}
    assert senders == {"anna@example.org", "bo@example.net"}
    assert fetch(database, "SELECT last_uid FROM imap_mailbox") == [(4,)]


async def test_a_crash_between_filing_and_remembering_loses_nothing_and_files_nothing_twice(
        database: str, imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch):
    mailbox = imap_server.new_mailbox()
    for number in (1, 2, 3):
        mailbox.deliver(_mail(number))
    mailbox.deliver(_mail(4, message_id=False))
    account = _account(imap_server, mailbox)
    crashed = asyncio.Event()
    remember = ImapConnector._remember

    async def crash_after_the_second(self: ImapConnector, uidvalidity: int, uid: int) -> None:
        if uid == 2:
            crashed.set()
            await asyncio.Event().wait()  # the process dies here: the mail is filed, its UID not remembered
        await remember(self, uidvalidity, uid)

    async with _opened(database) as opened:
        monkeypatch.setattr(ImapConnector, "_remember", crash_after_the_second)
        async with _running(ImapConnector(opened, account)):
            await asyncio.wait_for(crashed.wait(), DEADLINE_S)
        assert len(_bodies(database)) == 2
        assert fetch(database, "SELECT last_uid FROM imap_mailbox") == [(1,)]

        monkeypatch.setattr(ImapConnector, "_remember", remember)
        async with _running(ImapConnector(opened, account)):
            await _until(lambda: fetch(database, "SELECT last_uid FROM imap_mailbox") == [(4,)], "all four taken")

    assert _bodies(database) == [f"Subject: Question {n}\n\nQuestion number {n}." for n in (1, 2, 3, 4)]


async def test_a_mail_that_cannot_be_filed_is_logged_and_skipped(database: str, imap_server: ImapServer,
                                                                 caplog: pytest.LogCaptureFixture):
    mailbox = imap_server.new_mailbox()
    mailbox.deliver(b"Subject: nobody sent this\r\nMessage-ID: <anon@x>\r\n\r\nno From header\r\n")
    mailbox.deliver(_mail(2))
    async with _opened(database) as opened, _running(ImapConnector(opened, _account(imap_server, mailbox))):
        await _until(lambda: len(_bodies(database)) == 1, "the good mail filed")
    assert "mail UID 1 skipped: no sender address can be read from its From header" in caplog.text
    assert mailbox.password not in caplog.text


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_two_connectors_on_one_postgresql_file_each_mail_once(database: str, imap_server: ImapServer):
    mailbox = imap_server.new_mailbox()
    for number in range(1, 9):
        mailbox.deliver(_mail(number, sender=f"c{number % 3}@example.org", message_id=number % 4 != 0))
    account = _account(imap_server, mailbox)
    async with _opened(database) as first, _opened(database) as second, \
            _running(ImapConnector(first, account)), _running(ImapConnector(second, account)):
        await _until(lambda: fetch(database, "SELECT last_uid FROM imap_mailbox") == [(8,)], "all eight taken")
        for number in range(9, 13):
            await asyncio.to_thread(mailbox.deliver, _mail(number, sender="new@example.org"))
        await _until(lambda: fetch(database, "SELECT last_uid FROM imap_mailbox") == [(12,)], "four more taken")

    assert _bodies(database) == sorted(f"Subject: Question {n}\n\nQuestion number {n}." for n in range(1, 13))
    assert len(fetch(database, "SELECT id FROM record WHERE type = 'customer'")) == 4


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # TLS is the question here, not the database
@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_mail_is_filed_over_tls_with_the_certificate_verified(database: str, imap_tls_server: ImapServer,
                                                                    tls_ca: Ca, security: str):
    mailbox = imap_tls_server.new_mailbox()
    mailbox.deliver(_mail(1))
    port = imap_tls_server.tls_port if security == "ssl" else imap_tls_server.port
    # "localhost", not the address: the certificate's name is checked too
    account = Account("localhost", port, mailbox.user, mailbox.password, security=security,
                      ca_file=tls_ca.ca_file)
    async with _opened(database) as opened, _running(ImapConnector(opened, account)):
        await _until(lambda: fetch(database, "SELECT last_uid FROM imap_mailbox") == [(1,)], "the mail filed")
    assert _bodies(database) == ["Subject: Question 1\n\nQuestion number 1."]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_a_certificate_not_trusted_is_refused_in_one_line_and_tried_again(
        database: str, imap_tls_server: ImapServer, security: str, tmp_path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("agentdesk.server.imap.IMAP_RECONNECT", Policy(first=0.01, cap=0.02))
    mailbox = imap_tls_server.new_mailbox()
    mailbox.deliver(_mail(1))
    port = imap_tls_server.tls_port if security == "ssl" else imap_tls_server.port
    other_ca = tmp_path / "other-ca.pem"  # a CA that signed nothing dovecot has
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    account = Account("127.0.0.1", port, mailbox.user, mailbox.password, security=security, ca_file=str(other_ca))
    refusals = lambda: [r.getMessage() for r in caplog.records if "not trusted" in r.getMessage()]  # noqa: E731
    async with _opened(database) as opened, _running(ImapConnector(opened, account)):
        await _until(lambda: len(refusals()) >= 2, "the connection refused twice (the connector keeps trying)")
    assert refusals()[0].startswith(f"imap 127.0.0.1:{port}: the certificate of 127.0.0.1:{port} is "
                                    "not trusted (unable to get local issuer certificate); if a private CA issued "
                                    "it, name that CA's certificate in ca_file; connecting again in ")
    assert "\n" not in refusals()[0]
    assert _bodies(database) == []
    assert mailbox.password not in caplog.text


def test_channels_check_says_in_one_line_whether_each_channel_works(imap_server: ImapServer, tmp_path, monkeypatch,
                                                                    capsys: pytest.CaptureFixture[str]):
    from agentdesk.cli import main

    mailbox = imap_server.new_mailbox()
    for number in (1, 2):
        mailbox.deliver(_mail(number))
    channels = tmp_path / "channels.toml"
    channels.write_text(f'[imap]\nhost = "127.0.0.1"\nport = {imap_server.port}\nsecurity = "none"\n'
                        f'user = "{mailbox.user}"\n\n[webhook]\n')
    monkeypatch.setenv("AGENTDESK_IMAP_PASSWORD", mailbox.password)
    monkeypatch.setenv("AGENTDESK_WEBHOOK_SECRET", "w-secret-value")

    assert main(["channels", "check", "--channels", str(channels)]) == 0
    assert capsys.readouterr().out.splitlines() == ["imap     ok  (INBOX, 2 messages)",
                                                    "webhook  ok  ($AGENTDESK_WEBHOOK_SECRET is set)"]

    monkeypatch.setenv("AGENTDESK_IMAP_PASSWORD", "not-the-password")
    monkeypatch.delenv("AGENTDESK_WEBHOOK_SECRET")
    assert main(["channels", "check", "--channels", str(channels)]) == 1
    printed = capsys.readouterr().out
    assert printed.splitlines() == [f"imap     FAILED  login refused by 127.0.0.1:{imap_server.port}",
                                    "webhook  FAILED  webhook: $AGENTDESK_WEBHOOK_SECRET is not set"]
    assert "not-the-password" not in printed and mailbox.password not in printed


async def test_a_new_mail_is_pushed_by_idle_into_a_changes_pull(database: str, imap_server: ImapServer):
    """IDLE, not a poll, brings it: the connector's own re-checks are an hour apart. (How fast is a
    benchmark's question; a timed assertion here failed on a loaded machine.)"""
    from tests.backend import add_user, in_process

    mailbox = imap_server.new_mailbox()
    async with in_process(database) as backend, _opened(database) as opened:
        token = await asyncio.to_thread(add_user, database, "a-7", "agent")
        connector = ImapConnector(opened, _account(imap_server, mailbox), poll_s=3600.0, idle_s=3600.0)
        async with backend.client(token) as client, _running(connector):
            await _until(lambda: connector.idling, "the connector in IDLE")
            cursor = (await client.get("/changes")).json()["head"]
            await asyncio.to_thread(mailbox.deliver, _mail(1, sender="late@example.org"))
            deadline = time.monotonic() + DEADLINE_S
            while True:
                page = (await client.get("/changes", params={"after": cursor})).json()
                if any(change["record"].get("type") == "interaction" for change in page["changes"]):
                    break
                assert time.monotonic() < deadline, f"the mail was not in a pull within {DEADLINE_S} s"
                await asyncio.sleep(0.02)
