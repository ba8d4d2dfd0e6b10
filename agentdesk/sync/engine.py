"""The sync loop: push the outbox in order, pull changes after the cursor, follow the live stream.

Exactly once, end to end: a mutation keeps its client-made id and its frozen body
from the moment it is queued until the backend's answer is stored, so whatever is
lost on the way (the request, the answer, the process) is repaired by sending the
same thing again, and the backend answers a repeat with what it stored the first
time. Business refusals are answers too: they are stored and the queue moves on.

Nothing one item does stops the rest: a mutation the backend refuses to take (4xx) is
kept as rejected and the queue behind it moves on; one the backend fails on (500) is
tried again after growing waits and set aside after :data:`SERVER_FAILURES` attempts; a
change the store cannot apply is set aside (see :class:`~agentdesk.sync.replica.Replica`),
reported once to the backend's log, and tried again at later pulls.

The workstation runs :meth:`Syncer.run` for as long as it is open; ``agentdesk sync``
runs :meth:`Syncer.once`. Neither ever touches the screen: they report through the
``on_status`` and ``on_applied`` callbacks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from agentdesk.retry import RECONNECT, SERVER_FAILURES, mutation_wait
from agentdesk.store.outbox import OutboxItem
from agentdesk.sync.client import BackendClient, BackendRefused, RefetchNeeded, ServerFailed, Unreachable
from agentdesk.sync.mutations import describe, mutation_body
from agentdesk.sync.replica import Pulled, Replica
from agentdesk.sync.status import Kept, SyncStatus

PAGE = 10_000
"""Changes asked for per pull request (the backend gives at most 10,000), and records applied per local
transaction of a snapshot: fewer, larger transactions make a first sync of a million records about a tenth faster."""

IDLE_SECONDS = 1.0
"""How often the loop looks at the outbox and refreshes the status while nothing wakes it."""

PUSH_MOST = 100
"""Mutations sent in one request at most. A push starts with one and doubles the number with each answered
request: the first decision is answered as soon as one mutation can be, and after a failure the requests
shrink back to one, so a mutation the backend fails on is tried alone and its wait and attempts are its own."""

PUSH_BYTES = 512 << 10
"""What one push request's mutations may add up to, as JSON: half the backend's 1 MiB cap on a request body,
so a page of long replies goes in several requests (a single mutation goes alone, whatever its size)."""

REPORT_BATCH = 100
"""Set-aside changes told to the backend's log per request (the backend takes at most this many)."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _first_request(items: Sequence[OutboxItem], most: int) -> list[OutboxItem]:
    """The first of ``items`` that go in one request: at most ``most``, within :data:`PUSH_BYTES`, at least one."""
    taken: list[OutboxItem] = []
    size = 0
    for item in items[:most]:
        size += len(json.dumps(item.body, ensure_ascii=False).encode())  # as httpx sends it: UTF-8
        if taken and size > PUSH_BYTES:
            break
        taken.append(item)
    return taken


def _cursor(answer: dict[str, Any]) -> int | None:
    cursor = answer.get("cursor")
    return int(cursor) if cursor is not None else None


@dataclass
class SyncReport:
    applied: int = 0
    refused: list[str] = field(default_factory=list)
    """One line per business refusal: what was refused and why."""
    rejected: list[Kept] = field(default_factory=list)
    """Mutations the backend would not take at all, or failed on too often (kept in the outbox)."""
    retrying: list[str] = field(default_factory=list)
    """One line per mutation the backend failed on this time; it is tried again later."""
    pulled: int = 0
    """Records applied from the backend's changes."""
    set_aside: list[Kept] = field(default_factory=list)
    """Changes from the backend this pass could not apply (kept, tried again at later pulls)."""

    def add(self, other: SyncReport) -> None:
        self.applied += other.applied
        self.refused += other.refused
        self.rejected += other.rejected
        self.retrying += other.retrying
        self.pulled += other.pulled
        self.set_aside += other.set_aside


