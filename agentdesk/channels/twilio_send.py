"""SMS out through Twilio's REST API (``POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json``).

Plain httpx rather than the ``twilio`` package's client: that client is synchronous (its async
variant needs aiohttp), and the call is one form POST; the caller's :class:`httpx.AsyncClient` carries
the timeouts and connection pool. Twilio's error body (``code``, ``message``) is kept in the reason.
"""

from __future__ import annotations

from typing import Any

import httpx

from agentdesk.channels.config import ChannelsError, TwilioSettings
from agentdesk.channels.sending import SendFailed

TOO_MANY_REQUESTS = 429


def messages_url(settings: TwilioSettings) -> str:
    return f"{settings.api_base.rstrip('/')}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"


async def send_sms(settings: TwilioSettings, to: str, body: str, client: httpx.AsyncClient) -> str:
    """Sends ``body`` to ``to`` (E.164) from ``settings.from_``; Twilio's Message SID. :class:`SendFailed`:
    permanent for a 4xx answer (a number refused, credentials refused) other than 429, else passing."""
    if not settings.from_:
        raise SendFailed("twilio: no 'from' number in the channels file to send SMS from", permanent=True)
    try:
        token = settings.auth_token()
    except ChannelsError as exc:
        raise SendFailed(str(exc), permanent=True) from None
    try:
        response = await client.post(messages_url(settings), data={"To": to, "From": settings.from_, "Body": body},
                                     auth=(settings.account_sid, token))
    except httpx.HTTPError as exc:
        raise SendFailed(f"cannot reach {settings.api_base}: {_reason(exc)}", permanent=False) from None
    answer = _json(response)
    if response.is_success:
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            # It may have been taken: sending again could deliver it twice, so this failure is final.
            raise SendFailed(f"Twilio answered {response.status_code} without a message SID", permanent=True)
        return sid
    permanent = response.is_client_error and response.status_code != TOO_MANY_REQUESTS
    raise SendFailed(f"Twilio refused the SMS ({_said(response, answer)})", permanent=permanent)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _said(response: httpx.Response, answer: dict[str, Any]) -> str:
    """``400, code 21211: The 'To' number … is not a valid phone number.``"""
    status = str(response.status_code)
    code, message = answer.get("code"), answer.get("message")
    if code is not None:
        status += f", code {code}"
    text = message if isinstance(message, str) and message.strip() else response.reason_phrase
    return f"{status}: {' '.join(text.split())}" if text else status


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
