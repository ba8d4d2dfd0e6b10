"""Watching the store for what the signed-in agent must be told, the same for every front end.

A commit by any other connection (another workstation's sync, another process, this front
end's own ledger) moves the store's ``data_version``; at each look the watcher reads only
then which of the agent's escalations a lead decided and which of the decisions the agent
waits on the backend refused. Each is told once: what was decided before the watch began
is known, and only decisions the watcher saw unanswered are awaited (history pulled from
the backend holds refusals nobody waits for).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from agentdesk.domain.model import Decision
from agentdesk.store import watching
from agentdesk.store.own_thread import OwnThread


@dataclass(frozen=True, slots=True)
class EscalationOutcome:
    """An escalation by the signed-in agent that a lead approved or declined since the last look."""

    escalation: Decision
    """The escalation as it is now (``approval``, ``approval_by``, ``approval_at``, ``approval_reason`` set)."""
    decision: Decision | None
    """When approved: the decision the approver took in its place (None when declined)."""
    customer_name: str
    """The customer's name as stored (make it safe with ``one_line`` before showing it)."""
    customer_zone: str | None = None
    """The customer's IANA zone, where a callback's time is shown."""


@dataclass(frozen=True, slots=True)
class RefusedDecision:
    """A decision by the signed-in agent that the backend refused since the last look."""

    decision: Decision
    """As stored now: state ``refused``, the backend's reason in ``extra["refusal"]``."""
    customer_name: str
    """The customer's name as stored (make it safe with ``one_line`` before showing it)."""


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """A reply by the signed-in agent that the backend sent, or that failed, since the last look."""

    entry_id: str
    customer_id: str
    customer_name: str
    """As stored (make it safe with ``one_line`` before showing it)."""
    channel: str
    state: str
    """``sent`` or ``failed``."""
    detail: str | None
    """Why it failed, in the backend's or the provider's words."""


@dataclass(frozen=True, slots=True)
class StoreNews:
    """What one look found after someone committed."""

    version: int
    outcomes: tuple[EscalationOutcome, ...] = ()
    refusals: tuple[RefusedDecision, ...] = ()
    replies: tuple[ReplyOutcome, ...] = ()


class StoreWatch:
    """One read-only connection on a thread of its own, and what its agent was already told.

    Use :meth:`open`; call :meth:`follow` once the agent is known (and may decide), then
    :meth:`look` at will. Looks must not overlap (the caller serialises them).
    """

    def __init__(self, thread: OwnThread) -> None:
        self._db = thread.db
        self._run = thread.run
        self.version: int | None = None
        self._agent: str | None = None
        self._known: frozenset[str] = frozenset()
        """The agent's escalations already decided when last looked (not told again)."""
        self._awaited: frozenset[str] = frozenset()
        """The agent's decisions seen unanswered by the backend: told when one comes back refused."""
        self._queued_replies: frozenset[str] = frozenset()
        """The agent's replies seen queued: told when one is sent or fails."""

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[StoreWatch]:
        """The watch with its baseline taken: every later commit is noticed."""
        async with OwnThread.open(partial(watching.read_only_connection, path), "agentdesk-watch") as thread:
            watch = cls(thread)
            watch.version = await watch._run(watching.data_version, watch._db)
            yield watch

    async def follow(self, agent_id: str) -> None:
        """From now on, tell ``agent_id`` what is decided or refused after this moment."""
        known, awaited, queued = await self._run(self._baseline, agent_id)
        self._agent, self._known, self._awaited = agent_id, known, self._awaited | awaited
        self._queued_replies |= queued

    def _baseline(self, agent_id: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        return (watching.decided_escalation_ids(self._db, agent_id),
                watching.unanswered_decision_ids(self._db, agent_id),
                watching.queued_reply_ids(self._db, agent_id))

    def awaiting(self, decision_ids: Iterable[str]) -> None:
        """These decisions were queued for the backend: its refusal of any of them is told."""
        self._awaited |= set(decision_ids)

    def awaiting_reply(self, entry_id: str) -> None:
        """This reply was queued: whether it is sent or fails is told, however quickly that happens."""
        self._queued_replies |= {entry_id}

    async def look(self) -> StoreNews | None:
        """None when nobody committed since the last look; else what the followed agent is to be told."""
        version = await self._run(watching.data_version, self._db)
        if version == self.version:
            return None
        news = StoreNews(version)
        if self._agent is not None:
            awaited = self._awaited
            outcomes, refusals, unanswered = await self._run(self._news, self._agent, awaited)
            self._known |= {outcome.escalation.id for outcome in outcomes}
            # What was queued meanwhile stays awaited; what was answered is done.
            self._awaited = unanswered | (self._awaited - awaited)
            replies, self._queued_replies = await self._run(self._replies, self._agent, self._queued_replies)
            news = StoreNews(version, tuple(outcomes), tuple(refusals), tuple(replies))
        # Only now, with everything read: a failed read leaves this change to the next look.
        self.version = version
        return news

    def _news(self, agent_id: str, awaited: frozenset[str]) -> tuple[list[EscalationOutcome], list[RefusedDecision],
                                                                     frozenset[str]]:
        outcomes = self._outcomes(agent_id, self._known)
        unanswered = watching.unanswered_decision_ids(self._db, agent_id)
        refused = []
        for ident in sorted(awaited - unanswered):
            decision = watching.refused_decision(self._db, ident)
            if decision is not None:  # else confirmed, undone, or not in the store: nothing to tell
                refused.append(RefusedDecision(decision, self._customer(decision.customer)[0]))
        refused.sort(key=lambda refusal: (refusal.decision.at, refusal.decision.id))
        return outcomes, refused, unanswered

    def _replies(self, agent_id: str, seen_queued: frozenset[str]) -> tuple[list[ReplyOutcome], frozenset[str]]:
        """The replies seen queued that are sent or failed now; and those queued now."""
        queued = watching.queued_reply_ids(self._db, agent_id)
        told = []
        for ident in sorted(seen_queued - queued):
            found = watching.reply_delivery(self._db, ident)
            if found is None or found[2] not in ("sent", "failed"):
                continue
            customer_id, channel, state, detail = found
            told.append(ReplyOutcome(ident, customer_id, self._customer(customer_id)[0], channel, state, detail))
        return told, queued

    async def since_last_decision(self, agent_id: str) -> list[EscalationOutcome]:
        """At the start: ``agent_id``'s escalations decided after their last decision (news to them)."""
        return await self._run(self._since_last_decision, agent_id)

    def _since_last_decision(self, agent_id: str) -> list[EscalationOutcome]:
        last = watching.last_decision_at(self._db, agent_id)
        if last is None:
            return []
        return [outcome for outcome in self._outcomes(agent_id, frozenset())
                if _decided_after(outcome.escalation, last)]

    def _outcomes(self, agent_id: str, known: frozenset[str]) -> list[EscalationOutcome]:
        outcomes = []
        for escalation in watching.decided_escalations(self._db, agent_id, known):
            taken = (watching.first_approving_decision(self._db, escalation.id)
                     if escalation.approval == "approved" else None)
            name, zone = self._customer(escalation.customer)
            outcomes.append(EscalationOutcome(escalation, taken, name, zone))
        return outcomes

    def _customer(self, customer_id: str) -> tuple[str, str | None]:
        found = watching.customer_name_and_zone(self._db, customer_id)
        return found if found is not None else (customer_id, None)


def _decided_after(escalation: Decision, moment: datetime) -> bool:
    return escalation.approval_at is not None and escalation.approval_at > moment
