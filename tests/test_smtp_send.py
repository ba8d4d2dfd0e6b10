"""The SMTP sender against real aiosmtpd servers on loopback (STARTTLS, TLS, plain), and the message of a reply."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import pytest

from agentdesk.channels.config import SmtpSettings
from agentdesk.channels.sending import SendFailed
from agentdesk.channels.smtp_send import reply_mail, send_mail
from tests.smtp_server import (  # noqa: F401 (fixtures)
    PASSWORD,
    USER,
    SmtpServer,
    plain_smtp_server,
    smtp_server,
    smtp_tls_server,
)
from tests.tls import Certificates, certificates  # noqa: F401 (fixture)

TEAM = "service@example.com"
WRITTEN = datetime(2026, 3, 14, 9, 30, tzinfo=timezone(timedelta(hours=1)))
PASSWORD_ENV = "AGENTDESK_TEST_SMTP_PASSWORD"


def _settings(port: int, security: str, certificates: Certificates | None = None, *, user: str | None = USER,
              host: str = "localhost", timeout: float = 10.0) -> SmtpSettings:
    return SmtpSettings(host=host, port=port, security=security, user=user, from_=TEAM, password_env=PASSWORD_ENV,
                        ca_file=str(certificates.ca_file) if certificates else None, timeout=timeout)


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return PASSWORD


def _reply(reply_id: str, *, to: str = "anna.berg@example.org", agent_name: str = "Jonas Weber",
           subject: str = "Refund for order 4711", thread: tuple[str, ...] = ("<q1@example.org>", "<q2@example.org>"),
           body: str = "Guten Tag Frau Berg,\nIhre Rückerstattung über 49,90 € ist unterwegs.\n\n-- \nJonas Weber\n"
           ) -> EmailMessage:
    return reply_mail(reply_id=reply_id, agent_name=agent_name, team_address=TEAM, to=to, subject=subject,
                      body=body, at=WRITTEN, thread=thread)


def _parsed(message: EmailMessage) -> EmailMessage:
    """What a mail program reads: the bytes parsed back by the stdlib."""
    return cast(EmailMessage, message_from_bytes(message.as_bytes(), policy=policy.default))


def test_a_reply_mail_is_from_the_agent_at_the_team_address_and_threaded_after_the_customer():
    mail = _parsed(_reply("i-01JRPLY0000000000000000001"))

    assert mail["From"] == "Jonas Weber <service@example.com>"
    assert mail["Reply-To"] == TEAM
    assert mail["To"] == "anna.berg@example.org"
    assert mail["Subject"] == "Re: Refund for order 4711"
    assert mail["Message-ID"] == "<i-01JRPLY0000000000000000001@example.com>"
    assert mail["In-Reply-To"] == "<q2@example.org>"
    assert mail["References"] == "<q1@example.org> <q2@example.org>"
    assert mail["Date"].datetime == WRITTEN
    assert not mail.is_multipart() and mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content() == "Guten Tag Frau Berg,\nIhre Rückerstattung über 49,90 € ist unterwegs.\n\n-- \n" \
                                 "Jonas Weber\n"


def test_the_same_reply_gives_the_same_message_id_and_one_re():
    first, again = _reply("i-01JSAME000000000000000001"), _reply("i-01JSAME000000000000000001", subject="RE: Refund")
    assert first["Message-ID"] == again["Message-ID"]
    assert _reply("i-01JOTHER00000000000000001")["Message-ID"] != first["Message-ID"]
    assert again["Subject"] == "RE: Refund"


def test_a_reply_without_a_thread_has_no_threading_headers():
    mail = _parsed(_reply("i-01JNOTHREAD00000000000001", thread=()))
    assert mail["In-Reply-To"] is None and mail["References"] is None


def test_a_line_break_in_a_name_or_subject_cannot_add_a_header():
    mail = _parsed(_reply("i-01JINJECT0000000000000001", agent_name="Eve\r\nBcc: thief@evil.example",
                          subject="Hello\nBcc: thief@evil.example\r\n\r\nfake body",
                          thread=("<q1@example.org>\r\nBcc: thief@evil.example",)))
    assert mail["Bcc"] is None
    assert "thief" not in str(mail["To"]) and mail["In-Reply-To"] is None
    assert mail["Subject"] == "Re: Hello Bcc: thief@evil.example fake body"
    assert mail["From"].addresses[0].display_name == "Eve Bcc: thief@evil.example"
    assert mail["From"].addresses[0].addr_spec == TEAM


def test_an_address_that_cannot_be_written_is_a_permanent_failure():
    with pytest.raises(SendFailed) as refused:
        _reply("i-01JBADADDR000000000000001", to="anna@example.org, thief@evil.example")
    assert refused.value.permanent


async def test_a_mail_sent_over_starttls_with_login_arrives_once_as_built(smtp_server: SmtpServer,
                                                                          certificates: Certificates, password: str):
    message = _reply("i-01JSTARTTLS00000000000001")
    await send_mail(_settings(smtp_server.port, "starttls", certificates), message)

    [taken] = smtp_server.received("<i-01JSTARTTLS00000000000001@example.com>")
    assert taken.sender == TEAM and taken.recipients == ["anna.berg@example.org"]
    assert taken.message["From"] == "Jonas Weber <service@example.com>"
    assert taken.message["In-Reply-To"] == "<q2@example.org>"
    assert taken.message.get_content().replace("\r\n", "\n") == message.get_content()  # SMTP carries CRLF


async def test_a_mail_sent_over_tls_from_the_start_arrives(smtp_tls_server: SmtpServer, certificates: Certificates,
                                                           password: str):
    await send_mail(_settings(smtp_tls_server.port, "ssl", certificates), _reply("i-01JSSL00000000000000000001"))
    assert len(smtp_tls_server.received("<i-01JSSL00000000000000000001@example.com>")) == 1


async def test_a_mail_sent_without_tls_or_login_arrives(plain_smtp_server: SmtpServer):
    await send_mail(_settings(plain_smtp_server.port, "none", user=None, host="127.0.0.1"),
                    _reply("i-01JPLAIN0000000000000001"))
    assert len(plain_smtp_server.received("<i-01JPLAIN0000000000000001@example.com>")) == 1


async def test_a_wrong_password_is_a_permanent_failure(smtp_server: SmtpServer, certificates: Certificates,
                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    with pytest.raises(SendFailed) as failed:
        await send_mail(_settings(smtp_server.port, "starttls", certificates), _reply("i-01JWRONGPW00000000000001"))
    assert failed.value.permanent
    assert failed.value.reason.startswith(f"login refused by localhost:{smtp_server.port}: 535 ")
    assert "not-the-password" not in failed.value.reason
    assert smtp_server.received("<i-01JWRONGPW00000000000001@example.com>") == []


async def test_an_unset_password_variable_is_a_permanent_failure(smtp_server: SmtpServer, certificates: Certificates,
                                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(SendFailed) as failed:
        await send_mail(_settings(smtp_server.port, "starttls", certificates), _reply("i-01JNOPW000000000000000001"))
    assert failed.value.permanent and failed.value.reason == f"smtp: ${PASSWORD_ENV} is not set"


@pytest.mark.parametrize(("to", "permanent", "answer"), [
    ("refused@example.org", True, "550 5.1.1 No such user here"),
    ("busy@example.org", False, "451 4.3.0 Mailbox busy, try again later"),
])
async def test_a_refused_recipient_is_permanent_on_5xx_and_passing_on_4xx(
        smtp_server: SmtpServer, certificates: Certificates, password: str, to: str, permanent: bool, answer: str):
    with pytest.raises(SendFailed) as failed:
        await send_mail(_settings(smtp_server.port, "starttls", certificates), _reply("i-01JRCPT00000000000000001",
                                                                                     to=to))
    assert failed.value.permanent is permanent
    assert failed.value.reason == f"localhost:{smtp_server.port} refused {to}: {answer}"


async def test_a_certificate_not_trusted_is_refused_in_one_line(smtp_server: SmtpServer, certificates: Certificates,
                                                                password: str):
    settings = _settings(smtp_server.port, "starttls")
    untrusted = SmtpSettings(**{**settings.__dict__, "ca_file": str(certificates.untrusted_ca_file)})
    with pytest.raises(SendFailed) as failed:
        await send_mail(untrusted, _reply("i-01JUNTRUSTED0000000000001"))
    assert failed.value.permanent
    assert failed.value.reason == (f"the certificate of localhost:{smtp_server.port} is not trusted (unable to get "
                                   "local issuer certificate); if a private CA issued it, name that CA's certificate "
                                   "in ca_file")


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections (the kernel's backlog) and never says a word, like a hung server."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        yield int(listening.getsockname()[1])


async def test_a_server_that_cannot_be_reached_is_a_passing_failure(closed_port: int):
    with pytest.raises(SendFailed) as failed:
        await send_mail(_settings(closed_port, "none", user=None, host="127.0.0.1"), _reply("i-01JCLOSED000000000001"))
    assert not failed.value.permanent
    assert failed.value.reason.startswith(f"cannot reach 127.0.0.1:{closed_port}: SMTPConnectError: ")


async def test_a_server_that_never_answers_times_out_as_a_passing_failure(silent_port: int):
    with pytest.raises(SendFailed) as failed:
        await send_mail(_settings(silent_port, "none", user=None, host="127.0.0.1", timeout=0.2),
                        _reply("i-01JSILENT000000000000001"))
    assert not failed.value.permanent
    assert failed.value.reason.startswith(f"cannot reach 127.0.0.1:{silent_port}: SMTPConnectTimeoutError")