class Syncer:
    """One workstation store and one backend."""

    def __init__(self, replica: Replica, backend: BackendClient, *,
                 clock: Callable[[], datetime] = _utc_now,
                 on_status: Callable[[SyncStatus], None] | None = None,
                 on_applied: Callable[[], None] | None = None,
                 on_kept: Callable[[Sequence[Kept]], None] | None = None) -> None:
        """``on_kept`` is told of each mutation rejected and each change set aside, once, as it happens."""
        self.replica = replica
        self.backend = backend
        self.clock = clock
        self._on_status = on_status
        self._on_applied = on_applied
        self._on_kept = on_kept
        self._retry_at: dict[str, datetime] = {}
        """Mutations the backend failed on, and when to try each again."""
        self._push_size = 1
        """Mutations the next push request carries at most (see :data:`PUSH_MOST`)."""
        self._set_aside_tried = False
        """Whether this loop has tried the changes set aside earlier (once at its first pull, then after each
        pull that brought records, which may be what they lacked)."""

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
        """Send every outbox mutation, oldest first, a page of them per request, and store the answers of each
        request in one local transaction.

        Raises :class:`Unreachable` when the backend cannot be reached; what was answered
        so far is stored, the rest stays in the outbox.
        """
        report = SyncReport()
        after = 0
        while items := await self.replica.outbox(after=after, limit=PUSH_MOST):
            after = items[-1].seq
            now = self.clock()
            # One the backend failed on a moment ago gets its turn after its wait; the rest go now.
            due = [item for item in items if self._retry_at.get(item.id, now) <= now]
            while due:
                sent = _first_request(due, self._push_size)
                due = due[len(sent):]
                await self._push(sent, report)
        return report

    async def _push(self, items: list[OutboxItem], report: SyncReport) -> None:
        try:
            answers = await self.backend.push_mutations((item.id, mutation_body(item)) for item in items)
        except (Unreachable, BackendRefused) as exc:
            self._push_size = 1
            if isinstance(exc, ServerFailed):
                for item in items:
                    await self._server_failed(item, str(exc), report)
                return
            if isinstance(exc, Unreachable) or exc.status == 401:
                raise
            for item in items:
                await self._rejected(item, str(exc), report)
            return
        self._push_size = min(2 * self._push_size, PUSH_MOST)
        answered = []
        for item, answer in zip(items, answers, strict=True):
            if "detail" in answer:
                # The backend will never take this one (a conflict, a role that may not write):
                # keep it for the user to see, and let the queue behind it move on.
                await self._rejected(item, str(answer["detail"]), report)
                continue
            self._retry_at.pop(item.id, None)
            answered.append((item, answer))
        if not answered:
            return
        stored = await self.replica.answered(
            [(item.id, answer.get("records", ()), _cursor(answer)) for item, answer in answered],
            server=self.backend.base_url)
        self._set_aside(stored, report)
        for item, answer in answered:
            if answer.get("status") == "refused":
                report.refused.append(f"{describe(item)}: {answer.get('reason')}")
            else:
                report.applied += 1
        self._applied()

    async def _server_failed(self, item: OutboxItem, reason: str, report: SyncReport) -> None:
        """The backend failed on this mutation: wait longer before each new try; after the last, set it aside."""
        attempts = await self.replica.failed(item.id, reason)
        if attempts >= SERVER_FAILURES:
            self._retry_at.pop(item.id, None)
            await self._rejected(item, f"{reason}; tried {attempts} times", report)
            return
        self._retry_at[item.id] = self.clock() + mutation_wait(attempts)
        report.retrying.append(f"{describe(item)}: {reason}; tried {attempts} of {SERVER_FAILURES} times")

    async def _rejected(self, item: OutboxItem, reason: str, report: SyncReport) -> None:
        kept = await self.replica.reject(item, reason)
        report.rejected.append(kept)
        self._kept([kept])
        self._applied()  # the decision now reads as rejected

    async def pull(self, report: SyncReport | None = None) -> int:
        """Apply every change after the cursor, a page per local transaction; returns how many records.

        The next page is asked for while this one is applied, so the backend and the local
        store work at the same time. Records the store cannot hold are set aside (listed in
        ``report``), and those set aside before are tried again.
        """
        report = report if report is not None else SyncReport()
        server = self.backend.base_url
        cursor = await self.replica.cursor(server)
        first = cursor == 0
        filling = False
        applied = 0
        ahead = asyncio.ensure_future(self.backend.changes(cursor, PAGE))
        try:
            while True:
                page = await ahead
                cursor = int(page["cursor"])
                more = bool(page.get("more"))
                if more:
                    ahead = asyncio.ensure_future(self.backend.changes(cursor, PAGE))
                    if first:
                        # More than a page into a store that holds nothing yet: written as a bulk load
                        filling = await self.replica.begin_fill()
                first = False
                changes = page["changes"]
                stored = await self.replica.pulled([change["record"] for change in changes], cursor,
                                                   [change["seq"] for change in changes])
                applied += stored.applied
                self._set_aside(stored, report)
                self._head_seen = max(self._head_seen, int(page.get("head", cursor)))
                if changes:
                    self._applied()
                if not more:
                    self._pulled_to = cursor
                    break
                self._online, self._receiving = True, applied
                await self._report()
        except RefetchNeeded:
            applied += await self._refetch(report)
        except asyncio.CancelledError:
            filling = False  # not now, the workstation is closing: the next pull finishes the fill (the store notes it)
            raise
        finally:
            self._receiving = None
            if filling:
                await self.replica.end_fill()
            if not ahead.done():
                ahead.cancel()
            elif not ahead.cancelled():
                ahead.exception()  # a failed look-ahead after a failed page: taken note of, not reported twice
        return applied + await self._after_pull(brought=applied > 0)

    async def _after_pull(self, *, brought: bool) -> int:
        """Try the changes set aside again when records came that they may lack; tell the backend's log of new ones."""
        applied = 0
        if brought or not self._set_aside_tried:
            self._set_aside_tried = True
            applied, _still = await self.replica.retry_set_aside()
            if applied:
                self._applied()
        await self._tell_backend()
        return applied

    async def _tell_backend(self) -> None:
        """Report each change set aside once to the backend's log; an unreachable backend hears of it next time."""
        while unreported := (await self.replica.unreported())[:REPORT_BATCH]:
            try:
                await self.backend.report_set_aside(
                    {"type": kind, "id": ident, "seq": seq, "reason": reason}
                    for kind, ident, seq, reason in unreported)
            except Unreachable:
                return
            except BackendRefused as exc:
                if exc.status == 401:
                    raise
                # A backend that will not take the report (an older one without the route) never will:
                # it is not asked again; the workstation still lists what it set aside.
            await self.replica.reported(unreported)

    async def _refetch(self, report: SyncReport) -> int:
        """The cursor fell out of the change log: take the backend's whole state, then its cursor."""
        stream = self.backend.snapshot()
        first = await anext(stream)
        cursor = int(first["cursor"])
        applied, part = 0, []
        async for record in stream:
            part.append(record)
            if len(part) >= PAGE:
                applied += self._set_aside(await self.replica.pulled_part(part, cursor), report)
                part = []
        applied += self._set_aside(await self.replica.pulled_part(part, cursor), report)
        await self.replica.set_cursor(cursor)
        self._pulled_to = cursor
        self._applied()
        return applied

    async def once(self) -> SyncReport:
        """Push, then pull (answers to our own mutations come back in the pull as well)."""
        report = await self.push()
        report.pulled = await self.pull(report)
        await self._synced()
        return report

    async def kept(self) -> list[Kept]:
        """Every rejected mutation and every change set aside that this workstation keeps, with its reason."""
        return await self.replica.kept()

    # --- continuously ------------------------------------------------------------------

    def nudge(self) -> None:
        """Something was queued: push now rather than at the next idle look."""
        self._wake.set()

    async def status(self) -> SyncStatus:
        counts = await self.replica.counts()
        return SyncStatus(self._online, counts.waiting, counts.rejected, self._last_synced, self._problem,
                          self._receiving, counts.set_aside)

    async def run(self) -> None:
        """Sync until cancelled: reconnects by itself and drains the outbox whenever the backend answers."""
        self._last_synced = await self.replica.last_synced()
        listener = asyncio.create_task(self._listen(), name="agentdesk-sync-listen")
        backoff = RECONNECT.backoff()
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
        backoff = RECONNECT.backoff()
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

    def _set_aside(self, stored: Pulled, report: SyncReport) -> int:
        """Note the records a write set aside; returns how many it applied."""
        if stored.set_aside:
            report.set_aside += stored.set_aside
            self._kept(stored.set_aside)
        return stored.applied

    def _kept(self, items: Sequence[Kept]) -> None:
        if self._on_kept is not None:
            self._on_kept(items)


def _problem(exc: BackendRefused) -> str:
    if exc.status == 401:
        return "the backend does not know this token; run agentdesk login"
    return str(exc)
