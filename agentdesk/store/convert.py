"""Column values <-> domain values; shared by the reader and the writer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from agentdesk.domain.timeline import utc_micros

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ZONES: dict[int, timezone] = {}


def to_columns(at: datetime) -> tuple[int, int]:
    """``(microseconds since the epoch in UTC, the original offset in seconds)``."""
    offset = at.utcoffset()
    return utc_micros(at), int(offset.total_seconds()) if offset is not None else 0


def from_columns(micros: int, offset_s: int) -> datetime:
    zone = _ZONES.get(offset_s)
    if zone is None:
        zone = _ZONES[offset_s] = timezone.utc if offset_s == 0 else timezone(timedelta(seconds=offset_s))
    return (_EPOCH + timedelta(microseconds=micros)).astimezone(zone)


def extra_to_column(extra: dict[str, Any]) -> str | None:
    return json.dumps(extra, ensure_ascii=False, separators=(",", ":"), sort_keys=True) if extra else None


def extra_from_column(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}
