"""Handing a reply to its provider: an e-mail to the SMTP server, an SMS to the SMS provider's REST API.

Each call either returns the provider's id of what it took or raises :class:`SendFailed`, saying in one
line why and whether trying again may help. What counts as "may pass" follows the protocols: an SMTP
``4xx`` answer, a connection refused or dropped, a timeout; an HTTP ``429`` or ``5xx``. A ``5xx`` SMTP
answer, a refused login, an HTTP ``4xx``: trying again cannot help.

The SMS provider's API is called with httpx rather than the ``twilio`` package's REST client: its base
address is configurable here (``api_base``, for a regional edge or a stand-in in tests), which that
client does not offer, and the request is one form POST with basic auth.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import httpx

from agentdesk.channels.config import ChannelsError, SmtpSettings, TwilioSettings
from agentdesk.channels.tls import certificate_refusal, untrusted
from agentdesk.domain.text import one_line

SEND_TIMEOUT_S = 60.0
"""For one SMTP conversation or one API call."""


class SendFailed(Exception):
    """The provider did not take the message. ``permanent``: trying again cannot help (an address or a
    login refused); else it may pass (a connection refused, a busy server)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason, self.permanent = one_line(reason, 300), permanent


def message_id(reply_id: str, team_address: str) -> str:
    """``<i-01…@example.com>``: made from the reply's id, so a second attempt carries the same one."""
    return f"<{reply_id}@{team_address.rpartition('@')[2]}>"


def reply_mail(*, reply_id: str, at: datetime, agent_name: str, team_address: str, to: str, subject: str,
               body: str, thread: Sequence[str] = ()) -> EmailMessage:
    """The e-mail of a reply: from the agent by name at the team address, answers to the team address,
    threaded into the customer's conversation (``In-Reply-To`` the last of ``thread``, ``References`` all)."""
    message = EmailMessage()
    user, _, domain = team_address.rpartition("@")
    # Names and subjects are one line: a line break in a header would start a header of the sender's making.
    message["From"] = Address(one_line(agent_name, 120), user, domain)
    message["Reply-To"] = team_address
    message["To"] = to
    message["Subject"] = one_line(subject, 250)
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id(reply_id, team_address)
    if thread:
        message["In-Reply-To"] = thread[-1]
        message["References"] = " ".join(thread)
    message.set_content(body, subtype="plain", charset="utf-8")
    return message


async def send_mail(settings: SmtpSettings, message: EmailMessage) -> str:
    """Hand ``message`` to the SMTP server; its Message-ID once the server took it."""
    where = f"{settings.host}:{settings.port}"
    try:
        password = settings.password() if settings.user else None
    except ChannelsError as exc:
        raise SendFailed(str(exc), permanent=True) from None
    try:
        await aiosmtplib.send(
            message, hostname=settings.host, port=settings.port, username=settings.user, password=password,
            use_tls=settings.security == "ssl", start_tls=settings.security == "starttls",
            tls_context=settings.tls_context() if settings.security != "none" else None,
            timeout=SEND_TIMEOUT_S)
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise SendFailed(f"login refused by {where} ({exc.code} {exc.message})", permanent=True) from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = exc.recipients[0] if exc.recipients else None
        words = f"{refused.code} {refused.message}" if refused is not None else "the address was refused"
        permanent = refused is None or refused.code >= 500
        raise SendFailed(f"{where} refused {message['To']}: {words}", permanent=permanent) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise SendFailed(f"{where} answered {exc.code} {exc.message}", permanent=exc.code >= 500) from None
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError) as exc:
        if (certificate := certificate_refusal(exc)) is not None:
            raise SendFailed(untrusted(where, certificate), permanent=False) from None
        raise SendFailed(f"cannot hand it to {where}: {_reason(exc)}", permanent=False) from None
    return str(message["Message-ID"])


async def send_sms(settings: TwilioSettings, to: str, body: str, client: httpx.AsyncClient) -> str:
    """Send ``body`` to ``to`` through the provider's Messages API; the message's SID."""
    url = f"{settings.api_base}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
    if not settings.from_:
        raise SendFailed("[twilio] has no 'from' number to send from", permanent=True)
    try:
        token = settings.auth_token()
    except ChannelsError as exc:
        raise SendFailed(str(exc), permanent=True) from None
    try:
        response = await client.post(url, data={"To": to, "From": settings.from_, "Body": body},
                                     auth=(settings.account_sid, token), timeout=SEND_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise SendFailed(f"cannot reach {settings.api_base}: {_reason(exc)}", permanent=False) from None
    answer = _json(response)
    if response.status_code in (200, 201) and isinstance(answer.get("sid"), str):
        return answer["sid"]
    words = answer.get("message") or response.reason_phrase
    code = f" (error {answer['code']})" if answer.get("code") is not None else ""
    may_pass = response.status_code == 429 or response.status_code >= 500
    raise SendFailed(f"{settings.api_base} answered {response.status_code}: {words}{code}", permanent=not may_pass)


def _json(response: httpx.Response) -> dict:
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
