"""E-mail in: the backend's IMAP connector files each new mail of one mailbox on the customer's timeline.

It logs in, selects the mailbox, files every mail above the highest UID it remembers (``imap_mailbox``
table), then waits: IDLE when the server offers it, else a poll every :data:`POLL_S` seconds.
Exactly once, also with several backends on one PostgreSQL: the UID is remembered only *after* the mail
was filed (a crash in between fetches it again), and :func:`~agentdesk.server.inbound.file_inbound`
takes each mail once by its ``source_id`` (``email:<Message-ID>``, or ``email-uid:<uidvalidity>:<uid>``
for a mail without one), so a second fetch, by this process or another, files nothing new.

A lost connection is logged and tried again after the waits of :data:`agentdesk.retry.IMAP_RECONNECT`
(``tenacity``'s strategy). A mail that cannot be filed is logged in one line and skipped. The password
is read from its environment variable at each login and never logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import aioimaplib
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from agentdesk.channels.mail import ParsedMail, human_size, parse_mail, parse_mail_headers
from agentdesk.channels.tls import untrusted
from agentdesk.retry import IMAP_RECONNECT
from agentdesk.server.database import Database
from agentdesk.server.inbound import Inbound, file_inbound
from agentdesk.server.tables import imap_mailbox

log = logging.getLogger("agentdesk.imap")

POLL_S = 5.0
"""Between two looks at a mailbox whose server has no IDLE."""
IDLE_S = 9 * 60.0
"""How long one IDLE lasts before it is renewed (servers drop an IDLE after 30 min; NATs sooner)."""
MAX_FETCH_BYTES = 100_000_000
"""A larger mail is filed from its headers only, with a note; the body is never fetched."""
TIMEOUT_S = 30.0
"""For one IMAP command to be answered (a fetch of a large mail included)."""


class ImapAccount(Protocol):
    """What the connector reads of :class:`agentdesk.channels.config.ImapSettings`."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def security(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def mailbox(self) -> str: ...
    def password(self) -> str: ...
    def tls_context(self) -> ssl.SSLContext: ...


class ImapFailure(Exception):
    """The server refused a step (one line, never a secret)."""


def account_key(account: ImapAccount) -> str:
    return f"{account.user}@{account.host}:{account.port}/{account.mailbox}"


def where(account: ImapAccount) -> str:
    return f"{account.host}:{account.port}"


@dataclass(frozen=True)
class Selected:
    uidvalidity: int
    exists: int


async def open_mailbox(account: ImapAccount, *, timeout: float = TIMEOUT_S) -> tuple[aioimaplib.IMAP4, Selected]:
    """A logged-in client with ``account.mailbox`` selected; :class:`ImapFailure` says which step failed."""
    password = account.password()
    context = account.tls_context() if account.security in ("ssl", "starttls") else None
    client = (aioimaplib.IMAP4_SSL(account.host, account.port, timeout=timeout, ssl_context=context)
              if account.security == "ssl" else aioimaplib.IMAP4(account.host, account.port, timeout=timeout))
    try:
        await client.wait_hello_from_server()
    except ssl.SSLCertVerificationError as exc:
        raise ImapFailure(untrusted(where(account), exc)) from exc
    except (OSError, TimeoutError) as exc:
        raise ImapFailure(f"cannot connect to {where(account)}: {_reason(exc)}") from exc
    if account.security == "starttls":
        assert context is not None
        await _starttls(client, account, context)
    response = await client.login(account.user, password)
    if response.result != "OK":
        raise ImapFailure(f"login refused by {where(account)}")
    response = await client.select(account.mailbox)
    if response.result != "OK":
        raise ImapFailure(f"mailbox {account.mailbox} cannot be selected on {where(account)}: "
                          f"{_text(response.lines[-1:])}")
    return client, _selected(response.lines)


