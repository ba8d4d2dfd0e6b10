"""The channels' connectors that run inside the backend for its whole life (e-mail in over IMAP, …).

:func:`run_connectors` is started by the app's lifespan and cancelled at shutdown. Each connector
is one task; one that fails is logged (never with a secret) and the others keep running. Webhook
channels need no connector: their routes are in :mod:`agentdesk.server.webhooks`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from agentdesk.channels.config import ChannelsConfig
from agentdesk.server.database import Database

Connector = Callable[[], Awaitable[None]]


def _connectors(config: ChannelsConfig, database: Database, keep_changes: int | None) -> dict[str, Connector]:
    """The connectors the channels file asks for, by name (one line each to add)."""
    found: dict[str, Connector] = {}
    if config.imap is not None:
        from agentdesk.server.imap import ImapConnector

        found["imap"] = ImapConnector(database, config.imap, keep_changes=keep_changes).run
    return found


async def run_connectors(config: ChannelsConfig, database: Database, log: logging.Logger, *,
                         keep_changes: int | None = None) -> None:
    """Run every configured connector until cancelled."""
    connectors = _connectors(config, database, keep_changes)
    if not connectors:
        return
    tasks = [asyncio.create_task(_guarded(name, run, log), name=f"agentdesk-connector-{name}")
             for name, run in connectors.items()]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _guarded(name: str, run: Connector, log: logging.Logger) -> None:
    try:
        await run()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - one connector's end must not end the others or the backend
        log.error("connector %s stopped: %s", name, " ".join(str(exc).split()) or type(exc).__name__)
