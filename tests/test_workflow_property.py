"""One workflow, two worlds: the workstation's store and the backend's records judge the same situation alike.

Hypothesis draws a situation (the deciding agent's role, the customer's phone, a case open or
closed and its currency, earlier decisions in and out of the 30-day window in every state and
two currencies, a booked callback slot, escalations in every state), writes it as interchange
records into a real store file and a real backend database (SQLite; PostgreSQL too when it
is there, and always under CI), then takes a proposal through the Ledger on the store and runs
the same use case over the backend's records (:class:`agentdesk.server.world.RecordsWorld`,
inside a write transaction). Verdicts, rule names, reasons, the decision, its promise and the
audit line must agree. Every example uses ids of its own, so one store and one database serve
them all; the settings are derandomized, so a run is the same every time.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agentdesk.authority_file import demo_matrix
from agentdesk.domain import workflow
from agentdesk.domain.authority import Proposal, Verdict
from agentdesk.domain.model import Decision
from agentdesk.domain.money import Money
from agentdesk.interchange.codec import parse_record
from agentdesk.interchange.load import load_records
from agentdesk.server.changes import Change, write_changes
from agentdesk.server.database import Database, database_url
from agentdesk.server.migrate import upgrade
from agentdesk.server.records import UNSENT_STATES, store_records
from agentdesk.server.world import RecordsWorld
from agentdesk.store.files import prepare_store
from agentdesk.store.ledger import Ledger, LedgerError
from tests.backend import postgres_database

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # Monday, 14:00 in Berlin
MATRIX = demo_matrix()
SLOT = NOW + timedelta(hours=1)  # inside callback hours, at a slot boundary
PHONES = ("+49 170 555 0199", "+44 20 7946 0958", None)
ROLES = ("agent", "lead", "supervisor")
SETTINGS = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_serial = itertools.count()


# --------------------------------------------------------------------------- the two worlds


@dataclass
class Worlds:
    store: Path
    database: str
    loop: asyncio.AbstractEventLoop
    backend: Database = field(init=False)

    def __post_init__(self) -> None:
        self.loop.run_until_complete(upgrade(database_url(self.database)))
        self.backend = Database.create(database_url(self.database))

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def seed(self, records: list[dict[str, Any]]) -> None:
        report = self.run(load_records(records, self.store))
        assert not report.errors, report.errors
        # Uploads take what the backend holds from history; a decision still pending or queued only a
        # workstation's mutation brings, so those go straight through the change log's writer.
        uploaded = [r for r in records if not (r["type"] == "decision" and r["state"] in UNSENT_STATES)]
        unsent = [r for r in records if r["type"] == "decision" and r["state"] in UNSENT_STATES]
        report = self.run(store_records(self.backend, uploaded))
        assert not report.errors, report.errors
        if unsent:
            self.run(self._write(unsent))

    async def _write(self, records: list[dict[str, Any]]) -> None:
        async with self.backend.write() as connection:
            await write_changes(connection, [Change.of(parse_record(r)) for r in records],
                                postgres=self.backend.postgres)

    def on_backend(self, user: str, role: str, use_case: Any) -> Any:
        """``use_case(world)`` over the backend's records inside a write transaction (as the applier runs it)."""
        async def run() -> Any:
            async with self.backend.write() as connection:
                return await connection.run_sync(
                    lambda sync: _outcome(lambda: use_case(RecordsWorld(sync, user, role))))
        return self.run(run())


def _outcome(call: Any) -> Any:
    try:
        return call()
    except workflow.Unknown as unknown:
        return ("unknown", unknown.rule)
    except workflow.Refused as refused:
        return ("refused", refused.refusal.rule, refused.refusal.reason)


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def worlds(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worlds]:
    directory = tmp_path_factory.mktemp("workflow")
    store = prepare_store(directory / "store.sqlite3")
    loop = asyncio.new_event_loop()
    try:
        if request.param == "sqlite":
            made = Worlds(store, str(directory / "server.db"), loop)
            yield made
            loop.run_until_complete(made.backend.dispose())
        else:
            with postgres_database() as url:
                made = Worlds(store, url, loop)
                yield made
                loop.run_until_complete(made.backend.dispose())
    finally:
        loop.close()


# --------------------------------------------------------------------------- situations


def _money(amount: int, currency: str) -> dict[str, str]:
    return {"amount": f"{amount}.00", "currency": currency}


