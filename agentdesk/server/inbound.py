"""Filing a message a channel brought in: on the right customer and case, through the change log, exactly once.

One writing transaction per message:

1. find the sender: by e-mail (lower-cased), phone (E.164, a national number read in ``region``)
   or handle, through ``contact_key``. A sender not found is looked for again after its keys are
   locked (PostgreSQL, ``pg_advisory_xact_lock``), so two first messages of one unknown sender make
   one customer, not two; an unknown sender becomes a customer whose id is derived from the key;
2. claim its provider id: ``INSERT INTO inbound_message … ON CONFLICT DO NOTHING``; when the row was
   there already (or another backend process committed it while this one waited on the key), the
   message is a repeat and nothing changes. The unique key is the whole guard: an interaction
   touches no authority budget, so no customer row lock is needed (mutations take it for that);
3. find the case: the case of an earlier message this one replies to (its ``thread`` of
   Message-IDs), else the customer's only open case, else none;
4. write the interaction (and a new customer) with :func:`~agentdesk.server.changes.write_changes`,
   as ``POST /records`` does, so pulls and ``/events`` listeners see it at once.

The interaction's id is derived from the provider id, so it is the same whichever process files it.
Its body is the text as received with every control and invisible format character made visible
(:func:`agentdesk.domain.text.display_text`): customer text is data, never terminal control.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from sqlalchemy import BigInteger, bindparam, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.domain.contact import email_key, phone_key
from agentdesk.domain.model import CaseStatus
from agentdesk.domain.text import display_text, one_line
from agentdesk.interchange.codec import RecordError, parse_record
from agentdesk.server.changes import Change, now_us, write_changes
from agentdesk.server.contact_keys import HANDLE, handle_key
from agentdesk.server.database import Database, transaction_retries
from agentdesk.server.tables import contact_key, inbound_message, record

CHANNELS = ("email", "phone", "sms", "chat", "social", "app", "portal", "letter", "shop")
MAX_BODY = 100_000
"""Characters of a message body kept; the rest is cut with a note (a timeline entry, not an archive)."""
_NAME_LIMIT = 200
_LOCK_KEY = text("SELECT pg_advisory_xact_lock(:key)").bindparams(bindparam("key", type_=BigInteger))
_OPEN = {status.value for status in CaseStatus if status.is_open}


class InboundInvalid(ValueError):
    """A message that cannot be filed (no sender, unknown channel); one line."""


@dataclass(frozen=True)
class Inbound:
    source_id: str
    """Idempotency key, unique per provider: ``email:<Message-ID>``, ``twilio-sms:<MessageSid>``,
    ``twilio-call:<CallSid>``, ``webhook:<id>``."""
    channel: str
    at: datetime
    body: str
    email: str | None = None
    phone: str | None = None
    handle: str | None = None
    name: str | None = None
    """The sender's name, for a new customer."""
    thread: tuple[str, ...] = ()
    """Message-IDs this one refers to (In-Reply-To, References), to find the case."""
    message_id: str | None = None
    """Its own Message-ID, kept on the interaction so a reply to it finds the case."""
    duration_s: int | None = None
    wait_s: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """More fields for the interaction record, e.g. ``{"missed": True}``."""
    customer: str | None = None
    """A customer id the sender already knows (a webhook may name it instead of an address)."""


@dataclass(frozen=True)
class Filed:
    status: Literal["new", "repeat"]
    customer: str
    interaction: str
    new_customer: bool
    cursor: int | None = None
    """The change log's seq of the new interaction (None for a repeat)."""


def _digest(value: str, size: int = 10) -> str:
    return hashlib.blake2b(value.encode("utf-8"), digest_size=size).hexdigest()


def interaction_id(source_id: str) -> str:
    """The interaction's id for a provider id: the same in every backend process, every time."""
    return f"i-in-{_digest(source_id)}"


