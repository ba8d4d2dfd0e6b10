"""Sending replies: each one queued in the transaction that stored it, then handed to its provider once.

A reply mutation stores the reply ``queued`` and a ``reply_delivery`` row in one transaction
(:func:`queue_deliveries`). :class:`DeliveryWorker` runs in every backend process:

1. it **claims** due rows in a short transaction of its own (``queued`` → ``sending``, with the time;
   on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so two processes never claim one row), and commits before
   calling anyone, so a claim is never lost with a rolled-back send;
2. it **sends** through the channel's :class:`Sender` (SMTP, the SMS provider);
3. it **records** what happened, with the reply's record rewritten through the change log, so every
   workstation shows ``sent`` or ``failed: …``: sent; or a failure the provider says may pass (a
   connection refused, a 4xx) tried again after a growing wait, up to :data:`MAX_ATTEMPTS`; or failed.

Never twice: a row is sent only by the process that claimed it. A row still ``sending`` after
:data:`SENDING_LEASE` belongs to a process that died between calling the provider and writing the
answer; whether the provider took it cannot be known, so it is not sent again: it fails, saying so.
A repeated push of the mutation is answered from its stored result and queues nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.channels.outbound import SendFailed
from agentdesk.domain import reply
from agentdesk.domain.model import Agent, Case, Channel, Customer, TimelineEntry
from agentdesk.interchange.codec import parse_record
from agentdesk.retry import Policy
from agentdesk.server.changes import Change, now_us, write_changes
from agentdesk.server.database import Database
from agentdesk.server.tables import inbound_message, record, reply_delivery

log = logging.getLogger("agentdesk.server.delivery")

MAX_ATTEMPTS = 6
"""Tries of a reply whose provider failed in a way that may pass, before it fails for good."""
RETRY = Policy(first=5.0, cap=600.0)
"""The wait after each such failure: 5 s, doubling, up to 10 min."""
SENDING_LEASE = timedelta(minutes=5)
"""A claim older than this was made by a process that stopped mid-send (a send takes seconds)."""
POLL_SECONDS = 1.0
"""How often a worker looks for due replies when nobody told it of a new one."""
BATCH = 20
THREAD_LIMIT = 20
"""Message-IDs at most in ``References``: enough for any mail program to thread the answer."""
INTERRUPTED = ("the backend stopped while handing it to the provider; not sent again, so it cannot arrive twice: "
               "check with the customer whether it came")


@dataclass(frozen=True)
class DeliveryJob:
    """One reply with everything its provider needs."""

    reply: TimelineEntry
    agent: Agent
    customer: Customer
    case: Case | None
    thread: tuple[str, ...]
    """The customer's Message-IDs on the case, oldest first (In-Reply-To is the last)."""


class Sender(Protocol):
    async def send(self, job: DeliveryJob) -> str:
        """Hand the reply to the provider; its id of what it took. Raises :class:`SendFailed`."""
        ...


async def queue_deliveries(connection: AsyncConnection, replies: Sequence[TimelineEntry], at_us: int) -> None:
    """Inside the transaction that stores ``replies``: queue each for sending now."""
    await connection.execute(reply_delivery.insert(), [
        {"interaction_id": r.id, "customer_id": r.customer, "channel": r.channel.value if r.channel else "",
         "state": "queued", "attempts": 0, "next_try_us": at_us, "queued_us": at_us} for r in replies])


