"""Keystroke to durable commit: ``Ledger.take()`` of a pending decision vs a raw ``sqlite3`` commit.

What a key such as ``v`` waits for before the screen may say "taken": the ledger's
``take()`` awaited from the event loop (one hop to the ledger's thread, ``BEGIN
IMMEDIATE``, reading what the rules need, the check, the decision, its timeline line
and its audit record, ``COMMIT``), with the workstation's 10 s undo window, so the
decision is *pending* (no promise yet). The store is a copy of the demo store; each sample
decides for another customer (a 5.00 EUR goodwill voucher), so no customer's
history grows during the run.

Baseline, interleaved in the same run: a raw ``sqlite3`` single-row
``INSERT`` + ``COMMIT`` into a file beside it, with the same durability (WAL,
``synchronous = FULL``) and the store's connection pragmas.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.stats import Result, Target
from benchmarks.workspace import Workspace

UNDO_WINDOW = timedelta(seconds=10)
WARM_UP = 5


def raw_connection(path: Path) -> sqlite3.Connection:
    from agentdesk.store.files import CONNECTION_PRAGMAS
    from agentdesk.store.ledger import DURABLE_PRAGMA

    path.unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in (*CONNECTION_PRAGMAS, DURABLE_PRAGMA):
        con.execute(pragma)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE IF NOT EXISTS probe (id TEXT PRIMARY KEY, at_us INTEGER NOT NULL, body TEXT)")
    return con


async def _run(store: Path, raw_path: Path, repeat: int) -> tuple[list[float], list[float], int]:
    from agentdesk.authority_file import demo_matrix
    from agentdesk.demo.build import DEMO_AGENT
    from agentdesk.domain.authority import Proposal
    from agentdesk.domain.money import Money
    from agentdesk.store.ledger import Ledger

    proposal = Proposal("voucher", Money.parse("5.00", "EUR"))
    con = sqlite3.connect(store)
    customers = [row[0] for row in con.execute("SELECT id FROM customer ORDER BY id")]
    con.close()
    raw = raw_connection(raw_path)
    ours: list[float] = []
    theirs: list[float] = []
    try:
        async with Ledger.open(store, demo_matrix()) as ledger:
            eligible = []
            for customer in customers:  # untimed: customers for whom the voucher is allowed
                if (await ledger.choices(DEMO_AGENT, customer)).options["voucher"].allowed:
                    eligible.append(customer)
                if len(eligible) >= WARM_UP + repeat:
                    break
            if len(eligible) < WARM_UP + repeat:
                raise RuntimeError(f"decision_commit: only {len(eligible)} customers may get a voucher; "
                                   f"{WARM_UP + repeat} needed")
            for n, customer in enumerate(eligible):
                started = time.perf_counter()
                taken = await ledger.take(DEMO_AGENT, customer, proposal, undo_window=UNDO_WINDOW)
                took = time.perf_counter() - started
                if taken.decision is None or taken.decision.state != "pending":
                    raise RuntimeError(f"decision_commit: the voucher for {customer} was not taken: {taken.verdict}")
                started = time.perf_counter()
                raw.execute("BEGIN")
                raw.execute("INSERT INTO probe (id, at_us, body) VALUES (?, ?, ?)",
                            (f"probe-{n}", time.time_ns() // 1000, "voucher 5.00 EUR"))
                raw.execute("COMMIT")
                raw_took = time.perf_counter() - started
                if n >= WARM_UP:
                    ours.append(took * 1000)
                    theirs.append(raw_took * 1000)
    finally:
        raw.close()
    return ours, theirs, len(customers)


def bench(workspace: Workspace) -> list[Result]:
    store = workspace.demo_copy("decision_commit.sqlite3")  # the decisions taken here stay out of the demo store
    samples, raw, customers = asyncio.run(_run(store, workspace.root / "raw_commit.sqlite3",
                                               workspace.repeat("decision_commit")))
    note = (f"decision_commit: Ledger.take() of a pending voucher (10 s undo window) on the demo store "
            f"({customers:,} customers), one customer a sample; baseline: raw sqlite3 INSERT+COMMIT, "
            "WAL + synchronous=FULL, interleaved")
    return [Result("decision_commit", "ms", samples, raw, Target.ratio_at_most(3), notes=[note])]