async def _starttls(client: aioimaplib.IMAP4, account: ImapAccount, context: ssl.SSLContext) -> None:
    """STARTTLS, then the same protocol object on the TLS transport, then the capabilities again, as RFC 3501
    says they may have changed. Hand-written because aioimaplib (2.0.3) knows the command but has no call
    for the upgrade."""
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise ImapFailure(f"{where(account)} does not offer STARTTLS")
    response = await protocol.execute(aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop))
    if response.result != "OK":
        raise ImapFailure(f"STARTTLS refused by {where(account)}")
    loop = asyncio.get_running_loop()
    try:
        protocol.transport = await loop.start_tls(protocol.transport, protocol, context, server_hostname=account.host)
    except ssl.SSLCertVerificationError as exc:
        raise ImapFailure(untrusted(where(account), exc)) from exc
    except (OSError, ssl.SSLError) as exc:
        raise ImapFailure(f"TLS with {where(account)} failed: {_reason(exc)}") from exc
    await protocol.capability()


_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_EXISTS = re.compile(rb"^(\d+) EXISTS")


def _selected(lines: Sequence[Any]) -> Selected:
    uidvalidity = exists = 0
    for line in lines:
        data = bytes(line)
        if found := _UIDVALIDITY.search(data):
            uidvalidity = int(found.group(1))
        if found := _EXISTS.match(data):
            exists = int(found.group(1))
    return Selected(uidvalidity, exists)


class ImapConnector:
    """One mailbox, filed into ``database`` until :meth:`run` is cancelled."""

    def __init__(self, database: Database, account: ImapAccount, *, keep_changes: int | None = None,
                 poll_s: float = POLL_S, idle_s: float = IDLE_S) -> None:
        self.database, self.account, self.keep_changes = database, account, keep_changes
        self.poll_s, self.idle_s = poll_s, idle_s
        self.key = account_key(account)
        self.idling = False
        """Whether the server is told to push new mail now (IDLE acknowledged): what a caller can wait for."""

    async def run(self) -> None:
        backoff = IMAP_RECONNECT.backoff()
        while True:
            try:
                await self._session(backoff)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure of a session is a reason to reconnect
                wait = backoff.next()
                said = str(exc) if isinstance(exc, ImapFailure) else _reason(exc)  # ours are already one line
                log.warning("imap %s: %s; connecting again in %.1f s", where(self.account), said, wait)
                await asyncio.sleep(wait)

    async def _session(self, backoff: Any) -> None:
        log.info("imap: connecting to %s (%s) as %s", where(self.account), self.account.security, self.account.user)
        client, selected = await open_mailbox(self.account)
        try:
            idle = client.has_capability("IDLE")
            log.info("imap %s: %s selected, %d messages; waiting by %s", where(self.account), self.account.mailbox,
                     selected.exists, "IDLE" if idle else f"polling every {self.poll_s:g} s")
            backoff.reset()
            while True:
                await self.file_new(client, selected.uidvalidity)
                if idle:
                    await self._idle(client)
                else:
                    await asyncio.sleep(self.poll_s)
                    await client.noop()
        finally:
            await _close(client)

    async def _idle(self, client: aioimaplib.IMAP4) -> None:
        waiting = await client.idle_start(timeout=self.idle_s)
        self.idling = True
        try:
            while True:
                pushed = await client.wait_server_push(timeout=self.idle_s)
                if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH or any(b"EXISTS" in bytes(line) for line in pushed):
                    return
        except TimeoutError:
            return  # renew the IDLE
        finally:
            self.idling = False
            client.idle_done()
            await asyncio.wait_for(waiting, TIMEOUT_S)

    async def file_new(self, client: aioimaplib.IMAP4, uidvalidity: int) -> int:
        """Files every mail above the remembered UID; returns how many were fetched."""
        last = await self._last_uid(uidvalidity)
        response = await client.uid("fetch", f"{last + 1}:*", "(UID RFC822.SIZE)")
        _expect_ok(response, "UID FETCH")
        sizes = {uid: size for uid, size in _uid_sizes(response.lines) if uid > last}
        for uid in sorted(sizes):
            await self._file_one(client, uidvalidity, uid, sizes[uid])
            await self._remember(uidvalidity, uid)
        return len(sizes)

    async def _file_one(self, client: aioimaplib.IMAP4, uidvalidity: int, uid: int, size: int) -> None:
        whole = size <= MAX_FETCH_BYTES
        response = await client.uid("fetch", str(uid), "(INTERNALDATE BODY.PEEK[])" if whole
                                    else "(INTERNALDATE BODY.PEEK[HEADER])")
        _expect_ok(response, "UID FETCH")
        raw = next((bytes(line) for line in response.lines if isinstance(line, bytearray)), None)
        if raw is None:
            log.warning("imap %s: mail UID %d skipped: the server sent no content for it", where(self.account), uid)
            return
        mail = parse_mail(raw) if whole else parse_mail_headers(raw, size, MAX_FETCH_BYTES)
        del raw
        if mail.sender is None:
            log.warning("imap %s: mail UID %d skipped: no sender address can be read from its From header",
                        where(self.account), uid)
            return
        arrived = _internaldate(response.lines) or mail.date or datetime.now(UTC)
        inbound = _inbound(mail, uidvalidity, uid, arrived)
        try:
            filed = await file_inbound(self.database, inbound, keep_changes=self.keep_changes)
        except (DBAPIError, OSError):
            raise  # the database is away: the session ends, the mail stays unremembered and comes again
        except Exception as exc:  # noqa: BLE001 - a mail the filing refuses must not block the ones after it
            log.warning("imap %s: mail UID %d (%s) skipped: %s", where(self.account), uid, mail.message_id,
                        _reason(exc))
            return
        log.info("imap %s: mail UID %d from %s, %s: %s (%s)", where(self.account), uid, mail.sender,
                 human_size(size), filed.status, filed.interaction)

    async def _last_uid(self, uidvalidity: int) -> int:
        async with self.database.read() as connection:
            row = (await connection.execute(select(imap_mailbox.c.uidvalidity, imap_mailbox.c.last_uid)
                                            .where(imap_mailbox.c.account == self.key))).first()
        if row is None or row.uidvalidity != uidvalidity:
            return 0  # a new mailbox, or one whose UIDs were renumbered: every mail again (Message-IDs dedupe)
        return int(row.last_uid)

    async def _remember(self, uidvalidity: int, uid: int) -> None:
        table = imap_mailbox
        for _ in range(2):  # a second process may insert the first row between our read and write
            try:
                async with self.database.write() as connection:
                    current = (await connection.execute(select(table.c.uidvalidity, table.c.last_uid)
                                                        .where(table.c.account == self.key))).first()
                    if current is None:
                        await connection.execute(table.insert().values(account=self.key, uidvalidity=uidvalidity,
                                                                       last_uid=uid))
                    elif current.uidvalidity != uidvalidity or current.last_uid < uid:
                        await connection.execute(table.update().where(table.c.account == self.key)
                                                 .values(uidvalidity=uidvalidity, last_uid=uid))
                return
            except IntegrityError:
                continue


