"""The backend's :class:`agentdesk.domain.workflow.World`: its records, read under the mutation's lock.

Synchronous, over the sync face of the transaction's connection: the applier runs a whole
use case in ``await connection.run_sync(...)`` (see :mod:`agentdesk.domain.workflow`).

The 30-day window is selected in SQL over the decision columns beside each body
(``tables.decision_columns``): only the decisions that count are read and parsed. A decision
stored by a mutation counts from the later of its claimed time and when the backend received
it (a backdated decision still counts for 30 days of receipts), never after now: another
backend process's clock may run ahead of this one's, and a decision it just stored must count
here all the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Select, bindparam, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.domain.authority import COUNTED_KINDS, COUNTED_STATES
from agentdesk.domain.model import Agent, Case, Customer, Decision
from agentdesk.domain.timeline import from_utc_micros, utc_micros
from agentdesk.interchange.codec import parse_record
from agentdesk.server.changes import Change
from agentdesk.server.tables import record


class RecordsWorld:
    """The backend's records as the decision rules see them; ``user`` decides in their token's role."""

    def __init__(self, connection: Connection, user_name: str, user_role: str) -> None:
        self.connection = connection
        self.user_name = user_name
        self.user_role = user_role

    def body(self, kind: str, ident: str) -> dict[str, Any] | None:
        row = self.connection.execute(_BODY, {"kind": kind, "ident": ident}).first()
        return json.loads(row[0]) if row is not None else None

    def _parsed(self, kind: str, ident: str) -> Any:
        obj = self.body(kind, ident)
        return parse_record(obj) if obj is not None else None

    def agent(self, agent_id: str) -> Agent | None:
        agent: Agent | None = self._parsed("agent", agent_id)
        if agent is not None and agent_id == self.user_name:
            return replace(agent, role=self.user_role)  # the token says what its holder may decide
        return agent

    def agent_record(self, agent_id: str) -> Agent | None:
        """The agent as the record says (what a reply is signed with), whatever role the token gives."""
        agent: Agent | None = self._parsed("agent", agent_id)
        return agent

    def customer(self, customer_id: str) -> Customer | None:
        return self._parsed("customer", customer_id)

    def case(self, case_id: str) -> Case | None:
        return self._parsed("case", case_id)

    def decision(self, decision_id: str) -> Decision | None:
        return self._parsed("decision", decision_id)

    def counting_decisions(self, customer_id: str, case_id: str | None, since: datetime,
                           now: datetime) -> list[Decision]:
        since_us = utc_micros(since)
        if case_id is None:
            rows = self.connection.execute(_COUNTING, {"customer": customer_id, "since": since_us})
        else:
            rows = self.connection.execute(_COUNTING_ON_CASE, {"customer": customer_id, "since": since_us,
                                                               "case": case_id})
        decisions = []
        for body, received_us in rows:
            decision: Decision = parse_record(json.loads(body))  # type: ignore[assignment]
            decisions.append(replace(decision, at=counted_at(decision, received_us, now)))
        return decisions

    def booked_slots(self, agent_id: str, since: datetime) -> frozenset[datetime]:
        rows = self.connection.execute(
            select(record.c.decision_scheduled_us)
            .where(record.c.decision_agent == agent_id, record.c.decision_kind == "callback",
                   record.c.type == "decision", record.c.decision_state.in_(sorted(COUNTED_STATES)),
                   record.c.decision_scheduled_us >= utc_micros(since)))
        return frozenset(from_utc_micros(us) for (us,) in rows)


_BODY = select(record.c.body).where(record.c.type == bindparam("kind"), record.c.id == bindparam("ident"))


def _counting(*, on_case: bool) -> Select:
    # The later of two times is after ``since`` when either is; on a case, every decision on it counts.
    since = bindparam("since", type_=BigInteger)
    in_window = [record.c.decision_at_us > since, record.c.received_us > since]
    if on_case:
        in_window.append(record.c.decision_case == bindparam("case"))
    return (select(record.c.body, record.c.received_us)
            .where(record.c.customer_id == bindparam("customer"), record.c.type == "decision",
                   record.c.decision_kind.in_(COUNTED_KINDS), record.c.decision_state.in_(sorted(COUNTED_STATES)),
                   or_(*in_window))
            .order_by(record.c.decision_at_us, record.c.id))


# Built once: building a statement costs more than running some of them.
_COUNTING, _COUNTING_ON_CASE = _counting(on_case=False), _counting(on_case=True)


class BatchWorld(RecordsWorld):
    """The records as a batch of mutations sees them in its one transaction: each record is read once,
    and what a mutation of the batch stores is what the next one reads (:meth:`staged`).

    Safe to remember for the whole transaction: the batch holds its customers' rows, and every record
    a mutation writes belongs to one of them.
    """

    def __init__(self, user_name: str, user_role: str) -> None:
        super().__init__(None, user_name, user_role)  # type: ignore[arg-type]  # given by on() before each use
        self._bodies: dict[tuple[str, str], dict[str, Any] | None] = {}

    def on(self, connection: Connection) -> BatchWorld:
        """This world, reading through ``connection`` (the sync face ``run_sync`` gives each mutation)."""
        self.connection = connection
        return self

    def body(self, kind: str, ident: str) -> dict[str, Any] | None:
        key = (kind, ident)
        if key not in self._bodies:
            self._bodies[key] = super().body(kind, ident)
        return self._bodies[key]

    async def read_ahead(self, connection: AsyncConnection, keys: Iterable[tuple[str, str]]) -> None:
        """Read the records behind ``keys`` (type, id) in one statement, those missing remembered as missing."""
        wanted = sorted(set(keys) - self._bodies.keys())
        if not wanted:
            return
        rows = await connection.execute(select(record.c.type, record.c.id, record.c.body)
                                        .where(tuple_(record.c.type, record.c.id).in_(wanted)))
        self._bodies.update(dict.fromkeys(wanted))
        self._bodies.update({(kind, ident): json.loads(body) for kind, ident, body in rows})

    def staged(self, changes: Iterable[Change]) -> None:
        """What a mutation of the batch just stored."""
        for change in changes:
            self._bodies[(change.type, change.id)] = change.obj


def counted_at(decision: Decision, received_us: int | None, now: datetime) -> datetime:
    """When ``decision`` counts in the 30-day windows: the later of its claimed time and its receipt, never
    after ``now`` (uploaded history has no receipt: its own time is all there is)."""
    if received_us is None:
        return decision.at
    return min(max(decision.at, from_utc_micros(received_us)), now)
