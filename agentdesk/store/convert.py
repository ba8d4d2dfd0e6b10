"""Column values <-> domain values, and stored rows -> domain records; shared by the reader and the writer.

The other way, records -> rows, is :mod:`agentdesk.store.rows`.

Rows are mappings by column name (``sqlite3.Row`` or a dict).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from agentdesk.domain.model import (
    Agent,
    Article,
    AuditEntry,
    Case,
    CaseStatus,
    Channel,
    Customer,
    Decision,
    Direction,
    EntryKind,
    Promise,
    TimelineEntry,
    Urgency,
)
from agentdesk.domain.money import Money
from agentdesk.domain.timeline import utc_micros

_EPOCH = datetime(1970, 1, 1)
_ZONES: dict[int, timezone] = {}
_OFFSETS: dict[timedelta, int] = {}
_CACHE_LIMIT = 4096



class ColumnRow(Protocol):
    """A stored row read by column name: ``sqlite3.Row`` (not a ``Mapping`` to the type checker) or a dict."""

    def __getitem__(self, column: str, /) -> Any: ...


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


def micros_column(at: datetime | None) -> int | None:
    return None if at is None else utc_micros(at)


def offset_column(at: datetime | None) -> int | None:
    return None if at is None else offset_seconds(at)


def amount_column(money: Money | None) -> str | None:
    """The amount at its currency's precision (``"39.90"``)."""
    return None if money is None else money.text


def currency_column(money: Money | None) -> str | None:
    return None if money is None else money.currency


def enum_column(member: Enum | None) -> Any:
    return None if member is None else member._value_


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


# ---------------------------------------------------------------------------
# stored row -> domain record

_CHANNELS = {member.value: member for member in Channel}
_DIRECTIONS = {member.value: member for member in Direction}
_KINDS = {member.value: member for member in EntryKind}
_STATUSES = {member.value: member for member in CaseStatus}
_URGENCIES = {member.value: member for member in Urgency}


def _money(amount: str | None, currency: str | None) -> Money | None:
    if amount is None or currency is None:
        return None
    return Money(Decimal(amount), currency)


def _optional_time(micros: int | None, offset_s: int | None) -> datetime | None:
    return None if micros is None else from_columns(micros, offset_s or 0)


def _selected(row: ColumnRow, column: str) -> Any:
    """``row[column]``, or None when the query did not select that column."""
    if isinstance(row, dict):
        return row.get(column)
    try:
        return row[column]
    except IndexError:  # sqlite3.Row without that column
        return None


def agent_from_row(row: ColumnRow) -> Agent:
    return Agent(id=row["id"], name=row["name"], role=row["role"], email=row["email"], phone=row["phone"],
                 extra=extra_from_column(row["extra"]))


def customer_from_row(row: ColumnRow) -> Customer:
    channel = row["preferred_channel"]
    return Customer(
        id=row["id"], name=row["name"], email=row["email"], phone=row["phone"],
        preferred_channel=_CHANNELS[channel] if channel is not None else None,
        language=row["language"], timezone=row["timezone"], location=row["location"], owner=row["owner"],
        extra=extra_from_column(row["extra"]),
    )


def case_from_row(row: ColumnRow) -> Case:
    return Case(
        id=row["id"], customer=row["customer_id"], subject=row["subject"], status=_STATUSES[row["status"]],
        opened_at=from_columns(row["opened_at_us"], row["opened_at_offset_s"]),
        disputed=_money(row["disputed_amount"], row["currency"]),
        urgency=_URGENCIES[row["urgency"] or "normal"], extra=extra_from_column(row["extra"]),
    )


def entry_from_row(row: ColumnRow) -> TimelineEntry:
    channel = row["channel"]
    return TimelineEntry(
        id=row["id"], customer=row["customer_id"], kind=_KINDS[row["kind"]],
        at=from_columns(row["at_us"], row["at_offset_s"]), author=row["author"], body=row["body"],
        direction=_DIRECTIONS[row["direction"]], channel=_CHANNELS[channel] if channel is not None else None,
        case=row["case_id"], event_kind=row["event_kind"], duration_s=row["duration_s"], wait_s=row["wait_s"],
        extra=extra_from_column(row["extra"]),
        decision_id=_selected(row, "decision_id"), decision_state=_selected(row, "decision_state"),
    )


def decision_from_row(row: ColumnRow) -> Decision:
    return Decision(
        id=row["id"], customer=row["customer_id"], kind=row["kind"], agent=row["agent_id"],
        at=from_columns(row["at_us"], row["at_offset_s"]), state=row["state"], case=row["case_id"],
        amount=_money(row["amount"], row["currency"]), reason=row["reason"],
        scheduled=_optional_time(row["scheduled_us"], row["scheduled_offset_s"]), phone=row["phone"],
        undo_until=_optional_time(row["undo_until_us"], 0), escalate_to=row["escalate_to"],
        proposal_kind=row["proposal_kind"], approval=row["approval"], approval_by=row["approval_by"],
        approval_at=_optional_time(row["approval_at_us"], row["approval_offset_s"]),
        approval_reason=row["approval_reason"], approves=row["approves"],
        extra=extra_from_column(row["extra"]),
    )


def promise_from_row(row: ColumnRow) -> Promise:
    return Promise(
        id=row["id"], customer=row["customer_id"], what=row["what"],
        due=from_columns(row["due_us"], row["due_offset_s"]), state=row["state"], decision=row["decision_id"],
        extra=extra_from_column(row["extra"]),
    )


def audit_from_row(row: ColumnRow) -> AuditEntry:
    return AuditEntry(
        id=row["id"], at=from_columns(row["at_us"], row["at_offset_s"]), actor=row["actor"], action=row["action"],
        customer=row["customer_id"], decision=row["decision_id"], kind=row["kind"],
        amount=_money(row["amount"], row["currency"]), rule=row["rule"],
        limit=_money(row["limit_amount"], row["currency"]), detail=row["detail"],
        extra=extra_from_column(row["extra"]),
    )


def words_to_column(words: tuple[str, ...]) -> str:
    """An article's products or tags as a JSON array (the search index reads its words from it)."""
    return json.dumps(list(words), ensure_ascii=False, separators=(",", ":"))


def article_from_row(row: ColumnRow) -> Article:
    return Article(id=row["id"], title=row["title"], body=row["body"], products=tuple(json.loads(row["products"])),
                   tags=tuple(json.loads(row["tags"])), extra=extra_from_column(row["extra"]))
