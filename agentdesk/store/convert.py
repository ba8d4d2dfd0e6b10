"""Column values <-> domain values; shared by the reader and the writer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from agentdesk.domain.timeline import utc_micros

_EPOCH = datetime(1970, 1, 1)
_ZONES: dict[int, timezone] = {}
_OFFSETS: dict[timedelta, int] = {}
_CACHE_LIMIT = 4096


def offset_seconds(at: datetime) -> int:
    """The time's UTC offset in whole seconds (cached: a store holds few distinct offsets)."""
    offset = at.utcoffset()
    seconds = _OFFSETS.get(offset)  # type: ignore[arg-type]
    if seconds is None:
        if offset is None:
            raise ValueError("timestamp has no UTC offset")
        seconds = offset.days * 86_400 + offset.seconds
        if len(_OFFSETS) < _CACHE_LIMIT:
            _OFFSETS[offset] = seconds
    return seconds


def to_columns(at: datetime) -> tuple[int, int]:
    """``(microseconds since the epoch in UTC, the original offset in seconds)``."""
    return utc_micros(at), offset_seconds(at)


def _zone(offset_s: int) -> timezone:
    zone = _ZONES.get(offset_s)
    if zone is None:
        zone = timezone.utc if offset_s == 0 else timezone(timedelta(seconds=offset_s))
        if len(_ZONES) < _CACHE_LIMIT:
            _ZONES[offset_s] = zone
    return zone


def from_columns(micros: int, offset_s: int) -> datetime:
    """The aware time for ``*_us`` and ``*_offset_s``, in the offset it came with."""
    # Computed as local wall time, so times near datetime.min/max that were valid
    # with their offset stay valid.
    return (_EPOCH + timedelta(microseconds=micros + offset_s * 1_000_000)).replace(tzinfo=_zone(offset_s))


_encode_extra = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def extra_to_column(extra: Mapping[str, Any]) -> str | None:
    """Compact JSON of a record's unknown fields, in their order, or NULL when there are none."""
    return _encode_extra(extra) if extra else None


def extra_from_column(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}