def _inbound(mail: ParsedMail, uidvalidity: int, uid: int, arrived: datetime) -> Inbound:
    source_id = f"email:{mail.message_id}" if mail.message_id else f"email-uid:{uidvalidity}:{uid}"
    body = f"Subject: {mail.subject}\n\n{mail.body}" if mail.subject else mail.body
    extra: dict[str, Any] = {"subject": mail.subject}
    if mail.attachments:
        extra["attachments"] = [{"name": a.name, "size": a.size} for a in mail.attachments]
    return Inbound(source_id=source_id, channel="email", at=arrived, body=body, email=mail.sender,
                   name=mail.sender_name, thread=mail.thread, message_id=mail.message_id, extra=extra)


_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def _uid_sizes(lines: Sequence[Any]) -> list[tuple[int, int]]:
    found = []
    for line in lines:
        data = bytes(line)
        uid, size = _FETCH_UID.search(data), _FETCH_SIZE.search(data)
        if uid and size and b"FETCH" in data:
            found.append((int(uid.group(1)), int(size.group(1))))
    return found


def _internaldate(lines: Sequence[Any]) -> datetime | None:
    for line in lines:
        if isinstance(line, bytearray):
            continue
        if found := _INTERNALDATE.search(bytes(line)):
            try:
                return datetime.strptime(found.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
            except ValueError:
                return None
    return None


def _expect_ok(response: Any, what: str) -> None:
    if response.result != "OK":
        raise ImapFailure(f"{what} refused: {_text(response.lines[-1:])}")


def _text(lines: Sequence[Any]) -> str:
    return " ".join(bytes(line).decode("utf-8", "replace") for line in lines)[:200]


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _close(client: aioimaplib.IMAP4) -> None:
    try:
        await asyncio.wait_for(client.logout(), 5)
    except Exception:  # noqa: BLE001 - the connection is being dropped anyway
        pass