earlier_decision = st.fixed_dictionaries({
    "kind": st.sampled_from(("refund", "voucher", "refund", "voucher", "note", "callback")),
    "state": st.sampled_from(("pending", "queued", "confirmed", "refused", "undone")),
    "amount": st.sampled_from((10, 30, 45, 80)),
    "currency": st.sampled_from(("EUR", "EUR", "USD")),
    "days_ago": st.sampled_from((0, 1, 29, 31, 45)),
    "on_case": st.booleans(),
    "mine": st.booleans(),
})

situation = st.fixed_dictionaries({
    "role": st.sampled_from(("agent", "agent", "lead", "supervisor")),
    "phone": st.sampled_from(PHONES),
    "case": st.sampled_from((None, "open", "open", "closed")),
    "case_currency": st.sampled_from(("EUR", "USD")),
    "disputed": st.integers(10, 120),
    "earlier": st.lists(earlier_decision, max_size=6),
    "slot_booked": st.booleans(),
})

inner = st.sampled_from(("refund", "voucher", "callback"))
proposal = st.fixed_dictionaries({
    "kind": st.sampled_from(("refund", "voucher", "refund", "voucher", "callback", "note", "escalate")),
    "inner": inner,
    "amount": st.sampled_from((None, 5, 20, 45, 60, 150, 600)),
    "currency": st.sampled_from(("EUR", "EUR", "USD")),
    "booked_slot": st.booleans(),
})


