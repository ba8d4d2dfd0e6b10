"""The demo data as interchange records: the five stories plus generated bulk.

>>> from datetime import datetime, timezone
>>> records = list(demo_records(now=datetime(2026, 7, 14, 15, tzinfo=timezone.utc), bulk_customers=20,
...                             bulk_interactions=400, heavy_customers=0))
>>> records[0]["type"], records[-1]["type"]
('agent', 'promise')

Records are plain JSON-ready dicts in the interchange format (docs/interchange.md:
``"type"`` first, times as ISO 8601 text with an offset, money as a
decimal string plus ``"currency"``), yielded in dependency order: agents,
customers, cases, interactions and events, decisions, promises. Everything is
placed relative to ``now``, and the same ``seed`` with the same ``now`` gives
byte-identical records.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone

from agentdesk.demo.bulk import Bulk
from agentdesk.demo.stories import STAFF, STORY_CUSTOMERS, Clocks, story_records

WAITING_SHARE = 0.14
"""The share of all customers (stories included) who are waiting for an answer right now."""


def default_now() -> datetime:
    """The current time truncated to the hour, in UTC: the demo's "now" unless one is given."""
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


def demo_records(seed: int = 7, now: datetime | None = None, bulk_customers: int = 2000,
                 bulk_interactions: int = 200_000, heavy_customers: int = 3,
                 heavy_entries: int = 22_000) -> Iterator[dict]:
    """Yield the demo's interchange records.

    ``bulk_customers`` generated customers share ``bulk_interactions`` interactions
    (more when that is too few for ``heavy_customers`` times ``heavy_entries`` plus
    two each for the rest); ``heavy_customers`` of them hold ``heavy_entries``
    interactions each. Internal events come on top (about 1.5 %). About 14 % of all
    customers are waiting; all five story customers are among them.

    A naive ``now`` is taken as UTC; seconds and below are dropped.
    """
    for name, value in (("bulk_customers", bulk_customers), ("bulk_interactions", bulk_interactions),
                        ("heavy_customers", heavy_customers), ("heavy_entries", heavy_entries)):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    if heavy_customers > bulk_customers:
        raise ValueError(f"heavy_customers ({heavy_customers}) cannot exceed bulk_customers ({bulk_customers})")
    if now is None:
        now = default_now()
    elif now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    now_ts = int(now.timestamp())
    return _records(seed, now_ts, bulk_customers, bulk_interactions, heavy_customers, heavy_entries)


def _records(seed: int, now_ts: int, bulk_customers: int, bulk_interactions: int, heavy_customers: int,
             heavy_entries: int) -> Iterator[dict]:
    clocks = Clocks()
    stories = story_records(clocks, now_ts)
    total_customers = bulk_customers + len(STORY_CUSTOMERS)
    waiting = round(WAITING_SHARE * total_customers) - len(STORY_CUSTOMERS)
    bulk = Bulk(random.Random(seed), clocks, now_ts, customers=bulk_customers, interactions=bulk_interactions,
                heavy_customers=heavy_customers, heavy_entries=heavy_entries, waiting=waiting)
    for person in STAFF:
        yield person.record()
    yield from stories.customers
    yield from bulk.customers
    yield from stories.cases
    yield from bulk.cases
    yield from stories.entries
    yield from bulk.entries()
    yield from stories.decisions
    yield from bulk.decisions
    yield from stories.promises
    yield from bulk.promises
