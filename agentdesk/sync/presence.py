"""The workstation's side of presence: say which customer is open (and whether a reply is being typed), and
follow who else has which customer open.

:class:`Presence` holds what this workstation wants said, set from the front end's thread; :meth:`Presence.run`
(on the sync loop's event loop) says it to the backend when it changes and every heartbeat while it does not,
and asks the backend who is present every :data:`LOOK_SECONDS`, handing the list to ``on_seen`` when it
changed. A read-only user reports nothing (they have no write path) and only follows. The module is cheap
to import (the workstation makes a :class:`Presence` at start); the HTTP client comes with :meth:`Presence.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from agentdesk.domain.presence import Seen

if TYPE_CHECKING:
    from agentdesk.sync.client import BackendClient

LOOK_SECONDS = 1.0
"""How often who is present is asked for: a mark shows within about a second."""
HEARTBEAT_SECONDS = 10.0
"""How often an unchanged presence is said again (the backend forgets it after 30 s)."""


class Presence:
    def __init__(self, user: str | None, *, reports: bool) -> None:
        self.user = user
        """Whose presence this is (their own marks are not shown to them)."""
        self.reports = reports
        self._lock = threading.Lock()
        self._wanted: tuple[str | None, bool] = (None, False)
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def set(self, customer: str | None, typing: bool = False) -> None:
        """From any thread: this workstation now has ``customer`` open (None: none), typing or not."""
        with self._lock:
            if self._wanted == (customer, typing):
                return
            self._wanted = (customer, typing)
            loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._changed.set)

    async def run(self, backend: BackendClient, on_seen: Callable[[tuple[Seen, ...]], object]) -> None:
        """Until cancelled; an unreachable backend is tried again at the next look, silently (the sync
        loop's own status says the backend is offline). On the way out the mark is taken back."""
        from agentdesk.sync.client import BackendRefused, ServerFailed, Unreachable  # httpx: not at start-up

        self._loop = asyncio.get_running_loop()
        self._changed.set()
        said: tuple[str | None, bool] | None = None
        said_at = 0.0
        last: tuple[Seen, ...] | None = None
        try:
            while True:
                with self._lock:
                    wanted = self._wanted
                try:
                    if self.reports and (wanted != said or self._loop.time() - said_at >= HEARTBEAT_SECONDS):
                        await backend.put_presence(*wanted)
                        said, said_at = wanted, self._loop.time()
                    seen = tuple(s for s in await backend.presence() if s.user != self.user)
                    if seen != last:
                        last = seen
                        on_seen(seen)
                except (Unreachable, ServerFailed, BackendRefused):
                    said = None  # say it again once the backend answers
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), LOOK_SECONDS)
        finally:
            if self.reports and said is not None:
                with contextlib.suppress(Unreachable, ServerFailed, BackendRefused, asyncio.CancelledError):
                    await asyncio.shield(backend.delete_presence())
