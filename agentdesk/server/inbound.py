"""Filing a message a channel brought in: on the right customer and case, through the change log, exactly once.

Concurrent messages are filed together (group commit, :mod:`~agentdesk.server.group_commit`): one
writing transaction for up to :data:`MAX_BATCH` of them, with one statement per step for all, in
which each is filed as if after the batch's earlier ones (a second message of a sender new in the
batch finds the customer the first made; a repeat inside the batch is a repeat). A message that
cannot be filed is answered with its :class:`InboundInvalid` and left out; the others go on. A batch the
database refuses is filed again message by message, so a message it cannot store fails alone too.
Per message:

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.domain.contact import email_key, phone_key
from agentdesk.domain.model import CaseStatus
from agentdesk.domain.text import display_text, one_line
from agentdesk.interchange.codec import RecordError, parse_record
from agentdesk.server.changes import Change, now_us, write_changes
from agentdesk.server.contact_keys import HANDLE, contact_keys, handle_key
from agentdesk.server.database import Database, lock_names, transaction_retries
from agentdesk.server.group_commit import GroupCommit
from agentdesk.server.tables import contact_key, inbound_message, record

CHANNELS = ("email", "phone", "sms", "chat", "social", "app", "portal", "letter", "shop")
MAX_BODY = 100_000
"""Characters of a message body kept; the rest is cut with a note (a timeline entry, not an archive)."""
_NAME_LIMIT = 200
_OPEN = {status.value for status in CaseStatus if status.is_open}
MAX_BATCH = 200
"""Messages filed in one transaction at most."""
MAX_WAITING = 2000
"""Messages waiting for a transaction at most; more callers wait for room."""

# Built once (SQLAlchemy caches their compiled form; the lists are expanded per call).
_EARLIER = select(inbound_message.c.source_id, inbound_message.c.customer_id, inbound_message.c.interaction_id) \
    .where(inbound_message.c.source_id.in_(bindparam("ids", expanding=True)))
_NAMED = select(record.c.id).where(record.c.type == "customer", record.c.id.in_(bindparam("ids", expanding=True)))
_BY_KEY = select(contact_key.c.kind, contact_key.c.key, contact_key.c.customer_id) \
    .where(tuple_(contact_key.c.kind, contact_key.c.key).in_(bindparam("keys", expanding=True)))
_CASES = select(record.c.id, record.c.customer_id, record.c.body) \
    .where(record.c.type == "case", record.c.customer_id.in_(bindparam("customers", expanding=True)))
_REPLIED = select(inbound_message.c.message_id, inbound_message.c.customer_id, record.c.body) \
    .select_from(inbound_message.join(
        record, (record.c.type == "interaction") & (record.c.id == inbound_message.c.interaction_id))) \
    .where(inbound_message.c.message_id.in_(bindparam("ids", expanding=True))).order_by(record.c.seq.desc())
_CLAIM = {postgres: dialect.insert(inbound_message).on_conflict_do_nothing(index_elements=["source_id"])
          .returning(inbound_message.c.source_id)
          for postgres, dialect in ((True, postgresql), (False, sqlite))}


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


_Waiting = tuple["Inbound", list[tuple[str, str]]]
"""A message and its sender's keys, waiting for its batch."""


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
    Concurrent calls are filed together, in one transaction (see the module's text); each gets its own answer.
    """
    _check(inbound)
    keys = _sender_keys(inbound, region)
    if not keys and inbound.customer is None:
        raise InboundInvalid("the message's sender cannot be read (no address, number or handle)")
    return await _filer(database, keep_changes).submit((inbound, keys))


def _filer(database: Database, keep_changes: int | None) -> GroupCommit[_Waiting, Filed]:
    owner = ("inbound", keep_changes)
    filer = database.group_commits.get(owner)
    if filer is None:
        async def flush(batch: Sequence[_Waiting]) -> list[Filed | Exception]:
            return await _file_batch(database, batch, keep_changes)

        filer = database.group_commits[owner] = GroupCommit(flush, batch=MAX_BATCH, waiting=MAX_WAITING)
    return filer  # type: ignore[return-value]


class _ClaimedElsewhere(Exception):
    """Another backend process committed one of the batch's provider ids after the batch looked for them."""


async def _file_batch(database: Database, batch: Sequence[_Waiting], keep_changes: int | None,
                      ) -> list[Filed | Exception]:
    try:
        return await _in_one_transaction(database, batch, keep_changes)
    except DBAPIError as exc:
        if len(batch) == 1 or exc.connection_invalidated:
            raise
    # The database refused the batch (say, a NUL in a provider id PostgreSQL cannot store): one message it
    # refuses must not sink the others, so each is filed alone and gets its own answer.
    answers: list[Filed | Exception] = []
    for waiting in batch:
        try:
            answers += await _in_one_transaction(database, [waiting], keep_changes)
        except DBAPIError as exc:
            answers.append(exc)
    return answers


async def _in_one_transaction(database: Database, batch: Sequence[_Waiting], keep_changes: int | None,
                              ) -> list[Filed | Exception]:
    # A lost claim means the other process has committed it (ON CONFLICT waited for that), so the next
    # round finds it among the earlier messages: every round files more, the loop ends.
    while True:
        try:
            async for attempt in transaction_retries():
                with attempt:
                    async with database.write() as connection:
                        return await _file_all(connection, database.postgres, batch, keep_changes)
        except _ClaimedElsewhere:
            continue
        raise AssertionError("unreachable")  # the last failed attempt raises


@dataclass
class _Batch:
    """What the batch's transaction has read, and what it has filed so far (in batch order)."""

    named: set[str]
    by_key: dict[tuple[str, str], list[str]]
    open_cases: dict[str, list[str]]
    replied: list[tuple[str, str, str | None]]
    """``(message_id, customer, case)`` of earlier messages the batch's threads name, newest first."""
    claimed: dict[str, Filed] = field(default_factory=dict)
    new_customers: set[str] = field(default_factory=set)


async def _file_all(connection: AsyncConnection, postgres: bool, batch: Sequence[_Waiting],
                    keep_changes: int | None) -> list[Filed | Exception]:
    answers: list[Filed | Exception | None] = [None] * len(batch)
    earlier = {row[0]: Filed("repeat", row[1], row[2], new_customer=False) for row in await connection.execute(
        _EARLIER, {"ids": sorted({inbound.source_id for inbound, _ in batch})})}
    pending = []
    for index, (inbound, _) in enumerate(batch):
        if inbound.source_id in earlier:
            answers[index] = earlier[inbound.source_id]
        else:
            pending.append(index)
    named_ids = sorted({ident for index in pending if (ident := batch[index][0].customer)})
    named = {str(ident) for ident in (await connection.execute(_NAMED, {"ids": named_ids})).scalars()} \
        if named_ids else set()
    all_keys = sorted({key for index in pending for key in batch[index][1]})
    by_key = await _customers_by_key(connection, all_keys)
    if postgres:
        # Senders not known yet: their keys, in one order everywhere, then look again, so two first
        # messages of one sender (in this batch or in any backend process) make one customer.
        unknown = sorted({key for index in pending for key in batch[index][1]
                          if _known(batch[index], named, by_key) is None})
        await lock_names(connection, [f"contact:{kind}:{key}" for kind, key in unknown])
        if unknown:
            by_key = await _customers_by_key(connection, all_keys)
    known = sorted({*named, *(customer for customers in by_key.values() for customer in customers)})
    open_cases: dict[str, list[str]] = {}
    if known:
        for ident, customer, body in await connection.execute(_CASES, {"customers": known}):
            if json.loads(body).get("status") in _OPEN:
                open_cases.setdefault(str(customer), []).append(str(ident))
    threads = sorted({message for index in pending for message in batch[index][0].thread})
    replied = [(str(message), str(customer), case if isinstance(case := json.loads(body).get("case"), str) else None)
               for message, customer, body in await connection.execute(_REPLIED, {"ids": threads})] \
        if threads else []
    state = _Batch(named, by_key, open_cases, replied)
    claims: list[dict[str, Any]] = []
    changes: list[Change] = []
    positions: dict[int, int] = {}
    received_us = now_us()
    for index in pending:
        inbound, keys = batch[index]
        first = state.claimed.get(inbound.source_id)
        if first is not None:
            answers[index] = Filed("repeat", first.customer, first.interaction, new_customer=False)
            continue
        try:
            new_customer, interaction = _prepare(state, inbound, keys)
        except InboundInvalid as exc:
            answers[index] = exc
            continue
        customer_id = interaction.obj["customer"]
        if new_customer is not None:
            changes.append(new_customer)
            state.new_customers.add(new_customer.id)
            for kind, key in contact_keys(new_customer.obj):
                state.by_key.setdefault((kind, key), []).append(new_customer.id)
        changes.append(interaction)
        positions[index] = len(changes) - 1
        if inbound.message_id is not None:
            state.replied.insert(0, (inbound.message_id, customer_id, interaction.obj.get("case")))
        state.claimed[inbound.source_id] = Filed("new", customer_id, interaction.id,
                                                 new_customer=new_customer is not None)
        claims.append({"source_id": inbound.source_id, "interaction_id": interaction.id, "customer_id": customer_id,
                       "message_id": inbound.message_id, "received_us": received_us})
    if claims:
        # In one order everywhere: two processes claiming overlapping batches wait on each other, never in a cycle.
        claims.sort(key=lambda claim: claim["source_id"])
        won = set((await connection.execute(_CLAIM[postgres], claims)).scalars())
        if len(won) != len(claims):
            raise _ClaimedElsewhere()
    last = await write_changes(connection, changes, postgres=postgres, keep=keep_changes, received_us=received_us)
    for index, position in positions.items():
        filed = state.claimed[batch[index][0].source_id]
        assert last is not None
        answers[index] = replace(filed, cursor=last - len(changes) + 1 + position)
    assert all(answer is not None for answer in answers)
    return answers  # type: ignore[return-value]


def _known(waiting: _Waiting, named: set[str], by_key: dict[tuple[str, str], list[str]]) -> str | None:
    inbound, keys = waiting
    if inbound.customer is not None and inbound.customer in named:
        return inbound.customer
    for key in keys:
        if key in by_key:
            return min(by_key[key])
    return None


def _prepare(state: _Batch, inbound: Inbound, keys: list[tuple[str, str]]) -> tuple[Change | None, Change]:
    """The message's new customer (or None) and its interaction, as filing it after the batch's earlier ones."""
    named = state.named | state.new_customers
    customer_id = _known((inbound, keys), named, state.by_key)
    new_customer = None
    if customer_id is None:
        if not keys:
            raise InboundInvalid(f"customer {inbound.customer!r} is not known to the backend")
        new_customer = _new_customer(inbound, keys)
        customer_id = new_customer.id
    case_id = None if new_customer is not None else _case(state, customer_id, inbound.thread)
    return new_customer, _interaction(inbound, interaction_id(inbound.source_id), customer_id, case_id)


def _case(state: _Batch, customer_id: str, thread: tuple[str, ...]) -> str | None:
    """The case of the newest earlier message this one replies to, else the customer's only open case."""
    for message, customer, case in state.replied:
        if case is not None and customer == customer_id and message in thread:
            return case
    open_cases = state.open_cases.get(customer_id, [])
    return open_cases[0] if len(open_cases) == 1 else None


async def _customers_by_key(connection: AsyncConnection, keys: list[tuple[str, str]],
                            ) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    if keys:
        for kind, key, customer in await connection.execute(_BY_KEY, {"keys": keys}):
            found.setdefault((str(kind), str(key)), []).append(str(customer))
    return found


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
