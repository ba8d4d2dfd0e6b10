"""Replies handed to real providers on loopback: an aiosmtpd SMTP server (STARTTLS with a private CA, AUTH),
and a local HTTP server standing in for the SMS provider, which cannot be reached from here (it checks the
request the way the provider's Messages API takes it: path, basic auth, form fields)."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from agentdesk.channels.outbound import SendFailed, message_id, reply_mail, send_mail, send_sms
from tests.sms_provider import sms_provider  # noqa: F401 - fixture
from tests.smtp_server import plain_smtp_server, smtp_server, smtps_server, tls_ca  # noqa: F401 - fixtures

AT = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)


def mail(**changes: object):  # noqa: ANN201
    fields: dict = {"reply_id": "i-01ABC", "at": AT, "agent_name": "Jonas Weber",
                    "team_address": "service@example.com", "to": "p.lindner@example.net",
                    "subject": "Re: eSIM not activated", "body": "Grüße aus Nürnberg.\n\n-- \nJonas Weber",
                    "thread": ("<q1@example.net>", "<q2@example.net>")}
    fields.update(changes)
    return reply_mail(**fields)


def test_the_reply_mail_is_from_the_agent_at_the_team_address_and_threaded() -> None:
    message = mail()
    assert str(message["From"]) == "Jonas Weber <service@example.com>"
    assert (message["Reply-To"], message["To"], message["Subject"]) == (
        "service@example.com", "p.lindner@example.net", "Re: eSIM not activated")
    assert message["Message-ID"] == "<i-01ABC@example.com>" == message_id("i-01ABC", "service@example.com")
    assert (message["In-Reply-To"], message["References"]) == ("<q2@example.net>",
                                                               "<q1@example.net> <q2@example.net>")
    assert message.get_content() == "Grüße aus Nürnberg.\n\n-- \nJonas Weber\n"


def test_a_line_break_in_a_name_or_subject_makes_no_header() -> None:
    message = mail(agent_name="Jonas\r\nBcc: everyone@example.org", subject="Hi\nBcc: x@example.org")
    text = message.as_string()
    assert "\nBcc:" not in text and "\r\nBcc:" not in text


async def test_sent_over_starttls_with_login_and_the_server_has_it(smtp_server, tls_ca) -> None:
    taken = await send_mail(smtp_server.settings(ca_file=tls_ca.ca_file), mail())
    assert taken == "<i-01ABC@example.com>"
    (got,) = smtp_server.received
    assert got["Message-ID"] == "<i-01ABC@example.com>" and got["In-Reply-To"] == "<q2@example.net>"
    assert str(got["From"]) == "Jonas Weber <service@example.com>"
    assert got.get_content().replace("\r\n", "\n") == "Grüße aus Nürnberg.\n\n-- \nJonas Weber\n"


async def test_sent_over_tls_from_the_start_with_login(smtps_server, tls_ca) -> None:
    assert await send_mail(smtps_server.settings(security="ssl", ca_file=tls_ca.ca_file), mail()) == \
        "<i-01ABC@example.com>"
    assert [got["Message-ID"] for got in smtps_server.received] == ["<i-01ABC@example.com>"]


async def test_sent_without_tls_or_login_to_a_local_relay(plain_smtp_server) -> None:
    await send_mail(plain_smtp_server.settings(security="none", user=None), mail())
    assert [got["Message-ID"] for got in plain_smtp_server.received] == ["<i-01ABC@example.com>"]


def test_a_line_break_in_the_address_or_thread_is_refused_not_written() -> None:
    for changes in ({"to": "p.lindner@example.net\r\nBcc: everyone@example.org"},
                    {"thread": ("<q1@example.net>\r\nBcc: everyone@example.org",)}):
        with pytest.raises(ValueError, match="linefeed or carriage return"):
            mail(**changes)


async def test_a_certificate_not_trusted_is_refused_and_may_pass_once_fixed(smtp_server) -> None:
    with pytest.raises(SendFailed) as failed:
        await send_mail(smtp_server.settings(), mail())  # the system's CAs do not know the test CA
    assert not failed.value.permanent
    assert failed.value.reason == (f"the certificate of 127.0.0.1:{smtp_server.port} is not trusted (unable to get "
                                   "local issuer certificate); if a private CA issued it, name that CA's certificate "
                                   "in ca_file")
    assert smtp_server.received == []


async def test_a_refused_login_is_permanent_a_busy_server_may_pass_a_refusal_is_permanent(
        smtp_server, tls_ca, monkeypatch) -> None:
    monkeypatch.setenv("AGENTDESK_TEST_SMTP_PASSWORD", "wrong")
    with pytest.raises(SendFailed) as login:
        await send_mail(smtp_server.settings(ca_file=tls_ca.ca_file), mail())
    assert login.value.permanent and "login refused" in login.value.reason
    monkeypatch.setenv("AGENTDESK_TEST_SMTP_PASSWORD", "smtp-test-password")
    smtp_server.answer = "451 4.3.0 try again later"
    with pytest.raises(SendFailed) as busy:
        await send_mail(smtp_server.settings(ca_file=tls_ca.ca_file), mail())
    assert not busy.value.permanent and "451 4.3.0 try again later" in busy.value.reason
    smtp_server.answer = "554 5.7.1 message refused"
    with pytest.raises(SendFailed) as refused:
        await send_mail(smtp_server.settings(ca_file=tls_ca.ca_file), mail())
    assert refused.value.permanent and "554" in refused.value.reason
    assert smtp_server.received == []


async def test_nobody_listening_may_pass() -> None:
    from tests.backend import refused_url
    from tests.smtp_server import SmtpServer  # noqa: F401 - the settings' shape

    port = int(refused_url().rsplit(":", 1)[1])
    from agentdesk.channels.config import SmtpSettings

    with pytest.raises(SendFailed) as failed:
        await send_mail(SmtpSettings("127.0.0.1", port, "none", None, "service@example.com"), mail())
    assert not failed.value.permanent and "cannot hand it to" in failed.value.reason


# --------------------------------------------------------------------------- the SMS provider's stand-in


async def test_an_sms_is_posted_as_the_provider_takes_it(sms_provider) -> None:
    async with httpx.AsyncClient() as client:
        sid = await send_sms(sms_provider.settings(), "+491705550199", "Your eSIM is active.", client)
    assert sid == f"SM{1:032x}"
    assert sms_provider.taken == [{"To": "+491705550199", "From": "+49 911 555 0100", "Body": "Your eSIM is active."}]


async def test_the_providers_refusal_is_permanent_and_too_many_requests_may_pass(sms_provider) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(SendFailed) as bad:
            await send_sms(sms_provider.settings(), "0170 555 0199", "hi", client)
        assert bad.value.permanent and "is not a valid phone number. (error 21211)" in bad.value.reason
        sms_provider.status = 429
        with pytest.raises(SendFailed) as busy:
            await send_sms(sms_provider.settings(), "+491705550199", "hi", client)
        assert not busy.value.permanent and "429" in busy.value.reason
        with pytest.raises(SendFailed) as nowhere:
            await send_sms(sms_provider.settings(sender=None), "+491705550199", "hi", client)
        assert nowhere.value.permanent and "no 'from' number" in nowhere.value.reason
    assert sms_provider.taken == []
