"""Real backends for the benchmarks and the tests: ``agentdesk serve`` subprocesses on loopback, users, PostgreSQL.

Plain Python (no pytest): ``tests/backend.py`` builds its fixtures on this module.

``Server(database, *, authority=None, keep_changes=None, port=0, flags=())``
    A context manager around one ``agentdesk serve`` subprocess on 127.0.0.1 (a free port
    unless given; ``flags`` are more options of ``serve``); ``.url``; ``.start()`` returns once
    ``/health`` answers; ``.stop()`` sends SIGTERM; ``.kill()`` SIGKILL (a crash: no shutdown at all);
    ``.restart()`` on the same port; ``.output()``;
    ``.cpu_seconds()`` is the process's user + system CPU time so far (from ``/proc``). The process
    is forked from one that has imported the backend already (:mod:`benchmarks.forked`), unless
    ``.command`` is set to something else to run (a profiler in front of ``agentdesk``, say).
``add_users(database, [(name, role), …]) -> {name: token}``
    What ``agentdesk users add`` does (migrations, then ``agentdesk.server.users.add_user``),
    in this process: twenty users cost milliseconds instead of twenty interpreter starts.
``postgres_database()``
    A new, empty PostgreSQL database on ``postgresql://root@127.0.0.1:5432``, dropped
    afterwards; raises :class:`PostgresUnavailable` when the server cannot be reached.
``upload_records(url, token, records, batch=5000)``
    What ``agentdesk import --server`` does (``agentdesk.sync.upload``), for loading a backend.
``run_async(factory)``
    A coroutine run on a loop of its own thread (callers may be inside a running loop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.forked import Forked

POSTGRES_SERVER = "postgresql://root@127.0.0.1:5432"
POSTGRES_ADMIN_URL = f"{POSTGRES_SERVER}/test"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_LISTENING = re.compile(r"agentdesk backend on http://([^\s:]+|\[[^\]]+\]):(\d+) ")


class PostgresUnavailable(Exception):
    """PostgreSQL could not be reached; the message says why (one line)."""


def run_async(factory):  # noqa: ANN001, ANN201
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def child_env() -> dict[str, str]:
    """The environment for a child ``agentdesk``: unbuffered, and the database only as given."""
    env = dict(os.environ)
    env.pop("AGENTDESK_DATABASE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextmanager
def postgres_database(prefix: str = "agentdesk_b_") -> Iterator[str]:
    """A fresh PostgreSQL database ``<prefix><hex>``; dropped (WITH FORCE) afterwards."""
    import asyncpg

    name = f"{prefix}{secrets.token_hex(6)}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    try:
        run_async(lambda: admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise PostgresUnavailable(f"PostgreSQL at {POSTGRES_SERVER} is not reachable "
                                  f"({type(exc).__name__}: {exc})") from None
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        run_async(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def add_users(database: str, users: list[tuple[str, str]]) -> dict[str, str]:
    """Create the users (with their agent records) and return their tokens, as ``agentdesk users add`` would."""
    from agentdesk.server.database import Database, database_url
    from agentdesk.server.migrate import upgrade
    from agentdesk.server.users import add_user

    async def run() -> dict[str, str]:
        url = database_url(database)
        await upgrade(url)
        tokens = {}
        async with Database.open(url) as opened:
            for name, role in users:
                tokens[name] = (await add_user(opened, name, role))[0]
        return tokens

    return run_async(run)


class Server:
    """One ``agentdesk serve`` subprocess on 127.0.0.1 (the tests' ``tests/backend.py`` uses it too)."""

    def __init__(self, database: str, *, authority: str | Path | None = None, keep_changes: int | None = None,
                 port: int = 0, flags: Sequence[str] = ()) -> None:
        self.database = database
        self.authority = authority
        self.keep_changes = keep_changes
        self.port = port
        self.flags = list(flags)
        self.command: list[str] | None = None
        """What runs ``agentdesk`` in a new interpreter (a profiler may be put in front of it); None: forked."""
        self._process: subprocess.Popen[bytes] | Forked | None = None
        self._logs = Path(tempfile.mkdtemp(prefix="agentdesk-serve-"))
        self._runs = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        shutil.rmtree(self._logs, ignore_errors=True)

    def start(self) -> None:
        """Start it and return once ``/health`` answers (on the port it chose, when given 0)."""
        assert self._process is None, "already running"
        args = ["serve", "--database", self.database, "--host", "127.0.0.1", "--port", str(self.port), *self.flags]
        if self.authority is not None:
            args += ["--authority", str(self.authority)]
        if self.keep_changes is not None:
            args += ["--keep-changes", str(self.keep_changes)]
        self._runs += 1
        stdout, stderr = self._logs / f"stdout.{self._runs}", self._logs / f"stderr.{self._runs}"
        stdout.touch()
        stderr.touch()
        if self.command is None:
            self._process = Forked(args, child_env(), stdout, stderr)
        else:
            with open(stdout, "wb") as out, open(stderr, "wb") as err:
                self._process = subprocess.Popen([*self.command, *args], stdout=out, stderr=err, env=child_env())
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.port == 0:
            found = _LISTENING.search(stdout.read_text("utf-8", "replace"))
            if found:
                self.port = int(found.group(2))
                break
            self._check_alive(deadline)
            time.sleep(0.02)
        # One client for every poll: httpx builds a TLS context per client (about 40 ms of reading the CA
        # bundle), and a start polls dozens of times while the server imports.
        with httpx.Client(timeout=1.0) as http:
            while True:
                try:
                    if http.get(f"{self.url}/health").status_code == 200:
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

    def kill(self) -> int | None:
        """SIGKILL, as a crash or the OOM killer would end it (no shutdown code runs); the exit status."""
        process, self._process = self._process, None
        if process is None:
            return None
        process.kill()
        return process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port and database."""
        self.stop()
        self.start()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far: its process and the processes it started
        (``--workers``)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return sum(_cpu_seconds(int(pid)) for pid in [self.pid, *children])

    def output(self) -> str:
        """All it wrote to stdout and stderr, over every start."""
        return "".join(path.read_text("utf-8", "replace") for path in sorted(self._logs.iterdir()))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def upload_records(url: str, token: str, records: list[dict], batch: int = 5000) -> Any:
    """``POST /records`` in batches with an admin token, as ``agentdesk import --server`` does; the summary."""
    from agentdesk.sync.client import BackendClient
    from agentdesk.sync.upload import upload

    async def run() -> Any:
        async with BackendClient(url, token) as backend:
            return await upload(backend, records, batch=batch)

    return run_async(run)


def one_and_two_processes(name: str, unit: str, target: Any,
                          run: Callable[[str, str, int], Any]) -> list[Any]:
    """``run(database, row name, workers)`` on a fresh PostgreSQL database with one ``serve`` process (row
    ``name``) and with ``--workers 2`` (row ``name_2``); a row says "skipped" without PostgreSQL."""
    from benchmarks.stats import Result

    results = []
    for row, workers in ((name, 1), (f"{name}_2", 2)):
        try:
            with postgres_database() as database:
                results.append(run(database, row, workers))
        except PostgresUnavailable as exc:
            results.append(Result.skipped(row, unit, target, str(exc)))
    return results


def process_cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    times = os.times()
    return times.user + times.system


async def raw_commit_rate(database: str, connections: int, per_connection: int, tag: str) -> float:
    """The baseline of the backend's write rates: single-row INSERT + COMMIT into a plain table from
    ``connections`` asyncpg connections at once, ``per_connection`` each; commits a second."""
    import asyncpg

    opened = [await asyncpg.connect(database) for _ in range(connections)]
    try:
        await opened[0].execute(
            "CREATE TABLE IF NOT EXISTS bench_probe (id TEXT PRIMARY KEY, at_us BIGINT NOT NULL, body TEXT)")

        async def commits(k: int, connection: Any) -> None:
            for j in range(per_connection):
                async with connection.transaction():
                    await connection.execute("INSERT INTO bench_probe (id, at_us, body) VALUES ($1, $2, $3)",
                                             f"{tag}-{k}-{j}", time.time_ns() // 1000, "probe")

        started = time.perf_counter()
        await asyncio.gather(*(commits(k, c) for k, c in enumerate(opened)))
        return connections * per_connection / (time.perf_counter() - started)
    finally:
        for connection in opened:
            await connection.close()
