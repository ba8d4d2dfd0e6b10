"""Push rate: 20 workstations pushing queued decisions to one backend on PostgreSQL, vs raw commits.

Twice: ``push_rate`` with one ``agentdesk serve`` process, ``push_rate_2`` with ``--workers 2``.
Set up once per run (untimed): a fresh PostgreSQL database, the backend on it, an admin and
one ``agent`` user per client (``agentdesk users add``'s code, which also writes each agent's
record), and the customers uploaded through ``POST /records``.
One store pulls them (``Syncer.pull()``); each client gets its own copy of it.

Each run: every client takes its decisions with its own :class:`Ledger` on its own store,
``undo_window=timedelta(0)`` (queued at once: decision + promise + outbox row), alternating
a note and a 1.00 EUR goodwill voucher, every decision of a run on another customer, so
no authority limit is near (a customer gets one voucher per run at most; 50 EUR is the
agent's 30-day limit). Then every client's :class:`Replica` and :class:`BackendClient` are
opened and connected (``GET /me``), and timed: from the start of the 20 ``Syncer.push()``
calls until the last has returned (each posts its outbox in order, in requests of 1, 2, 4, …
mutations, and stores each request's answers and deletes their outbox rows in one local
transaction). mutations/s = mutations answered / elapsed.

The clients are 20 asyncio tasks in this one process, not 20 processes: on a machine with
two cores the backend process and PostgreSQL need them, and 20 client interpreters
would take CPU from the very thing measured (the client's share of the work is an HTTP
request and a small SQLite commit per mutation, far less than the backend's). A note
gives the CPU time of this process and of the server process during the timed part, so
whether the client side was the limit can be read off.

Baseline, interleaved in the same run and the same database: 20 asyncpg connections
(opened untimed), each running as many ``BEGIN; INSERT one row; COMMIT`` as its client
pushed mutations, into a plain table; the same elapsed-time definition.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

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

NAME = "push_rate"
UNIT = "mutations/s"
TARGET = Target.share_at_least(0.25)
"""A quarter of what the same PostgreSQL takes as raw single-row commits: the backend should be bounded by the
database, not by Python."""
VOUCHER = "1.00"


def _customer(number: int) -> dict:
    return {"type": "customer", "id": f"pc-{number}", "name": f"Push Customer {number}",
            "email": f"push.{number}@example.net", "language": "de", "timezone": "Europe/Berlin"}


def _copy_store(source: Path, target: Path) -> Path:
    con = sqlite3.connect(source)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


def bench(workspace: Workspace) -> list[Result]:
    return one_and_two_processes(NAME, UNIT, TARGET, lambda database, name, workers: _bench(
        workspace, database, name, workers))


def _bench(workspace: Workspace, database: str, name: str, workers: int) -> Result:
    from agentdesk.authority_file import demo_matrix
    from agentdesk.domain.authority import Proposal
    from agentdesk.domain.money import Money
    from agentdesk.store.ledger import Ledger
    from agentdesk.sync.client import BackendClient
    from agentdesk.sync.engine import Syncer
    from agentdesk.sync.replica import Replica

    sizes = workspace.sizes
    clients, per_client = sizes.push_clients, sizes.push_per_client
    total = clients * per_client
    customers = [f"pc-{n}" for n in range(total)]
    agents = [f"push-agent-{k:02d}" for k in range(clients)]
    matrix = demo_matrix()
    voucher = Money.parse(VOUCHER, "EUR")
    asyncpg_url = database  # postgresql://root@127.0.0.1:5432/NAME
    counts = {"applied": 0, "refused": 0, "rejected": 0}
    cpu: list[str] = []

    with Server(database, flags=["--workers", str(workers)]) as server:
        tokens = add_users(database, [("push-admin", "admin"), *((name, "agent") for name in agents)])
        summary = upload_records(server.url, tokens["push-admin"], [_customer(n) for n in range(total)])
        if summary.errors or summary.changed != total:
            raise RuntimeError(f"push_rate: customer upload: {summary}")

        async def pull_template() -> Path:
            store = workspace.fresh_store("push_template.sqlite3")
            async with Replica.open(store) as replica, BackendClient(server.url, tokens["push-admin"]) as backend:
                await Syncer(replica, backend).pull()
            return store

        template = asyncio.run(pull_template())
        stores = [_copy_store(template, workspace.root / f"push_client_{k:02d}.sqlite3") for k in range(clients)]
        run = 0

        async def queue(k: int) -> None:
            async with Ledger.open(stores[k], matrix) as ledger:
                for j in range(per_client):
                    customer = customers[(k * per_client + j + run * 7919) % total]
                    proposal = (Proposal("voucher", voucher, reason="goodwill") if j % 2
                                else Proposal("note", reason="called back, all fine"))
                    taken = await ledger.take(agents[k], customer, proposal, undo_window=timedelta(0))
                    if taken.decision is None or taken.decision.state != "queued":
                        raise RuntimeError(f"push_rate: {proposal.kind} for {customer} not queued: {taken.verdict}")

        async def push_all() -> tuple[int, float]:
            async with AsyncExitStack() as stack:
                syncers = []
                for store, agent in zip(stores, agents, strict=True):
                    replica = await stack.enter_async_context(Replica.open(store))
                    backend = await stack.enter_async_context(BackendClient(server.url, tokens[agent]))
                    await backend.me()  # connected, as a workstation already is
                    syncers.append(Syncer(replica, backend))
                server_cpu, own_cpu = server.cpu_seconds(), process_cpu_seconds()
                started = time.perf_counter()
                reports = await asyncio.gather(*(syncer.push() for syncer in syncers))
                elapsed = time.perf_counter() - started
                server_cpu, own_cpu = server.cpu_seconds() - server_cpu, process_cpu_seconds() - own_cpu
            cpu.append(f"{elapsed:.2f} s wall, server {server_cpu:.2f} s CPU, clients {own_cpu:.2f} s CPU")
            done = 0
            for report in reports:
                counts["applied"] += report.applied
                counts["refused"] += len(report.refused)
                counts["rejected"] += len(report.rejected)
                done += report.applied + len(report.refused)
            if done != total:
                raise RuntimeError(f"push_rate: {done} of {total} mutations answered: {reports[:2]}")
            return done, elapsed

        def measured() -> float:
            nonlocal run
            run += 1

            async def prepare() -> None:
                await asyncio.gather(*(queue(k) for k in range(clients)))

            asyncio.run(prepare())
            done, elapsed = asyncio.run(push_all())
            return done / elapsed

        def baseline() -> float:
            return asyncio.run(raw_commit_rate(asyncpg_url, clients, per_client, f"push-{run}"))

        samples, raw = alternate(measured, baseline, workspace.repeat(NAME))
    processes = "one agentdesk serve process" if workers == 1 else f"agentdesk serve --workers {workers}"

    notes = [
        f"{name}: {clients} clients (asyncio tasks in one process) x {per_client} queued decisions "
        f"(notes and {VOUCHER} EUR vouchers) = {total:,} mutations per run to {processes} on PostgreSQL; "
        f"baseline: {clients} asyncpg connections x {per_client} single-row INSERT+COMMIT into a plain table",
        f"{name}: mutations over all runs: {counts['applied']:,} applied, {counts['refused']} refused, "
        f"{counts['rejected']} rejected",
        f"{name}: per run: {'; '.join(cpu)}",
    ]
    return Result(name, UNIT, samples, raw, TARGET, rate=True, notes=notes)

