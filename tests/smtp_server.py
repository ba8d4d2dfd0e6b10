"""Real SMTP servers for tests: ``aiosmtpd`` on loopback, each in a thread of its own, collecting what it takes.

Not a test module; import what you need::

    from tests.smtp_server import SmtpServer, smtp_server, smtp_tls_server, plain_smtp_server  # noqa: F401

``smtp_server`` (session-scoped)
    STARTTLS with the certificate of :mod:`tests.tls` (required before anything else), then AUTH
    LOGIN or PLAIN as ``USER`` with ``PASSWORD`` (refused without TLS).
``smtp_tls_server`` (session-scoped)
    The same with TLS from the first byte (security "ssl").
``plain_smtp_server`` (session-scoped)
    No TLS, no login (security "none").

Every one answers a recipient as a real server would: ``refused@…`` gets ``550`` (no such user) and
``busy@…`` gets ``451`` (try later); every other recipient is taken. ``received(message_id)`` is
every message it took with that Message-ID, parsed back by the stdlib; tests share a server and
tell their mail apart by it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.tls import Certificates, certificates  # noqa: F401 (fixture)

USER = "service@example.com"
PASSWORD = "smtp-test-password"
REFUSED, BUSY = "refused@", "busy@"


@dataclass
class Taken:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    port: int = 0
    taken: list[Taken] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self, message_id: str) -> list[Taken]:
        with self.lock:
            return [taken for taken in self.taken if taken.message["Message-ID"] == message_id]

    # aiosmtpd's handler hooks, called in the server's thread

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith(REFUSED):
            return "550 5.1.1 No such user here"
        if address.startswith(BUSY):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = cast(EmailMessage, message_from_bytes(raw, policy=policy.default))
        with self.lock:
            self.taken.append(Taken(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    # handled=False: aiosmtpd then answers a refusal itself (535); its default, True, would answer nothing
    return AuthResult(success=good, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serving(handler: SmtpServer, **options: Any) -> Iterator[SmtpServer]:
    handler.port = _free_port()
    # decode_data=False keeps the bytes as sent, so the test parses exactly what went over the wire
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port, decode_data=False, **options)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def smtp_server(certificates: Certificates) -> Iterator[SmtpServer]:
    yield from _serving(SmtpServer(), tls_context=certificates.server_context(), require_starttls=True,
                        authenticator=_authenticate, auth_require_tls=True)


@pytest.fixture(scope="session")
def smtp_tls_server(certificates: Certificates) -> Iterator[SmtpServer]:
    # auth_require_tls=False: aiosmtpd (1.4) counts only STARTTLS as TLS and would offer no AUTH on a
    # connection that was TLS from the first byte
    yield from _serving(SmtpServer(), ssl_context=certificates.server_context(),
                        authenticator=_authenticate, auth_require_tls=False)


@pytest.fixture(scope="session")
def plain_smtp_server() -> Iterator[SmtpServer]:
    yield from _serving(SmtpServer())
