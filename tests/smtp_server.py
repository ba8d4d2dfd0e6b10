"""A real SMTP server on loopback (aiosmtpd) for the tests of replies: STARTTLS with a private CA's
certificate, AUTH with a test password, every message it took kept for the test to read.

Not a test module; import what you need::

    from tests.smtp_server import smtp_server, tls_ca  # noqa: F401 (fixtures)

``tls_ca`` (session fixture)
    A ``trustme`` CA and a certificate for 127.0.0.1 and localhost: ``.ca_file`` (PEM to trust),
    ``.cert_file``/``.key_file`` (the server's).
``smtps_server``, ``plain_smtp_server`` (fixtures)
    The same with TLS from the first byte (security "ssl"), and with neither TLS nor login ("none").
``smtp_server`` (fixture)
    A started :class:`SmtpServer`: ``.port``, ``.received`` (``email.message.EmailMessage`` each, as the
    server got them), ``.answer`` (set it to an SMTP answer such as ``"451 4.3.0 try again"`` to refuse
    the next messages), ``.settings(security=…, user=…)`` an :class:`SmtpSettings` pointing at it.
"""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from agentdesk.channels.config import SmtpSettings

USER, PASSWORD = "service@example.com", "smtp-test-password"
PASSWORD_ENV = "AGENTDESK_TEST_SMTP_PASSWORD"


@dataclass(frozen=True)
class Ca:
    ca_file: str
    cert_file: str
    key_file: str


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> Ca:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    return Ca(str(ca_file), str(cert_file), str(key_file))


@dataclass
class _Handler:
    received: list[EmailMessage] = field(default_factory=list)
    answer: str | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        if self.answer is not None:
            return self.answer
        self.received.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                      policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


class AnyFreePort(Controller):
    """aiosmtpd's controller on the port the kernel gives (port 0), read back once bound: never a guessed port
    another test could take first."""

    def _create_server(self):  # noqa: ANN202 - aiosmtpd's hook: an awaitable server
        created = super()._create_server()

        async def bound():  # noqa: ANN202
            server = await created
            self.port = server.sockets[0].getsockname()[1]
            return server

        return bound()


class SmtpServer:
    def __init__(self, handler: _Handler, controller: Controller) -> None:
        self._handler, self._controller = handler, controller

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def received(self) -> list[EmailMessage]:
        return self._handler.received

    @property
    def answer(self) -> str | None:
        return self._handler.answer

    @answer.setter
    def answer(self, value: str | None) -> None:
        self._handler.answer = value

    def settings(self, *, security: str = "starttls", user: str | None = USER, ca_file: str | None = None,
                 sender: str = USER) -> SmtpSettings:
        return SmtpSettings(host="127.0.0.1", port=self.port, security=security, user=user, from_=sender,
                            password_env=PASSWORD_ENV, ca_file=ca_file)


def _server_context(tls_ca: Ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_ca.cert_file, tls_ca.key_file)
    return context


def _serving(monkeypatch: pytest.MonkeyPatch, **options: object) -> Iterator[SmtpServer]:
    handler = _Handler()
    controller = AnyFreePort(handler, hostname="127.0.0.1", port=0, **options)
    controller.start()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    try:
        yield SmtpServer(handler, controller)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(tls_ca: Ca, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    yield from _serving(monkeypatch, tls_context=_server_context(tls_ca), require_starttls=True,
                        authenticator=_authenticate, auth_required=True)


@pytest.fixture
def smtps_server(tls_ca: Ca, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """TLS from the first byte (security "ssl"). auth_require_tls=False: aiosmtpd (1.4) counts only STARTTLS as
    TLS and would offer no AUTH on a connection that was TLS all along."""
    yield from _serving(monkeypatch, ssl_context=_server_context(tls_ca), authenticator=_authenticate,
                        auth_require_tls=False)


@pytest.fixture
def plain_smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """No TLS and no login (security "none"), as a relay on the same machine would be."""
    yield from _serving(monkeypatch)


__all__ = ["PASSWORD", "PASSWORD_ENV", "USER", "AnyFreePort", "Ca", "SmtpServer", "plain_smtp_server", "smtp_server",
           "smtps_server", "tls_ca"]
