"""A reply on the workstation: on the timeline and in the outbox in one transaction, answering what waited;
drafts kept across a restart; a read-only role has no way to reply."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agentdesk.authority_file import demo_matrix
from agentdesk.domain.model import Channel
from agentdesk.domain.queue import order_queue
from agentdesk.store.ledger import Ledger, LedgerError
from agentdesk.store.reader import StoreReader
from tests.test_ledger import rows

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)

RECORDS = [
    {"type": "agent", "id": "a-7", "name": "Jonas Weber", "role": "agent", "email": "jonas.weber@example.com",
     "team": "service team Nürnberg"},
    {"type": "agent", "id": "a-1", "name": "Katrin Hoffmann", "role": "supervisor"},
    {"type": "customer", "id": "c-1", "name": "Petra Lindner", "email": "p.lindner@example.net",
     "phone": "+49 170 555 0199", "preferred_channel": "email", "timezone": "Europe/Berlin"},
    {"type": "case", "id": "k-1", "customer": "c-1", "subject": "eSIM not activated", "status": "open",
     "opened_at": "2026-12-06T09:00:00+01:00"},
    {"type": "interaction", "id": "i-1", "customer": "c-1", "case": "k-1", "channel": "email", "direction": "in",
     "at": "2026-12-07T09:30:00+01:00", "author": "Petra Lindner", "body": "My eSIM is still not active."},
]


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(RECORDS)


async def waiting_customers(store: Path) -> list[str]:
    async with StoreReader.open(store) as reader:
        return [place.waiting.customer_id for place in order_queue(await reader.waiting(NOW), NOW)]


async def test_a_reply_is_on_the_timeline_queued_in_the_outbox_and_answers_the_customer(store) -> None:
    assert await waiting_customers(store) == ["c-1"]
    async with Ledger.open(store, demo_matrix(), clock=lambda: NOW) as ledger:
        entry = await ledger.reply("a-7", "c-1", "Dear Ms Lindner,\nit is active now.")
    assert (entry.channel, entry.case, entry.extra["delivery"], entry.extra["to"]) == (
        Channel.EMAIL, "k-1", "queued", "p.lindner@example.net")
    stored = rows(store, "SELECT id, direction, json_extract(extra, '$.delivery') FROM timeline_entry "
                         "WHERE id = ?", entry.id)
    assert stored == [(entry.id, "out", "queued")]
    (kind, body), = rows(store, "SELECT kind, body FROM outbox")
    assert kind == "reply" and json.loads(body)["interaction"]["body"] == entry.body
    assert await waiting_customers(store) == []


async def test_escape_keeps_a_draft_that_survives_a_restart_and_sending_throws_it_away(store) -> None:
    async with Ledger.open(store, demo_matrix(), clock=lambda: NOW) as ledger:
        assert await ledger.save_draft("a-7", "c-1", "Dear Ms Lindner,\nhalf a thought", Channel.SMS, "k-1")
    async with Ledger.open(store, demo_matrix(), clock=lambda: NOW) as ledger:
        context = await ledger.reply_context("a-7", "c-1")
        assert context.draft is not None
        assert (context.draft.text, context.draft.channel, context.case and context.case.id) == (
            "Dear Ms Lindner,\nhalf a thought", Channel.SMS, "k-1")
        assert [d.channel for d in context.destinations] == [Channel.EMAIL, Channel.SMS]
        assert context.signature == "Jonas Weber\nAgent, service team Nürnberg\njonas.weber@example.com"
        await ledger.reply("a-7", "c-1", context.draft.text, context.draft.channel, "k-1")
        assert (await ledger.reply_context("a-7", "c-1")).draft is None
        assert not await ledger.save_draft("a-7", "c-1", "  \n")
    assert rows(store, "SELECT count(*) FROM reply_draft") == [(0,)]


async def test_a_refused_reply_writes_nothing(store) -> None:
    async with Ledger.open(store, demo_matrix(), clock=lambda: NOW) as ledger:
        with pytest.raises(LedgerError, match="a reply goes out by e-mail or SMS, not chat"):
            await ledger.reply("a-7", "c-1", "hello", Channel.CHAT)
        with pytest.raises(LedgerError, match="the reply is empty"):
            await ledger.reply("a-7", "c-1", " ")
        with pytest.raises(LedgerError, match="no case 'k-9'"):
            await ledger.reply("a-7", "c-1", "hello", case_id="k-9")
        with pytest.raises(LedgerError, match="Katrin Hoffmann \\(supervisor\\) may look but not reply"):
            await ledger.reply("a-1", "c-1", "hello")
        assert not (await ledger.reply_context("a-1", "c-1")).may_write
    assert rows(store, "SELECT count(*) FROM outbox") == [(0,)]
    assert rows(store, "SELECT count(*) FROM timeline_entry") == [(1,)]
