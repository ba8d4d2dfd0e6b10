"""Live latency: a write on the backend until a client following ``/events`` hears of it.

A real ``agentdesk serve`` on SQLite holds an agent and a customer. A client follows the
live stream with ``BackendClient.events()`` (what the workstation's sync loop does) on
its own connection; another connection, with an admin token, uploads one new interaction
per sample (``POST /records``). Measured: from just before the POST is sent until the
listener receives the event whose cursor covers that write (the client would pull at
once; the issue's promise is that a new interaction reaches an open customer view within
a second). Samples are a little apart, so each event carries one write.

Baseline, interleaved: the round trip of ``GET /health`` on the same server from the same
client, so the ratio shows what the write and the fan-out cost beyond a request.

``live_latency_pg`` (when PostgreSQL is reachable): the same over two backend processes on
one fresh PostgreSQL database, writing through one and listening on the other, so each
event travels by ``NOTIFY``/``LISTEN``.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from benchmarks.backend import PostgresUnavailable, Server, add_users, postgres_database
from benchmarks.stats import Result, Target
from benchmarks.workspace import Workspace

TARGET = Target.p95_at_most(1000, "ms")
WARM_UP = 2
GAP_S = 0.05
CUSTOMER = {"type": "customer", "id": "c-live", "name": "Live Customer", "email": "live@example.net",
            "timezone": "Europe/Berlin"}


def _interaction(n: int) -> dict:
    return {"type": "interaction", "id": f"live-{n}", "customer": "c-live", "channel": "chat",
            "direction": "in", "at": f"2025-03-01T10:{n // 60 % 60:02d}:{n % 60:02d}+01:00",
            "author": "c-live", "body": f"hello again, message {n}"}


async def _samples(write_url: str, listen_url: str, tokens: dict[str, str], count: int,
                   ) -> tuple[list[float], list[float]]:
    from agentdesk.sync.client import BackendClient

    admin = httpx.AsyncClient(base_url=write_url, headers={"Authorization": f"Bearer {tokens['live-admin']}"},
                              timeout=30)
    upload = await admin.post("/records", json={"records": [CUSTOMER]})
    upload.raise_for_status()
    probe = httpx.AsyncClient(base_url=listen_url, timeout=30)
    heard: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    connected = asyncio.Event()

    async def listen() -> None:
        async with BackendClient(listen_url, tokens["live-reader"]) as backend:
            async for head in backend.events(None):
                if head is None:
                    connected.set()
                else:
                    heard.put_nowait((head, time.perf_counter()))

    listener = asyncio.create_task(listen())
    ours: list[float] = []
    theirs: list[float] = []
    try:
        await asyncio.wait_for(connected.wait(), 10)
        last = (await probe.get("/health")).json()["cursor"]
        for n in range(WARM_UP + count):
            await asyncio.sleep(GAP_S)
            started = time.perf_counter()
            response = await admin.post("/records", json={"records": [_interaction(n)]})
            response.raise_for_status()
            if response.json()["changed"] != 1:
                raise RuntimeError(f"live_latency: the write of interaction {n} changed nothing")
            while True:
                head, at = await asyncio.wait_for(heard.get(), 10)
                if head > last:
                    last = head
                    break
            took = at - started
            await asyncio.sleep(GAP_S)
            started = time.perf_counter()
            (await probe.get("/health")).raise_for_status()
            round_trip = time.perf_counter() - started
            if n >= WARM_UP:
                ours.append(took * 1000)
                theirs.append(round_trip * 1000)
    finally:
        listener.cancel()
        try:
            await listener
        except asyncio.CancelledError:
            pass
        await admin.aclose()
        await probe.aclose()
    return ours, theirs


def _users(database: str) -> dict[str, str]:
    return add_users(database, [("live-admin", "admin"), ("live-reader", "supervisor")])


def bench(workspace: Workspace) -> list[Result]:
    count = workspace.repeat("live_latency")  # samples (each a write and a /health)
    database = str(workspace.root / "live_server.db")
    tokens = _users(database)
    with Server(database) as server:
        ours, theirs = asyncio.run(_samples(server.url, server.url, tokens, count))
    results = [Result("live_latency", "ms", ours, theirs, TARGET, notes=[
        f"live_latency: {count} samples: POST /records of one interaction (admin) until BackendClient.events() "
        "on another connection yields its cursor; agentdesk serve on SQLite, one process; "
        "baseline: GET /health round trip, same server, interleaved"])]
    try:
        with postgres_database() as url:
            tokens = _users(url)
            with Server(url) as writer, Server(url) as listener:
                ours, theirs = asyncio.run(_samples(writer.url, listener.url, tokens, count))
    except PostgresUnavailable as exc:
        results.append(Result.skipped("live_latency_pg", "ms", TARGET, str(exc)))
    else:
        results.append(Result("live_latency_pg", "ms", ours, theirs, TARGET, notes=[
            f"live_latency_pg: {count} samples: the same, two agentdesk serve processes on one PostgreSQL "
            "database: written through one, heard on the other (NOTIFY/LISTEN); baseline: GET /health "
            "of the listening one"]))
    return results
