"""The workstation and its backend: the sync loop as the app runs it, and its state in the header's words.

The loop itself is :class:`agentdesk.sync.engine.Syncer`; here it is started with
what the command line found (:class:`BackendLink`) and made to speak in messages:
:func:`follow` runs inside the app's sync worker, touches no widget and posts
:class:`~agentdesk.tui.messages.SyncStatusChanged`,
:class:`~agentdesk.tui.messages.SyncApplied`, :class:`~agentdesk.tui.messages.SyncKept`,
:class:`~agentdesk.tui.messages.SyncIdentity` and :class:`~agentdesk.tui.messages.SyncStopped`;
the app's handlers own the state.

Start-up stays cheap: the sync package pulls in httpx and SQLAlchemy, so it is
imported here only inside :func:`follow`, on a thread, after the first paint; and
the keyring (slow to load) is asked for the token there too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

from agentdesk.desk.identity import BackendLink, identify, token_key
from agentdesk.domain.text import one_line
from agentdesk.tui.messages import PresenceSeen, SyncApplied, SyncIdentity, SyncKept, SyncStatusChanged, SyncStopped
from agentdesk.tui.widgets.desk_header import SyncLine

if TYPE_CHECKING:
    from agentdesk.sync.engine import Syncer
    from agentdesk.sync.presence import Presence
    from agentdesk.sync.status import SyncStatus

LOCAL_ONLY = SyncLine("local only")
"""No backend: decisions stay on this machine (the demo, or a store used alone)."""
RESTART_SECONDS = 30.0
"""After an unexpected failure the sync loop starts over this much later."""


def status_line(status: SyncStatus, now: datetime) -> SyncLine:
    """The header's words for a state the loop reported; offline, stopped and rejected ask for the eye."""
    alert = status.problem is not None or status.online is False or status.rejected > 0 or status.set_aside > 0
    return SyncLine(one_line(status.words(now), 200), alert)


def _load_sync() -> tuple[Any, Any, Any, Callable[[BaseException], str]]:
    from agentdesk.sync.client import BackendClient
    from agentdesk.sync.engine import Syncer
    from agentdesk.sync.replica import Replica
    from agentdesk.sync.status import failure_words

    return BackendClient, Syncer, Replica, failure_words


async def follow(link: BackendLink, store: Path, clock: Callable[[], datetime],
                 post: Callable[[Message], object], started: Callable[[Syncer], None],
                 presence: Presence | None = None) -> None:
    """Sync ``store`` with the backend until cancelled; ``started`` gets the loop (to nudge it) each time it runs.

    Every failure ends as a message: nothing raises out of here but cancellation.
    """
    try:
        token = await asyncio.to_thread(link.find_token)
    except Exception as error:  # noqa: BLE001 - a keyring that fails to load is a missing token, said why
        post(SyncStopped(f"{link.no_token} (the keyring failed: {one_line(str(error), 120)})"))
        return
    if not token:
        post(SyncStopped(link.no_token))
        return
    backend_client, syncer_class, replica_class, failure_words = await asyncio.to_thread(_load_sync)
    while True:
        try:
            async with replica_class.open(store) as replica, backend_client(link.url, token) as backend:
                syncer = syncer_class(replica, backend, clock=clock,
                                      on_status=lambda status: post(SyncStatusChanged(status)),
                                      on_applied=lambda: post(SyncApplied()),
                                      on_kept=lambda items: post(SyncKept(tuple(items))))
                started(syncer)
                post(SyncStatusChanged(await syncer.status()))  # what waits, before the first answer
                remembered = await replica.user_of(token_key(token)) if link.user is None else None
                if remembered is not None:
                    post(SyncIdentity(remembered))  # said by the backend before: offline is no obstacle
                async with asyncio.TaskGroup() as group:
                    group.create_task(syncer.run(), name="agentdesk-sync")
                    if presence is not None:
                        group.create_task(presence.run(backend, lambda seen: post(PresenceSeen(seen))),
                                          name="agentdesk-presence")
                    if link.user is None and remembered is None:
                        group.create_task(identify(backend, partial(replica.remember_user, token_key(token)),
                                                   _told(post)), name="agentdesk-sync-identify")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - said in the header; the workstation goes on locally
            # Say it, then start over: a busy store file or a record this version cannot store
            # must not end syncing for the session (the outbox keeps everything meanwhile).
            failure = error.exceptions[0] if isinstance(error, ExceptionGroup) else error
            post(SyncStopped(f"sync stopped: {failure_words(failure)}; trying again in {RESTART_SECONDS:.0f} s"))
            await asyncio.sleep(RESTART_SECONDS)


def _told(post: Callable[[Message], object]) -> Callable[[str | None, str | None], None]:
    def told(name: str | None, why: str | None) -> None:
        post(SyncIdentity(name) if name is not None else SyncIdentity(None, why or "the backend named nobody"))
    return told
