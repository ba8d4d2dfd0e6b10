"""Inbound webhook rate: 20 senders posting signed chat messages to one backend on PostgreSQL, vs raw commits.

Set up once per run (untimed): a fresh PostgreSQL database, one ``agentdesk serve --channels FILE``
process on it with the ``[webhook]`` channel (its secret in the environment, never in the file),
an admin user, and one customer per sender uploaded through ``POST /records``.

Each run: every sender (an asyncio task in this process, with its own keep-alive HTTP/1.1 connection)
posts its messages one after another to ``POST /webhooks/messages``, each signed as the contract says
(HMAC-SHA256 of ``TIMESTAMP.RAW_BODY``, made here with the standard library's ``hmac``), every
message a new id from the sender's customer's address; every answer must be 200 with status "new".
Timed from the first post until a pull (``GET /changes`` from the cursor before the run) has seen
every one of the run's interactions: messages/s = messages / elapsed. The senders are tasks, not
processes, for the reason push_rate gives: on two cores the backend and PostgreSQL need the CPU.

The senders are a load generator in the manner of ``wrk``, not an HTTP client library: the requests
are built and signed before the clock starts (well inside the 300 s the signature is good for), and
each is written as bytes to an ``asyncio`` stream and its answer read by Content-Length. httpx spent
about half a millisecond of CPU a request, on the same two cores as the server it measured.

Baseline, interleaved in the same run and the same database: as many asyncpg connections as
senders (opened untimed), each running as many ``BEGIN; INSERT one row; COMMIT`` as its sender
posted messages, into a plain table; the same elapsed-time definition (without the pull).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time

import httpx

from benchmarks.backend import (
    Server,
    add_users,
    one_and_two_processes,
    process_cpu_seconds,
    raw_commit_rate,
    upload_records,
)
from benchmarks.stats import Result, Target, alternate
from benchmarks.workspace import Workspace

NAME = "webhook_rate"
UNIT = "messages/s"
TARGET = Target.share_at_least(0.25)
SECRET_ENV = "AGENTDESK_WEBHOOK_SECRET"


def _signed_request(secret: bytes, body: dict) -> bytes:
    """The whole HTTP/1.1 request, signed now."""
    raw = json.dumps(body).encode("utf-8")
    stamp = str(int(time.time()))
    digest = hmac.new(secret, stamp.encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()
    return (f"POST /webhooks/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(raw)}\r\nX-Agentdesk-Timestamp: {stamp}\r\n"
            f"X-Agentdesk-Signature: sha256={digest}\r\n\r\n").encode("ascii") + raw


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 answer (uvicorn sends Content-Length with each of ours)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length:"))
    return status, await reader.readexactly(length)


def bench(workspace: Workspace) -> list[Result]:
    return one_and_two_processes(NAME, UNIT, TARGET, lambda database, name, workers: _bench(
        workspace, database, name, workers))


def _bench(workspace: Workspace, database: str, name: str, workers: int) -> Result:
    senders, per_sender = workspace.sizes.webhook_senders, workspace.sizes.webhook_per_sender
    total = senders * per_sender
    secret = secrets.token_hex(32)
    channels = workspace.root / "webhook_channels.toml"
    channels.write_text(f'[webhook]\nsecret_env = "{SECRET_ENV}"\n', encoding="utf-8")
    earlier = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = secret  # the child's environment is this one's
    runs: list[str] = []
    try:
        with Server(database, flags=["--channels", str(channels), "--workers", str(workers)]) as server:
            token = add_users(database, [("hook-admin", "admin")])["hook-admin"]
            customers = [{"type": "customer", "id": f"wc-{k}", "name": f"Web Customer {k}",
                          "email": f"web.{k}@example.net"} for k in range(senders)]
            summary = upload_records(server.url, token, customers)
            if summary.errors or summary.changed != senders:
                raise RuntimeError(f"webhook_rate: customer upload: {summary}")
            run = 0

            async def post_all() -> float:
                key = secret.encode("utf-8")
                headers = {"Authorization": f"Bearer {token}"}
                requests = [[_signed_request(key, {
                    "id": f"bench-{run}-{k}-{j}", "channel": "chat", "email": f"web.{k}@example.net",
                    "at": "2026-07-14T09:31:00+02:00", "body": f"message {j} of sender {k}"})
                    for j in range(per_sender)] for k in range(senders)]
                async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as puller:
                    cursor = (await puller.get("/health")).json()["cursor"]
                    # Connected before the clock starts, as a chat system's client already is.
                    streams = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(senders)]
                    try:

                        async def send(mine: list[bytes], reader: asyncio.StreamReader,
                                       writer: asyncio.StreamWriter) -> None:
                            for request in mine:
                                writer.write(request)
                                status, body = await _answer(reader)
                                if status != 200 or json.loads(body)["status"] != "new":
                                    raise RuntimeError(f"webhook_rate: {status} {body[:200]!r}")

                        server_cpu, own_cpu = server.cpu_seconds(), process_cpu_seconds()
                        started = time.perf_counter()
                        await asyncio.gather(*(send(mine, *stream)
                                               for mine, stream in zip(requests, streams, strict=True)))
                        seen = 0
                        while seen < total:
                            page = (await puller.get("/changes", params={"after": cursor})).json()
                            seen += sum(1 for change in page["changes"] if change["record"]["type"] == "interaction")
                            cursor = page["cursor"]
                        elapsed = time.perf_counter() - started
                        server_cpu, own_cpu = server.cpu_seconds() - server_cpu, process_cpu_seconds() - own_cpu
                    finally:
                        for _, writer in streams:
                            writer.close()
                runs.append(f"{elapsed:.2f} s wall, server process {server_cpu:.2f} s CPU "
                            f"({server_cpu / total * 1000:.2f} ms a message), senders {own_cpu:.2f} s CPU")
                return total / elapsed

            def measured() -> float:
                nonlocal run
                run += 1
                return asyncio.run(post_all())

            samples, raw = alternate(measured, lambda: asyncio.run(raw_commit_rate(database, senders, per_sender,
                                                                                    f"webhook-{run}")),
                                     workspace.repeat(NAME))
    finally:
        if earlier is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = earlier
    processes = "one agentdesk serve process" if workers == 1 else f"agentdesk serve --workers {workers}"
    notes = [f"{name}: {senders} senders (asyncio tasks) x {per_sender} signed POST /webhooks/messages "
             f"(raw asyncio streams, keep-alive, signed before the clock) = "
             f"{total:,} messages per run to {processes} on PostgreSQL, timed until a pull saw them all "
             f"(per run: {'; '.join(runs)}); baseline: {senders} asyncpg connections x {per_sender} single-row "
             "INSERT+COMMIT into a plain table"]
    return Result(name, UNIT, samples, raw, TARGET, rate=True, notes=notes)
