"""Bounds on what one record may hold, shared by import, the ledger and the backend.

They live in the domain so that the codec (interchange), the ledger (store) and
the backend (server) refuse the same things with the same words: a workstation
must not queue what the backend would refuse.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

MAX_RECORD_BYTES = 1 << 20
"""One record as JSON, at most (also the default of ``agentdesk import --max-record-bytes``)."""

MAX_FREE_TEXT_CHARS = 10_000
"""A decision's free text (its reason or note, an approver's reason), at most."""

EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=timezone.utc)
"""No time in a record is earlier: before it, a time is a typo or a zero date such as 0001-01-01."""

LATEST_TIME = datetime(3000, 1, 1, tzinfo=timezone.utc)
"""No time in a record is this late, not even a promise's due time (year 9999 overflows once its offset is applied)."""

FUTURE_ALLOWANCE = timedelta(days=1)
"""How far ahead of now the time of something that has happened (an ``at``, an ``opened_at``) may be:
clocks differ, but not by days."""


def free_text_refusal(field: str, text: str | None) -> str | None:
    """``reason is 12,000 characters; the limit is 10,000``, or None when ``text`` is within the limit."""
    if text is None or len(text) <= MAX_FREE_TEXT_CHARS:
        return None
    return f"{field} is {len(text):,} characters; the limit is {MAX_FREE_TEXT_CHARS:,}"


def allowance_words() -> str:
    """:data:`FUTURE_ALLOWANCE` in words: ``1 day``."""
    days = FUTURE_ALLOWANCE.days
    return "1 day" if days == 1 else f"{days} days"
