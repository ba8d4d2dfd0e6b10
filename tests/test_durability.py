"""A decision is on disk when the ledger says it was taken: SIGKILL a real process right after, and it is there.

Two kinds of victims:

* a small Python child that takes decisions through :class:`Ledger` with a 10 s undo
  window and prints each id the moment ``take()`` returned; the parent kills it
  (SIGKILL) as soon as it has read the lines it waits for, often in the middle of
  the child's next transaction;
* real ``agentdesk decide`` processes, killed at staggered moments around their commit.

Afterwards the store is opened afresh: every decision whose id was printed exists
exactly once, whole (its timeline line and its audit record came with it), nothing
half-written exists, and a pending one is queued with its promise once its window
has passed.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.sample_records import records

CHILD = """
import asyncio, sys
from datetime import timedelta
from agentdesk.authority_file import demo_matrix
from agentdesk.domain.authority import Proposal
from agentdesk.domain.money import Money
from agentdesk.store.ledger import Ledger

async def main(store):
    async with Ledger.open(store, demo_matrix()) as ledger:
        while True:  # until killed: every id printed was returned by take(), so it must be on disk
            taken = await ledger.take("a-7", "c-1001", Proposal("voucher", Money.parse("0.01", "EUR")),
                                      undo_window=timedelta(seconds=10))
            sys.stdout.write(taken.decision.id + "\\n")
            sys.stdout.flush()

