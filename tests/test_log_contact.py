"""Logging a contact by hand (a letter, a shop visit): on the timeline at once, in the queue, in the outbox."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agentdesk.authority_file import demo_matrix
from agentdesk.domain.contact_log import ContactRefused, channel_named, direction_named
from agentdesk.domain.model import Channel, Direction
from agentdesk.domain.queue import order_queue
from agentdesk.store.ledger import Ledger, LedgerError
from agentdesk.store.reader import StoreReader

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)

RECORDS = [
    {"type": "agent", "id": "a-7", "name": "Jonas Weber", "role": "agent"},
    {"type": "agent", "id": "a-1", "name": "Katrin Hoffmann", "role": "supervisor"},
    {"type": "customer", "id": "c-1", "name": "Petra Lindner", "timezone": "Europe/Berlin", "owner": "a-7"},
    {"type": "customer", "id": "c-2", "name": "Ole Brandt", "timezone": "Europe/Berlin"},
    {"type": "interaction", "id": "i-1", "customer": "c-2", "channel": "email", "direction": "in",
     "at": "2026-11-23T13:30:00+01:00", "author": "Ole Brandt", "body": "Where is my invoice?"},
]


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(RECORDS)


def outbox(path: Path) -> list[tuple[str, dict]]:
    con = sqlite3.connect(path)
    try:
        return [(kind, json.loads(body)) for kind, body in con.execute("SELECT kind, body FROM outbox ORDER BY seq")]
    finally:
        con.close()


async def test_a_letter_in_is_on_the_timeline_queued_for_the_backend_and_makes_the_customer_wait(store) -> None:
    async with Ledger.open(store, demo_matrix(), clock=lambda: NOW) as ledger:
        entry = await ledger.log_contact("a-7", "c-1", Channel.LETTER, Direction.IN,
                                         "  Letter about the\nterminated contract ")
    assert entry.body == "Letter about the terminated contract"
    assert entry.author == "Petra Lindner" and entry.extra == {"logged_by": "a-7"}
    async with StoreReader.open(store) as reader:
        timeline = [e async for e in reader.timeline("c-1")]
        places = order_queue(await reader.waiting(NOW), NOW + timedelta(minutes=3))
    assert [(e.id, e.channel, e.direction, e.body) for e in timeline] == [
        (entry.id, Channel.LETTER, Direction.IN, "Letter about the terminated contract")]
    petra = next(p for p in places if p.waiting.customer_id == "c-1")
    assert petra.reason == "letter 3 min; longest wait first"
    ((kind, body),) = outbox(store)
    assert kind == "contact"
    assert body == {"kind": "contact", "interaction": {
        "type": "interaction", "id": entry.id, "customer": "c-1", "channel": "letter", "direction": "in",
        "at": "2026-11-23T14:00:00+01:00", "author": "Petra Lindner",
        "body": "Letter about the terminated contract", "logged_by": "a-7"}}


async def test_a_shop_visit_out_answers_what_waited(store) -> None:
    async with Ledger.open(store, demo_matrix(), clock=lambda: NOW) as ledger:
        async with StoreReader.open(store) as reader:
            assert [w.customer_id for w in await reader.waiting(NOW)] == ["c-2"]
            entry = await ledger.log_contact("a-7", "c-2", Channel.SHOP, Direction.OUT, "Handed over the invoice")
            assert await reader.waiting(NOW) == []
    assert entry.author == "a-7"
    assert [kind for kind, _ in outbox(store)] == ["contact"]


async def test_a_supervisor_logs_nothing_and_nothing_is_written(store) -> None:
    async with Ledger.open(store, demo_matrix(), clock=lambda: NOW) as ledger:
        with pytest.raises(LedgerError, match="may look but not log"):
            await ledger.log_contact("a-1", "c-1", Channel.LETTER, Direction.IN, "A letter")
        with pytest.raises(LedgerError, match="say in a few words"):
            await ledger.log_contact("a-7", "c-1", Channel.LETTER, Direction.IN, " \n ")
    assert outbox(store) == []
    async with StoreReader.open(store) as reader:
        assert await reader.timeline_count("c-1") == 0


def test_channel_and_direction_words() -> None:
    assert channel_named("E-Mail") is Channel.EMAIL
    assert channel_named("letter") is Channel.LETTER
    assert direction_named("OUT") is Direction.OUT
    with pytest.raises(ContactRefused, match="no channel 'fax'"):
        channel_named("fax")
    with pytest.raises(ContactRefused, match="in \\(from the customer\\)"):
        direction_named("internal")


async def test_the_queue_reads_a_missed_call_from_the_store(make_store) -> None:
    calls = [
        {"type": "customer", "id": "c-3", "name": "Mia Roth"},
        {"type": "customer", "id": "c-4", "name": "Jan Voss"},
        {"type": "customer", "id": "c-5", "name": "Eva Kern"},
        {"type": "interaction", "id": "i-3", "customer": "c-3", "channel": "phone", "direction": "in",
         "at": "2026-11-23T12:57:00+00:00", "author": "Mia Roth", "body": "Caller hung up", "missed": True},
        {"type": "interaction", "id": "i-4", "customer": "c-4", "channel": "phone", "direction": "in",
         "at": "2026-11-23T12:50:00+00:00", "author": "Jan Voss", "body": "Missed call: hung up after 2 min"},
        {"type": "interaction", "id": "i-5", "customer": "c-5", "channel": "phone", "direction": "in",
         "at": "2026-11-23T12:40:00+00:00", "author": "Eva Kern", "body": "Asked about roaming"},
        {"type": "interaction", "id": "i-6", "customer": "c-5", "channel": "sms", "direction": "in",
         "at": "2026-11-23T12:45:00+00:00", "author": "Eva Kern", "body": "Hello?"},
    ]
    path = await make_store(calls)
    async with StoreReader.open(path) as reader:
        reasons = {p.waiting.customer_id: p.reason for p in order_queue(await reader.waiting(NOW), NOW)}
    assert reasons == {"c-3": "missed call 3 min; longest wait first",
                       "c-4": "missed call 10 min; longest wait first",
                       "c-5": "call 20 min; longest wait first"}
