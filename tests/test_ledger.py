"""The ledger: decisions checked, durable, undoable in their window, escalated and approved, audited."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agentdesk.authority_file import demo_matrix
from agentdesk.domain.authority import Proposal
from agentdesk.domain.money import Money
from agentdesk.store.ledger import Ledger, LedgerError

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # Monday, 14:00 in Berlin
MATRIX = demo_matrix()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def records() -> list[dict]:
    return [
        {"type": "agent", "id": "a-7", "name": "Jonas Weber", "role": "agent"},
        {"type": "agent", "id": "a-8", "name": "Dennis Yilmaz", "role": "agent"},
        {"type": "agent", "id": "a-2", "name": "Markus Brandt", "role": "lead"},
        {"type": "agent", "id": "a-1", "name": "Katrin Hoffmann", "role": "supervisor"},
        {"type": "customer", "id": "c-1", "name": "Petra Lindner", "phone": "+49 170 555 0199",
         "timezone": "Europe/Berlin", "owner": "a-7"},
        {"type": "case", "id": "k-1", "customer": "c-1", "subject": "Technician fee for our own fault",
         "status": "open", "opened_at": "2026-11-20T09:00:00+01:00", "disputed_amount": "39.90", "currency": "EUR"},
        {"type": "case", "id": "k-2", "customer": "c-1", "subject": "Old roaming dispute", "status": "closed",
         "opened_at": "2026-01-20T09:00:00+01:00", "disputed_amount": "18.40", "currency": "EUR"},
    ]


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(records())


def rows(path: Path, sql: str, *params: object) -> list[tuple]:
    """Read through a separate connection: what is on disk, not what the ledger holds."""
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


async def test_a_suggested_refund_is_pending_on_disk_with_its_timeline_row_and_audit(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        choices = await ledger.choices("a-7", "c-1")
        assert choices.case is not None and choices.case.id == "k-1"
        refund = choices.options["refund"]
        assert refund.allowed and refund.suggested == Proposal("refund", eur("39.90"))
        taken = await ledger.take("a-7", "c-1", refund.suggested, case_id="k-1")
    decision = taken.decision
    assert decision is not None and decision.state == "pending"
    assert decision.undo_until == NOW + timedelta(seconds=10)
    assert rows(store, "SELECT state, amount, currency, case_id FROM decision WHERE id = ?", decision.id) == [
        ("pending", "39.90", "EUR", "k-1")]
    assert rows(store, "SELECT kind, body FROM timeline_entry WHERE decision_id = ?", decision.id) == [
        ("decision", "refund 39.90 EUR")]
    assert rows(store, "SELECT action, rule, limit_amount FROM audit WHERE decision_id = ?", decision.id) == [
        ("taken", "agent.refund.max", "50.00")]
    assert rows(store, "SELECT count(*) FROM promise") == [(0,)]


async def test_undo_inside_the_window_removes_it_from_the_timeline_but_not_from_the_audit(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("voucher", eur("15.00")))
        assert taken.decision is not None
        clock.advance(seconds=9)
        with pytest.raises(LedgerError, match="only a-7, who took it, may undo"):
            await ledger.undo("a-8", taken.decision.id)
        undone = await ledger.undo("a-7", taken.decision.id)
        assert undone.state == "undone"
        with pytest.raises(LedgerError, match="already undone"):
            await ledger.undo("a-7", taken.decision.id)
        # Undone, it no longer counts: the whole voucher budget is there again.
        assert (await ledger.choices("a-7", "c-1")).options["voucher"].verdict.budget_left == eur("50.00")
    assert rows(store, "SELECT count(*) FROM timeline_entry WHERE kind = 'decision'") == [(0,)]
    assert [a for (a,) in rows(store, "SELECT action FROM audit ORDER BY at_us, id")] == ["taken", "undone"]


async def test_when_the_window_ends_the_decision_is_queued_with_its_promise(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("refund", eur("39.90")), case_id="k-1")
        assert taken.decision is not None
        clock.advance(seconds=9)
        assert await ledger.release_due() == []
        clock.advance(seconds=1)
        released = await ledger.release_due()
        assert [d.id for d in released] == [taken.decision.id] and released[0].state == "queued"
        clock.advance(seconds=5)
        with pytest.raises(LedgerError, match="already queued"):
            await ledger.undo("a-7", taken.decision.id)
    due_us = int((NOW + timedelta(hours=72)).timestamp() * 1_000_000)
    assert rows(store, "SELECT what, due_us, state FROM promise WHERE decision_id = ?", taken.decision.id) == [
        ("refund 39.90 EUR", due_us, "open")]


async def test_an_undo_that_comes_too_late_queues_instead_and_says_so(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("voucher", eur("15.00")))
        assert taken.decision is not None
        clock.advance(seconds=12)
        with pytest.raises(LedgerError, match="undo window of this voucher closed 2 s ago; it is queued"):
            await ledger.undo("a-7", taken.decision.id)
        assert (await ledger.decision(taken.decision.id)).state == "queued"  # type: ignore[union-attr]


async def test_no_time_limit_keeps_it_pending_until_sent_and_zero_queues_at_once(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        open_ended = await ledger.take("a-7", "c-1", Proposal("voucher", eur("10.00")), undo_window=None)
        assert open_ended.decision is not None and open_ended.decision.undo_until is None
        clock.advance(days=2)
        assert await ledger.release_due() == []
        assert [d.id for d in await ledger.pending("a-7")] == [open_ended.decision.id]
        sent = await ledger.send_now("a-7", open_ended.decision.id)
        assert sent.state == "queued"
        at_once = await ledger.take("a-7", "c-1", Proposal("voucher", eur("5.00")), undo_window=timedelta(0))
        assert at_once.decision is not None and at_once.decision.state == "queued"
        assert at_once.promise is not None and at_once.promise.what == "goodwill voucher 5.00 EUR"
    assert rows(store, "SELECT count(*) FROM promise WHERE what LIKE 'goodwill voucher%'") == [(2,)]


async def test_a_refusal_writes_no_decision_only_an_audit_record_naming_rule_and_limit(store: Path) -> None:
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("voucher", eur("40.00")))
    assert taken.decision is None
    assert taken.verdict.reason == "voucher 40.00 EUR is over the agent limit of 25.00 EUR"
    assert taken.verdict.escalate_to == "lead"
    assert rows(store, "SELECT count(*) FROM decision") == [(0,)]
    assert rows(store, "SELECT action, kind, amount, rule, limit_amount, detail FROM audit") == [
        ("refused", "voucher", "40.00", "agent.voucher.max", "25.00", taken.verdict.reason)]


async def test_the_audit_log_is_append_only(store: Path) -> None:
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        await ledger.take("a-7", "c-1", Proposal("refund", eur("80.00")))
    con = sqlite3.connect(store)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE audit SET detail = 'nothing happened'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM audit")
    finally:
        con.close()


async def test_escalation_waits_for_the_lead_who_approves_it_as_their_own_decision(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        refused = await ledger.take("a-7", "c-1", Proposal("voucher", eur("40.00")))
        assert not refused.verdict.allowed
        escalate = Proposal("escalate", escalates=refused.verdict.proposal, reason=refused.verdict.reason)
        escalation = (await ledger.take("a-7", "c-1", escalate)).decision
        assert escalation is not None and escalation.approval == "waiting" and escalation.escalate_to == "lead"
        assert await ledger.waiting_approvals("a-2") == []  # still in its undo window
        clock.advance(seconds=11)
        await ledger.release_due()
        assert [d.id for d in await ledger.waiting_approvals("a-2")] == [escalation.id]
        assert await ledger.waiting_approvals("a-8") == []  # agents approve nothing
        with pytest.raises(LedgerError, match="does not approve"):
            await ledger.approve("a-8", escalation.id)
        with pytest.raises(LedgerError, match="does not approve"):
            await ledger.approve("a-1", escalation.id)  # the supervisor is read-only
        approved = await ledger.approve("a-2", escalation.id)
        assert approved.decision is not None
        approving = approved.decision
        assert (approving.kind, approving.agent, approving.state) == ("voucher", "a-2", "queued")
        assert approved.decision.approves == escalation.id and approved.decision.amount == eur("40.00")
        assert approved.promise is not None and approved.promise.decision == approved.decision.id
        with pytest.raises(LedgerError, match="already approved"):
            await ledger.approve("a-2", escalation.id)
        after = await ledger.decision(escalation.id)
        assert after is not None and (after.approval, after.approval_by) == ("approved", "a-2")
    assert rows(store, "SELECT what FROM promise WHERE decision_id = ?", approved.decision.id) == [
        ("goodwill voucher 40.00 EUR",)]
    actions = [a for (a,) in rows(store, "SELECT action FROM audit ORDER BY at_us, rowid")]
    assert actions == ["refused", "escalated", "queued", "approved", "queued"]


async def test_a_declined_escalation_keeps_the_reason_and_commits_nothing(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        escalation = (await ledger.take("a-7", "c-1", Proposal("escalate", escalates=Proposal("refund", eur("30.00"))),
                                        undo_window=timedelta(0))).decision
        assert escalation is not None
        declined = await ledger.decline("a-2", escalation.id, "customer already refunded by bank")
        assert (declined.approval, declined.approval_reason) == ("declined", "customer already refunded by bank")
        assert await ledger.waiting_approvals("a-2") == []
    assert rows(store, "SELECT count(*) FROM promise") == [(0,)]


async def test_nobody_approves_their_own_escalation(store: Path) -> None:
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        # A lead cannot escalate (nobody above), so try it with an agent escalating and the agent approving.
        escalation = (await ledger.take("a-7", "c-1", Proposal("escalate", escalates=Proposal("refund", eur("30.00"))),
                                        undo_window=timedelta(0))).decision
        assert escalation is not None
        with pytest.raises(LedgerError, match="nobody approves their own escalation"):
            await ledger.approve("a-7", escalation.id)


async def test_a_callback_takes_the_next_free_slot_and_is_promised_for_that_time(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        first = (await ledger.choices("a-7", "c-1")).options["callback"].suggested
        assert first is not None and first.at == NOW + timedelta(minutes=15)
        taken = await ledger.take("a-7", "c-1", first, undo_window=timedelta(0))
        assert taken.decision is not None and taken.decision.phone == "+49 170 555 0199"
        second = (await ledger.choices("a-7", "c-1")).options["callback"].suggested
        assert second is not None and second.at == NOW + timedelta(minutes=30)
        clock.advance(minutes=16)
        due = await ledger.due_callbacks("a-7", clock())
        assert [(d.id, p.due) for d, p in due] == [(taken.decision.id, first.at)]
        assert due[0][1].what == "callback on +49 170 555 0199 at Mon 23 Nov 14:15 CET"


async def test_a_read_only_role_and_a_closed_case_are_refused(store: Path) -> None:
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        watcher = await ledger.take("a-1", "c-1", Proposal("note", reason="looks fine"))
        assert watcher.decision is None and watcher.verdict.rule == "supervisor.read_only"
        closed = await ledger.take("a-7", "c-1", Proposal("refund", eur("18.40")), case_id="k-2")
        assert closed.decision is None and closed.verdict.rule == "case.status"
        with pytest.raises(LedgerError, match="no customer 'c-404'"):
            await ledger.take("a-7", "c-404", Proposal("note"))


async def test_two_workstations_refunding_one_case_at_once_never_exceed_the_disputed_amount(store: Path) -> None:
    """Two ledgers (two connections, as two processes would have) race for the same 39.90 EUR."""
    async with Ledger.open(store, MATRIX, Clock()) as one, Ledger.open(store, MATRIX, Clock()) as other:
        results = await asyncio.gather(*(
            ledger.take(agent, "c-1", Proposal("refund", eur("39.90")), case_id="k-1")
            for _ in range(5) for ledger, agent in ((one, "a-7"), (other, "a-8"))))
    allowed = [r for r in results if r.decision is not None]
    assert len(allowed) == 1
    assert all(r.verdict.rule == "case.disputed_amount" for r in results if r.decision is None)
    assert rows(store, "SELECT sum(CAST(amount AS REAL)) FROM decision WHERE kind = 'refund'") == [(39.9,)]


async def test_an_audit_line_carries_one_currency_the_amounts(make_store) -> None:
    """A refusal in another currency than the limit's keeps its amount's currency and drops the limit."""
    store = await make_store([*records(), {"type": "customer", "id": "c-2", "name": "Ines Brandt"}])
    async with Ledger.open(store, MATRIX, Clock()) as ledger:
        refused = await ledger.take("a-7", "c-2", Proposal("voucher", Money.parse("10.00", "USD")))
    assert refused.decision is None and refused.verdict.rule == "agent.voucher.currency"
    assert rows(store, "SELECT amount, currency, rule, limit_amount FROM audit WHERE action = 'refused'") == [
        ("10.00", "USD", "agent.voucher.currency", None)]
