"""What the agent is told meanwhile, in the same words by the workstation and the plain session
(``domain.decision_text.outcome_sentence`` and ``backend_refusal_sentence``), and why they may decide nothing
(``why_no_decisions``), each front end joining those words its own way."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from agentdesk.authority_file import demo_matrix
from agentdesk.domain.decision_text import backend_refusal_sentence, outcome_sentence, why_no_decisions
from agentdesk.domain.model import Agent, Decision
from agentdesk.domain.money import Money
from agentdesk.plain.deciding import Deciding
from agentdesk.tui.widgets.decision_bar import no_decisions_text

AT = datetime(2026, 11, 24, 13, 0, tzinfo=timezone.utc)
CALL = datetime(2026, 11, 24, 13, 30, tzinfo=timezone.utc)


def escalation(**more: object) -> Decision:
    fields = {"id": "d-1", "customer": "c-1", "kind": "escalate", "agent": "a-7", "at": AT, "state": "confirmed",
              "escalate_to": "lead", "proposal_kind": "refund", "amount": Money(Decimal("80"), "EUR"), **more}
    return Decision(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("decided", "approver", "zone", "expected"), [
    (escalation(approval="approved"), "Mira Scholz", None,
     "Mira Scholz approved your refund 80.00 EUR for Petra Lindner"),
    (escalation(approval="declined", approval_reason="no proof\nof the calls"), None, None,
     "A lead declined your refund 80.00 EUR for Petra Lindner: no proof ⏎ of the calls"),
    (escalation(approval="declined"), "Mira Scholz", None,
     "Mira Scholz declined your refund 80.00 EUR for Petra Lindner: no reason given"),
    (escalation(approval="approved", proposal_kind="callback", amount=None, scheduled=CALL), "Mira Scholz",
     "Europe/Berlin", "Mira Scholz approved your callback Tue 24 Nov 14:30 (Europe/Berlin) for Petra Lindner"),
])
def test_an_escalation_decided_by_a_lead(decided: Decision, approver: str | None, zone: str | None,
                                         expected: str) -> None:
    assert outcome_sentence(decided, "Petra Lindner", approver, zone) == expected


def test_customer_text_in_the_sentence_is_made_safe() -> None:
    said = outcome_sentence(escalation(approval="approved"), "Eve \x1b[2J\nEvil", "Mira\u202eScholz")
    assert "\x1b" not in said and "\n" not in said and "\u202e" not in said


@pytest.mark.parametrize(("refused", "expected"), [
    (Decision(id="d-2", customer="c-1", kind="refund", agent="a-7", at=AT, state="refused",
              amount=Money(Decimal("39.9"), "EUR"), extra={"refusal": "case k-55 is closed"}),
     "refund 39.90 EUR for Petra Lindner was not carried out: case k-55 is closed"),
    (escalation(state="refused", approval="waiting"),
     "escalation of refund 80.00 EUR for Petra Lindner was not carried out: the backend gave no reason"),
])
def test_a_decision_the_backend_refused(refused: Decision, expected: str) -> None:
    assert backend_refusal_sentence(refused, "Petra Lindner") == expected


@pytest.mark.parametrize(("read_only", "role", "workstation", "plain"), [
    (True, "agent", "READ-ONLY · decisions are not available", "read-only: decisions are not available"),
    (False, None, "no agent selected · decisions are not available (start with --as AGENT)",
     "no agent selected: decisions are not available (start with --as AGENT)"),
    (False, "supervisor", "READ-ONLY · the supervisor role decides nothing",
     "read-only: the supervisor role decides nothing"),
    (False, "intern", "decisions are not available · the role 'intern' is not in the authority matrix",
     "decisions are not available: the role 'intern' is not in the authority matrix"),
])
def test_why_nothing_may_be_decided(read_only: bool, role: str | None, workstation: str, plain: str) -> None:
    matrix = demo_matrix()
    agent = Agent(id="a-1", name="Jonas Weber", role=role) if role is not None else None
    reason = why_no_decisions(read_only, agent, matrix)
    assert reason is not None
    assert no_decisions_text(reason) == workstation
    assert Deciding.why_not(read_only, agent, matrix) == plain


def test_an_agent_whose_role_decides_may_decide() -> None:
    matrix = demo_matrix()
    assert why_no_decisions(False, Agent(id="a-7", name="Jonas Weber", role="agent"), matrix) is None
    assert Deciding.why_not(False, Agent(id="a-7", name="Jonas Weber", role="agent"), matrix) is None
