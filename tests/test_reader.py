"""The reader: pages of a timeline are the same whichever end they are read from."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agentdesk.store.reader import StoreReader
from agentdesk.domain.timeline import order_key

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
        assert await reader.search_customers("100%_") == []
