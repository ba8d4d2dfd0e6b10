"""The sync loop on a thread of its own, for a front end that waits on input (the plain session).

The plain session blocks on reading a line, so the loop cannot share its event loop;
here it gets one of its own. The session only reads the latest status between lines.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from agentdesk.sync.engine import Syncer
from agentdesk.sync.status import Kept, SyncStatus

KEPT_TIMEOUT = 10.0
"""Seconds the session waits for the list of kept items (a read of the store on the sync thread)."""


class BackgroundSync:
    def __init__(self, store: Path, server: str, token: str) -> None:
        self._store, self._server, self._token = store, server, token
        self._lock = threading.Lock()
        self._status: SyncStatus | None = None
        self._fresh: list[Kept] = []
        """Items set aside since the session last asked (see :meth:`take_fresh`)."""
        self._reports = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._syncer: Syncer | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._main, name="agentdesk-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def status(self) -> SyncStatus | None:
        with self._lock:
            return self._status

    def take_fresh(self) -> list[Kept]:
        """The items rejected or set aside since the last call, each told once."""
        with self._lock:
            fresh, self._fresh = self._fresh, []
        return fresh

    def kept(self) -> list[Kept]:
        """Every rejected mutation and change set aside that the store keeps; call it from another thread."""
        loop, syncer = self._loop, self._syncer
        if loop is None or syncer is None:  # the loop is still starting: read the store here
            return asyncio.run(self._kept_in_store())
        return asyncio.run_coroutine_threadsafe(syncer.kept(), loop).result(KEPT_TIMEOUT)

    async def _kept_in_store(self) -> list[Kept]:
        from agentdesk.sync.replica import Replica

        async with Replica.open(self._store) as replica:
            return await replica.kept()

    def nudge(self) -> None:
        """Something was queued: push it now rather than at the loop's next look."""
        if self._loop is not None and self._syncer is not None:
            self._loop.call_soon_threadsafe(self._syncer.nudge)

    def drain(self, timeout: float) -> SyncStatus | None:
        """Wait (up to ``timeout`` seconds) until nothing is waiting to be pushed; the last status."""
        deadline = time.monotonic() + timeout
        with self._lock:
            seen = self._reports
        self.nudge()
        while True:
            with self._lock:
                status, fresh = self._status, self._reports > seen  # a status from before the nudge may be stale
            if fresh and status is not None and (not status.waiting or status.online is False):
                return status
            if time.monotonic() >= deadline:
                return status
            time.sleep(0.05)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        from agentdesk.sync.client import BackendClient
        from agentdesk.sync.replica import Replica

        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        if self._stopping.is_set():
            return
        async with Replica.open(self._store) as replica, BackendClient(self._server, self._token) as backend:
            self._syncer = Syncer(replica, backend, on_status=self._keep, on_kept=self._set_aside)
            await self._syncer.run()

    def _keep(self, status: SyncStatus) -> None:
        with self._lock:
            self._status = status
            self._reports += 1

    def _set_aside(self, items: Sequence[Kept]) -> None:
        with self._lock:
            self._fresh.extend(items)
