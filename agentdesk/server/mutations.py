"""Applying a workstation's mutation (decision, approve, decline, contact, reply): checked again here, exactly once.

The workstation checked the decision against the authority matrix when it was taken,
but it saw only its own replica: two agents on two machines may each spend the same
customer's budget. So the backend runs the same use case again (:mod:`agentdesk.domain.workflow`)
on its own records (:mod:`agentdesk.server.world`), under a lock; this module keeps only the
I/O around it (reading the pushed body, locking, storing, the change log, the answer):

* PostgreSQL: ``SELECT … FROM record WHERE type = 'customer' AND id = :c FOR UPDATE``,
  so mutations of one customer run one after another (others in parallel);
* SQLite: the transaction is ``BEGIN IMMEDIATE``, so all writers run one after another.

On PostgreSQL the ids the mutation claims (its decision's and its promise's) are locked
too, after the customer and in sorted order (``pg_advisory_xact_lock``), so the same
decision id sent for two customers at once is stored once: the customer lock alone
would let both through.

Only after the locks are the clock and the situation read (the customer's counted
decisions of the last 30 days and those on the case), so the second of two simultaneous
refunds sees the first and is refused if together they would exceed a limit or the
disputed amount.

Exactly once: the mutation id is the client's. Its result is stored in the same
transaction as its records; a repeat with the same body gets the stored result back,
with a different body it is refused. A business refusal is not an error: the decision
is stored as ``refused`` (with the reason) and its promise ``cancelled``, and the
answer is 200 with status "refused", so the workstation can show why.

Some refusals are not published: a decision that names what the backend does not hold
(a customer, a case of that customer, an escalation), or whose times lie outside what
the backend takes, would break every workstation that pulled it. Such a refusal is
stored only as the mutation's result, for the sender to mark its own copy; nothing of
it reaches the change log.

A decision taken longer ago than the offline allowance is refused (how the 30-day windows
count a backdated one: :mod:`agentdesk.server.world`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.domain import reply, workflow
from agentdesk.domain.authority import AuthorityMatrix, Verdict
from agentdesk.domain.contact_log import ContactRefused, check_logged
from agentdesk.domain.model import Decision, Promise, TimelineEntry
from agentdesk.domain.timeline import from_utc_micros
from agentdesk.interchange.codec import RecordError, parse_record, to_json_obj
from agentdesk.server.changes import Change, canonical, now_us, stage_changes
from agentdesk.server.database import Database, lock_names, transaction_retries
from agentdesk.server.delivery import queue_deliveries
from agentdesk.server.publish import Answered, publish
from agentdesk.server.tables import mutation, record
from agentdesk.server.users import User
from agentdesk.server.world import BatchWorld

DEFAULT_OFFLINE_ALLOWANCE = timedelta(days=7)
"""How long after it was taken (offline, say) the backend still takes a decision."""
HORIZON = timedelta(days=365)
"""How far ahead a callback or a promise may lie."""


class MutationInvalid(ValueError):
    """The mutation cannot be read or does not fit together (422); one line."""


class MutationForbidden(PermissionError):
    """The user may not send this mutation at all (403); one line."""


class Refused(Exception):
    """A business refusal found before the authority check (a closed case, a missing escalation).

    ``published``: False when the refused records must not reach other workstations (they name
    what the backend does not hold, or carry times outside its bounds).
    """

    def __init__(self, rule: str, reason: str, *, published: bool = True) -> None:
        super().__init__(reason)
        self.rule, self.reason, self.published = rule, reason, published


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


MutationError = MutationInvalid | MutationForbidden
"""What one mutation of a batch gets instead of a result: the 422 or 403 it would get alone."""


@dataclass
class _Pending:
    """A mutation of a batch on its way through the transaction."""

    place: int
    """Its position in the batch."""
    id: str
    digest: str
    action: _Action
    changes: list[Change] = field(default_factory=list)
    """What it staged, in order (empty when it published nothing)."""


class Applier:
    """Applies mutations to one database under one authority matrix."""

    def __init__(self, database: Database, matrix: AuthorityMatrix, keep_changes: int | None = None,
                 offline_allowance: timedelta = DEFAULT_OFFLINE_ALLOWANCE) -> None:
        self.database = database
        self.matrix = matrix
        self.keep_changes = keep_changes
        self.offline_allowance = offline_allowance

    async def stored_result(self, mutation_id: str) -> dict[str, Any] | None:
        async with self.database.read() as connection:
            stored = await _stored(connection, [mutation_id])
        return json.loads(stored[mutation_id][1]) if mutation_id in stored else None

    async def apply(self, user: User, mutation_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """The result of mutation ``mutation_id``: applied now, or the one stored when it was."""
        (answer,) = await self.apply_many(user, [(mutation_id, body)])
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def apply_many(self, user: User, items: list[tuple[str, dict[str, Any]]]
                         ) -> list[dict[str, Any] | MutationError]:
        """Each mutation's result (or its error), in order, all applied in one transaction.

        Every mutation is checked as if it came alone, after the ones before it: each stores its
        records before the next reads, and the change log numbers them in batch order at the end.
        """
        answers: list[dict[str, Any] | MutationError | None] = [None] * len(items)
        batch: list[_Pending] = []
        for place, (mutation_id, body) in enumerate(items):
            try:
                batch.append(_Pending(place, mutation_id, body_hash(body), _Action.read(user, body)))
            except (MutationInvalid, MutationForbidden) as exc:
                answers[place] = exc
        if batch:
            for place, answer in (await self._applied(user, batch)).items():
                answers[place] = answer
        assert all(answer is not None for answer in answers)
        return answers  # type: ignore[return-value]

    async def _applied(self, user: User, batch: list[_Pending]) -> dict[int, dict[str, Any] | MutationError]:
        try:
            return await self._transaction(user, batch)
        except IntegrityError:
            # A mutation id of the batch was applied by a concurrent request that committed first: the same
            # transaction once more finds its stored result and answers with that.
            return await self._transaction(user, batch)

    async def _transaction(self, user: User, batch: list[_Pending]) -> dict[int, dict[str, Any] | MutationError]:
        async for attempt in transaction_retries():
            with attempt:
                async with self.database.write() as connection:
                    return await self._apply(connection, user, batch)
        raise AssertionError("unreachable")  # the last failed attempt raises

    async def _apply(self, connection: AsyncConnection, user: User, batch: list[_Pending]
                     ) -> dict[int, dict[str, Any] | MutationError]:
        postgres = self.database.postgres
        if postgres:
            await _lock(connection, batch)
        # Looked for after the locks: a mutation applied while this waited is a repeat now.
        stored = await _stored(connection, [pending.id for pending in batch])
        answers: dict[int, dict[str, Any] | MutationError] = {}
        fresh: list[tuple[_Pending, _Outcome]] = []
        taken: dict[str, str] = {}
        """The digests of the mutations this batch applies, by id."""
        world = BatchWorld(user.name, user.role)
        await world.read_ahead(connection, [("agent", user.name),
                                            *(key for pending in batch for key in pending.action.reads())])
        for pending in batch:
            earlier = stored.get(pending.id)
            if earlier is not None:
                answers[pending.place] = _repeat(pending.id, earlier, pending.digest)
                continue
            if pending.id in taken:
                if taken[pending.id] != pending.digest:
                    answers[pending.place] = MutationInvalid(
                        f"mutation {pending.id} was already applied with a different body")
                continue  # a second copy in this batch: it gets the first one's answer
            # The clock is read after the locks, so whatever committed while this waited lies in its past.
            received_us = now_us()
            now = from_utc_micros(received_us)
            reader = _Reader(world, self.matrix, user, now, self.offline_allowance)
            try:
                outcome = await connection.run_sync(pending.action.apply_on, reader)
            except MutationInvalid as exc:
                answers[pending.place] = exc
                continue
            if outcome.published:
                pending.changes = [Change.of(r) for r in outcome.records]
                await stage_changes(connection, pending.changes, postgres=postgres, received_us=received_us)
                world.staged(pending.changes)
            if outcome.to_send:
                await queue_deliveries(connection, outcome.to_send, received_us)
            taken[pending.id] = pending.digest
            fresh.append((pending, outcome))
        if not fresh:
            return answers
        staged = [change for pending, _ in fresh for change in pending.changes]
        applied, through = [], 0
        for pending, outcome in fresh:
            through += len(pending.changes)
            records = ([change.obj for change in pending.changes] if outcome.published
                       else [to_json_obj(r) for r in outcome.records])
            applied.append(Answered(pending.id, pending.digest, outcome.status,
                                    {"id": pending.id, "status": outcome.status, "reason": outcome.reason,
                                     "rule": outcome.rule, "records": records}, through))
        texts = await publish(connection, staged, applied, postgres=postgres, keep=self.keep_changes,
                              user_name=user.name)
        results = {a.id: (a.digest, result) for a, result in zip(applied, texts, strict=True)}
        for pending in batch:
            if pending.place not in answers:
                # The very answer a repeat gets, byte for byte.
                answers[pending.place] = _repeat(pending.id, results[pending.id], pending.digest)
        return answers


async def _lock(connection: AsyncConnection, batch: list[_Pending]) -> None:
    """PostgreSQL: the customers' rows, then each claimed id, each in sorted order, customers first, so
    two writers never wait on each other in a circle."""
    customers = sorted({customer for pending in batch
                        if (customer := await pending.action.customer_id(connection)) is not None})
    if customers:
        await connection.execute(select(record.c.id).where(record.c.type == "customer", record.c.id.in_(customers))
                                 .order_by(record.c.id).with_for_update())
    await lock_names(connection, [key for pending in batch for key in pending.action.claimed_ids()])


async def _stored(connection: AsyncConnection, mutation_ids: list[str]) -> dict[str, tuple[str, str]]:
    """``id: (body hash, result)`` of those of ``mutation_ids`` applied before."""
    rows = await connection.execute(select(mutation.c.id, mutation.c.body_hash, mutation.c.result)
                                    .where(mutation.c.id.in_(sorted(set(mutation_ids)))))
    return {row[0]: (row[1], row[2]) for row in rows}


def _repeat(mutation_id: str, earlier: tuple[str, str], digest: str) -> dict[str, Any] | MutationError:
    if earlier[0] != digest:
        return MutationInvalid(f"mutation {mutation_id} was already applied with a different body")
    return json.loads(earlier[1])


# --------------------------------------------------------------------------- the situation


class _Reader:
    """What a mutation reads, inside the locked transaction: the records (as the workflow's
    :class:`~agentdesk.server.world.BatchWorld`), the matrix, the user and the backend's clock."""

    def __init__(self, world: BatchWorld, matrix: AuthorityMatrix, user: User, now: datetime,
                 offline_allowance: timedelta = DEFAULT_OFFLINE_ALLOWANCE) -> None:
        self.world = world
        self.matrix = matrix
        self.user = user
        self.now = now
        self.offline_allowance = offline_allowance

    def on(self, connection: Connection) -> _Reader:
        """This reader, its world reading through ``connection``."""
        self.world.on(connection)
        return self

    def check_times(self, decision: Decision, promise: Promise | None) -> None:
        """Refuses a decision taken longer ago than the offline allowance, and a callback or promise
        outside from the allowance ago to a year ahead (unpublished: such times break every
        workstation's time words)."""
        age = self.now - decision.at
        if age > self.offline_allowance:
            raise Refused("decision.at", f"taken {_span(age)} ago; the backend takes decisions up to "
                                         f"{_span(self.offline_allowance)} after they were taken", published=False)
        if decision.scheduled is not None:
            self.within_bounds("callback.scheduled", f"callback at {decision.scheduled.isoformat()}",
                               decision.scheduled)
        if promise is not None:
            self.within_bounds("promise.due", f"promise {promise.id} due {promise.due.isoformat()}", promise.due)

    def within_bounds(self, rule: str, what: str, when: datetime) -> None:
        if not self.now - self.offline_allowance <= when <= self.now + HORIZON:
            raise Refused(rule, f"{what} is not between {_span(self.offline_allowance)} ago and a year ahead",
                          published=False)


