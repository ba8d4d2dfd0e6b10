"""The decision workflow on its own: a world in memory, no store, no backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from agentdesk.authority_file import demo_matrix
from agentdesk.domain import workflow
from agentdesk.domain.authority import COUNTED_KINDS, COUNTED_STATES, Proposal, counts, in_window, window_start
from agentdesk.domain.model import Agent, Case, CaseStatus, Customer, Decision
from agentdesk.domain.money import Money

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # Monday, 14:00 in Berlin
MATRIX = demo_matrix()


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


@dataclass
class MemoryWorld:
    """The protocol over plain lists: counting filtered by the domain's own definition."""

    agents: dict[str, Agent] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)

    def agent(self, agent_id: str) -> Agent | None:
        return self.agents.get(agent_id)

    def customer(self, customer_id: str) -> Customer | None:
        return self.customers.get(customer_id)

    def case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def decision(self, decision_id: str) -> Decision | None:
        return self.decisions.get(decision_id)

    def counting_decisions(self, customer_id: str, case_id: str | None, since: datetime,
                           now: datetime) -> Sequence[Decision]:
        return [d for d in self.decisions.values() if d.customer == customer_id and counts(d)
                and (d.at > since or (case_id is not None and d.case == case_id))]

    def booked_slots(self, agent_id: str, since: datetime) -> frozenset[datetime]:
        return frozenset(d.scheduled for d in self.decisions.values()
                         if d.agent == agent_id and d.kind == "callback" and d.state in COUNTED_STATES
                         and d.scheduled is not None and d.scheduled >= since)


def world(*decisions: Decision, case_status: CaseStatus = CaseStatus.OPEN, currency: str = "EUR") -> MemoryWorld:
    made = MemoryWorld(
        agents={"a-7": Agent("a-7", "Jonas Weber", "agent"), "a-2": Agent("a-2", "Markus Brandt", "lead"),
                "a-1": Agent("a-1", "Katrin Hoffmann", "supervisor")},
        customers={"c-1": Customer("c-1", "Petra Lindner", phone="+49 170 555 0199", timezone="Europe/Berlin")},
        cases={"k-1": Case("k-1", "c-1", "Fee", case_status, NOW - timedelta(days=3),
                           Money.parse("39.90", currency))})
    made.decisions.update((d.id, d) for d in decisions)
    return made


def decision(ident: str, kind: str = "refund", amount: str | None = "30.00", *, state: str = "confirmed",
             days_ago: float = 1, case: str | None = None, **more: object) -> Decision:
    return Decision(ident, "c-1", kind, more.pop("agent", "a-8"), NOW - timedelta(days=days_ago), state,  # type: ignore[arg-type]
                    case=case, amount=eur(amount) if amount is not None else None, **more)  # type: ignore[arg-type]


def test_what_counts_is_one_definition_the_window_and_the_states() -> None:
    assert set(COUNTED_KINDS) == {"refund", "voucher"}
    assert counts(decision("d-1")) and not counts(decision("d-2", state="refused"))
    assert not counts(decision("d-3", "note", None))
    assert window_start(NOW) == NOW - timedelta(days=30)
    assert in_window(NOW, NOW) and not in_window(NOW - timedelta(days=30), NOW)
    assert not in_window(NOW + timedelta(seconds=1), NOW)


def test_a_refund_spends_the_30_day_cap_of_what_counts_inside_the_window() -> None:
    here = world(decision("d-1", "refund", "45.00"), decision("d-2", "refund", "45.00", state="pending", days_ago=29),
                 decision("d-3", "refund", "45.00", days_ago=31), decision("d-4", "refund", "45.00", state="undone"))
    judged = workflow.judge(here, MATRIX, "a-7", "c-1", None, Proposal("refund", eur("20.00")), NOW)
    assert judged.verdict.rule == "agent.refund.per_customer_30d" and judged.verdict.budget_left == eur("10.00")
    assert not judged.verdict.allowed and judged.verdict.escalate_to == "lead"


