"""E-mail out: the message of a reply (:func:`reply_mail`) and its handing to the [smtp] server (:func:`send_mail`).

The message is a function of the reply: the same reply id gives the same ``Message-ID``, so a mail
program that sees it twice shows it once, and the customer's answer (``In-Reply-To`` that id) can be
told apart from a new message. Every header value is put on one line before it is set, so a name or
a subject with a line break in it cannot add a header.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from agentdesk.channels.config import ChannelsError, SmtpSettings
from agentdesk.channels.sending import SendFailed
from agentdesk.channels.tls import client_context, untrusted

_ID_LEFT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
"""RFC 5322's dot-atom text: what may stand left of the ``@`` of a Message-ID."""
_MESSAGE_ID = re.compile(r"^<[^<>\s]+>$")
"""A Message-ID as the inbound mail parser keeps it; anything else (a line break in it) is left out."""


async def send_mail(settings: SmtpSettings, message: EmailMessage) -> None:
    """Hands ``message`` to the [smtp] server (envelope from its ``From`` and ``To``); :class:`SendFailed` when
    the server did not take it, ``permanent`` for a 5xx answer, a refused login or a certificate not trusted."""
    await _session(settings, message)


async def check_login(settings: SmtpSettings) -> None:
    """Connects, secures and logs in as :func:`send_mail` would, sending nothing; :class:`SendFailed` as there."""
    await _session(settings, None)


async def _session(settings: SmtpSettings, message: EmailMessage | None) -> None:
    where = f"{settings.host}:{settings.port}"
    try:
        password = settings.password() if settings.user else None
    except ChannelsError as exc:
        raise SendFailed(str(exc), permanent=True) from None
    client = aiosmtplib.SMTP(hostname=settings.host, port=settings.port, use_tls=settings.security == "ssl",
                             start_tls=settings.security == "starttls", timeout=settings.timeout,
                             tls_context=client_context(settings.ca_file) if settings.security != "none" else None)
    try:
        async with client:  # connects (and STARTTLS) on entry, QUIT on the way out
            if settings.user and password is not None:
                await client.login(settings.user, password)
            if message is not None:
                await client.send_message(message)
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise _failure(exc, where) from None


def _failure(exc: Exception, where: str) -> SendFailed:
    """What the server's answer (or silence) means for trying again, in one line."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendFailed(f"login refused by {where}: {_answer(exc)}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        if not exc.recipients:
            return SendFailed(f"{where} refused the recipient", permanent=True)
        refused = exc.recipients[0]
        return SendFailed(f"{where} refused {refused.recipient}: {_answer(refused)}", permanent=refused.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendFailed(f"{where} answered {_answer(exc)}", permanent=exc.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected |
                  aiosmtplib.SMTPTimeoutError | OSError):
        if (refused_certificate := _certificate_refusal(exc)) is not None:
            # Trying again cannot help until the server's certificate or our ca_file changes.
            return SendFailed(untrusted(where, refused_certificate), permanent=True)
        return SendFailed(f"cannot reach {where}: {_reason(exc)}", permanent=False)
    # What is left is a mismatch of abilities (no STARTTLS offered, no login method in common): it stays.
    return SendFailed(f"{where}: {_reason(exc)}", permanent=True)


def reply_mail(*, reply_id: str, agent_name: str, team_address: str, to: str, subject: str, body: str,
               at: datetime, thread: Sequence[str] = ()) -> EmailMessage:
    """The e-mail of reply ``reply_id``: from the agent by name at the team address (``smtp.from``), answers
    coming back to the team address, threaded after the customer's Message-IDs in ``thread`` (oldest first;
    ``In-Reply-To`` is the last). ``subject`` is the case's; it gets one ``Re:``. :class:`SendFailed`
    (permanent) when an address cannot be written."""
    team = _address(team_address, "team address (smtp.from)")
    customer = _address(to, "customer's address")
    if not _ID_LEFT.match(reply_id):
        raise SendFailed(f"reply id {reply_id!r} cannot make a Message-ID", permanent=True)
    message = EmailMessage()
    message["From"] = Address(display_name=_one_line(agent_name), addr_spec=team.addr_spec)
    message["Reply-To"] = team
    message["To"] = customer
    message["Subject"] = re_subject(subject)
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<{reply_id}@{team.domain}>"
    ids = [ident for ident in thread if _MESSAGE_ID.match(ident)]
    if ids:
        message["In-Reply-To"] = ids[-1]
        message["References"] = " ".join(ids)
    message.set_content(body, subtype="plain", charset="utf-8")
    return message


def re_subject(subject: str) -> str:
    """``Re: `` and the subject on one line, never ``Re: Re: ``."""
    flat = _one_line(subject)
    return flat if flat.lower().startswith("re:") else f"Re: {flat}"


def _address(text: str, what: str) -> Address:
    try:
        address = Address(addr_spec=_one_line(text))
    except (ValueError, IndexError) as exc:
        raise SendFailed(f"the {what} {text!r} is not an e-mail address ({exc})", permanent=True) from None
    if not address.username or not address.domain:
        raise SendFailed(f"the {what} {text!r} is not an e-mail address", permanent=True)
    return address


def _one_line(text: str) -> str:
    """Every run of white space (line breaks included) as one space: a value can never start a new header."""
    return " ".join(text.split())


def _certificate_refusal(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _answer(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {_one_line(exc.message)}"


def _reason(exc: BaseException) -> str:
    text = _one_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
