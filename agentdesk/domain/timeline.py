"""The merged timeline: every channel and internal event in one stable order."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone

from agentdesk.domain.model import TimelineEntry

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def utc_micros(at: datetime) -> int:
    """Microseconds since the epoch in UTC: the one key every timestamp is compared by."""
    if at.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return (at - _EPOCH) // _MICROSECOND


def from_utc_micros(micros: int) -> datetime:
    """The aware UTC time of :func:`utc_micros`' key."""
    return _EPOCH + micros * _MICROSECOND


def order_key(entry: TimelineEntry) -> tuple[int, str]:
    """UTC time first, then id, so entries at the same instant never swap places."""
    return utc_micros(entry.at), entry.id


def merge_timeline(*sources: Iterable[TimelineEntry]) -> Iterator[TimelineEntry]:
    """Merge any number of already-ordered sources into one ordered timeline.

    Each source must itself be in :func:`order_key` order (as the store returns
    it); the merge is lazy, so a page of a long history costs a page.
    """
    return heapq.merge(*sources, key=order_key)


def sort_timeline(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    return sorted(entries, key=order_key)
