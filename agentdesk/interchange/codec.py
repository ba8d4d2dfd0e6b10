"""Interchange JSONL, one record at a time: JSON object <-> domain record.

Pure: no I/O, no database. Every refusal is a :class:`RecordError` whose message
is one line that names the record and the field, for example::

    interaction i-9: unknown channel 'fax' (expected one of email, phone, ...)
    case k-5: disputed_amount 39.9 must be a decimal string such as "39.90", not a number

Unknown fields are kept in the record's ``extra`` and written back by
:func:`to_json_obj`, after the known fields. Times keep the offset they came
with. Money is only ever a decimal string plus a currency: JSON numbers are
parsed into :class:`JsonNumber` (a ``float`` that remembers its text) so that
they can be named in the refusal, and never become money.

What a record may hold is bounded (:mod:`agentdesk.domain.limits`): money in the
digits 0-9, times from 1900 to before 3000 and, for what has happened, at most a
day ahead of ``now`` (given, or read from the clock), valid Unicode, a decision's
free text and the whole record in size.

This module is on the import path of the loader only; it uses the standard
library, ``msgspec`` (strict JSON) and the domain, nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union, get_args, get_origin

import msgspec

from agentdesk.domain.limits import (
    EARLIEST_TIME,
    FUTURE_ALLOWANCE,
    LATEST_TIME,
    MAX_RECORD_BYTES,
    allowance_words,
    free_text_refusal,
)
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
    Record,
    TimelineEntry,
    Urgency,
)
from agentdesk.domain.money import Money, MoneyError
from agentdesk.domain.timefmt import zone

__all__ = [
    "APPROVAL_STATES",
    "AUDIT_ACTIONS",
    "DECISION_KINDS",
    "DECISION_STATES",
    "DEFAULT_MAX_RECORD_BYTES",
    "FIELDS",
    "PROMISE_STATES",
    "PROPOSAL_KINDS",
    "RECORD_TYPES",
    "JsonNumber",
    "Record",
    "RecordError",
    "decode_json",
    "decode_line",
    "dumps",
    "lone_surrogate_at",
    "parse_line",
    "parse_record",
    "record_label",
    "record_type",
    "size_refusal",
    "to_json_obj",
]

DEFAULT_MAX_RECORD_BYTES = MAX_RECORD_BYTES

RECORD_TYPES = ("agent", "customer", "case", "interaction", "event", "decision", "promise", "audit", "article")
DECISION_KINDS = ("refund", "voucher", "callback", "escalate", "note")
DECISION_STATES = ("pending", "queued", "confirmed", "refused", "undone")
PROPOSAL_KINDS = ("refund", "voucher", "callback")
"""What an escalation may propose."""
APPROVAL_STATES = ("waiting", "approved", "declined")
PROMISE_STATES = ("open", "kept", "overdue", "broken", "cancelled")
AUDIT_ACTIONS = ("taken", "refused", "undone", "queued", "escalated", "approved", "declined", "confirmed")

Key = Annotated[str, msgspec.Meta(min_length=1)]
"""An id or a reference: a non-empty string."""
Seconds = Annotated[int, msgspec.Meta(ge=0, le=(1 << 63) - 1)]
"""A whole number of seconds that a signed 64-bit column holds."""
Time = Any
"""An ISO 8601 string with its UTC offset (an aware datetime in memory); :func:`_time` reads and bounds it."""
Amount = Any
"""A decimal string with the record's ``currency``; :func:`_money` reads it, naming a JSON number as written."""


def _one_of(what: str, values: tuple[str, ...]) -> Any:
    """A string from ``values``; ``what`` names it in a refusal (``unknown channel 'fax'``)."""
    return Annotated[Literal[values], msgspec.Meta(extra={"what": what})]


if TYPE_CHECKING:  # the checker reads each as the string it holds; msgspec reads the Literal of its values
    ChannelName: TypeAlias = str
    DirectionName: TypeAlias = str
    CaseStatusName: TypeAlias = str
    UrgencyName: TypeAlias = str
    DecisionKind: TypeAlias = str
    DecisionState: TypeAlias = str
    ProposalKind: TypeAlias = str
    ApprovalState: TypeAlias = str
    PromiseState: TypeAlias = str
    AuditAction: TypeAlias = str
