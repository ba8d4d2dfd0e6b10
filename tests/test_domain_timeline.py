from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from agentdesk.domain.model import Direction, EntryKind, TimelineEntry
from agentdesk.domain.timeline import merge_timeline, order_key, sort_timeline, utc_micros

BERLIN = timezone(timedelta(hours=2))


def entry(id_: str, at: datetime) -> TimelineEntry:
    return TimelineEntry(id_, "c-1", EntryKind.INTERACTION, at, "x", "body", Direction.IN)


def test_order_is_by_utc_instant_not_by_local_clock() -> None:
    berlin_nine = entry("i-1", datetime(2026, 7, 14, 9, 0, tzinfo=BERLIN))  # 07:00 UTC
    utc_eight = entry("i-2", datetime(2026, 7, 14, 8, 0, tzinfo=timezone.utc))
    assert [e.id for e in sort_timeline([utc_eight, berlin_nine])] == ["i-1", "i-2"]


def test_same_instant_is_ordered_by_id() -> None:
    at = datetime(2026, 7, 14, 9, 0, tzinfo=timezone.utc)
    same = [entry("i-2", at), entry("e-1", at.astimezone(BERLIN)), entry("i-1", at)]
    assert [e.id for e in sort_timeline(same)] == ["e-1", "i-1", "i-2"]


def test_utc_micros_is_exact() -> None:
    assert utc_micros(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=timezone.utc)) == 1_000_005


@given(st.lists(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 50)), max_size=30), max_size=5))
def test_merging_ordered_sources_equals_sorting_everything(sources) -> None:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    streams = []
    for s, rows in enumerate(sources):
        entries = [entry(f"{s}-{n}-{i}", base + timedelta(seconds=sec)) for i, (sec, n) in enumerate(rows)]
        streams.append(sort_timeline(entries))
    merged = list(merge_timeline(*streams))
    assert [order_key(e) for e in merged] == sorted(order_key(e) for s in streams for e in s)
