"""Real backends for tests: ``agentdesk serve`` processes on loopback, on SQLite or PostgreSQL.

Not a test module; import what you need::

    from tests.backend import BACKENDS, Server, add_user, database, server  # noqa: F401 (fixtures)

    def test_something(server):                 # runs once per backend: [sqlite] and [postgresql]
        token = add_user(server.database, "a-7", "agent")
        httpx.get(f"{server.url}/me", headers={"Authorization": f"Bearer {token}"})

The API:

``database`` (fixture, parametrized over :data:`BACKENDS`)
    A fresh database URL: a SQLite file in ``tmp_path``, or a new PostgreSQL database
    ``agentdesk_t_<hex>`` on ``postgresql://root@127.0.0.1:5432`` dropped afterwards.
    Without PostgreSQL the postgresql case is skipped, unless ``$CI`` is set: then it fails.
``server`` (fixture)
    A started :class:`Server` on ``database``; stopped after the test.
``Server(database, *, authority=None, keep_changes=None, port=0)``
    A context manager around one ``agentdesk serve`` subprocess. ``.url``
    (``http://127.0.0.1:PORT``), ``.port``, ``.database``; ``.start()`` returns once
    ``/health`` answers; ``.stop()`` sends SIGTERM (then kills after 10 s);
    ``.restart()`` stops and starts it again on the same port; ``.output()`` is
    everything it wrote to stdout and stderr so far. Two ``Server``s on one database
    are two backend processes sharing it.
``postgres_database()``
    The context manager behind the fixture's PostgreSQL case, for other scopes.
``add_user(database, name, role, *, authority=None) -> str``
    Runs ``agentdesk users add`` and returns the token it printed.
``fetch(database, sql) -> list[tuple]``
    Rows of one SQL query, read straight from the backend's database (not through the server).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

BACKENDS = ("sqlite", "postgresql")
POSTGRES_ADMIN_URL = "postgresql://root@127.0.0.1:5432/test"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_LISTENING = re.compile(r"agentdesk backend on http://([^\s:]+|\[[^\]]+\]):(\d+) ")


def _agentdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentdesk", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AGENTDESK_DATABASE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --------------------------------------------------------------------------- PostgreSQL


def _run_async(coroutine_factory):  # noqa: ANN001, ANN202
    """Run a coroutine on a loop of its own (the caller may be inside a running loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_factory())).result()


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({reason})"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI is set, so the PostgreSQL tests must run")
    pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (or module); dropped afterwards."""
    import asyncpg

    name = f"agentdesk_t_{secrets.token_hex(6)}"

    async def create() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    try:
        _run_async(create)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        _postgres_unavailable(f"{type(exc).__name__}: {exc}")
    try:
        yield f"postgresql://root@127.0.0.1:5432/{name}"
    finally:
        _run_async(drop)


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "server.db")
        return
    with postgres_database() as url:
        yield url


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

        return _run_async(query)
    import sqlite3

    path = database.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    try:
        return list(connection.execute(sql))
    finally:
        connection.close()


# --------------------------------------------------------------------------- users


def add_user(database: str, name: str, role: str, *, authority: str | Path | None = None) -> str:
    """``agentdesk users add NAME --role ROLE``; the token it printed."""
    args = ["users", "add", name, "--role", role, "--database", database]
    if authority is not None:
        args += ["--authority", str(authority)]
    result = subprocess.run(_agentdesk(*args), capture_output=True, text=True, env=_env(), timeout=60)
    assert result.returncode == 0, f"users add failed ({result.returncode}): {result.stderr.strip()}"
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"users add printed {len(lines)} lines"
    return lines[0]


# --------------------------------------------------------------------------- the server process


class Server:
    """One ``agentdesk serve`` subprocess on 127.0.0.1."""

    def __init__(self, database: str, *, authority: str | Path | None = None, keep_changes: int | None = None,
                 port: int = 0) -> None:
        self.database = database
        self.authority = authority
        self.keep_changes = keep_changes
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._logs = Path(tempfile.mkdtemp(prefix="agentdesk-serve-"))
        self._runs = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        assert self._process is None, "already running"
        args = ["serve", "--database", self.database, "--host", "127.0.0.1", "--port", str(self.port)]
        if self.authority is not None:
            args += ["--authority", str(self.authority)]
        if self.keep_changes is not None:
            args += ["--keep-changes", str(self.keep_changes)]
        self._runs += 1
        stdout = self._logs / f"stdout.{self._runs}"
        stderr = self._logs / f"stderr.{self._runs}"
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            self._process = subprocess.Popen(_agentdesk(*args), stdout=out, stderr=err, env=_env())
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.port == 0:
            found = _LISTENING.search(stdout.read_text("utf-8", "replace"))
            if found:
                self.port = int(found.group(2))
                break
            self._check_alive(deadline)
            time.sleep(0.02)
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            self._check_alive(deadline)
            time.sleep(0.02)

    def _check_alive(self, deadline: float) -> None:
        assert self._process is not None
        if self._process.poll() is not None:
            self._process = None
            raise RuntimeError(f"agentdesk serve exited at start:\n{self.output()}")
        if time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"agentdesk serve did not answer /health within {START_TIMEOUT_S} s:\n{self.output()}")

    def stop(self) -> int | None:
        """SIGTERM, then kill if it has not exited within 10 s; the exit status."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def restart(self) -> None:
        """Stop and start again on the same port and database."""
        self.stop()
        self.start()

    def output(self) -> str:
        """All it wrote to stdout and stderr, over every start."""
        return "".join(path.read_text("utf-8", "replace") for path in sorted(self._logs.iterdir()))


@pytest.fixture
def server(database: str) -> Iterator[Server]:
    with Server(database) as running:
        yield running
