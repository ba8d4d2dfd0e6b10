"""``agentdesk channels check --channels FILE``: each configured channel tried once, one line each, never a secret.

IMAP: login and select. SMTP: connect, EHLO, STARTTLS (or TLS from the start), login. Twilio: a GET of the
account (``{api_base}/2010-04-01/Accounts/{sid}.json``) with its credentials. Webhook: its secret's variable
is set (nobody can be called to test it). Exit status 1 when any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from agentdesk.channels.config import (
    ChannelsConfig,
    ChannelsError,
    ImapSettings,
    SmtpSettings,
    TwilioSettings,
    WebhookSettings,
    load_channels,
)

CHECK_TIMEOUT_S = 15.0


def channels_check(args: argparse.Namespace) -> int:
    try:
        config = load_channels(Path(args.channels))
    except ChannelsError as exc:
        print(f"agentdesk: {exc}", file=sys.stderr)
        return 2
    results = asyncio.run(check_all(config))
    if not results:
        print(f"{args.channels}: no channel is configured")
        return 1
    width = max(len(name) for name, _, _ in results)
    for name, ok, detail in results:
        print(f"{name:<{width}}  {'ok' if ok else 'FAILED'}  {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


async def check_all(config: ChannelsConfig) -> list[tuple[str, bool, str]]:
    """(channel, worked, one line) for each configured channel, in the file's order of sections."""
    tried: tuple[tuple[str, Callable[[Any], Awaitable[str]]], ...] = (
        ("imap", _imap), ("smtp", _smtp), ("twilio", _twilio), ("webhook", _webhook))
    checks = [(name, partial(check, getattr(config, name))) for name, check in tried
              if getattr(config, name) is not None]
    results = []
    for name, check in checks:
        try:
            results.append((name, True, await asyncio.wait_for(check(), CHECK_TIMEOUT_S)))
        except TimeoutError:
            results.append((name, False, f"no answer within {CHECK_TIMEOUT_S:g} s"))
        except Exception as exc:  # noqa: BLE001 - every failure is a line of the report, not a traceback
            results.append((name, False, " ".join(str(exc).split()) or type(exc).__name__))
    return results


async def _imap(settings: ImapSettings) -> str:
    from agentdesk.server.imap import ImapFailure, open_mailbox

    try:
        client, selected = await open_mailbox(settings, timeout=CHECK_TIMEOUT_S)
    except (TimeoutError, OSError) as exc:
        raise ImapFailure(f"cannot connect to {settings.host}:{settings.port}: {type(exc).__name__}") from exc
    try:
        await client.logout()
    except Exception:  # noqa: BLE001, S110 - the check is done; a failed goodbye changes nothing
        pass
    return f"({settings.mailbox}, {selected.exists} messages)"


async def _smtp(settings: SmtpSettings) -> str:
    import aiosmtplib

    from agentdesk.channels.tls import certificate_refusal, untrusted

    password = settings.password() if settings.user else None  # no login: no password variable needed
    where = f"{settings.host}:{settings.port}"
    client = aiosmtplib.SMTP(hostname=settings.host, port=settings.port, use_tls=settings.security == "ssl",
                             start_tls=settings.security == "starttls", timeout=CHECK_TIMEOUT_S,
                             tls_context=settings.tls_context() if settings.security != "none" else None)
    try:
        await client.connect()
    except (OSError, aiosmtplib.SMTPException) as exc:
        if (refused := certificate_refusal(exc)) is not None:
            raise RuntimeError(untrusted(where, refused)) from exc
        raise RuntimeError(f"cannot connect to {where}: {type(exc).__name__}") from exc
    try:
        if settings.user and password is not None:
            try:
                await client.login(settings.user, password)
            except aiosmtplib.SMTPAuthenticationError as exc:
                raise RuntimeError(f"login refused by {where} ({exc.code} {' '.join(exc.message.split())})") \
                    from None
    finally:
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            pass
    return f"({where}, {settings.security}{', logged in' if settings.user else ''})"


async def _twilio(settings: TwilioSettings) -> str:
    import httpx

    token = settings.auth_token()
    url = f"{settings.api_base.rstrip('/')}/2010-04-01/Accounts/{settings.account_sid}.json"
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as client:
        try:
            response = await client.get(url, auth=(settings.account_sid, token))
        except httpx.HTTPError as exc:
            raise RuntimeError(f"cannot reach {settings.api_base}: {type(exc).__name__}") from exc
    if response.status_code in (401, 403):
        raise RuntimeError(f"account {settings.account_sid} refused the credentials ({response.status_code})")
    if response.status_code != 200:
        raise RuntimeError(f"{settings.api_base} answered {response.status_code}")
    status = response.json().get("status", "unknown") if "json" in response.headers.get("content-type", "") \
        else "unknown"
    return f"(account {settings.account_sid}, {status})"


async def _webhook(settings: WebhookSettings) -> str:
    settings.secret()
    return f"(${settings.secret_env} is set)"
