"""Durations and times as people read them."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def duration(delta: timedelta) -> str:
    """``45 s``, ``12 min``, ``2 h 05 min``, ``3 d 4 h``, ``2 d``: precise where it matters, short elsewhere."""
    seconds = int(abs(delta).total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def until(due: datetime, now: datetime) -> str:
    """``due in 20 min`` or ``overdue by 2 h 05 min``."""
    if due >= now:
        return f"due in {duration(due - now)}"
    return f"overdue by {duration(now - due)}"


def later(gap: timedelta) -> str:
    """``3 days later``, ``2 months later``, ``10 years later``: a pause between two rows, roughly, in words."""
    days = abs(gap).days
    if days < 60:
        amount, unit = days, "day"
    elif days < 365:
        amount, unit = days // 30, "month"
    else:
        amount, unit = days // 365, "year"
    return f"{amount} {unit}{'' if amount == 1 else 's'} later"


def zone(name: str | None) -> tzinfo | None:
    """The named IANA zone, or None when the name is missing or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name that is a path
        return None
