"""The head of the change log as this process knows it, and waiting for it to move.

Every ``/events`` listener waits on one :class:`HeadWatch`. Writes made by this process
advance it directly after commit; writes made by other backend processes on the same
database are learnt from the database:

* PostgreSQL: a dedicated asyncpg connection ``LISTEN``s on ``agentdesk_changes``
  (writers ``NOTIFY`` it with their last seq at commit), reconnecting when it drops;
* SQLite has no notifications: ``change_counter.last`` is polled every 0.2 s (a
  one-row primary-key read, cheap next to the WAL).

:func:`event_stream` is the ``/events`` response itself (``sse-starlette``): an event
``change`` with ``id`` = the head each time it moves, and a ``: keepalive`` comment (with an
empty ``keepalive`` event) every :data:`KEEPALIVE_S` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent

from agentdesk.retry import LISTEN_RECONNECT
from agentdesk.server.changes import NOTIFY_CHANNEL, head
from agentdesk.server.database import Database, asyncpg_dsn

log = logging.getLogger("agentdesk.server")

SQLITE_POLL_S = 0.2
KEEPALIVE_S = 5.0
"""Often enough that a quiet workstation can still say how fresh it is ("synced 3 s ago")."""


class HeadWatch:
    def __init__(self) -> None:
        self.head = 0
        self._moved = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    def advance(self, cursor: int) -> None:
        if cursor > self.head:
            self.head = cursor
            moved, self._moved = self._moved, asyncio.Event()
            moved.set()

    async def wait_beyond(self, cursor: int, timeout: float) -> int | None:
        """The head once it is past ``cursor``; None when ``timeout`` passed first or the watch closed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.head <= cursor:
            if self._closed:
                return None
            left = deadline - loop.time()
            if left <= 0:
                return None
            moved = self._moved
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moved.wait(), left)
        return self.head

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self, database: Database) -> None:
        async with database.read() as connection:
            self.advance((await head(connection))[0])
        follow = self._listen if database.postgres else self._poll
        self._task = asyncio.create_task(follow(database), name="agentdesk-head-watch")

    def close(self) -> None:
        """End every listener's wait (at shutdown: open event streams must not hold the server up)."""
        self._closed = True
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def stop(self) -> None:
        self.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self, database: Database) -> None:
        while True:
            await asyncio.sleep(SQLITE_POLL_S)
            try:
                async with database.read() as connection:
                    self.advance((await head(connection))[0])
            except Exception as exc:  # noqa: BLE001 - a busy or locked moment; the next poll will do
                log.warning("reading the change counter failed: %s", type(exc).__name__)

    async def _listen(self, database: Database) -> None:
        import asyncpg

        backoff = LISTEN_RECONNECT.backoff()
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(asyncpg_dsn(database.url))
                lost = asyncio.Event()
                # Bound now: a late call from an earlier connection must not wake the wait on a later one.
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(NOTIFY_CHANNEL, self._notified)
                # Anything committed while we were not listening.
                self.advance(int(await connection.fetchval("SELECT last FROM change_counter WHERE id = 1")))
                backoff.reset()
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database went away; try again
                failure: str | None = type(exc).__name__
            else:
                failure = None  # the connection was lost after it had worked: the first wait again
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=1)
            wait = backoff.next()
            if failure is not None:
                log.warning("listening for changes failed (%s); retrying in %.1f s", failure, wait)
            await asyncio.sleep(wait)

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self.advance(int(payload))


def event_stream(watch: HeadWatch, start: int | None, known: int) -> EventSourceResponse:
    """The ``/events`` response for a listener that has seen ``start`` (None: nothing), opened when the head was
    ``known``.

    A listener behind gets one event with the head at once, then one each time it moves.
    """
    return EventSourceResponse(_changes(watch, start, known), sep="\n", ping=KEEPALIVE_S,
                               ping_message_factory=keepalive_frame)


def keepalive_frame() -> ServerSentEvent:
    # The comment is what the protocol calls a keepalive; the empty event makes SSE readers
    # (which skip comments) see it too. A browser's EventSource dispatches neither.
    return ServerSentEvent(comment="keepalive", event="keepalive", data="", sep="\n")


async def _changes(watch: HeadWatch, start: int | None, known: int) -> AsyncIterator[ServerSentEvent]:
    cursor = known
    if start is not None and start < known:
        yield change_frame(known)
    elif start is not None:
        cursor = start
    while not watch.closed:
        moved = await watch.wait_beyond(cursor, KEEPALIVE_S)
        if moved is not None:
            cursor = moved
            yield change_frame(moved)


def change_frame(cursor: int) -> ServerSentEvent:
    return ServerSentEvent(f'{{"cursor": {cursor}}}', id=str(cursor), event="change", sep="\n")