def _unknown(unknown: workflow.Unknown) -> Refused:
    """Unpublished: records naming what the backend does not hold would break every workstation that pulled them."""
    return Refused(unknown.rule, unknown.words("on the backend", quote=False), published=False)


def _span(span: timedelta) -> str:
    """``9 days``, ``7 days 5 hours``: hours only while they still matter."""
    days, hours = span.days, span.seconds // 3600
    words = [_plural(days, "day")] if days else []
    if hours and days < 10:
        words.append(_plural(hours, "hour"))
    return " ".join(words) or "less than an hour"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --------------------------------------------------------------------------- the three kinds


@dataclass
class _Outcome:
    status: str
    """``applied`` or ``refused``."""
    records: list[Any]
    """The domain records to store, in the order the result lists them."""
    reason: str | None = None
    rule: str | None = None
    published: bool = True
    """False: the records are the sender's answer only, never stored or sent to anyone else."""
    to_send: list[TimelineEntry] = field(default_factory=list)
    """Replies the backend sends once this commits (queued in the same transaction)."""


def _parse(obj: Any, expected: type, what: str) -> Any:
    if not isinstance(obj, dict):
        raise MutationInvalid(f"{what} must be an interchange {expected.__name__.lower()} object")
    try:
        parsed = parse_record(obj)
    except RecordError as exc:
        raise MutationInvalid(str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise MutationInvalid(f"{what}: {exc}".splitlines()[0]) from None
    if type(parsed) is not expected:
        raise MutationInvalid(f"{what} must be a {expected.__name__.lower()}, not a {obj.get('type')}")
    return parsed


class _Action:
    """One mutation, read and checked for shape before any transaction begins."""

    def __init__(self, user: User) -> None:
        self.user = user

    @staticmethod
    def read(user: User, body: dict[str, Any]) -> _Action:
        kind = body.get("kind")
        if kind == "decision":
            return _DecisionAction(user, body)
        if kind == "approve":
            return _ApproveAction(user, body)
        if kind == "decline":
            return _DeclineAction(user, body)
        if kind == "contact":
            return _ContactAction(user, body)
        if kind == "reply":
            return _ReplyAction(user, body)
        raise MutationInvalid(f"unknown mutation kind {kind!r} (expected decision, approve, decline, contact or "
                              "reply)")

    async def customer_id(self, connection: AsyncConnection) -> str | None:
        raise NotImplementedError

    def claimed_ids(self) -> list[str]:
        """The ``type:id`` keys of the records this mutation creates; none of them may exist yet."""
        return []

    def reads(self) -> list[tuple[str, str]]:
        """``(type, id)`` of the records its checks read, besides its user's agent record: read ahead for the
        whole batch at once."""
        return []

    def apply_on(self, connection: Connection, reader: _Reader) -> _Outcome:
        """:meth:`apply` with ``reader`` reading through ``connection`` (``run_sync`` calls it so)."""
        return self.apply(reader.on(connection))

    def apply(self, reader: _Reader) -> _Outcome:
        """The outcome, decided by :mod:`agentdesk.domain.workflow` (runs inside ``run_sync``)."""
        raise NotImplementedError


class _DecisionAction(_Action):
    approves_escalations = False
    """Only an approve mutation's decision may name the escalation it approves."""

    def __init__(self, user: User, body: dict[str, Any]) -> None:
        super().__init__(user)
        self.decision: Decision = _parse(body.get("decision"), Decision, "decision")
        promise = body.get("promise")
        self.promise: Promise | None = _parse(promise, Promise, "promise") if promise is not None else None
        if self.decision.agent != user.name:
            raise MutationForbidden(f"decision {self.decision.id} is {self.decision.agent}'s, "
                                    f"not {user.name}'s")
        if self.promise is not None and (self.promise.decision != self.decision.id
                                         or self.promise.customer != self.decision.customer):
            raise MutationInvalid(f"promise {self.promise.id} is not the promise of decision {self.decision.id}")
        if self.decision.approves is not None and not self.approves_escalations:
            raise MutationInvalid(f"decision {self.decision.id} names approves {self.decision.approves}; "
                                  "only an approve mutation approves an escalation")

    async def customer_id(self, connection: AsyncConnection) -> str | None:
        return self.decision.customer

    def claimed_ids(self) -> list[str]:
        claimed = [f"decision:{self.decision.id}"]
        if self.promise is not None:
            claimed.append(f"promise:{self.promise.id}")
        return claimed

    def reads(self) -> list[tuple[str, str]]:
        d = self.decision
        keys = [("customer", d.customer), ("decision", d.id)]
        if d.case is not None:
            keys.append(("case", d.case))
        if self.promise is not None:
            keys.append(("promise", self.promise.id))
        if d.approves is not None:
            keys.append(("decision", d.approves))
        return keys

    def decided_at(self, reader: _Reader) -> Decision:
        """The decision as taken, but never later than the backend's clock (a fast clock must not hide it
        from the 30-day totals, which count decisions up to now)."""
        d = self.decision
        if d.at > reader.now:
            d = replace(d, at=reader.now.astimezone(d.at.tzinfo))
        return replace(d, undo_until=None)

    def verdict(self, reader: _Reader) -> Verdict:
        d = self.decision
        return workflow.judge(reader.world, reader.matrix, d.agent, d.customer, d.case,
                              workflow.proposal_of(d), reader.now).verdict

    def check_ids_are_new(self, reader: _Reader) -> None:
        """An id is bound to the record that first took it: a mutation never overwrites one."""
        if reader.world.body("decision", self.decision.id) is not None:
            raise MutationInvalid(f"decision {self.decision.id} is already on the backend")
        if self.promise is not None and reader.world.body("promise", self.promise.id) is not None:
            raise MutationInvalid(f"promise {self.promise.id} is already on the backend")

    def apply(self, reader: _Reader) -> _Outcome:
        self.check_ids_are_new(reader)
        try:
            reader.check_times(self.decision, self.promise)
            try:
                verdict = self.verdict(reader)
            except workflow.Unknown as unknown:
                raise _unknown(unknown) from None
            except workflow.Refused as refused:
                raise Refused(refused.refusal.rule, refused.refusal.reason) from None
        except Refused as refusal:
            return self.refused(reader, workflow.Refusal(refusal.rule, refusal.reason), None,
                                published=refusal.published)
        if not verdict.allowed:
            return self.refused(reader, workflow.Refusal(verdict.rule, verdict.reason or "refused"), verdict)
        return self.confirmed(reader, verdict)

    def confirmed(self, reader: _Reader, verdict: Verdict) -> _Outcome:
        return _Outcome("applied", workflow.confirmed(self.decided_at(reader), self.promise, verdict,
                                                      self.user.name, reader.now))

    def refused(self, reader: _Reader, refusal: workflow.Refusal, verdict: Verdict | None, *,
                published: bool = True) -> _Outcome:
        # An unpublished refusal leaves no trace on the backend but its stored answer: no audit line.
        records = workflow.refused(self.decided_at(reader), self.promise, refusal, verdict, self.user.name,
                                   reader.now, audited=published)
        return _Outcome("refused", records, refusal.reason, refusal.rule, published)


class _ApproveAction(_DecisionAction):
    """The approver takes the escalated proposal as their own decision, under their own limits."""

    approves_escalations = True

    def __init__(self, user: User, body: dict[str, Any]) -> None:
        super().__init__(user, body)
        escalation = body.get("escalation")
        if not isinstance(escalation, str) or not escalation:
            raise MutationInvalid("approve needs the id of the escalation it approves")
        self.escalation_id = escalation
        if self.decision.approves not in (None, escalation):
            raise MutationInvalid(f"decision {self.decision.id} approves {self.decision.approves}, "
                                  f"not {escalation}")
        if self.decision.kind not in ("refund", "voucher", "callback"):
            raise MutationInvalid(f"an approval decides a refund, voucher or callback, not a {self.decision.kind}")
        self.decision = replace(self.decision, approves=escalation)
        self.escalation: Decision | None = None

    def verdict(self, reader: _Reader) -> Verdict:
        opened = workflow.open_escalation(reader.world, reader.matrix, self.user.name, self.escalation_id,
                                          self.decision.customer)
        if self.decision.case != opened.escalation.case:
            raise MutationInvalid(f"decision {self.decision.id} is on case {self.decision.case}, the escalation it "
                                  f"approves on case {opened.escalation.case}")
        self.escalation = opened.escalation
        return workflow.judge_approval(reader.world, reader.matrix, opened, workflow.proposal_of(self.decision),
                                       reader.now).verdict

    def confirmed(self, reader: _Reader, verdict: Verdict) -> _Outcome:
        outcome = super().confirmed(reader, verdict)
        assert self.escalation is not None
        approved = workflow.approved(self.escalation, self.user.name, reader.now)
        audit = workflow.approved_audit(reader.now, approved, self.user.name, self.decision.id, verdict)
        outcome.records[-1:-1] = [approved]
        outcome.records.append(audit)
        return outcome


class _DeclineAction(_Action):
    def __init__(self, user: User, body: dict[str, Any]) -> None:
        super().__init__(user)
        escalation = body.get("escalation")
        if not isinstance(escalation, str) or not escalation:
            raise MutationInvalid("decline needs the id of the escalation it declines")
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise MutationInvalid("reason must be a string")
        self.escalation_id = escalation
        self.reason = workflow.decline_reason(reason)

    async def customer_id(self, connection: AsyncConnection) -> str | None:
        row = (await connection.execute(select(record.c.customer_id).where(
            record.c.type == "decision", record.c.id == self.escalation_id))).first()
        return row[0] if row is not None else None

    def reads(self) -> list[tuple[str, str]]:
        return [("decision", self.escalation_id)]

    def apply(self, reader: _Reader) -> _Outcome:
        try:
            opened = workflow.open_escalation(reader.world, reader.matrix, self.user.name, self.escalation_id)
        except workflow.Unknown as unknown:
            refusal = _unknown(unknown)
            return _Outcome("refused", [], refusal.reason, refusal.rule)
        except workflow.Refused as refused:
            escalation = refused.escalation
            assert escalation is not None
            audit = workflow.audit_entry(reader.now, self.user.name, "refused", escalation.customer, escalation.id,
                                         workflow.proposal_of(escalation), rule=refused.refusal.rule,
                                         detail=refused.refusal.reason)
            return _Outcome("refused", [audit], refused.refusal.reason, refused.refusal.rule)
        declined = workflow.declined(opened.escalation, self.user.name, reader.now, self.reason)
        return _Outcome("applied", [declined, workflow.declined_audit(reader.now, declined, self.user.name)])


class _InteractionAction(_Action):
    """A mutation that brings one interaction of its own: its customer is locked, its id claimed."""

    interaction: TimelineEntry

    async def customer_id(self, connection: AsyncConnection) -> str | None:
        return self.interaction.customer

    def claimed_ids(self) -> list[str]:
        return [f"interaction:{self.interaction.id}"]

    def reads(self) -> list[tuple[str, str]]:
        keys = [("customer", self.interaction.customer), ("interaction", self.interaction.id)]
        if self.interaction.case is not None:
            keys.append(("case", self.interaction.case))
        return keys


class _ContactAction(_InteractionAction):
    """A contact logged by hand: its interaction is stored once, by a user who may write."""

    def __init__(self, user: User, body: dict[str, Any]) -> None:
        super().__init__(user)
        self.interaction: TimelineEntry = _parse(body.get("interaction"), TimelineEntry, "interaction")
        try:
            check_logged(self.interaction, user.name)
        except ContactRefused as refused:
            raise MutationInvalid(str(refused)) from None

    def apply(self, reader: _Reader) -> _Outcome:
        role = reader.matrix.role(self.user.role)
        if role is None or role.read_only:
            return _Outcome("refused", [], f"the {self.user.role} role is read-only and logs no contacts",
                            "role.read_only", published=False)
        if reader.world.customer(self.interaction.customer) is None:
            refusal = f"customer {self.interaction.customer} is not on the backend"
            return _Outcome("refused", [], refusal, "customer", published=False)
        if reader.world.body("interaction", self.interaction.id) is not None:
            raise MutationInvalid(f"interaction {self.interaction.id} is already on the backend")
        try:
            reader.within_bounds("interaction.at", f"contact at {self.interaction.at.isoformat()}",
                                 self.interaction.at)
        except Refused as refused:
            return _Outcome("refused", [], refused.reason, refused.rule, published=False)
        return _Outcome("applied", [self.interaction])


class _ReplyAction(_InteractionAction):
    """A reply: checked against the backend's own records (who signs, where it goes, the case), stored
    ``queued`` and queued for sending in one transaction. A refusal is the sender's alone: its copy reads
    ``failed`` with the reason, and nothing is sent."""

    def __init__(self, user: User, body: dict[str, Any]) -> None:
        super().__init__(user)
        self.interaction: TimelineEntry = _parse(body.get("interaction"), TimelineEntry, "interaction")
        if not reply.is_reply(self.interaction):
            raise MutationInvalid(f"interaction {self.interaction.id} is not a reply (no reply_by)")

    def apply(self, reader: _Reader) -> _Outcome:
        role = reader.matrix.role(self.user.role)
        if role is None or role.read_only:
            return self._refused(f"the {self.user.role} role is read-only and sends no replies", "role.read_only")
        if reader.world.body("interaction", self.interaction.id) is not None:
            raise MutationInvalid(f"interaction {self.interaction.id} is already on the backend")
        agent = reader.world.agent_record(self.user.name)
        customer = reader.world.customer(self.interaction.customer)
        case = reader.world.case(self.interaction.case) if self.interaction.case is not None else None
        if agent is None:
            return self._refused(f"agent {self.user.name} is not on the backend", "agent")
        if customer is None:
            return self._refused(f"customer {self.interaction.customer} is not on the backend", "customer")
        if self.interaction.case is not None and case is None:
            return self._refused(f"case {self.interaction.case} is not on the backend", "case")
        try:
            reader.within_bounds("interaction.at", f"reply at {self.interaction.at.isoformat()}",
                                 self.interaction.at)
            reply.check_reply(self.interaction, agent, customer, case)
        except Refused as refused:
            return self._refused(refused.reason, refused.rule)
        except reply.ReplyRefused as refused:
            return self._refused(str(refused), "reply")
        return _Outcome("applied", [self.interaction], to_send=[self.interaction])

    def _refused(self, reason: str, rule: str) -> _Outcome:
        failed = reply.delivered(self.interaction, reply.FAILED, f"not sent: {reason}")
        return _Outcome("refused", [failed], reason, rule, published=False)