class DeliveryWorker:
    """Sends the due replies of one database through ``senders`` (by channel) until cancelled."""

    def __init__(self, database: Database, senders: Mapping[Channel, Sender], *,
                 keep_changes: int | None = None) -> None:
        self.database = database
        self.senders = dict(senders)
        self.keep_changes = keep_changes
        self._wake = asyncio.Event()
        self._stopping = False

    def nudge(self) -> None:
        """A reply was queued in this process: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled. A cancellation (the backend shutting down) lets the reply in hand be sent and
        recorded first, and claims no more: a restart never leaves a reply half sent."""
        while True:
            round_ = asyncio.ensure_future(self.deliver_due())
            try:
                await asyncio.shield(round_)
            except asyncio.CancelledError:
                self._stopping = True
                await round_
                raise
            try:
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
            self._wake.clear()

    async def deliver_due(self) -> int:
        """One round: fail what a dead process left mid-send, then claim and send what is due; how many sent."""
        await self._fail_interrupted()
        sent = 0
        while not self._stopping and (claimed := await self._claim()):
            for interaction_id in claimed:
                sent += await self._deliver(interaction_id)
        return sent

    async def _claim(self) -> list[str]:
        now = now_us()
        due = (select(reply_delivery.c.interaction_id)
               .where(reply_delivery.c.state == "queued", reply_delivery.c.next_try_us <= now)
               .order_by(reply_delivery.c.next_try_us).limit(BATCH))
        async with self.database.read() as connection:
            if not (await connection.execute(due)).first():
                return []  # the usual answer, without taking SQLite's one write lock every second
        if self.database.postgres:
            due = due.with_for_update(skip_locked=True)
        async with self.database.write() as connection:
            ids = list((await connection.execute(due)).scalars())
            if ids:
                await connection.execute(update(reply_delivery).where(reply_delivery.c.interaction_id.in_(ids))
                                         .values(state="sending", claimed_us=now,
                                                 attempts=reply_delivery.c.attempts + 1))
        return [str(ident) for ident in ids]

    async def _deliver(self, interaction_id: str) -> int:
        async with self.database.read() as connection:
            job = await _job(connection, interaction_id)
            attempts = (await connection.execute(select(reply_delivery.c.attempts).where(
                reply_delivery.c.interaction_id == interaction_id))).scalar_one()
        if job is None:
            await self._finish(interaction_id, None, reply.FAILED, "the reply's records are not on the backend")
            return 0
        sender = self.senders.get(job.reply.channel) if job.reply.channel is not None else None
        if sender is None:
            what = "e-mail ([smtp])" if job.reply.channel is Channel.EMAIL else "SMS ([twilio])"
            await self._finish(interaction_id, job.reply, reply.FAILED,
                               f"this backend sends no {what}: configure it in the channels file")
            return 0
        try:
            provider_id = await sender.send(job)
        except SendFailed as failed:
            if failed.permanent or attempts >= MAX_ATTEMPTS:
                tried = "" if failed.permanent else f" (tried {attempts} times)"
                await self._finish(interaction_id, job.reply, reply.FAILED, failed.reason + tried)
            else:
                await self._later(interaction_id, failed.reason, attempts)
            return 0
        except Exception as exc:  # noqa: BLE001 - a bug in one sender must not stop the others; it is said
            await self._finish(interaction_id, job.reply, reply.FAILED,
                               f"{type(exc).__name__}: {' '.join(str(exc).split())}")
            return 0
        await self._finish(interaction_id, job.reply, reply.SENT, None, provider_id)
        return 1

    async def _later(self, interaction_id: str, reason: str, attempts: int) -> None:
        wait = RETRY.wait_after(attempts)
        async with self.database.write() as connection:
            await connection.execute(update(reply_delivery).where(
                reply_delivery.c.interaction_id == interaction_id, reply_delivery.c.state == "sending")
                .values(state="queued", next_try_us=now_us() + int(wait * 1_000_000), last_error=reason,
                        claimed_us=None))
        log.warning("reply %s: %s; trying again in %.0f s (attempt %d of %d)", interaction_id, reason, wait,
                    attempts, MAX_ATTEMPTS)

    async def _finish(self, interaction_id: str, entry: TimelineEntry | None, state: str, detail: str | None,
                      provider_id: str | None = None) -> None:
        """The row's end and the reply's record as it now stands, in one transaction."""
        async with self.database.write() as connection:
            await connection.execute(update(reply_delivery).where(reply_delivery.c.interaction_id == interaction_id)
                                     .values(state=state, last_error=detail, provider_id=provider_id))
            if entry is not None:
                current = await _reply(connection, interaction_id) or entry
                await write_changes(connection, [Change.of(reply.delivered(current, state, detail))],
                                    postgres=self.database.postgres, keep=self.keep_changes)
        if state == reply.SENT:
            log.info("reply %s sent (%s)", interaction_id, provider_id)
        else:
            log.warning("reply %s failed: %s", interaction_id, detail)

    async def _fail_interrupted(self) -> None:
        stale = now_us() - int(SENDING_LEASE.total_seconds() * 1_000_000)
        async with self.database.read() as connection:
            ids = list((await connection.execute(select(reply_delivery.c.interaction_id).where(
                reply_delivery.c.state == "sending", reply_delivery.c.claimed_us < stale))).scalars())
        for ident in ids:
            async with self.database.read() as connection:
                entry = await _reply(connection, ident)
            await self._finish(ident, entry, reply.FAILED, INTERRUPTED)


async def _reply(connection: AsyncConnection, interaction_id: str) -> TimelineEntry | None:
    body = (await connection.execute(select(record.c.body).where(
        record.c.type == "interaction", record.c.id == interaction_id))).scalar()
    if body is None:
        return None
    parsed = parse_record(json.loads(body))
    return parsed if isinstance(parsed, TimelineEntry) else None


async def _job(connection: AsyncConnection, interaction_id: str) -> DeliveryJob | None:
    entry = await _reply(connection, interaction_id)
    if entry is None:
        return None
    wanted = [("agent", entry.author), ("customer", entry.customer)]
    if entry.case is not None:
        wanted.append(("case", entry.case))
    rows = (await connection.execute(select(record.c.type, record.c.body).where(
        record.c.type.in_([kind for kind, _ in wanted]), record.c.id.in_([ident for _, ident in wanted])))).all()
    found = {kind: parse_record(json.loads(body)) for kind, body in rows}
    agent, customer, case = found.get("agent"), found.get("customer"), found.get("case")
    if not isinstance(agent, Agent) or not isinstance(customer, Customer):
        return None
    return DeliveryJob(entry, agent, customer, case if isinstance(case, Case) else None,
                       await _thread(connection, entry))


async def _thread(connection: AsyncConnection, entry: TimelineEntry) -> tuple[str, ...]:
    """The Message-IDs of the customer's mails this reply answers: those on its case (or all, without one)."""
    rows = (await connection.execute(
        select(inbound_message.c.message_id, record.c.body).select_from(inbound_message.join(
            record, and_(record.c.type == "interaction", record.c.id == inbound_message.c.interaction_id)))
        .where(inbound_message.c.customer_id == entry.customer, inbound_message.c.message_id.is_not(None))
        .order_by(inbound_message.c.received_us))).all()
    ids = [str(message_id) for message_id, body in rows
           if entry.case is None or json.loads(body).get("case") == entry.case]
    return tuple(ids[-THREAD_LIMIT:])
