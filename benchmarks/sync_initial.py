"""Initial sync: ``Syncer.pull()`` of a whole backend into an empty store vs raw ``executemany`` of its rows.

The backend is a real ``agentdesk serve`` on a SQLite database (one process on this
machine, as a team without PostgreSQL runs it), loaded once per run before anything is
timed: an agent, the customers and the interactions, uploaded with the admin token
through ``POST /records`` in batches of 5,000 (``agentdesk.sync.upload``, what
``agentdesk import --server`` runs). The upload takes as long as it takes; it is
reported in a note, not timed as the benchmark.

Measured: an empty store (a fresh copy of the empty store at the newest schema) is opened
as a :class:`Replica` with a :class:`BackendClient` beside it (both untimed, a workstation
has them open), then ``Syncer.pull()`` is timed from the first ``/changes`` request until
the last page and its cursor are committed. records/s = records pulled / elapsed.

Baseline, interleaved in the same run: raw ``executemany`` of the same rows into a fresh
store in one transaction (``synthetic.insert_rows``, as import_rate's baseline).
"""

from __future__ import annotations

import asyncio
import time

from benchmarks import synthetic
from benchmarks.backend import Server, add_users, upload_records
from benchmarks.stats import Result, Target, alternate
from benchmarks.workspace import Workspace

UPLOAD_BATCH = 5000


def _records(workspace: Workspace) -> list[dict]:
    sizes = workspace.sizes
    customers = [synthetic.customer(n) for n in range(sizes.sync_customers)]
    interactions = synthetic.interactions([c["id"] for c in customers], sizes.sync_interactions, prefix="i")
    return [synthetic.agent(), *customers, *interactions]


def bench(workspace: Workspace) -> list[Result]:
    from agentdesk.sync.client import BackendClient
    from agentdesk.sync.engine import Syncer
    from agentdesk.sync.replica import Replica

    records = _records(workspace)
    agents = [synthetic.agent_row(records[0])]
    customer_rows = [synthetic.customer_row(r) for r in records if r["type"] == "customer"]
    entry_rows = [synthetic.entry_row(r) for r in records if r["type"] == "interaction"]
    database = str(workspace.root / "sync_server.db")
    tokens = add_users(database, [("bench-admin", "admin"), ("bench-reader", "supervisor")])
    notes: list[str] = []
    with Server(database) as server:
        started = time.perf_counter()
        summary = upload_records(server.url, tokens["bench-admin"], records, batch=UPLOAD_BATCH)
        loaded = time.perf_counter() - started
        if summary.errors or summary.changed != len(records):
            raise RuntimeError(f"sync_initial: the upload changed {summary.changed} of {len(records)} "
                               f"records; errors {summary.errors[:3]}")
        notes.append(f"sync_initial: server loaded once through POST /records ({len(records):,} records in "
                     f"batches of {UPLOAD_BATCH:,}) in {loaded:.1f} s = {len(records) / loaded:,.0f} records/s "
                     "(untimed)")
        expected = len(records) + 2  # the users' own agent records came first, through the change log
        runs: list[str] = []

        async def pull(store) -> tuple[int, float]:  # noqa: ANN001
            async with Replica.open(store) as replica, BackendClient(server.url, tokens["bench-reader"]) as backend:
                syncer = Syncer(replica, backend)
                started = time.perf_counter()
                pulled = await syncer.pull()
                return pulled, time.perf_counter() - started

        def measured() -> float:
            store = workspace.fresh_store("sync_initial.sqlite3")
            pulled, elapsed = asyncio.run(pull(store))
            if pulled != expected:
                raise RuntimeError(f"sync_initial: pulled {pulled} records, expected {expected}")
            runs.append(f"{pulled:,} in {elapsed:.1f} s")
            return pulled / elapsed

        def baseline() -> float:
            store = workspace.fresh_store("sync_raw.sqlite3")
            started = time.perf_counter()
            synthetic.insert_rows(store, agents, customer_rows, entry_rows)
            return len(records) / (time.perf_counter() - started)

        samples, raw = alternate(measured, baseline, workspace.repeat("sync_initial"))
    notes.append(f"sync_initial: Syncer.pull() into an empty store from agentdesk serve on SQLite, "
                 f"records per run: {'; '.join(runs)}; baseline: raw executemany of the same "
                 f"{len(records):,} rows in one transaction")
    return [Result("sync_initial", "records/s", samples, raw, Target.share_at_least(0.50), rate=True, notes=notes)]
