"""The sync loop: push the outbox in order, pull changes after the cursor, follow the live stream.

Exactly once, end to end: a mutation keeps its client-made id and its frozen body
from the moment it is queued until the backend's answer is stored, so whatever is
lost on the way (the request, the answer, the process) is repaired by sending the
same thing again, and the backend answers a repeat with what it stored the first
time. Business refusals are answers too: they are stored and the queue moves on.

The workstation runs :meth:`Syncer.run` for as long as it is open; ``agentdesk sync``
runs :meth:`Syncer.once`. Neither ever touches the screen: they report through the
``on_status`` and ``on_applied`` callbacks.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from agentdesk.sync.client import BackendClient, BackendRefused, RefetchNeeded, Unreachable
from agentdesk.sync.mutations import describe, mutation_body
from agentdesk.sync.replica import Replica
from agentdesk.sync.status import SyncStatus

PAGE = 10_000
"""Changes asked for per pull request (the backend gives at most 10,000), and records applied per local
transaction of a snapshot: fewer, larger transactions make a first sync of a million records about a tenth faster."""

IDLE_SECONDS = 1.0
"""How often the loop looks at the outbox and refreshes the status while nothing wakes it."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Backoff:
    """Waits that double after each failure, from ``first`` up to ``cap``, with jitter so clients spread out."""

    def __init__(self, first: float = 0.2, cap: float = 30.0) -> None:
        self.first, self.cap = first, cap
        self._next = first

    def reset(self) -> None:
        self._next = self.first

    def next(self) -> float:
        wait, self._next = self._next, min(self._next * 2, self.cap)
        return wait * random.uniform(0.5, 1.0)


@dataclass
class SyncReport:
    applied: int = 0
    refused: list[str] = field(default_factory=list)
    """One line per business refusal: what was refused and why."""
    rejected: list[str] = field(default_factory=list)
    """One line per mutation the backend would not take at all (kept in the outbox)."""
    pulled: int = 0
    """Records applied from the backend's changes."""


