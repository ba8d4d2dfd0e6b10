"""Real backends for tests: ``agentdesk serve`` processes on loopback, on SQLite or PostgreSQL.

Not a test module; import what you need::

    from tests.backend import BACKENDS, Server, add_user, database, server  # noqa: F401 (fixtures)

    def test_something(server):                 # runs once per backend: [sqlite] and [postgresql]
        token = add_user(server.database, "a-7", "agent")
        httpx.get(f"{server.url}/me", headers={"Authorization": f"Bearer {token}"})

The API:

``database`` (fixture, parametrized over :data:`BACKENDS`)
    A fresh database URL: a SQLite file in ``tmp_path``, or a new PostgreSQL database
    ``agentdesk_t_<xdist worker>_<hex>`` on ``postgresql://root@127.0.0.1:5432`` dropped afterwards.
    Without PostgreSQL the postgresql case is skipped, unless ``$CI`` is set: then it fails.
``server`` (fixture)
    A started :class:`Server` on ``database``; stopped after the test.
``Server(database, *, authority=None, keep_changes=None, port=0, flags=())`` (from :mod:`benchmarks.backend`, shared)
    A context manager around one ``agentdesk serve`` subprocess. ``.url``
    (``http://127.0.0.1:PORT``), ``.port``, ``.database``; ``.start()`` returns once
    ``/health`` answers; ``.stop()`` sends SIGTERM (then kills after 10 s); ``.kill()`` sends SIGKILL;
    ``.restart()`` stops and starts it again on the same port; ``.output()`` is
    everything it wrote to stdout and stderr so far. Two ``Server``s on one database
    are two backend processes sharing it.
``in_process(database, *, keep_changes=None, channels=None)`` (async context manager)
    The backend's app (migrations run first, then its lifespan) in this process, on the test's
    event loop: an :class:`InProcess` whose ``.transport`` (httpx's ``ASGITransport``) stands
    where the socket would be, ``.url`` a name for it and ``.database``; ``channels``: a
    :class:`~agentdesk.channels.config.ChannelsConfig`, as ``serve --channels FILE`` passes it. ``.client(token)`` is an
    ``httpx.AsyncClient`` on it. For what needs no process of its own (no restart, kill, second
    server or child ``agentdesk``); ``BackendClient(backend.url, token, transport=backend.transport)``.
``refused_url() -> str``
    ``http://127.0.0.1:PORT`` where every connection is refused, the same for the whole process: the
    port stays bound here (never listening) until the process exits, so no other worker can start a
    server on it.
``postgres_database()``
    The context manager behind the fixture's PostgreSQL case, for other scopes.
``add_user(database, name, role, *, authority=None) -> str``
    Runs ``agentdesk users add`` (its code, in this process) and returns the token it printed;
    ``add_user_by_command`` runs the command in a child process, for the tests of the command.
``fetch(database, sql) -> list[tuple]``
    Rows of one SQL query, read straight from the backend's database (not through the server).
"""

from __future__ import annotations

import concurrent.futures
import functools
import io
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from agentdesk.channels.config import ChannelsConfig
from benchmarks.backend import PostgresUnavailable, Server, child_env, run_async
from benchmarks.backend import postgres_database as _postgres_database

__all__ = ["BACKENDS", "InProcess", "Server", "add_user", "add_user_by_command", "database", "fetch", "in_process",
           "postgres_database", "refused_url", "server"]

BACKENDS = ("sqlite", "postgresql")


def _agentdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentdesk", *args]


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI is set, so the PostgreSQL tests must run")
    pytest.skip(reason)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (or module); dropped afterwards.

    Named ``agentdesk_t_<xdist worker>_<hex>``: one left behind by a killed run says whose it was.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    try:
        with _postgres_database(prefix=f"agentdesk_t_{worker}_") as url:
            yield url
    except PostgresUnavailable as exc:
        _postgres_unavailable(str(exc))


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "server.db")
        return
    with postgres_database() as url:
        yield url


_HELD: list[socket.socket] = []


@functools.cache
def refused_url() -> str:
    """A loopback URL nobody listens on, for the rest of this process.

    A port picked and released at once could become another test's server before it is used;
    bound here (without listening) it refuses every connection and nobody else can bind it.
    """
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    _HELD.append(held)
    return f"http://127.0.0.1:{held.getsockname()[1]}"


def fetch(database: str, sql: str) -> list[tuple]:
    """Rows of ``sql`` read directly from the backend's database."""
    if database.startswith("postgresql://"):
        import asyncpg

        async def query() -> list[tuple]:
            connection = await asyncpg.connect(database, timeout=5)
            try:
                return [tuple(row) for row in await connection.fetch(sql)]
            finally:
                await connection.close()

        return run_async(query)
    import sqlite3

    path = database.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    try:
        return list(connection.execute(sql))
    finally:
        connection.close()


# --------------------------------------------------------------------------- users


def _users_add(database: str, name: str, role: str, authority: str | Path | None) -> list[str]:
    args = ["users", "add", name, "--role", role, "--database", database]
    return [*args, "--authority", str(authority)] if authority is not None else args


def add_user(database: str, name: str, role: str, *, authority: str | Path | None = None) -> str:
    """``agentdesk users add NAME --role ROLE``, the command's own code run in this process; the token it printed.

    In a thread of its own (the command runs its own event loop; the caller may be inside one), without
    the interpreter start a child process would cost. :func:`add_user_by_command` is the command itself.
    """
    from agentdesk.cli import main

    out, err = io.StringIO(), io.StringIO()

    def command() -> int:
        with redirect_stdout(out), redirect_stderr(err):
            return main(_users_add(database, name, role, authority))

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        status = thread.submit(command).result()
    assert status == 0, f"users add failed ({status}): {err.getvalue().strip()}"
    return _the_token(out.getvalue())


def add_user_by_command(database: str, name: str, role: str, *, authority: str | Path | None = None) -> str:
    """``agentdesk users add NAME --role ROLE`` in a child process; the token it printed."""
    result = subprocess.run(_agentdesk(*_users_add(database, name, role, authority)), capture_output=True,
                            text=True, env=child_env(), timeout=60)
    assert result.returncode == 0, f"users add failed ({result.returncode}): {result.stderr.strip()}"
    return _the_token(result.stdout)


def _the_token(printed: str) -> str:
    lines = printed.splitlines()
    assert len(lines) == 1, f"users add printed {len(lines)} lines"
    return lines[0]


@dataclass(frozen=True)
class InProcess:
    """The backend's app in this process (see :func:`in_process`)."""

    database: str
    transport: httpx.ASGITransport
    url: str = "http://backend.test"

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.AsyncClient(transport=self.transport, base_url=self.url, headers=headers, timeout=30)


@asynccontextmanager
async def in_process(database: str, *, keep_changes: int | None = None,
                     channels: ChannelsConfig | None = None) -> AsyncIterator[InProcess]:
    """What ``agentdesk serve --database DATABASE`` serves, on the running event loop, without a socket."""
    from agentdesk.server.app import create_app
    from agentdesk.server.database import database_url
    from agentdesk.server.migrate import upgrade

    url = database_url(database)
    await upgrade(url)
    app = create_app(url, keep_changes=keep_changes, channels=channels)
    async with app.router.lifespan_context(app):
        # A failing request is a 500 answer, as from the real server, not an exception in the test.
        yield InProcess(database, httpx.ASGITransport(app=app, raise_app_exceptions=False))


@pytest.fixture
def server(database: str) -> Iterator[Server]:
    with Server(database) as running:
        yield running
