"""Group commit: requests that arrive while one transaction commits wait, then go together in the next one.

A commit costs a round trip and a flush to disk whatever it holds, and on the backend every
writer queues for the change counter row until the one before it committed (see ``changes``).
So concurrent requests of one kind are handed to a single drain task: it takes what is waiting
(at most ``batch``), runs ``flush`` over all of it as one transaction, answers each waiting
caller with its own result (or its own exception), and goes on while anything waits. With no
traffic there is no task; the first request starts one and it ends when the queue is empty.

Callers that answer in step fall out of step: while a batch of 20 commits, the one caller answered
first by the batch before comes back alone and starts a batch of 1, and the other 19 make the next
one, for ever after: two commits for 20. So when fewer wait than the last batch held, the drain task
waits for that many (for at most ``gather_s``, as PostgreSQL's ``commit_delay`` does for its WAL
flushes); a lone caller after a lone caller is never kept waiting.

``flush`` answers every item after its commit, so nothing is answered before it is stored. At
most ``waiting`` callers are queued; more wait for room (back pressure, not refusal). A caller
that gives up (cancelled) before its batch is taken is left out of it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class GroupCommit(Generic[Item, Answer]):
    """Concurrent :meth:`submit` calls, drained into ``flush`` calls of up to ``batch`` items each."""

    def __init__(self, flush: Callable[[Sequence[Item]], Awaitable[Sequence[Answer | Exception]]], *,
                 batch: int = 200, waiting: int = 2000, gather_s: float = 0.002) -> None:
        self._flush = flush
        self._batch = batch
        self._gather_s = gather_s
        self._last = 1
        """How many the last batch took."""
        self._arrived = asyncio.Event()
        self._room = asyncio.Semaphore(waiting)
        self._waiting: deque[tuple[Item, asyncio.Future[Answer]]] = deque()
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Answer:
        """``item``'s answer once the transaction that holds it committed; its exception when it failed."""
        async with self._room:
            future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
            self._waiting.append((item, future))
            self._arrived.set()
            if self._drainer is None:
                self._drainer = asyncio.create_task(self._drain())
            return await future

    async def _drain(self) -> None:
        taken: list[tuple[Item, asyncio.Future[Answer]]] = []
        try:
            while self._waiting:
                await self._gather()
                taken = []
                while self._waiting and len(taken) < self._batch:
                    item, future = self._waiting.popleft()
                    if not future.done():
                        taken.append((item, future))
                if not taken:
                    continue
                self._last = len(taken)
                answers: Sequence[Answer | Exception]
                try:
                    answers = await self._flush([item for item, _ in taken])
                except Exception as exc:  # noqa: BLE001 - every caller of the batch gets it, nothing is lost
                    answers = [exc] * len(taken)
                for (_, future), answer in zip(taken, answers, strict=True):
                    if future.done():
                        continue
                    if isinstance(answer, Exception):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
                taken = []
        except BaseException:
            # Cancelled (the server stops): no caller waits for an answer that will never come.
            for _, future in [*taken, *self._waiting]:
                future.cancel()
            self._waiting.clear()
            raise
        finally:
            self._drainer = None

    async def _gather(self) -> None:
        """Until as many wait as the last batch took, or ``gather_s`` passed."""
        expected = min(self._last, self._batch)
        if len(self._waiting) >= expected:
            return
        deadline = asyncio.get_running_loop().time() + self._gather_s
        while len(self._waiting) < expected:
            self._arrived.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                return