asyncio.run(main(sys.argv[1]))
"""

KILLS = 5


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(records())


def query(store: Path, sql: str, *params: object) -> list[tuple]:
    con = sqlite3.connect(store)  # a fresh connection each time: nothing cached from before the kill
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def assert_whole(store: Path) -> None:
    """No decision taken here exists without its timeline line and its audit record, nor a promise without
    its decision. (The sample's own decision was imported, not taken: it has no audit record.)"""
    assert query(store, "PRAGMA integrity_check") == [("ok",)]
    assert query(store, "SELECT d.id FROM decision AS d LEFT JOIN timeline_entry AS t ON t.decision_id = d.id "
                        "WHERE d.kind = 'voucher' AND d.state != 'undone' AND t.id IS NULL") == []
    assert query(store, "SELECT d.id FROM decision AS d WHERE d.kind = 'voucher' AND NOT EXISTS "
                        "(SELECT 1 FROM audit AS a WHERE a.decision_id = d.id AND a.action = 'taken')") == []
    assert query(store, "SELECT d.id FROM decision AS d WHERE d.state = 'queued' AND d.kind = 'voucher' AND "
                        "(SELECT count(*) FROM promise AS p WHERE p.decision_id = d.id) != 1") == []
    assert query(store, "SELECT p.id FROM promise AS p LEFT JOIN decision AS d ON d.id = p.decision_id "
                        "WHERE p.decision_id IS NOT NULL AND d.id IS NULL") == []


def kill_after_lines(store: Path, lines: int) -> list[str]:
    """Start the child, read ``lines`` ids, SIGKILL it at once; the ids it printed."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(store)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    printed = []
    try:
        while len(printed) < lines:
            line = child.stdout.readline()
            if not line:
                raise AssertionError(f"the child ended early: {child.stderr.read()[-2000:]}")
            printed.append(line.strip())
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        # Anything it printed after the lines we waited for also counts as "taken".
        printed += [line.strip() for line in child.stdout.read().splitlines() if line.strip()]
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return printed


async def test_a_pending_decision_survives_sigkill_and_is_queued_after_its_window(store: Path) -> None:
    from agentdesk.authority_file import demo_matrix
    from agentdesk.store.ledger import Ledger

    rng = random.Random(3)
    seen: list[str] = []
    for _ in range(KILLS):
        printed = kill_after_lines(store, rng.randint(1, 4))
        assert printed
        seen += printed
        # A fresh look at the store: each printed decision is pending, with its line and its audit record.
        for decision_id in printed:
            assert query(store, "SELECT state, kind, amount FROM decision WHERE id = ?", decision_id) == \
                [("pending", "voucher", "0.01")]
            assert query(store, "SELECT kind FROM timeline_entry WHERE decision_id = ?", decision_id) == [("decision",)]
            assert query(store, "SELECT action FROM audit WHERE decision_id = ?", decision_id) == [("taken",)]
        assert_whole(store)

    # Past the undo window, the next ledger to open queues them, each with its promise.
    later = datetime.now(timezone.utc) + timedelta(seconds=11)
    async with Ledger.open(store, demo_matrix(), clock=lambda: later) as ledger:
        released = {decision.id for decision in await ledger.release_due()}
    assert set(seen) <= released
    for decision_id in seen:
        assert query(store, "SELECT state FROM decision WHERE id = ?", decision_id) == [("queued",)]
        assert query(store, "SELECT what, state FROM promise WHERE decision_id = ?", decision_id) == \
            [("goodwill voucher 0.01 EUR", "open")]
        assert [a for (a,) in query(store, "SELECT action FROM audit WHERE decision_id = ? ORDER BY rowid",
                                    decision_id)] == ["taken", "queued"]
    assert_whole(store)


def test_killing_agentdesk_decide_at_any_moment_loses_no_printed_decision(store: Path) -> None:
    command = [sys.executable, "-m", "agentdesk", "decide", "voucher", "c-1001", "--amount", "0.01",
               "--as", "a-7", "--db", str(store)]
    printed: set[str] = set()

    def said(out: str) -> None:
        printed.update(line.split(" · ")[-1].strip() for line in out.splitlines() if line.startswith("queued: "))

    # Each run to be killed follows a run left alone, whose life sets the kill moment: the machine's
    # speed drifts under load, and only a fresh measurement puts the kill where the commit happens.
    moments = (0.5, 0.65, 0.8, 0.9, 1.0)  # of the life of the run just before
    wanted_kills, most_pairs = 5, 60
    runs = killed = 0
    while killed < wanted_kills and runs < 2 * most_pairs:
        started = time.perf_counter()
        whole = subprocess.run(command, capture_output=True, text=True, timeout=60)
        lifetime = time.perf_counter() - started
        assert whole.returncode == 0, whole.stderr
        said(whole.stdout)
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            child.wait(timeout=lifetime * moments[runs // 2 % len(moments)])
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGKILL)
            killed += 1
        out, _ = child.communicate(timeout=60)
        said(out)
        runs += 2
    assert killed >= wanted_kills, f"{killed} of {runs // 2} runs were killed while they ran"

    ids = [decision_id for (decision_id,) in query(store, "SELECT id FROM decision WHERE kind = 'voucher'")]
    assert len(ids) == len(set(ids))
    assert printed <= set(ids)
    assert len(ids) <= runs  # at most one decision per process
    for decision_id in printed:
        assert query(store, "SELECT count(*), min(state) FROM decision WHERE id = ?", decision_id) == [(1, "queued")]
    assert_whole(store)
    # The store still takes decisions: no lock or half transaction was left behind.
    after = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert after.returncode == 0 and after.stdout.startswith("queued: voucher 0.01 EUR"), after.stderr


def test_the_ledger_commits_with_full_sync(store: Path) -> None:
    """The durability above would also hold for a power cut only with WAL and ``synchronous = FULL``."""
    from agentdesk.authority_file import demo_matrix
    from agentdesk.store.ledger import Ledger

    async def pragmas() -> tuple:
        async with Ledger.open(store, demo_matrix()) as ledger:
            return await ledger._run(lambda: (ledger._db.execute("PRAGMA journal_mode").fetchone()[0],
                                              ledger._db.execute("PRAGMA synchronous").fetchone()[0]))

    assert asyncio.run(pragmas()) == ("wal", 2)  # 2 = FULL