else:
    ChannelName = _one_of("channel", tuple(c.value for c in Channel))
    DirectionName = _one_of("direction", tuple(d.value for d in Direction))
    CaseStatusName = _one_of("case status", tuple(s.value for s in CaseStatus))
    UrgencyName = _one_of("urgency", tuple(u.value for u in Urgency))
    DecisionKind = _one_of("decision kind", DECISION_KINDS)
    DecisionState = _one_of("decision state", DECISION_STATES)
    ProposalKind = _one_of("proposal kind", PROPOSAL_KINDS)
    ApprovalState = _one_of("approval", APPROVAL_STATES)
    PromiseState = _one_of("promise state", PROMISE_STATES)
    AuditAction = _one_of("audit action", AUDIT_ACTIONS)


class _Schema(msgspec.Struct, kw_only=True, frozen=True):
    """A record type's known fields in the order of docs/interchange.md (after ``type``); others: ``extra``."""


class AgentSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    name: str
    role: Key
    email: str | None = None
    phone: str | None = None


class CustomerSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    name: str
    email: str | None = None
    phone: str | None = None
    preferred_channel: ChannelName | None = None
    language: str | None = None
    timezone: str | None = None
    location: str | None = None
    owner: Key | None = None


class CaseSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    customer: Key
    subject: str
    status: CaseStatusName
    opened_at: Time
    disputed_amount: Amount = None
    currency: Any = None
    urgency: UrgencyName | None = None


class InteractionSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    customer: Key
    case: Key | None = None
    channel: ChannelName
    direction: DirectionName
    at: Time
    author: str
    body: str
    duration_s: Seconds | None = None
    wait_s: Seconds | None = None


class EventSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    customer: Key
    case: Key | None = None
    at: Time
    author: str
    kind: Key
    body: str | None = None


class DecisionSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    customer: Key
    case: Key | None = None
    kind: DecisionKind
    amount: Amount = None
    currency: Any = None
    agent: Key
    at: Time
    state: DecisionState
    reason: str | None = None
    scheduled: Time = None
    phone: str | None = None
    undo_until: Time = None
    escalate_to: Key | None = None
    proposal_kind: ProposalKind | None = None
    approval: ApprovalState | None = None
    approval_by: Key | None = None
    approval_at: Time = None
    approval_reason: str | None = None
    approves: Key | None = None


class PromiseSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    decision: Key | None = None
    customer: Key
    what: str
    due: Time
    state: PromiseState


class AuditSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    at: Time
    actor: Key
    action: AuditAction
    customer: Key
    decision: Key | None = None
    kind: DecisionKind | None = None
    amount: Amount = None
    currency: Any = None
    rule: str | None = None
    limit: Amount = None
    detail: str | None = None


class ArticleSchema(_Schema, kw_only=True, frozen=True):
    id: Key
    title: Key
    products: list[str] = []
    tags: list[str] = []
    body: str


SCHEMAS: dict[str, type[_Schema]] = {
    "agent": AgentSchema, "customer": CustomerSchema, "case": CaseSchema, "interaction": InteractionSchema,
    "event": EventSchema, "decision": DecisionSchema, "promise": PromiseSchema, "audit": AuditSchema,
    "article": ArticleSchema,
}

FIELDS: dict[str, tuple[str, ...]] = {kind: ("type", *schema.__struct_fields__) for kind, schema in SCHEMAS.items()}
"""The fields each type knows, in the order of docs/interchange.md ("type" and "id" first)."""
_KNOWN = {name: frozenset(fields) for name, fields in FIELDS.items()}


@dataclass(frozen=True, slots=True)
class _Field:
    """What a refusal needs to know of a declared field."""

    shape: str
    """``key``, ``text``, ``choice``, ``seconds``, ``words`` (a list of strings) or ``any``."""
    required: bool
    choices: tuple[str, ...] = ()
    what: str = ""


def _declared(info: msgspec.structs.FieldInfo) -> _Field:
    kind = info.type
    required = info.required
    args = get_args(kind)
    if get_origin(kind) in (Union, UnionType) and type(None) in args:
        kind = next(arg for arg in args if arg is not type(None))
    if get_origin(kind) is Annotated:
        base, meta = get_args(kind)[:2]
        if get_origin(base) is Literal:
            return _Field("choice", required, get_args(base), meta.extra["what"])
        return _Field("seconds" if base is int else "key", required)
    if get_origin(kind) is list:
        return _Field("words", required)
    return _Field("text" if kind is str else "any", required)


