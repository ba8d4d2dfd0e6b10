"""A plain ``sqlite3`` connection that lives on one thread of its own.

The ledger (durable writes) and the workstation's store watcher each keep one:
the event loop hands them work and never waits on SQLite itself, and the
connection is only ever touched from the thread that made it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class OwnThread:
    """Runs functions on the connection's thread: ``await thread.run(fn, *args)``; ``fn`` uses :attr:`db`."""

    def __init__(self, connection: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self.db = connection
        self._executor = executor

    @classmethod
    @asynccontextmanager
    async def open(cls, connect: Callable[[], sqlite3.Connection], name: str) -> AsyncIterator[OwnThread]:
        """``connect`` runs on the new thread; the connection is closed there when the context ends."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(executor, connect)
            try:
                yield cls(connection, executor)
            finally:
                await loop.run_in_executor(executor, connection.close)
        finally:
            executor.shutdown(wait=True)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, partial(function, *args))