class Syncer:
    """One workstation store and one backend."""

    def __init__(self, replica: Replica, backend: BackendClient, *,
                 clock: Callable[[], datetime] = _utc_now,
                 on_status: Callable[[SyncStatus], None] | None = None,
                 on_applied: Callable[[], None] | None = None) -> None:
        self.replica = replica
        self.backend = backend
        self.clock = clock
        self._on_status = on_status
        self._on_applied = on_applied
        self._online: bool | None = None
        self._problem: str | None = None
        self._last_synced: datetime | None = None
        self._wake = asyncio.Event()
        self._pull_wanted = True
        self._head_seen = 0
        self._receiving: int | None = None
        self._pulled_to = -1
        """The cursor after the last complete pull (-1: none yet)."""

    # --- one pass ----------------------------------------------------------------------

    async def push(self) -> SyncReport:
        """Send every outbox mutation, oldest first, and store each answer as it comes.

        Raises :class:`Unreachable` when the backend cannot be reached; what was answered
        so far is stored, the rest stays in the outbox.
        """
        report = SyncReport()
        while True:
            items = await self.replica.outbox()
            if not items:
                return report
            for item in items:
                try:
                    result = await self.backend.put_mutation(item.id, mutation_body(item))
                except BackendRefused as exc:
                    if exc.status == 401:
                        raise
                    # The backend will never take this one (a conflict, a role that may not write):
                    # keep it for the user to see, and let the queue behind it move on.
                    await self.replica.failed(item.id, str(exc), rejected=True)
                    report.rejected.append(f"{describe(item)}: {exc}")
                    continue
                cursor = result.get("cursor")
                await self.replica.answered(item.id, result.get("records", ()), server=self.backend.base_url,
                                            cursor=int(cursor) if cursor is not None else None)
                if result.get("status") == "refused":
                    report.refused.append(f"{describe(item)}: {result.get('reason')}")
                else:
                    report.applied += 1
                self._applied()

    async def pull(self) -> int:
        """Apply every change after the cursor, a page per local transaction; returns how many records.

        The next page is asked for while this one is applied, so the backend and the local
        store work at the same time.
        """
        server = self.backend.base_url
        cursor = await self.replica.cursor(server)
        applied = 0
        ahead = asyncio.ensure_future(self.backend.changes(cursor, PAGE))
        try:
            while True:
                page = await ahead
                cursor = int(page["cursor"])
                more = bool(page.get("more"))
                if more:
                    ahead = asyncio.ensure_future(self.backend.changes(cursor, PAGE))
                records = [change["record"] for change in page["changes"]]
                applied += await self.replica.pulled(records, cursor)
                self._head_seen = max(self._head_seen, int(page.get("head", cursor)))
                if records:
                    self._applied()
                if not more:
                    self._pulled_to = cursor
                    return applied
                self._online, self._receiving = True, applied
                await self._report()
        except RefetchNeeded:
            return applied + await self._refetch()
        finally:
            self._receiving = None
            if not ahead.done():
                ahead.cancel()
            elif not ahead.cancelled():
                ahead.exception()  # a failed look-ahead after a failed page: taken note of, not reported twice

    async def _refetch(self) -> int:
        """The cursor fell out of the change log: take the backend's whole state, then its cursor."""
        stream = self.backend.snapshot()
        first = await anext(stream)
        cursor = int(first["cursor"])
        applied, part = 0, []
        async for record in stream:
            part.append(record)
            if len(part) >= PAGE:
                applied += await self.replica.pulled_part(part)
                part = []
        applied += await self.replica.pulled_part(part)
        await self.replica.set_cursor(cursor)
        self._pulled_to = cursor
        self._applied()
        return applied

    async def once(self) -> SyncReport:
        """Push, then pull (answers to our own mutations come back in the pull as well)."""
        report = await self.push()
        report.pulled = await self.pull()
        await self._synced()
        return report

    # --- continuously ------------------------------------------------------------------

    def nudge(self) -> None:
        """Something was queued: push now rather than at the next idle look."""
        self._wake.set()

    async def status(self) -> SyncStatus:
        waiting, rejected = await self.replica.counts()
        return SyncStatus(self._online, waiting, rejected, self._last_synced, self._problem, self._receiving)

    async def run(self) -> None:
        """Sync until cancelled: reconnects by itself and drains the outbox whenever the backend answers."""
        self._last_synced = await self.replica.last_synced()
        listener = asyncio.create_task(self._listen(), name="agentdesk-sync-listen")
        backoff = Backoff()
        try:
            while True:
                try:
                    if self._pull_wanted:
                        self._pull_wanted = False
                        await self.pull()
                        await self._synced()
                    report = await self.push()
                    if report.applied or report.refused or report.rejected:
                        await self._synced()
                    self._problem = None
                    backoff.reset()
                    wait = IDLE_SECONDS
                except Unreachable:
                    self._online, self._pull_wanted = False, True
                    wait = backoff.next()
                except BackendRefused as exc:
                    self._problem, self._pull_wanted = _problem(exc), True
                    wait = backoff.cap
                await self._report()
                await self._sleep(wait)
        finally:
            listener.cancel()
            try:
                await listener
            except asyncio.CancelledError:
                pass

    async def _listen(self) -> None:
        """Follow the backend's live stream; each change it announces wakes the loop for a pull."""
        backoff = Backoff()
        while True:
            try:
                async for head in self.backend.events(self._head_seen or None):
                    backoff.reset()
                    if self._online is not True:
                        self._online, self._pull_wanted = True, True
                        self._wake.set()
                    if head is None:
                        if not self._pull_wanted and self._pulled_to >= self._head_seen:
                            # A keepalive on a quiet stream: nothing changed since the last pull.
                            self._last_synced = self.clock()
                        continue
                    if head > self._head_seen:
                        self._head_seen = head
                        self._pull_wanted = True
                        self._wake.set()
            except (Unreachable, BackendRefused):
                pass
            if self._online:
                self._online = False
                self._wake.set()
            await asyncio.sleep(backoff.next())

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def _synced(self) -> None:
        self._online = True
        self._last_synced = self.clock()
        await self.replica.synced_at(self._last_synced)

    async def _report(self) -> None:
        if self._on_status is not None:
            self._on_status(await self.status())

    def _applied(self) -> None:
        if self._on_applied is not None:
            self._on_applied()


def _problem(exc: BackendRefused) -> str:
    if exc.status == 401:
        return "the backend does not know this token; run agentdesk login"
    return str(exc)