_DECLARED = {schema: {info.name: _declared(info) for info in msgspec.structs.fields(schema)}
             for schema in SCHEMAS.values()}

_SHOW_LIMIT = 60


class RecordError(ValueError):
    """A record that cannot be read; ``str(error)`` is one line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class JsonNumber(float):
    """A JSON number with a fraction or exponent, remembering how it was written."""

    __slots__ = ("text",)
    text: str

    def __repr__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------
# Small helpers


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, datetime):
        return "datetime"
    return type(value).__name__


def _show(value: object) -> str:
    """A value as it appears in a message: quoted strings, numbers as written, cut short."""
    if isinstance(value, JsonNumber):
        text = value.text
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    else:
        text = repr(value)
    if len(text) > _SHOW_LIMIT:
        text = text[: _SHOW_LIMIT - 1] + "…"
    return text


def _label(kind: str, obj: Mapping[str, Any]) -> str:
    ident = obj.get("id")
    if isinstance(ident, str) and ident:
        shown = ident if len(ident) <= _SHOW_LIMIT else ident[: _SHOW_LIMIT - 1] + "…"
        return f"{kind} {shown}"
    return kind


def _missing(label: str, field: str) -> RecordError:
    return RecordError(f"{label}: missing required field '{field}'")


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_AT_FIELD = re.compile(r"at `\$\.([^`.\[]+)[^`]*`$")  # the field itself, for "$.tags[2]" too


def _schema_refusal(error: msgspec.ValidationError, schema: type[_Schema], obj: Mapping[str, Any],
                    label: str) -> RecordError:
    """The one-line refusal for what ``msgspec`` found wrong, worded from the field's declaration and value."""
    text = str(error)
    if found := _MISSING_FIELD.search(text):
        return _missing(label, found.group(1))
    at = _AT_FIELD.search(text)
    if at is None or at.group(1) not in _DECLARED[schema]:
        return RecordError(f"{label}: {text}")
    field = at.group(1)
    declared, value = _DECLARED[schema][field], obj.get(field)
    if value is None:
        return _missing(label, field)
    if declared.shape == "choice":
        expected = ", ".join(declared.choices)
        if isinstance(value, str):
            return RecordError(f"{label}: unknown {declared.what} {_show(value)} (expected one of {expected})")
        return RecordError(f"{label}: {field} must be a string, one of {expected}; not {_json_type(value)}")
    if declared.shape == "seconds":
        if isinstance(value, float):
            return RecordError(f"{label}: {field} {_show(value)} must be a whole number of seconds")
        if isinstance(value, bool) or not isinstance(value, int):
            return RecordError(f"{label}: {field} must be a whole number of seconds, not {_json_type(value)}")
        if value < 0:
            return RecordError(f"{label}: {field} {value} must not be negative")
        return RecordError(f"{label}: {field} {value} is too large")
    if declared.shape == "words":
        if not isinstance(value, list):
            return RecordError(f"{label}: {field} must be a list of strings, not {_json_type(value)}")
        position, item = next((n, item) for n, item in enumerate(value, 1) if not isinstance(item, str))
        return RecordError(f"{label}: {field} must be a list of strings; item {position} is {_json_type(item)}")
    if value == "":
        hint = "" if declared.required else " (leave it out instead)"
        return RecordError(f"{label}: {field} must not be empty{hint}")
    return RecordError(f"{label}: {field} must be a string, not {_json_type(value)}")


_EXAMPLE_TIME = "'2026-07-14T09:02:00+02:00'"


def _time(value: Any, field: str, label: str, now: datetime | None = None) -> datetime:
    """An aware time between :data:`EARLIEST_TIME` and :data:`LATEST_TIME`; given ``now``, a time of
    something that has happened, so at most :data:`FUTURE_ALLOWANCE` ahead of it."""
    at = _aware_time(value, field, label)
    shown = _show(at.isoformat() if isinstance(value, datetime) else value)
    if at < EARLIEST_TIME:
        raise RecordError(f"{label}: {field} {shown} is before {EARLIEST_TIME:%Y-%m-%d}, "
                          "the earliest time a record may hold")
    if at >= LATEST_TIME:
        raise RecordError(f"{label}: {field} {shown} is not before {LATEST_TIME:%Y-%m-%d}, "
                          "the latest time a record may hold")
    if now is not None and at > now + FUTURE_ALLOWANCE:
        raise RecordError(f"{label}: {field} {shown} is more than {allowance_words()} ahead of now "
                          f"({now.astimezone(timezone.utc):%Y-%m-%dT%H:%MZ})")
    return at


