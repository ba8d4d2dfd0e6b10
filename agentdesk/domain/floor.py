"""The supervisor's floor: agents and what they are on, the queue and its longest waits, missed deadlines,
escalations waiting for approval, promises due and overdue by owner. Pure: built from what the store and
the backend's presence say, shown the same by the workstation's floor screen and ``agentdesk floor``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from agentdesk.domain.authority import MONEY_KINDS, AuthorityMatrix, Role
from agentdesk.domain.model import Agent, Decision, Promise
from agentdesk.domain.presence import Seen
from agentdesk.domain.queue import QueuePlace
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration

LONGEST_WAITS = 5
"""How many of the longest effective waits the floor lists."""


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent: Agent
    state: str
    """``online`` (a customer open), ``idle`` (a workstation open, no customer) or ``offline``."""
    customer_id: str | None
    customer_name: str | None
    typing: bool
    decisions: int
    """Taken today (pending, queued or confirmed)."""
    spent: dict[str, Decimal]
    """Today's refund and voucher totals by kind (the authority's currency)."""
    limits: dict[str, Decimal | None]
    """The role's per-decision limits by kind (None: the kind is not the role's to decide)."""
    replies: int
    """Sent today."""


@dataclass(frozen=True, slots=True)
class EscalationRow:
    decision: Decision
    customer_name: str
    by_name: str
    age: timedelta


@dataclass(frozen=True, slots=True)
class PromiseLoad:
    owner: str
    owner_name: str
    due_today: int
    overdue: int
    oldest_overdue: Promise | None


@dataclass(frozen=True, slots=True)
class Floor:
    now: datetime
    presence_known: bool
    """False when no backend said who is present: every agent then reads ``unknown``."""
    agents: list[AgentRow]
    queue_length: int
    longest: list[QueuePlace]
    missed: list[QueuePlace]
    """Waiting customers whose promised deadline has passed."""
    escalations: list[EscalationRow]
    promises: list[PromiseLoad]
    currency: str = "EUR"
    notes: list[str] = field(default_factory=list)


def build_floor(*, now: datetime, day_start: datetime, agents: Sequence[Agent], matrix: AuthorityMatrix | None,
                presence: Sequence[Seen] | None, places: Sequence[QueuePlace], decisions_today: Iterable[Decision],
                replies_today: Mapping[str, int], escalations: Iterable[Decision],
                open_promises: Iterable[tuple[Promise, str | None]], names: Mapping[str, str]) -> Floor:
    """``names``: customer id → name, for what the floor mentions; ``open_promises``: each with its owner (the
    agent whose decision made it; None when unknown)."""
    seen = {s.user: s for s in presence or ()}
    counted: Counter[str] = Counter()
    spent: dict[str, dict[str, Decimal]] = defaultdict(dict)
    currency = "EUR"
    for decision in decisions_today:
        if decision.state not in ("pending", "queued", "confirmed") or decision.at < day_start:
            continue
        counted[decision.agent] += 1
        if decision.kind in MONEY_KINDS and decision.amount is not None:
            currency = decision.amount.currency
            totals = spent[decision.agent]
            totals[decision.kind] = totals.get(decision.kind, Decimal(0)) + decision.amount.amount
    rows = []
    for agent in agents:
        role = matrix.role(agent.role) if matrix is not None else None
        if (role is not None and role.read_only) or agent.role == "admin":
            continue  # supervisors watch and admins keep the backend: neither works the floor
        present = seen.get(agent.id)
        state = ("unknown" if presence is None else "offline" if present is None
                 else "online" if present.customer else "idle")
        customer = present.customer if present is not None else None
        limits = {kind: _limit(role, kind) for kind in MONEY_KINDS}
        rows.append(AgentRow(agent, state, customer, names.get(customer) if customer else None,
                             bool(present and present.typing), counted[agent.id], spent.get(agent.id, {}), limits,
                             replies_today.get(agent.id, 0)))
    rows.sort(key=lambda row: (("online", "idle", "unknown", "offline").index(row.state), row.agent.name))
    missed = [p for p in places if p.waiting.deadline is not None and p.waiting.deadline < now]
    agent_names = {agent.id: agent.name for agent in agents}
    waiting_escalations = sorted((EscalationRow(d, names.get(d.customer, d.customer),
                                                agent_names.get(d.agent, d.agent), now - d.at)
                                  for d in escalations if d.approval == "waiting"),
                                 key=lambda row: -row.age)
    return Floor(now, presence is not None, rows, len(places), list(places[:LONGEST_WAITS]), missed,
                 waiting_escalations, _promise_loads(open_promises, agents, now, day_start), currency)


def _limit(role: Role | None, kind: str) -> Decimal | None:
    rule = role.money_rule(kind) if role is not None else None
    return rule.max if rule is not None else None


def _promise_loads(open_promises: Iterable[tuple[Promise, str | None]], agents: Sequence[Agent], now: datetime,
                   day_start: datetime) -> list[PromiseLoad]:
    names = {agent.id: agent.name for agent in agents}
    due: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    oldest: dict[str, Promise] = {}
    for promise, owner in open_promises:
        key = owner or "—"
        if promise.due < now:
            overdue[key] += 1
            if key not in oldest or promise.due < oldest[key].due:
                oldest[key] = promise
        elif promise.due < day_start + timedelta(days=1):
            due[key] += 1
    owners = set(due) | set(overdue)
    loads = [PromiseLoad(owner, names.get(owner, owner if owner != "—" else "nobody named"), due[owner],
                         overdue[owner], oldest.get(owner)) for owner in owners]
    return sorted(loads, key=lambda load: (-load.overdue, -load.due_today, load.owner_name))


# --------------------------------------------------------------------------- in words


def agent_line(row: AgentRow, currency: str) -> str:
    """``Jonas Weber · agent · online on Petra Lindner, typing a reply · 3 decisions today (refunds 69.90 of
    50.00 each) · 2 replies sent``."""
    where = row.state
    if row.state == "online" and row.customer_name:
        where = f"online on {one_line(row.customer_name, 40)}" + (", typing a reply" if row.typing else "")
    parts = [one_line(row.agent.name, 40), one_line(row.agent.role, 20), where,
             f"{row.decisions} decision{'s' if row.decisions != 1 else ''} today"]
    for kind, amount in sorted(row.spent.items()):
        limit = row.limits.get(kind)
        parts.append(f"{kind}s {amount:.2f} {currency}" + (f", each up to {limit:.2f}" if limit is not None else ""))
    parts.append(f"{row.replies} repl{'ies' if row.replies != 1 else 'y'} sent")
    return " · ".join(parts)


def escalation_line(row: EscalationRow) -> str:
    d = row.decision
    what = d.proposal_kind or "decision"
    amount = f" {d.amount}" if d.amount is not None else ""
    to = d.escalate_to or "the role above"
    return (f"{what}{amount} for {one_line(row.customer_name, 40)} · by {one_line(row.by_name, 40)} to {to} · "
            f"waiting {duration(row.age)}")


def promise_line(load: PromiseLoad, now: datetime) -> str:
    words = f"{one_line(load.owner_name, 40)} · {load.overdue} overdue · {load.due_today} due today"
    if load.oldest_overdue is not None:
        oldest = load.oldest_overdue
        words += f" · oldest overdue by {duration(now - oldest.due)}: {one_line(oldest.what, 60)}"
    return words


def place_line(place: QueuePlace) -> str:
    name = one_line(place.waiting.name, 40)
    return f"{place.position}. {name} · waited {duration(place.waited)} · {one_line(place.reason, 120)}"


def floor_lines(floor: Floor) -> list[str]:
    """The floor as plain lines: what ``agentdesk floor`` prints and the plain session says."""
    lines = [f"Agents ({sum(1 for a in floor.agents if a.state in ('online', 'idle'))} of {len(floor.agents)} at a "
             f"workstation)" if floor.presence_known else f"Agents ({len(floor.agents)}; presence unknown)"]
    lines += [f"  {agent_line(row, floor.currency)}" for row in floor.agents]
    lines.append(f"Queue: {floor.queue_length} waiting" + (", longest effective waits:" if floor.longest else ""))
    lines += [f"  {place_line(place)}" for place in floor.longest]
    lines.append(f"Missed deadlines: {len(floor.missed)}")
    lines += [f"  {place_line(place)}" for place in floor.missed[:LONGEST_WAITS]]
    lines.append(f"Escalations waiting for approval: {len(floor.escalations)}")
    lines += [f"  {escalation_line(row)}" for row in floor.escalations]
    lines.append("Promises by owner:" if floor.promises else "Promises: none due today, none overdue")
    lines += [f"  {promise_line(load, floor.now)}" for load in floor.promises]
    return lines


def floor_json(floor: Floor) -> dict[str, Any]:
    return {
        "at": floor.now.isoformat(),
        "presence_known": floor.presence_known,
        "agents": [{"id": r.agent.id, "name": r.agent.name, "role": r.agent.role, "state": r.state,
                    "customer": r.customer_id, "typing": r.typing, "decisions_today": r.decisions,
                    "spent_today": {kind: str(amount) for kind, amount in r.spent.items()},
                    "limits": {kind: str(limit) if limit is not None else None for kind, limit in r.limits.items()},
                    "replies_sent_today": r.replies} for r in floor.agents],
        "queue": {"waiting": floor.queue_length,
                  "longest": [{"customer": p.waiting.customer_id, "name": p.waiting.name,
                               "waited_s": int(p.waited.total_seconds()),
                               "effective_s": int(p.effective.total_seconds()), "reason": p.reason}
                              for p in floor.longest]},
        "missed_deadlines": [{"customer": p.waiting.customer_id, "name": p.waiting.name,
                              "deadline": p.waiting.deadline.isoformat() if p.waiting.deadline else None}
                             for p in floor.missed],
        "escalations_waiting": [{"id": r.decision.id, "customer": r.decision.customer, "by": r.decision.agent,
                                 "to": r.decision.escalate_to, "proposal": r.decision.proposal_kind,
                                 "amount": str(r.decision.amount.amount) if r.decision.amount else None,
                                 "age_s": int(r.age.total_seconds())} for r in floor.escalations],
        "promises": [{"owner": load.owner, "name": load.owner_name, "due_today": load.due_today,
                      "overdue": load.overdue} for load in floor.promises],
    }