def test_a_closed_case_is_refused_as_case_status_and_another_currency_as_case_currency() -> None:
    closed = workflow.judge(world(case_status=CaseStatus.CLOSED), MATRIX, "a-7", "c-1", "k-1",
                            Proposal("refund", eur("10.00")), NOW).verdict
    assert (closed.allowed, closed.rule, closed.reason) == (False, "case.status", "case k-1 is closed")
    dollars = workflow.judge(world(currency="USD"), MATRIX, "a-7", "c-1", "k-1",
                             Proposal("escalate", escalates=Proposal("refund", eur("10.00"))), NOW).verdict
    assert (dollars.allowed, dollars.rule) == (False, "case.currency")


def test_what_the_world_does_not_hold_is_unknown_and_worded_by_each_side() -> None:
    with pytest.raises(workflow.Unknown) as caught:
        workflow.judge(world(), MATRIX, "a-7", "c-1", "k-9", Proposal("note"), NOW)
    assert caught.value.words("on the backend", quote=False) == "no case k-9 for customer c-1 on the backend"
    with pytest.raises(workflow.Unknown) as caught:
        workflow.judge(world(), MATRIX, "a-404", "c-1", None, Proposal("note"), NOW)
    assert caught.value.words("in this store", quote=True) == "no agent 'a-404' in this store"


def test_a_queued_decision_makes_its_promise_and_audit_line_in_one_currency() -> None:
    here = world()
    proposal = Proposal("refund", eur("20.00"))
    judged = workflow.judge(here, MATRIX, "a-7", "c-1", "k-1", proposal, NOW)
    taken = workflow.queued(workflow.new_decision(MATRIX, judged.agent, judged.situation, proposal, judged.verdict,
                                                  NOW, timedelta(seconds=10)))
    assert (taken.state, taken.undo_until, taken.case) == ("queued", None, "k-1")
    promise = workflow.promise_for(MATRIX, taken, here.customers["c-1"])
    assert promise is not None and (promise.what, promise.due) == ("refund 20.00 EUR", NOW + timedelta(hours=72))
    audit = workflow.audit_entry(NOW, "a-7", "taken", "c-1", taken.id, proposal, judged.verdict)
    assert (audit.rule, audit.limit, audit.amount) == ("agent.refund.max", eur("50.00"), eur("20.00"))
    foreign = workflow.audit_entry(NOW, "a-7", "refused", "c-1", None, Proposal("refund", Money.parse("5", "USD")),
                                   judged.verdict)
    assert foreign.limit is None  # the limit is in EUR, the amount in USD: one line carries one currency


def test_a_callback_promise_reads_the_customers_clock_and_a_booked_slot_is_refused() -> None:
    at = NOW + timedelta(hours=1)
    here = world(decision("d-1", "callback", None, agent="a-7", scheduled=at))
    refused = workflow.judge(here, MATRIX, "a-7", "c-1", None, Proposal("callback", at=at), NOW).verdict
    assert refused.rule == "callbacks.slot"
    later = at + timedelta(minutes=15)
    judged = workflow.judge(here, MATRIX, "a-7", "c-1", None, Proposal("callback", at=later), NOW)
    taken = workflow.new_decision(MATRIX, judged.agent, judged.situation, Proposal("callback", at=later),
                                  judged.verdict, NOW, timedelta(0))
    promise = workflow.promise_for(MATRIX, taken, here.customers["c-1"])
    assert promise is not None and promise.what == "callback on +49 170 555 0199 at Mon 23 Nov 15:15 CET"


def escalation(state: str = "confirmed", approval: str = "waiting", agent: str = "a-7") -> Decision:
    return decision("d-e", "escalate", "80.00", state=state, days_ago=0.01, agent=agent, escalate_to="lead",
                    proposal_kind="refund", approval=approval)


@pytest.mark.parametrize(("state", "approvable"), [("pending", False), ("queued", True), ("confirmed", True),
                                                   ("refused", False), ("undone", False)])
