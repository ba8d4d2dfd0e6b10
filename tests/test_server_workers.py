"""``agentdesk serve --workers N``: N backend processes on one port and one PostgreSQL, stopped together."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.backend import Server, add_user, fetch, postgres_database
from tests.test_server_batch import _records, _refund
from tests.test_server_cli import agentdesk


@pytest.fixture
def database() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def _workers(server: Server) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]


def test_two_processes_answer_on_one_port_and_stop_together(database: str) -> None:
    admin, agent = add_user(database, "admin", "admin"), add_user(database, "a-1", "agent")
    server = Server(database, flags=["--workers", "2"])
    server.start()
    try:
        workers = _workers(server)
        assert len(workers) == 2
        assert "(database postgresql://root@127.0.0.1:5432/" in server.output()
        assert server.output().count("agentdesk backend on http://127.0.0.1:") == 1  # said once, for both
        assert ", 2 processes)" in server.output()
        httpx.post(f"{server.url}/records", headers={"Authorization": f"Bearer {admin}"},
                   json={"records": _records_for(40)}).raise_for_status()

        async def push(n: int) -> dict:
            # A connection of its own each: the kernel gives each new connection to one of the processes.
            async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                         headers={"Authorization": f"Bearer {agent}"}) as http:
                mutation = _refund(str(n), "5.00", customer=f"c-{n}", case=f"k-{n}")
                answer = await http.post("/mutations/batch", json={"mutations": [mutation]})
                return answer.json()["results"][0]

        async def push_all() -> list[dict]:
            return await asyncio.gather(*(push(n) for n in range(40)))

        results = asyncio.run(push_all())
        assert [r["status"] for r in results] == ["applied"] * 40
        cursors = sorted(r["cursor"] for r in results)
        assert len(set(cursors)) == 40  # one change counter for both processes
        assert fetch(database, "SELECT count(*) FROM mutation") == [(40,)]
    finally:
        assert server.stop() == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "a process outlived the backend"


def _records_for(count: int) -> list[dict]:
    records = []
    for n in range(count):
        customer, case = _records(Decimal("500.00"))
        records += [{**customer, "id": f"c-{n}"}, {**case, "id": f"k-{n}", "customer": f"c-{n}"}]
    return records


def test_a_process_that_ends_at_once_stops_the_backend_in_one_line(database: str) -> None:
    server = Server(database, flags=["--workers", "2"])
    server.start()
    os.kill(_workers(server)[0], signal.SIGKILL)
    assert server._process is not None
    assert server._process.wait(30) == 1
    server._process = None
    assert "ended (signal 9)" in server.output() and "stopping the others" in server.output()


def test_workers_out_of_range_is_a_usage_error() -> None:
    result = agentdesk("serve", "--workers", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == "agentdesk: --workers must be between 1 and 64"