def _lock_key(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def _sender_keys(inbound: Inbound, region: str | None) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if (email := email_key(inbound.email)) is not None:
        keys.append(("email", email))
    if (phone := phone_key(inbound.phone, region)) is not None:
        keys.append(("phone", phone))
    if (handle := handle_key(inbound.handle)) is not None:
        keys.append((HANDLE, handle))
    return keys


def _check(inbound: Inbound) -> None:
    if not inbound.source_id or len(inbound.source_id) > 1000:
        raise InboundInvalid("the message has no provider id (or one over 1000 characters)")
    if inbound.channel not in CHANNELS:
        raise InboundInvalid(f"unknown channel {inbound.channel!r} (expected one of {', '.join(CHANNELS)})")
    if inbound.at.tzinfo is None:
        raise InboundInvalid("the message's time has no offset")
    if not (inbound.customer or inbound.email or inbound.phone or inbound.handle):
        raise InboundInvalid("the message names no sender (an e-mail address, phone number or handle)")


async def file_inbound(database: Database, inbound: Inbound, *, keep_changes: int | None = None,
                       region: str | None = None) -> Filed:
    """File ``inbound`` on its customer's timeline once; a repeat of its ``source_id`` changes nothing.

    ``region``: the country a national phone number is read in (the backend's home country).
    """
    _check(inbound)
    keys = _sender_keys(inbound, region)
    if not keys and inbound.customer is None:
        raise InboundInvalid("the message's sender cannot be read (no address, number or handle)")
    async for attempt in transaction_retries():
        with attempt:
            async with database.write() as connection:
                return await _file(connection, database.postgres, inbound, keys, keep_changes)
    raise AssertionError("unreachable")  # the last failed attempt raises


async def _file(connection: AsyncConnection, postgres: bool, inbound: Inbound, keys: list[tuple[str, str]],
                keep_changes: int | None) -> Filed:
    customer_id = await _named_customer(connection, inbound.customer) if inbound.customer else None
    if customer_id is None:
        customer_id = await _find_customer(connection, keys)
    if customer_id is None and keys and postgres:
        # A sender not known yet: its keys, in one order everywhere, then look again, so two first messages
        # of one sender (in any backend process) make one customer.
        for kind, key in sorted(keys):
            await connection.execute(_LOCK_KEY, {"key": _lock_key(f"contact:{kind}:{key}")})
        customer_id = await _find_customer(connection, keys)
    new_customer = None
    if customer_id is None:
        if not keys:
            raise InboundInvalid(f"customer {inbound.customer!r} is not known to the backend")
        new_customer = _new_customer(inbound, keys)
        customer_id = new_customer.id
    ident = interaction_id(inbound.source_id)
    received_us = now_us()
    # The claim: a second request with this provider id waits here until the first commits, then finds its row.
    insert = (postgresql if postgres else sqlite).insert(inbound_message)
    claimed = await connection.execute(
        insert.values(source_id=inbound.source_id, interaction_id=ident, customer_id=customer_id,
                      message_id=inbound.message_id, received_us=received_us)
        .on_conflict_do_nothing(index_elements=["source_id"]))
    if claimed.rowcount == 0:
        earlier = (await connection.execute(select(inbound_message.c.customer_id, inbound_message.c.interaction_id)
                                            .where(inbound_message.c.source_id == inbound.source_id))).one()
        return Filed("repeat", earlier[0], earlier[1], new_customer=False)
    case_id = None if new_customer is not None else await _find_case(connection, customer_id, inbound.thread)
    changes = [*([new_customer] if new_customer is not None else []),
               _interaction(inbound, ident, customer_id, case_id)]
    cursor = await write_changes(connection, changes, postgres=postgres, keep=keep_changes, received_us=received_us)
    return Filed("new", customer_id, ident, new_customer=new_customer is not None, cursor=cursor)


async def _named_customer(connection: AsyncConnection, customer_id: str) -> str | None:
    found = (await connection.execute(select(record.c.id).where(record.c.type == "customer",
                                                                record.c.id == customer_id))).scalar()
    return None if found is None else str(found)


async def _find_customer(connection: AsyncConnection, keys: list[tuple[str, str]]) -> str | None:
    """The customer the first key that matches names (e-mail before phone before handle); the oldest id
    when one key names several."""
    if not keys:
        return None
    rows = (await connection.execute(
        select(contact_key.c.kind, contact_key.c.key, contact_key.c.customer_id)
        .where(or_(*((contact_key.c.kind == kind) & (contact_key.c.key == key) for kind, key in keys))))).all()
    for kind, key in keys:
        found = sorted(customer for row_kind, row_key, customer in rows if (row_kind, row_key) == (kind, key))
        if found:
            return str(found[0])
    return None


def _new_customer(inbound: Inbound, keys: list[tuple[str, str]]) -> Change:
    kind, key = keys[0]
    shown = inbound.email or inbound.phone or inbound.handle or key
    name = one_line(inbound.name.strip(), _NAME_LIMIT) if inbound.name and inbound.name.strip() else one_line(shown)
    obj: dict[str, Any] = {"type": "customer", "id": f"c-in-{_digest(f'{kind}:{key}')}", "name": name}
    if inbound.email:
        obj["email"] = one_line(inbound.email.strip(), _NAME_LIMIT)
    if inbound.phone:
        obj["phone"] = dict(keys).get("phone", inbound.phone)
    if inbound.handle:
        obj[HANDLE] = one_line(inbound.handle.strip(), _NAME_LIMIT)
    if inbound.channel in ("email", "phone", "sms", "chat", "social", "app", "portal"):
        obj["preferred_channel"] = inbound.channel
    return _change(obj)


async def _find_case(connection: AsyncConnection, customer_id: str, thread: tuple[str, ...]) -> str | None:
    if thread:
        rows = await connection.execute(
            select(record.c.body).select_from(inbound_message.join(
                record, (record.c.type == "interaction") & (record.c.id == inbound_message.c.interaction_id)))
            .where(inbound_message.c.message_id.in_(list(thread)), inbound_message.c.customer_id == customer_id)
            .order_by(record.c.seq.desc()))
        for (body,) in rows:
            case = json.loads(body).get("case")
            if isinstance(case, str):
                return case
    cases = (await connection.execute(select(record.c.id, record.c.body)
                                      .where(record.c.customer_id == customer_id, record.c.type == "case"))).all()
    open_cases = [ident for ident, body in cases if json.loads(body).get("status") in _OPEN]
    return open_cases[0] if len(open_cases) == 1 else None


def _interaction(inbound: Inbound, ident: str, customer_id: str, case_id: str | None) -> Change:
    body = inbound.body if len(inbound.body) <= MAX_BODY else (
        inbound.body[:MAX_BODY] + f"\n[… cut: {len(inbound.body) - MAX_BODY:,} more characters]")
    author = inbound.name or inbound.email or inbound.phone or inbound.handle or "unknown"
    obj: dict[str, Any] = {key: value for key, value in inbound.extra.items() if key not in _FIXED}
    obj.update({"type": "interaction", "id": ident, "customer": customer_id, "channel": inbound.channel,
                "direction": "in", "at": inbound.at.astimezone(timezone.utc).isoformat(),
                "author": one_line(author.strip() or "unknown", _NAME_LIMIT), "body": display_text(body),
                "source": inbound.source_id})
    if case_id is not None:
        obj["case"] = case_id
    if inbound.message_id is not None:
        obj["message_id"] = inbound.message_id
    if inbound.duration_s is not None:
        obj["duration_s"] = inbound.duration_s
    if inbound.wait_s is not None:
        obj["wait_s"] = inbound.wait_s
    return _change(obj)


def _change(obj: dict[str, Any]) -> Change:
    """The record as every workstation will read it (the interchange codec's own check)."""
    try:
        return Change.of(parse_record(obj))
    except (RecordError, TypeError, ValueError) as exc:
        raise InboundInvalid(" ".join(str(exc).split()) or type(exc).__name__) from None


_FIXED = frozenset({"type", "id", "customer", "case", "channel", "direction", "at", "author", "body", "source",
                    "message_id", "duration_s", "wait_s"})
"""What the filing itself sets: an ``extra`` cannot overwrite it."""