def _aware_time(value: Any, field: str, label: str) -> datetime:
    if type(value) is str:
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise RecordError(
                f"{label}: {field} {_show(value)} is not an ISO 8601 time such as {_EXAMPLE_TIME}"
            ) from None
        offset = at.utcoffset()
        if offset is None:
            raise RecordError(f"{label}: {field} {_show(value)} has no UTC offset")
        if offset.microseconds:
            raise RecordError(f"{label}: {field} {_show(value)} has an offset with a fraction of a second")
        return at
    if value is None:
        raise _missing(label, field)
    if isinstance(value, datetime):  # in-memory records may carry aware datetimes
        offset = value.utcoffset()
        if offset is None:
            raise RecordError(f"{label}: {field} {value.isoformat()!r} has no UTC offset")
        if offset.microseconds:
            raise RecordError(f"{label}: {field} has an offset with a fraction of a second")
        return value
    raise RecordError(
        f"{label}: {field} must be an ISO 8601 time string such as {_EXAMPLE_TIME}, not {_json_type(value)}"
    )


def _opt_time(value: Any, field: str, label: str, now: datetime | None = None) -> datetime | None:
    return None if value is None else _time(value, field, label, now)


def _free_text(text: str | None, field: str, label: str) -> str | None:
    """What an agent typed: at most :data:`~agentdesk.domain.limits.MAX_FREE_TEXT_CHARS` characters."""
    refusal = free_text_refusal(field, text)
    if refusal is not None:
        raise RecordError(f"{label}: {refusal}")
    return text


def _money(amount: Any, currency: Any, field: str, label: str) -> Money | None:
    if amount is None and currency is None:
        return None
    if isinstance(amount, (int, float)):  # bool, int, float and JsonNumber alike
        raise RecordError(
            f'{label}: {field} {_show(amount)} must be a decimal string such as "39.90", not a number'
        )
    if amount is None:
        raise RecordError(f"{label}: currency {_show(currency)} given without {field}")
    if currency is None:
        raise RecordError(f"{label}: {field} {_show(amount)} needs a currency (an ISO 4217 code such as 'EUR')")
    if not isinstance(amount, str):
        raise RecordError(f'{label}: {field} must be a decimal string such as "39.90", not {_json_type(amount)}')
    try:
        return Money.parse(amount, currency)
    except MoneyError as exc:
        message = str(exc)
        if message.startswith("amount "):
            message = field + message[len("amount"):]
        raise RecordError(f"{label}: {message}") from None


@lru_cache(maxsize=1024)
def _zone_known(name: str) -> bool:
    return zone(name) is not None


def _zone(name: str | None, label: str) -> str | None:
    if name is not None and not _zone_known(name):
        raise RecordError(
            f"{label}: unknown time zone {_show(name)} (expected an IANA name such as 'Europe/Berlin')"
        )
    return name