def test_an_escalation_waits_for_approval_while_queued_or_confirmed(state: str, approvable: bool) -> None:
    here = world(escalation(state))
    if approvable:
        opened = workflow.open_escalation(here, MATRIX, "a-2", "d-e")
        approval = workflow.judge_approval(here, MATRIX, opened, workflow.approval_proposal(opened.escalation), NOW)
        assert approval.verdict.allowed and approval.verdict.rule == "lead.refund.max"
    else:
        with pytest.raises(workflow.Refused) as caught:
            workflow.open_escalation(here, MATRIX, "a-2", "d-e")
        assert caught.value.refusal == workflow.Refusal(
            "escalation.state", f"this escalation is {state}, not waiting for approval")


@pytest.mark.parametrize(("approver", "escalation_of", "approval", "rule", "reason"), [
    ("a-2", "a-7", "approved", "escalation.approval", "this escalation is already approved"),
    ("a-7", "a-7", "waiting", "escalation.self", "nobody approves their own escalation"),
    ("a-1", "a-7", "waiting", "supervisor.approves",
     "the supervisor role does not approve escalations of agent (it approves nobody)"),
    ("a-2", "a-404", "waiting", "escalation", "agent a-404, who escalated, is not known here"),
])
def test_escalation_preconditions_name_their_rule(approver: str, escalation_of: str, approval: str, rule: str,
                                                  reason: str) -> None:
    with pytest.raises(workflow.Refused) as caught:
        workflow.open_escalation(world(escalation(approval=approval, agent=escalation_of)), MATRIX, approver, "d-e")
    assert caught.value.refusal == workflow.Refusal(rule, reason)
    assert caught.value.escalation is not None and caught.value.escalation.id == "d-e"


def test_an_escalation_of_another_customer_is_unknown() -> None:
    with pytest.raises(workflow.Unknown):
        workflow.open_escalation(world(escalation()), MATRIX, "a-2", "d-e", customer_id="c-2")


def test_the_backend_confirms_or_refuses_with_the_promise_kept_or_cancelled() -> None:
    here = world()
    proposal = Proposal("voucher", eur("20.00"))
    judged = workflow.judge(here, MATRIX, "a-7", "c-1", None, proposal, NOW)
    taken = workflow.queued(workflow.new_decision(MATRIX, judged.agent, judged.situation, proposal, judged.verdict,
                                                  NOW, timedelta(0)))
    promise = workflow.promise_for(MATRIX, taken, here.customers["c-1"])
    stored, kept, audit = workflow.confirmed(taken, promise, judged.verdict, "a-7", NOW)
    assert (stored.state, kept.state, audit.action, audit.rule) == ("confirmed", "kept", "confirmed",  # type: ignore[union-attr]
                                                                    "agent.voucher.max")
    refusal = workflow.Refusal("agent.voucher.per_customer_30d", "over the cap")
    stored, cancelled, audit = workflow.refused(taken, promise, refusal, None, "a-7", NOW)
    assert stored.extra == {"refusal": "over the cap", "refusal_rule": "agent.voucher.per_customer_30d"}  # type: ignore[union-attr]
    assert (cancelled.state, audit.rule, audit.detail) == ("cancelled", refusal.rule, "over the cap")  # type: ignore[union-attr]
    assert len(workflow.refused(taken, promise, refusal, None, "a-7", NOW, audited=False)) == 2


def test_a_decline_keeps_its_reason_or_says_there_was_none() -> None:
    declined = workflow.declined(escalation(), "a-2", NOW, "  ")
    assert (declined.approval, declined.approval_by, declined.approval_reason) == (
        "declined", "a-2", "declined without a reason")
    audit = workflow.declined_audit(NOW, declined, "a-2")
    assert (audit.action, audit.kind, audit.amount, audit.detail) == (
        "declined", "escalate", eur("80.00"), "declined without a reason")
