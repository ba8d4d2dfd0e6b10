"""The reader: timeline pages from either end, decisions, approvals, audit, and the waiting list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from agentdesk.domain.decision_text import shown_state
from agentdesk.domain.model import Channel, EntryKind
from agentdesk.domain.money import Money
from agentdesk.domain.queue import order_queue
from agentdesk.domain.timeline import order_key
from agentdesk.store.reader import StoreReader

BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _records(count: int) -> list[dict]:
    rows = [
        {"type": "agent", "id": "a-1", "name": "Jonas Weber", "role": "agent"},
        {"type": "customer", "id": "c-1", "name": "Petra Lindner", "owner": "a-1"},
    ]
    for n in range(count):
        # Pairs share a timestamp, so the id must break the tie the same way from both ends.
        at = (BASE + timedelta(minutes=n // 2)).isoformat()
        rows.append({"type": "interaction", "id": f"i-{n:04d}", "customer": "c-1", "channel": "chat",
                     "direction": "in", "at": at, "author": "Petra Lindner", "body": f"message {n}"})
    return rows


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(_records(1001))


@pytest.mark.parametrize(("offset", "limit"), [(0, 200), (400, 200), (501, 200), (800, 200), (1000, 200), (950, 51)])
async def test_pages_match_whichever_end_they_are_read_from(store: Path, offset: int, limit: int) -> None:
    async with StoreReader.open(store) as reader:
        total = await reader.timeline_count("c-1")
        forward = await reader.timeline_page("c-1", offset, limit)
        smart = await reader.timeline_page("c-1", offset, limit, total=total)
        everything = [entry async for entry in reader.timeline("c-1", page_size=97)]
    assert total == 1001
    assert [e.id for e in smart] == [e.id for e in forward] == [e.id for e in everything[offset:offset + limit]]
    assert [order_key(e) for e in everything] == sorted(order_key(e) for e in everything)


async def test_find_customer_by_id_email_or_phone(make_store) -> None:
    path = await make_store([
        {"type": "customer", "id": "c-9", "name": "Ole Brandt", "email": "Ole@Example.org", "phone": "+49 40 555-0123"},
    ])
    async with StoreReader.open(path) as reader:
        for reference in ("c-9", "ole@example.org", " OLE@EXAMPLE.ORG ", "+49 (40) 5550123", "+494055501 23"):
            found = await reader.find_customer(reference)
            assert found is not None and found.id == "c-9", reference
        assert await reader.find_customer("+49 40 555 0124") is None
        assert [c.id for c in await reader.search_customers("brandt")] == ["c-9"]
        assert [c.id for c in await reader.search_customers("0123")] == ["c-9"]
        assert [c.id for c in await reader.search_customers("040 555 0123")] == ["c-9"], "as dialled in Germany"
        assert await reader.search_customers("100%_") == []


# ---------------------------------------------------------------------------
# Decisions: on the timeline with their state, by customer, waiting for approval, audited

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
CET = timezone(timedelta(hours=1))


def ago(minutes: int) -> str:
    return (NOW - timedelta(minutes=minutes)).astimezone(CET).isoformat()


def decision(ident: str, customer: str, minutes_ago: int, kind: str, state: str, **more) -> dict:
    return {"type": "decision", "id": ident, "customer": customer, "kind": kind, "agent": "a-1",
            "at": ago(minutes_ago), "state": state, **more}


def promise(ident: str, customer: str, due_in_minutes: int, what: str, decision_id: str | None = None,
            state: str = "open") -> dict:
    due = (NOW + timedelta(minutes=due_in_minutes)).astimezone(CET).isoformat()
    row = {"type": "promise", "id": ident, "customer": customer, "what": what, "due": due, "state": state}
    return row | ({"decision": decision_id} if decision_id else {})


def workflow_records() -> list[dict]:
    people = [
        {"type": "agent", "id": "a-1", "name": "Jonas Weber", "role": "agent"},
        {"type": "agent", "id": "a-2", "name": "Mira Scholz", "role": "lead"},
    ] + [{"type": "customer", "id": f"c-{n}", "name": f"Customer {n}", "timezone": "Europe/Berlin"}
         for n in range(1, 7)]
    return people + [
        {"type": "interaction", "id": "i-1", "customer": "c-1", "channel": "chat", "direction": "in",
         "at": ago(300), "author": "Customer 1", "body": "My refund?"},
        decision("d-1", "c-1", 200, "refund", "confirmed", amount="39.90", currency="EUR", reason="double charge"),
        decision("d-2", "c-1", 100, "escalate", "queued", amount="80.00", currency="EUR", escalate_to="lead",
                 proposal_kind="refund", approval="waiting"),
        decision("d-3", "c-1", 90, "escalate", "confirmed", escalate_to="lead", proposal_kind="voucher",
                 amount="30.00", currency="EUR", approval="declined", approval_by="a-2", approval_at=ago(80),
                 approval_reason="not this time"),
        decision("d-4", "c-2", 50, "escalate", "queued", escalate_to="supervisor", proposal_kind="refund",
                 amount="900.00", currency="EUR", approval="waiting"),
        decision("d-5", "c-3", 60, "escalate", "queued", escalate_to="lead", proposal_kind="callback",
                 scheduled=ago(-60), approval="waiting"),
        decision("d-6", "c-1", 10, "voucher", "undone", amount="5.00", currency="EUR"),
        {"type": "audit", "id": "au-2", "at": ago(100), "actor": "a-1", "action": "escalated", "customer": "c-1",
         "decision": "d-2", "kind": "escalate"},
        {"type": "audit", "id": "au-1", "at": ago(101), "actor": "a-1", "action": "refused", "customer": "c-1",
         "kind": "refund", "amount": "80.00", "currency": "EUR", "rule": "agent.refund.max", "limit": "50.00"},
        {"type": "audit", "id": "au-3", "at": ago(5), "actor": "a-1", "action": "taken", "customer": "c-2"},
        # Callbacks: c-2 writes in and is called back in 10 min; c-4 has not written in, callback 5 min late;
        # c-5's callback is an hour off; c-6's open promise is a refund, not a call; c-3's call was kept.
        {"type": "interaction", "id": "i-2", "customer": "c-2", "channel": "sms", "direction": "in",
         "at": ago(30), "author": "Customer 2", "body": "Call me"},
        decision("d-7", "c-2", 40, "callback", "queued", scheduled=ago(-10), phone="+49 170 555 0199"),
        promise("p-7", "c-2", 10, "callback about the invoice", "d-7"),
        decision("d-8", "c-4", 120, "callback", "queued", scheduled=ago(5)),
        promise("p-8", "c-4", -5, "callback", "d-8"),
        promise("p-8b", "c-4", -60, "voucher 5.00 EUR"),
        decision("d-9", "c-5", 120, "callback", "queued", scheduled=ago(-60)),
        promise("p-9", "c-5", 60, "callback", "d-9"),
        promise("p-10", "c-6", -30, "refund 39.90 EUR", "d-1"),
        decision("d-11", "c-3", 120, "callback", "confirmed", scheduled=ago(30)),
        promise("p-11", "c-3", -30, "callback", "d-11", state="kept"),
    ]


@pytest.fixture
async def workflow(make_store) -> Path:
    return await make_store(workflow_records(), name="workflow.sqlite3")


async def test_decisions_show_on_the_timeline_with_their_state_from_either_end(workflow: Path) -> None:
    async with StoreReader.open(workflow) as reader:
        total = await reader.timeline_count("c-1")
        forward = await reader.timeline_page("c-1", 0, 10)
        backward = await reader.timeline_page("c-1", 1, 10, total=total)
        streamed = [entry async for entry in reader.timeline("c-1", page_size=2)]
    assert total == 4  # the inbound message and three decisions; the undone voucher has no line
    assert forward[1:] == backward == streamed[1:]
    assert forward[0].decision_id is None and forward[0].decision_state is None
    assert [(e.id, e.kind, e.decision_id, e.decision_state, e.body) for e in forward[1:]] == [
        ("decision:d-1", EntryKind.DECISION, "d-1", "confirmed", "refund 39.90 EUR · double charge"),
        ("decision:d-2", EntryKind.DECISION, "d-2", "waiting for approval", "escalate to lead: refund 80.00 EUR"),
        ("decision:d-3", EntryKind.DECISION, "d-3", "declined", "escalate to lead: voucher 30.00 EUR"),
    ]


async def test_the_timeline_state_is_what_shown_state_says(workflow: Path) -> None:
    async with StoreReader.open(workflow) as reader:
        for customer in ("c-1", "c-2", "c-3"):
            shown = {d.id: shown_state(d) for d in await reader.decisions(customer)}
            for entry in await reader.timeline_page(customer, 0, 100):
                if entry.decision_id is not None:
                    assert entry.decision_state == shown[entry.decision_id]


async def test_decisions_of_a_customer_oldest_first_and_since(workflow: Path) -> None:
    async with StoreReader.open(workflow) as reader:
        everything = await reader.decisions("c-1")
        recent = await reader.decisions("c-1", since=NOW - timedelta(minutes=95))
        one = await reader.decision("d-3")
        assert await reader.decision("d-404") is None
    assert [d.id for d in everything] == ["d-1", "d-2", "d-3", "d-6"]
    assert [d.id for d in recent] == ["d-3", "d-6"]
    assert one is not None and one.approval_reason == "not this time" and one.approval_by == "a-2"
    assert one.amount == Money(Decimal("30.00"), "EUR")


async def test_audit_of_a_customer_oldest_first(workflow: Path) -> None:
    async with StoreReader.open(workflow) as reader:
        log = await reader.audit("c-1")
    assert [(a.id, a.action) for a in log] == [("au-1", "refused"), ("au-2", "escalated")]
    assert log[0].limit == Money(Decimal("50.00"), "EUR") and log[0].rule == "agent.refund.max"


async def test_promises_by_state(workflow: Path) -> None:
    async with StoreReader.open(workflow) as reader:
        kept = await reader.promises(["kept"])
        open_of_c4 = await reader.promises(["open", "overdue"], customer_id="c-4")
        assert await reader.promises([]) == []
        assert [p.id for p in await reader.open_promises("c-4")] == [p.id for p in open_of_c4]
    assert [p.id for p in kept] == ["p-11"]
    assert [p.id for p in open_of_c4] == ["p-8b", "p-8"]  # due first


async def test_callbacks_due_soon_join_the_waiting_list(workflow: Path) -> None:
    async with StoreReader.open(workflow) as reader:
        waiting = {w.customer_id: w for w in await reader.waiting(NOW)}
        later = {w.customer_id: w for w in await reader.waiting(NOW + timedelta(minutes=50))}
    assert set(waiting) == {"c-1", "c-2", "c-4"}
    assert waiting["c-1"].callback_due is None
    called_back = waiting["c-2"]  # wrote in, and is called back in 10 min
    assert called_back.channels == (Channel.SMS,) and called_back.since == NOW - timedelta(minutes=30)
    assert called_back.callback_due == NOW + timedelta(minutes=10)
    assert called_back.callback_what == "callback about the invoice"
    assert called_back.callback_due.utcoffset() == timedelta(hours=1)  # as the promise was written
    quiet = waiting["c-4"]  # never wrote in: waits since the call was due
    five_minutes_ago = NOW - timedelta(minutes=5)
    assert (quiet.channels, quiet.since, quiet.callback_due) == ((), five_minutes_ago, five_minutes_ago)
    assert (quiet.deadline, quiet.deadline_what) == (NOW - timedelta(minutes=60), "voucher 5.00 EUR")
    assert set(later) == {"c-1", "c-2", "c-4", "c-5"}  # c-5's call is now within 15 min
    places = order_queue(list(waiting.values()), NOW)
    assert [p.waiting.customer_id for p in places] == ["c-4", "c-2", "c-1"]