def _extra(obj: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    if obj.keys() <= known:
        return {}
    return {key: value for key, value in obj.items() if key not in known}


# ---------------------------------------------------------------------------
# Declared fields -> record (the types are checked; what remains is what a type cannot say)


def _agent(s: AgentSchema, label: str, _now: datetime, extra: dict[str, Any]) -> Agent:
    return Agent(id=s.id, name=s.name, role=s.role, email=s.email, phone=s.phone, extra=extra)


def _customer(s: CustomerSchema, label: str, _now: datetime, extra: dict[str, Any]) -> Customer:
    return Customer(
        id=s.id, name=s.name, email=s.email, phone=s.phone,
        preferred_channel=Channel(s.preferred_channel) if s.preferred_channel is not None else None,
        language=s.language, timezone=_zone(s.timezone, label), location=s.location, owner=s.owner, extra=extra,
    )


def _case(s: CaseSchema, label: str, now: datetime, extra: dict[str, Any]) -> Case:
    opened_at = _time(s.opened_at, "opened_at", label, now)
    disputed = _money(s.disputed_amount, s.currency, "disputed_amount", label)
    if disputed is not None and disputed.amount <= 0:
        raise RecordError(f"{label}: disputed_amount {disputed.text} must be more than zero")
    return Case(
        id=s.id, customer=s.customer, subject=s.subject, status=CaseStatus(s.status), opened_at=opened_at,
        disputed=disputed, urgency=Urgency(s.urgency) if s.urgency is not None else Urgency.NORMAL, extra=extra,
    )


def _interaction(s: InteractionSchema, label: str, now: datetime, extra: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(
        s.id, s.customer, EntryKind.INTERACTION, _time(s.at, "at", label, now), s.author, s.body,
        Direction(s.direction), Channel(s.channel), s.case, None, s.duration_s, s.wait_s, extra,
    )


def _event(s: EventSchema, label: str, now: datetime, extra: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(
        id=s.id, customer=s.customer, kind=EntryKind.EVENT, at=_time(s.at, "at", label, now), author=s.author,
        body=s.body or "", direction=Direction.INTERNAL, channel=None, case=s.case, event_kind=s.kind, extra=extra,
    )


def _decision(s: DecisionSchema, label: str, now: datetime, extra: dict[str, Any]) -> Decision:
    amount = _money(s.amount, s.currency, "amount", label)
    at = _time(s.at, "at", label, now)
    return Decision(
        id=s.id, customer=s.customer, kind=s.kind, agent=s.agent, at=at, state=s.state, case=s.case, amount=amount,
        reason=_free_text(s.reason, "reason", label),
        scheduled=_opt_time(s.scheduled, "scheduled", label),
        phone=s.phone,
        undo_until=_opt_time(s.undo_until, "undo_until", label),
        escalate_to=s.escalate_to, proposal_kind=s.proposal_kind, approval=s.approval, approval_by=s.approval_by,
        approval_at=_opt_time(s.approval_at, "approval_at", label, now),
        approval_reason=_free_text(s.approval_reason, "approval_reason", label),
        approves=s.approves, extra=extra,
    )


def _promise(s: PromiseSchema, label: str, _now: datetime, extra: dict[str, Any]) -> Promise:
    return Promise(id=s.id, customer=s.customer, what=s.what, due=_time(s.due, "due", label), state=s.state,
                   decision=s.decision, extra=extra)


def _article(s: ArticleSchema, label: str, _now: datetime, extra: dict[str, Any]) -> Article:
    return Article(id=s.id, title=s.title, body=s.body, products=tuple(s.products), tags=tuple(s.tags), extra=extra)


def _audit(s: AuditSchema, label: str, now: datetime, extra: dict[str, Any]) -> AuditEntry:
    at = _time(s.at, "at", label, now)
    if s.amount is None and s.limit is None:
        if s.currency is not None:
            raise RecordError(f"{label}: currency {_show(s.currency)} given without amount or limit")
        amount = limit = None
    else:  # amount and limit share one currency
        amount = _money(s.amount, s.currency, "amount", label) if s.amount is not None else None
        limit = _money(s.limit, s.currency, "limit", label) if s.limit is not None else None
    return AuditEntry(
        id=s.id, at=at, actor=s.actor, action=s.action, customer=s.customer, decision=s.decision, kind=s.kind,
        amount=amount, rule=s.rule, limit=limit, detail=s.detail, extra=extra,
    )


_BUILDERS: dict[str, Callable[[Any, str, datetime, dict[str, Any]], Record]] = {
    "agent": _agent,
    "customer": _customer,
    "case": _case,
    "interaction": _interaction,
    "event": _event,
    "decision": _decision,
    "promise": _promise,
    "audit": _audit,
    "article": _article,
}


def parse_record(obj: Mapping[str, Any], *, now: datetime | None = None,
                 max_record_bytes: int | None = DEFAULT_MAX_RECORD_BYTES) -> Record:
    """The domain record for one interchange object, or :class:`RecordError` saying why not.

    ``now`` (aware; the clock when not given) bounds the times of what has happened: an ``at``
    or ``opened_at`` more than :data:`~agentdesk.domain.limits.FUTURE_ALLOWANCE` ahead of it is
    refused. ``max_record_bytes``: the most the object may take as compact JSON (None: no limit,
    for a line whose bytes :func:`decode_line` counted already). Every string must be valid Unicode.
    """
    if type(obj) is not dict and not isinstance(obj, Mapping):
        raise RecordError(f"not a JSON object (got {_json_type(obj)})")
    try:
        builder = _BUILDERS[obj["type"]]
    except KeyError:
        kind = obj.get("type")
        if kind is None:
            raise RecordError(
                f"missing required field 'type' (expected one of {', '.join(RECORD_TYPES)})"
            ) from None
        raise RecordError(
            f"unknown record type {_show(kind)} (expected one of {', '.join(RECORD_TYPES)})"
        ) from None
    except TypeError:  # "type" is unhashable (an array or object)
        raise RecordError(f"type must be a string, not {_json_type(obj.get('type'))}") from None
    kind = obj["type"]
    _check_text_and_size(obj, kind, max_record_bytes)
    schema, label = SCHEMAS[kind], _label(kind, obj)
    try:
        fields = msgspec.convert(obj if type(obj) is dict else dict(obj), schema, strict=True)
    except msgspec.ValidationError as exc:
        raise _schema_refusal(exc, schema, obj, label) from None
    return builder(fields, label, now if now is not None else datetime.now(timezone.utc), _extra(obj, _KNOWN[kind]))


def _iso(value: object) -> str:
    if isinstance(value, datetime):  # in-memory records may carry aware datetimes
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


_MEASURE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_iso).encode


def _check_text_and_size(obj: Mapping[str, Any], kind: str, max_record_bytes: int | None) -> None:
    """Refuse a lone surrogate in any string (field names included) and an object over ``max_record_bytes``."""
    if max_record_bytes is None:
        if _lone_surrogate(obj) is not None:
            raise _surrogate_refusal(obj, kind)
        return
    try:
        size = len(_MEASURE(obj).encode("utf-8"))
    except UnicodeEncodeError:
        raise _surrogate_refusal(obj, kind) from None
    except (TypeError, ValueError):
        return  # a value JSON cannot hold: the parser names a known field, the store an unknown one
    if size > max_record_bytes:
        raise RecordError(f"{_label(kind, obj)}: {size_refusal(size, max_record_bytes, flag=None)}")


def lone_surrogate_at(value: Any, path: tuple[str | int, ...] = ()) -> tuple[tuple[str | int, ...], bool, str] | None:
    """The first lone surrogate in the strings of a JSON value: ``(path to it, whether it is in a field
    name, the surrogate)``, or None. Keys are looked at before their values."""
    if isinstance(value, str):
        if value.isascii():
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return path, False, value[exc.start]
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            in_key = lone_surrogate_at(key)
            if in_key is not None:
                return path, True, in_key[2]
            found = lone_surrogate_at(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = lone_surrogate_at(item, (*path, index))
            if found is not None:
                return found
    return None


def _lone_surrogate(value: Any) -> str | None:
    found = lone_surrogate_at(value)
    return found[2] if found is not None else None


def _surrogate_refusal(obj: Mapping[str, Any], kind: str) -> RecordError:
    """``decision d-1: reason is not valid Unicode (lone surrogate \\ud800)``, itself valid Unicode."""
    label = kind if _lone_surrogate(obj.get("id")) is not None else _label(kind, obj)
    found = lone_surrogate_at(obj)
    assert found is not None, "no lone surrogate in the record"
    path, in_key, char = found
    where = path[0] if path else "a field name"
    return RecordError(f"{label}: {where} is not valid Unicode (lone surrogate \\u{ord(char):04x})")


# ---------------------------------------------------------------------------
# One line of bytes -> record


def _number(text: str) -> JsonNumber:
    number = JsonNumber(text)
    if number in (_INF, _NEG_INF):
        raise ValueError(f"number {text[:_SHOW_LIMIT]} is out of range")
    number.text = text
    return number


def _constant(text: str) -> None:
    raise ValueError(f"{text} is not allowed in JSON")


_INF = float("inf")
_NEG_INF = float("-inf")
_STRICT = msgspec.json.Decoder(float_hook=_number)
"""Strict JSON, fast: NaN and Infinity are not JSON to it; fractional numbers come as :class:`JsonNumber`."""
_DECODER = json.JSONDecoder(parse_float=_number, parse_constant=_constant)
"""The same JSON read again when :data:`_STRICT` refuses a line, for the words of the refusal."""
_BOM = "\ufeff"


def decode_json(text: str | bytes) -> Any:
    """Strict JSON (no NaN, no Infinity; fractional numbers as :class:`JsonNumber`) or :class:`RecordError`."""
    try:
        return _STRICT.decode(text)
    except (msgspec.DecodeError, ValueError, RecursionError):
        pass  # let the standard decoder word it (or take a lone surrogate, which the caller names)
    try:
        return _DECODER.decode(text if isinstance(text, str) else text.decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise RecordError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # from the hooks, or too many digits for an integer
        raise RecordError(f"invalid JSON: {exc}") from None


def size_refusal(size: int, limit: int, *, flag: str | None = "--max-record-bytes") -> str:
    """``record is 5.0 MB; the limit is 1.0 MB (raise it with --max-record-bytes)``; no hint without ``flag``."""
    shown, limit_shown = f"{size / 1e6:.1f} MB", f"{limit / 1e6:.1f} MB"
    if shown == limit_shown:
        shown, limit_shown = f"{size:,} bytes", f"{limit:,} bytes"
    hint = f" (raise it with {flag})" if flag is not None else ""
    return f"record is {shown}; the limit is {limit_shown}{hint}"


def _check_surrogates(value: Any) -> None:
    found = _lone_surrogate(value)
    if found is not None:
        raise RecordError(f"not valid Unicode (lone surrogate \\u{ord(found):04x} in a string)")


def decode_line(raw: bytes, *, max_record_bytes: int | None = DEFAULT_MAX_RECORD_BYTES) -> dict[str, Any]:
    """The JSON object of one line (size, UTF-8, JSON and Unicode checked), or :class:`RecordError`."""
    if max_record_bytes is not None and len(raw) > max_record_bytes:
        stripped = raw.rstrip(b"\r\n")
        if len(stripped) > max_record_bytes:
            raise RecordError(size_refusal(len(stripped), max_record_bytes))
    try:
        obj = _STRICT.decode(raw)  # checks the UTF-8 as it reads
    except (msgspec.DecodeError, ValueError, RecursionError):
        obj = _decode_refused(raw)
    if type(obj) is not dict:
        raise RecordError(f"not a JSON object (got {_json_type(obj)})")
    if b"\\u" in raw and (b"\\ud" in raw or b"\\uD" in raw):
        _check_surrogates(obj)
    return obj


def _decode_refused(raw: bytes) -> Any:
    """A line the strict decoder refused: say why, in the order a reader checks (UTF-8, then JSON); or take
    it after all when only a byte-order mark or a lone surrogate (named by the caller) stood in the way."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
    if text.startswith(_BOM):
        text = text[1:]
    return decode_json(text)


def parse_line(raw: bytes, *, max_record_bytes: int | None = DEFAULT_MAX_RECORD_BYTES,
               now: datetime | None = None) -> Record:
    """One interchange line (without or with its line break) as a record, or :class:`RecordError`.

    ``now`` as for :func:`parse_record`."""
    return parse_record(decode_line(raw, max_record_bytes=max_record_bytes), now=now, max_record_bytes=None)


# ---------------------------------------------------------------------------
# record -> canonical JSON object


def record_type(record: Record) -> str:
    """The interchange ``type`` of a record: ``interaction`` and ``event`` for timeline entries."""
    if isinstance(record, TimelineEntry):
        return "interaction" if record.kind is EntryKind.INTERACTION else "event"
    return _TYPE_NAMES[type(record)]


def record_label(record: Record) -> str:
    """``interaction i-9``: how messages name a record."""
    return f"{record_type(record)} {record.id}"


_TYPE_NAMES = {
    Agent: "agent", Customer: "customer", Case: "case", Decision: "decision", Promise: "promise", AuditEntry: "audit",
    Article: "article",
}


def _merge_extra(out: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if key not in out:
            out[key] = value
    return out


def to_json_obj(record: Record) -> dict[str, Any]:
    """The canonical interchange object: ``type`` and ``id`` first, the documented order, no nulls."""
    try:
        to_obj = _TO_OBJ[type(record)]
    except KeyError:
        raise TypeError(f"not an interchange record: {type(record).__name__}") from None
    out = to_obj(record)
    if record.extra:
        _merge_extra(out, record.extra)
    return out


def _entry_obj(record: TimelineEntry) -> dict[str, Any]:
    if record.kind is EntryKind.DECISION:
        raise TypeError(f"timeline line {record.id} is derived from its decision; export the decision instead")
    out: dict[str, Any]
    if record.kind is EntryKind.INTERACTION:
        out = {"type": "interaction", "id": record.id, "customer": record.customer}
        if record.case is not None:
            out["case"] = record.case
        if record.channel is not None:
            out["channel"] = record.channel._value_
        out["direction"] = record.direction._value_
        out["at"] = record.at.isoformat()
        out["author"] = record.author
        out["body"] = record.body
        if record.duration_s is not None:
            out["duration_s"] = record.duration_s
        if record.wait_s is not None:
            out["wait_s"] = record.wait_s
    else:
        out = {"type": "event", "id": record.id, "customer": record.customer}
        if record.case is not None:
            out["case"] = record.case
        out["at"] = record.at.isoformat()
        out["author"] = record.author
        if record.event_kind is not None:
            out["kind"] = record.event_kind
        if record.body:
            out["body"] = record.body
    return out


def _customer_obj(record: Customer) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "customer", "id": record.id, "name": record.name}
    _put(out, "email", record.email)
    _put(out, "phone", record.phone)
    if record.preferred_channel is not None:
        out["preferred_channel"] = record.preferred_channel._value_
    _put(out, "language", record.language)
    _put(out, "timezone", record.timezone)
    _put(out, "location", record.location)
    _put(out, "owner", record.owner)
    return out


def _agent_obj(record: Agent) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "agent", "id": record.id, "name": record.name, "role": record.role}
    _put(out, "email", record.email)
    _put(out, "phone", record.phone)
    return out


def _case_obj(record: Case) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "case",
        "id": record.id,
        "customer": record.customer,
        "subject": record.subject,
        "status": record.status._value_,
        "opened_at": record.opened_at.isoformat(),
    }
    if record.disputed is not None:
        out["disputed_amount"] = record.disputed.text
        out["currency"] = record.disputed.currency
    if record.urgency is not Urgency.NORMAL:
        out["urgency"] = record.urgency._value_
    return out


def _decision_obj(record: Decision) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "decision", "id": record.id, "customer": record.customer}
    _put(out, "case", record.case)
    out["kind"] = record.kind
    if record.amount is not None:
        out["amount"] = record.amount.text
        out["currency"] = record.amount.currency
    out["agent"] = record.agent
    out["at"] = record.at.isoformat()
    out["state"] = record.state
    _put(out, "reason", record.reason)
    _put_time(out, "scheduled", record.scheduled)
    _put(out, "phone", record.phone)
    _put_time(out, "undo_until", record.undo_until)
    _put(out, "escalate_to", record.escalate_to)
    _put(out, "proposal_kind", record.proposal_kind)
    _put(out, "approval", record.approval)
    _put(out, "approval_by", record.approval_by)
    _put_time(out, "approval_at", record.approval_at)
    _put(out, "approval_reason", record.approval_reason)
    _put(out, "approves", record.approves)
    return out


def _promise_obj(record: Promise) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "promise", "id": record.id}
    _put(out, "decision", record.decision)
    out["customer"] = record.customer
    out["what"] = record.what
    out["due"] = record.due.isoformat()
    out["state"] = record.state
    return out


def _audit_obj(record: AuditEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "audit",
        "id": record.id,
        "at": record.at.isoformat(),
        "actor": record.actor,
        "action": record.action,
        "customer": record.customer,
    }
    _put(out, "decision", record.decision)
    _put(out, "kind", record.kind)
    if record.amount is not None:
        out["amount"] = record.amount.text
    money = record.amount or record.limit
    if money is not None:
        out["currency"] = money.currency
    _put(out, "rule", record.rule)
    if record.limit is not None:
        out["limit"] = record.limit.text
    _put(out, "detail", record.detail)
    return out


def _article_obj(record: Article) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "article", "id": record.id, "title": record.title}
    if record.products:
        out["products"] = list(record.products)
    if record.tags:
        out["tags"] = list(record.tags)
    out["body"] = record.body
    return out


_TO_OBJ: dict[type, Callable[[Any], dict[str, Any]]] = {
    TimelineEntry: _entry_obj, Customer: _customer_obj, Agent: _agent_obj, Case: _case_obj,
    Decision: _decision_obj, Promise: _promise_obj, AuditEntry: _audit_obj, Article: _article_obj,
}
"""Each record type's canonical object, fields in the order of docs/interchange.md (``extra`` is added after)."""


def _put(out: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        out[key] = value


def _put_time(out: dict[str, Any], key: str, value: datetime | None) -> None:
    if value is not None:
        out[key] = value.isoformat()


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False, allow_nan=False)
dumps = _ENCODER.encode
"""Compact canonical JSON text (``,`` and ``:`` separators, UTF-8 characters kept)."""