def _records(tag: str, drawn: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    agent, other, customer = f"a-{tag}", f"o-{tag}", f"c-{tag}"
    records: list[dict[str, Any]] = [
        {"type": "agent", "id": agent, "name": f"Agent {tag}", "role": drawn["role"]},
        {"type": "agent", "id": other, "name": f"Other {tag}", "role": "agent"},
        {"type": "customer", "id": customer, "name": "Petra Lindner", "timezone": "Europe/Berlin",
         **({"phone": drawn["phone"]} if drawn["phone"] else {})}]
    case_id = None
    if drawn["case"] is not None:
        case_id = f"k-{tag}"
        records.append({"type": "case", "id": case_id, "customer": customer, "subject": "Fee",
                        "status": drawn["case"], "opened_at": "2026-09-01T09:00:00+02:00",
                        "disputed_amount": f"{drawn['disputed']}.00", "currency": drawn["case_currency"]})
    for index, earlier in enumerate(drawn["earlier"]):
        at = NOW - timedelta(days=earlier["days_ago"], minutes=index + 1)
        decision: dict[str, Any] = {
            "type": "decision", "id": f"d-{tag}-{index}", "customer": customer, "kind": earlier["kind"],
            "agent": agent if earlier["mine"] else other, "at": at.isoformat(), "state": earlier["state"]}
        if case_id is not None and earlier["on_case"]:
            decision["case"] = case_id
        if earlier["kind"] in ("refund", "voucher"):
            decision.update(_money(earlier["amount"], earlier["currency"]))
        if earlier["kind"] == "callback":
            scheduled = SLOT + timedelta(minutes=15 * (index + 1))
            decision.update(scheduled=scheduled.isoformat(), phone="+49 170 555 0199")
        records.append(decision)
    if drawn["slot_booked"]:
        records.append({"type": "decision", "id": f"d-{tag}-slot", "customer": customer, "kind": "callback",
                        "agent": agent, "at": (NOW - timedelta(hours=1)).isoformat(), "state": "confirmed",
                        "scheduled": SLOT.isoformat(), "phone": "+49 170 555 0199"})
    return records, case_id


def _proposal(drawn: dict[str, Any]) -> Proposal:
    def one(kind: str) -> Proposal:
        if kind == "callback":
            return Proposal("callback", at=SLOT if drawn["booked_slot"] else SLOT + timedelta(hours=2))
        if kind in ("refund", "voucher"):
            amount = drawn["amount"]
            return Proposal(kind, Money.parse(f"{amount}.00", drawn["currency"]) if amount is not None else None)
        return Proposal(kind, reason="noted")
    if drawn["kind"] == "escalate":
        return Proposal("escalate", escalates=one(drawn["inner"]))
    return one(drawn["kind"])


def _verdict(verdict: Verdict) -> tuple[Any, ...]:
    return (verdict.allowed, verdict.rule, verdict.reason, verdict.limit, verdict.budget_left, verdict.escalate_to,
            verdict.needs)


def _decision(decision: Decision | None) -> tuple[Any, ...] | None:
    if decision is None:
        return None
    return (decision.kind, decision.customer, decision.agent, decision.case, decision.amount, decision.scheduled,
            decision.phone, decision.escalate_to, decision.proposal_kind, decision.approval, decision.state)


def _audit_rows(store: Path, customer: str) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(store)
    try:
        return connection.execute(
            "SELECT actor, action, customer_id, kind, amount, currency, rule, limit_amount, detail FROM audit "
            "WHERE customer_id = ? ORDER BY rowid", (customer,)).fetchall()
    finally:
        connection.close()


def _audit_row(entry: Any) -> tuple[Any, ...]:
    amount, limit = entry.amount, entry.limit
    currency = amount.currency if amount is not None else (limit.currency if limit is not None else None)
    return (entry.actor, entry.action, entry.customer, entry.kind, amount.text if amount is not None else None,
            currency, entry.rule, limit.text if limit is not None else None, entry.detail)


# --------------------------------------------------------------------------- the properties


def _earlier(kind: str, state: str, amount: int, currency: str, days_ago: int, on_case: bool = False) -> dict[str, Any]:
    return {"kind": kind, "state": state, "amount": amount, "currency": currency, "days_ago": days_ago,
            "on_case": on_case, "mine": False}


def _situation(earlier: list[dict[str, Any]], disputed: int = 120) -> dict[str, Any]:
    return {"role": "agent", "phone": PHONES[0], "case": "open", "case_currency": "EUR", "disputed": disputed,
            "earlier": earlier, "slot_booked": False}


def _proposed(kind: str, amount: int) -> dict[str, Any]:
    return {"kind": kind, "inner": "refund", "amount": amount, "currency": "EUR", "booked_slot": False}


@SETTINGS
@given(drawn=situation, proposed=proposal)
# The 30-day cap: what is inside the window counts, what is older or refused or in another currency does not.
@example(drawn=_situation([_earlier("refund", "confirmed", 45, "EUR", 1), _earlier("refund", "pending", 45, "EUR", 29),
                           _earlier("refund", "confirmed", 80, "EUR", 31), _earlier("refund", "refused", 80, "EUR", 0),
                           _earlier("refund", "confirmed", 80, "USD", 0)]),
         proposed=_proposed("refund", 20))
@example(drawn=_situation([_earlier("voucher", "queued", 45, "EUR", 0), _earlier("voucher", "undone", 45, "EUR", 0)]),
         proposed=_proposed("voucher", 20))
# The disputed amount counts what was refunded on the case, however long ago.
@example(drawn=_situation([_earlier("refund", "confirmed", 45, "EUR", 45, on_case=True)], disputed=50),
         proposed=_proposed("refund", 20))
@example(drawn=_situation([_earlier("refund", "confirmed", 45, "EUR", 45, on_case=True)], disputed=50),
         proposed=_proposed("escalate", 20))
def test_a_proposal_is_judged_alike_by_the_store_and_the_backend(worlds: Worlds, drawn: dict[str, Any],
                                                                 proposed: dict[str, Any]) -> None:
    tag = f"p{next(_serial)}"
    records, case_id = _records(tag, drawn)
    worlds.seed(records)
    agent, customer, taken_proposal = f"a-{tag}", f"c-{tag}", _proposal(proposed)

    async def on_the_workstation() -> Any:
        async with Ledger.open(worlds.store, MATRIX, lambda: NOW) as ledger:
            return await ledger.take(agent, customer, taken_proposal, case_id=case_id, undo_window=timedelta(0))

    taken = worlds.run(on_the_workstation())
    audits = _audit_rows(worlds.store, customer)

    def on_the_backend(world: RecordsWorld) -> Any:
        judged = workflow.judge(world, MATRIX, agent, customer, case_id, taken_proposal, NOW)
        verdict = judged.verdict
        if not verdict.allowed:
            return verdict, None, None, workflow.audit_entry(NOW, agent, "refused", customer, None, taken_proposal,
                                                             verdict)
        decision = workflow.queued(workflow.new_decision(MATRIX, judged.agent, judged.situation, taken_proposal,
                                                         verdict, NOW, timedelta(0)))
        promise = workflow.promise_for(MATRIX, decision, judged.situation.customer)
        action = "escalated" if decision.kind == "escalate" else "taken"
        return verdict, decision, promise, workflow.audit_entry(NOW, agent, action, customer, decision.id,
                                                                taken_proposal, verdict)

    verdict, decision, promise, audit = worlds.on_backend(agent, drawn["role"], on_the_backend)
    assert _verdict(taken.verdict) == _verdict(verdict)
    assert _decision(taken.decision) == _decision(decision)
    assert (taken.promise is None) == (promise is None)
    if promise is not None:
        made = taken.promise
        assert (made.what, made.due, made.state) == (promise.what, promise.due, promise.state)
    assert audits[0] == _audit_row(audit)


escalation_case = st.fixed_dictionaries({
    "state": st.sampled_from(("pending", "queued", "confirmed", "refused", "undone")),
    "approval": st.sampled_from(("waiting", "waiting", "approved", "declined")),
    "escalated_by": st.sampled_from(("agent", "lead", "self")),
    "approver_role": st.sampled_from(ROLES),
    "inner": inner,
    "amount": st.sampled_from((20, 80, 300, 900)),
    "spent": st.sampled_from((0, 150, 950)),
})


@SETTINGS
@given(drawn=escalation_case)
def test_an_escalation_is_approvable_alike_on_the_store_and_the_backend(worlds: Worlds,
                                                                         drawn: dict[str, Any]) -> None:
    tag = f"e{next(_serial)}"
    approver, escalating, customer = f"l-{tag}", f"a-{tag}", f"c-{tag}"
    escalated_by = approver if drawn["escalated_by"] == "self" else escalating
    escalation: dict[str, Any] = {
        "type": "decision", "id": f"d-{tag}", "customer": customer, "kind": "escalate", "agent": escalated_by,
        "at": (NOW - timedelta(minutes=5)).isoformat(), "state": drawn["state"], "escalate_to": "lead",
        "proposal_kind": drawn["inner"], "approval": drawn["approval"]}
    if drawn["approval"] != "waiting":
        escalation.update(approval_by=f"x-{tag}", approval_at=(NOW - timedelta(minutes=1)).isoformat())
    if drawn["inner"] == "callback":
        escalation.update(scheduled=SLOT.isoformat(), phone="+49 170 555 0199")
    else:
        escalation.update(_money(drawn["amount"], "EUR"))
    records = [
        {"type": "agent", "id": approver, "name": f"Lead {tag}", "role": drawn["approver_role"]},
        {"type": "agent", "id": escalating, "name": f"Agent {tag}",
         "role": "lead" if drawn["escalated_by"] == "lead" else "agent"},
        {"type": "agent", "id": f"x-{tag}", "name": f"Someone {tag}", "role": "lead"},
        {"type": "customer", "id": customer, "name": "Petra Lindner", "timezone": "Europe/Berlin",
         "phone": "+49 170 555 0199"},
        escalation]
    if drawn["spent"]:
        records.append({"type": "decision", "id": f"d-{tag}-spent", "customer": customer, "kind": drawn["inner"]
                        if drawn["inner"] != "callback" else "refund", "agent": f"x-{tag}",
                        "at": (NOW - timedelta(days=3)).isoformat(), "state": "confirmed",
                        **_money(drawn["spent"], "EUR")})
    worlds.seed(records)

    async def on_the_workstation() -> Any:
        async with Ledger.open(worlds.store, MATRIX, lambda: NOW) as ledger:
            try:
                taken = await ledger.approve(approver, f"d-{tag}")
            except LedgerError as refused:
                return ("refused", str(refused))
            return ("judged", _verdict(taken.verdict))

    def on_the_backend(world: RecordsWorld) -> Any:
        opened = workflow.open_escalation(world, MATRIX, approver, f"d-{tag}", customer)
        proposal = workflow.approval_proposal(opened.escalation)
        return ("judged", _verdict(workflow.judge_approval(world, MATRIX, opened, proposal, NOW).verdict))

    here = worlds.run(on_the_workstation())
    there = worlds.on_backend(approver, drawn["approver_role"], on_the_backend)
    if there[0] == "refused":
        there = ("refused", there[2])  # the reason: the workstation tells the approver just that
    assert here == there
    expected_open = (drawn["approval"] == "waiting" and drawn["state"] in workflow.APPROVABLE_STATES
                     and drawn["escalated_by"] != "self")
    assert (here[0] == "judged") == (expected_open and drawn["approver_role"] == "lead"
                                     and drawn["escalated_by"] == "agent")
