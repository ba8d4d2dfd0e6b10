"""How a decision reads: the one-line summary, the state people see, its line on the timeline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from agentdesk.domain.decision_text import (
    APPROVAL_SENT,
    answer_words,
    approval_refused,
    call_time,
    entry_id,
    nothing_to_suggest,
    shown_state,
    summary,
    timeline_entry,
    waiting_words,
)
from agentdesk.domain.model import Case, CaseStatus, Decision, Direction, EntryKind
from agentdesk.domain.money import Money

CET = timezone(timedelta(hours=1))
AT = datetime(2026, 11, 23, 10, 0, tzinfo=CET)
CALL = datetime(2026, 11, 24, 13, 30, tzinfo=timezone.utc)


def decision(kind: str, state: str = "confirmed", **more) -> Decision:
    return Decision(id="d-1", customer="c-1", kind=kind, agent="a-7", at=AT, state=state, **more)


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


@pytest.mark.parametrize(
    ("record", "zone_name", "expected"),
    [
        (decision("refund", amount=eur("39.9"), reason="double charge"), None, "refund 39.90 EUR · double charge"),
        (decision("voucher", amount=Money(Decimal("1200"), "JPY")), None, "voucher 1200 JPY"),
        (decision("callback", scheduled=CALL, phone="+49 170 555 0199"), "Europe/Berlin",
         "callback Tue 24 Nov 14:30 (Europe/Berlin) on +49 170 555 0199"),
        (decision("callback", scheduled=CALL.astimezone(CET)), None, "callback Tue 24 Nov 14:30 (UTC+01:00)"),
        (decision("callback", scheduled=CALL), "Mars/Olympus_Mons", "callback Tue 24 Nov 13:30 (UTC)"),
        (decision("callback"), None, "callback"),
        (decision("escalate", escalate_to="lead", proposal_kind="refund", amount=eur("80")), None,
         "escalate to lead: refund 80.00 EUR"),
        (decision("escalate", escalate_to="lead", proposal_kind="callback", scheduled=CALL, reason="abroad"),
         "America/New_York", "escalate to lead: callback Tue 24 Nov 08:30 (America/New_York) · abroad"),
        (decision("escalate"), None, "escalate"),
        (decision("note", reason="called, no answer"), None, "note · called, no answer"),
    ],
)
def test_summary(record: Decision, zone_name: str | None, expected: str) -> None:
    assert summary(record, zone_name) == expected


def test_call_time_is_english_whatever_the_locale_and_shows_a_negative_offset() -> None:
    assert call_time(datetime(2026, 3, 1, 9, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))) == (
        "Sun 1 Mar 09:05 (UTC-03:30)"
    )


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (decision("refund", state="pending"), "pending"),
        (decision("escalate", state="queued", approval="waiting"), "waiting for approval"),
        (decision("escalate", state="confirmed", approval="approved"), "approved"),
        (decision("escalate", state="confirmed", approval="declined"), "declined"),
        (decision("escalate", state="confirmed"), "confirmed"),  # escalations from before approvals
        (decision("refund", state="undone", approval="waiting"), "undone"),
    ],
)
def test_shown_state(record: Decision, expected: str) -> None:
    assert shown_state(record) == expected


def test_timeline_entry_of_a_decision() -> None:
    record = decision("refund", case="k-55", amount=eur("39.90"), reason="double charge")
    entry = timeline_entry(record, "Europe/Berlin")
    assert entry.id == entry_id("d-1") == "decision:d-1"
    assert (entry.customer, entry.case, entry.at, entry.author) == ("c-1", "k-55", AT, "a-7")
    assert (entry.kind, entry.direction, entry.channel) == (EntryKind.DECISION, Direction.INTERNAL, None)
    assert (entry.event_kind, entry.decision_id, entry.decision_state) == ("refund", "d-1", None)
    assert entry.body == "refund 39.90 EUR · double charge"
    assert entry.is_internal


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (decision("refund", state="pending"), None),
        (decision("refund", state="queued"), None),
        (decision("refund", state="undone"), None),
        (decision("refund"), ("CONFIRMED", "by the backend")),
        (decision("refund", state="refused", extra={"refusal": "case k-1 is\nclosed"}),
         ("REFUSED", "by the backend: case k-1 is ⏎ closed")),  # one line, the break shown
        (decision("refund", state="refused"), ("REFUSED", "by the backend: no reason given")),
        (decision("escalate", escalate_to="lead", approval="waiting"), ("SENT", "waiting for lead's approval")),
        (decision("escalate", state="queued", escalate_to="lead", approval="waiting"), None),
        (decision("escalate", state="queued", approval="approved", approval_by="a-2"), ("APPROVED", "by Markus")),
        (decision("escalate", approval="declined", approval_by="a-2", approval_reason="no proof"),
         ("DECLINED", "by Markus: no proof")),
        (decision("escalate", state="refused", approval="waiting", extra={"refusal": "case closed"}),
         ("REFUSED", "by the backend: case closed")),
    ],
)
def test_answer_words(record: Decision, expected: tuple[str, str] | None) -> None:
    assert answer_words(record, {"a-2": "Markus"}.get) == expected


def test_waiting_for_the_backend_and_an_approval_it_refused() -> None:
    assert waiting_words(decision("voucher", state="queued")) == "waiting for the backend"
    assert waiting_words(decision("escalate", state="queued", escalate_to="lead")) == (
        "waiting for the backend, then goes to lead")
    assert APPROVAL_SENT == "approval sent, waiting for the backend"
    assert approval_refused(decision("refund", state="refused", extra={"refusal": "declined meanwhile"})) == (
        "approval refused by the backend: declined meanwhile")


def test_why_nothing_is_suggested_names_the_case_and_what_is_used_up() -> None:
    def case(disputed: Money | None) -> Case:
        return Case(id="k-1", customer="c-1", subject="fee", status=CaseStatus.OPEN, opened_at=AT, disputed=disputed)

    assert nothing_to_suggest("refund", None) == "the customer has no open case with a disputed amount"
    assert nothing_to_suggest("refund", case(None)) == "no disputed amount on case k-1"
    assert nothing_to_suggest("refund", case(Money(Decimal("39.90"), "EUR"))) == \
        "the 39.90 EUR disputed on case k-1 is refunded already"
    assert nothing_to_suggest("voucher", case(None)) == "this customer's 30-day voucher budget is used up"
