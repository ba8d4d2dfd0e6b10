"""The outbox: every queued decision, approval and decline gets a mutation in the same transaction, frozen.

Logic only (no backend): what the ledger writes, and what the sync layer would send for it.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from agentdesk.domain.authority import Proposal
from agentdesk.interchange.codec import parse_record
from agentdesk.store.ledger import Ledger
from agentdesk.store.outbox import APPROVE, DECISION, DECLINE, OutboxItem, enqueue_decided, enqueue_decline, waiting
from agentdesk.sync.mutations import describe, mutation_body
from agentdesk.sync.replica import Replica
from tests.test_ledger import MATRIX, Clock, eur, records, rows


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(records())


def outbox(path: Path) -> list[OutboxItem]:
    con = sqlite3.connect(path)
    try:
        return waiting(con)
    finally:
        con.close()


async def test_a_pending_decision_has_no_mutation_until_its_window_closes(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("refund", eur("39.90")), case_id="k-1")
        assert taken.decision is not None and taken.decision.state == "pending"
        assert outbox(store) == []
        clock.advance(seconds=11)
        (released,) = await ledger.release_due()
    (item,) = outbox(store)
    assert item.kind == DECISION and item.body["decision"]["id"] == released.id
    assert item.body["decision"]["state"] == "queued"
    assert item.body["promise"]["decision"] == released.id
    assert item.body == mutation_body(item) and item.body["kind"] == DECISION


async def test_an_undone_decision_never_reaches_the_outbox(store: Path) -> None:
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("voucher", eur("10.00")))
        assert taken.decision is not None
        await ledger.undo("a-7", taken.decision.id)
    assert outbox(store) == []


async def test_a_refusal_by_the_ledger_writes_no_mutation(store: Path) -> None:
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("voucher", eur("40.00")), undo_window=timedelta(0))
    assert not taken.verdict.allowed
    assert outbox(store) == []


async def test_each_queued_decision_gets_one_mutation_in_order(store: Path) -> None:
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        first = await ledger.take("a-7", "c-1", Proposal("voucher", eur("5.00")), undo_window=timedelta(0))
        second = await ledger.take("a-7", "c-1", Proposal("note", reason="called back"), undo_window=timedelta(0))
    items = outbox(store)
    assert [item.body["decision"]["id"] for item in items] == [first.decision.id, second.decision.id]
    assert len({item.id for item in items}) == 2
    assert rows(store, "SELECT count(*) FROM outbox")[0][0] == 2


async def test_approve_and_decline_are_mutations_naming_the_escalation(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        escalate = Proposal("escalate", escalates=Proposal("voucher", eur("40.00")), reason="long outage")
        one = await ledger.take("a-7", "c-1", escalate, undo_window=timedelta(0))
        two = await ledger.take("a-7", "c-1", escalate, undo_window=timedelta(0))
        clock.advance(seconds=1)
        approved = await ledger.approve("a-2", one.decision.id)
        await ledger.decline("a-2", two.decision.id, "we already gave a voucher")
    kinds = [(item.kind, item.body.get("escalation")) for item in outbox(store)]
    assert kinds == [(DECISION, None), (DECISION, None), (APPROVE, one.decision.id), (DECLINE, two.decision.id)]
    approve = outbox(store)[2]
    assert approve.body["decision"]["id"] == approved.decision.id
    assert approve.body["decision"]["approves"] == one.decision.id


async def test_the_mutation_body_is_interchange_and_does_not_change_when_the_decision_does(store: Path) -> None:
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("refund", eur("39.90")), case_id="k-1",
                                  undo_window=timedelta(0))
    (item,) = outbox(store)
    body = mutation_body(item)
    decision = parse_record(body["decision"])
    assert decision.id == taken.decision.id and decision.amount == eur("39.90") and decision.state == "queued"
    assert parse_record(body["promise"]).decision == taken.decision.id
    # The backend's answer rewrites the local decision; a retry must still send the same bytes.
    confirmed = dict(body["decision"], state="confirmed")
    async with Replica.open(store) as replica:
        await replica.pulled([confirmed], cursor=1)
    assert rows(store, "SELECT state FROM decision WHERE id = ?", taken.decision.id) == [("confirmed",)]
    (again,) = outbox(store)
    assert json.dumps(mutation_body(again), sort_keys=True) == json.dumps(body, sort_keys=True)


async def test_a_mutation_from_the_records_is_the_one_the_stored_rows_give(store: Path) -> None:
    """The ledger may hand its records over instead of their ids: the frozen body is the same."""
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("refund", eur("39.90")), case_id="k-1",
                                  undo_window=timedelta(0))
    (by_ids,) = outbox(store)
    con = sqlite3.connect(store)
    try:
        with con:
            enqueue_decided(con, taken.decision, taken.promise, Clock()())
        by_records = waiting(con)[1]
    finally:
        con.close()
    assert taken.promise is not None
    assert by_records.kind == by_ids.kind == DECISION
    assert by_records.body == by_ids.body
    assert by_ids.body["promise"]["what"] == taken.promise.what


async def test_a_decline_is_frozen_as_pushed_and_described_from_the_frozen_body(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        escalate = Proposal("escalate", escalates=Proposal("voucher", eur("40.00")), reason="long outage")
        one = await ledger.take("a-7", "c-1", escalate, undo_window=timedelta(0))
        await ledger.decline("a-2", one.decision.id, "  we already gave a voucher ")
    decline = outbox(store)[-1]
    assert decline.body == {"kind": DECLINE, "escalation": one.decision.id, "reason": "we already gave a voucher",
                            "at": clock().isoformat()}
    assert describe(decline) == f"decline of escalation {one.decision.id}"
    con = sqlite3.connect(store)
    try:
        with con:
            enqueue_decline(con, one.decision.id, "we already gave a voucher", clock())
        assert waiting(con)[-1].body == decline.body  # the entry the ledger may call instead
    finally:
        con.close()
    assert describe(outbox(store)[0]) == "voucher 40.00 EUR for c-1"  # what the escalation proposes
