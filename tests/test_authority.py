"""The authority matrix and the rules: parsing with clear errors, the evaluator, callback slots."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentdesk.authority_file import demo_matrix, load_matrix
from agentdesk.domain.authority import (
    MatrixError,
    Proposal,
    Situation,
    check,
    check_approval,
    is_international,
    next_callback_slot,
    options,
    parse_matrix,
    spent_in_window,
)
from agentdesk.domain.model import Case, CaseStatus, Customer, Decision
from agentdesk.domain.money import Money

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # Monday 14:00 in Berlin
MATRIX = demo_matrix()
PETRA = Customer("c-1", "Petra Lindner", phone="+49 170 555 0199", timezone="Europe/Berlin")
FEE = Case("k-1", "c-1", "technician fee", CaseStatus.OPEN, NOW - timedelta(days=3),
           disputed=Money(Decimal("39.90"), "EUR"))


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def situation(role: str = "agent", decisions: tuple[Decision, ...] = (), case: Case | None = FEE,
              customer: Customer = PETRA, now: datetime = NOW) -> Situation:
    return Situation(role, customer, case, decisions, now)


def past(kind: str, amount: str, days_ago: float, state: str = "queued", case: str | None = None) -> Decision:
    return Decision(f"d-{kind}-{amount}-{days_ago}", "c-1", kind, "a-7", NOW - timedelta(days=days_ago),
                    state, case=case, amount=eur(amount))


# --------------------------------------------------------------------------- parsing


def test_the_demo_matrix_has_the_three_roles_in_order() -> None:
    assert list(MATRIX.roles) == ["agent", "lead", "supervisor"]
    agent, lead = MATRIX.roles["agent"], MATRIX.roles["lead"]
    assert agent.refund is not None and lead.refund is not None
    assert lead.refund.max == 10 * agent.refund.max == Decimal("500.00")
    assert MATRIX.roles["supervisor"].read_only
    assert lead.approves == ("agent",) and agent.escalate_to == "lead"


BASE = 'home_country = "DE"\n[roles.agent]\nrefund = { max = "50.00", per_customer_30d = "100.00" }\n'


@pytest.mark.parametrize(("text", "message"), [
    ("home_country = ", "m.toml: not valid TOML"),
    ('[roles.agent]\nrefund = { max = "50.00", per_customer_30d = "100.00" }\n', "m.toml: home_country: missing"),
    ('home_country = "XX"\n[roles.agent]\n', "m.toml: home_country: 'XX' is not a country code"),
    ('home_country = "DE"\n', "m.toml: roles: no roles defined"),
    ('home_country = "DE"\n[roles.agent]\nrefund = { max = 50, per_customer_30d = "100.00" }\n',
     "m.toml: roles.agent.refund.max: amount 50 must be a decimal string"),
    ('home_country = "DE"\n[roles.agent]\nrefund = { maxx = "50.00", per_customer_30d = "1.00" }\n',
     "m.toml: roles.agent.refund.maxx: unknown key"),
    ('home_country = "DE"\n[roles.agent]\nrefund = { max = "50.00" }\n',
     "m.toml: roles.agent.refund.per_customer_30d: missing"),
    ('home_country = "DE"\n[roles.agent]\nrefund = { max = "-5.00", per_customer_30d = "1.00" }\n',
     "m.toml: roles.agent.refund.max: must not be negative"),
    (BASE + 'escalate_to = "boss"\n', "m.toml: roles.agent.escalate_to: no role named 'boss'"),
    (BASE + 'escalate_to = "agent"\n', "m.toml: roles.agent.escalate_to: 'agent' is not above 'agent'"),
    (BASE + '[roles.lead]\napproves = ["lead"]\n', "m.toml: roles.lead.approves: 'lead' is not below 'lead'"),
    ('home_country = "DE"\n[roles.watch]\nread_only = true\nrefund = { max = "1.00", per_customer_30d = "1.00" }\n',
     "m.toml: roles.watch.refund: a read_only role decides nothing"),
    (BASE + '[callbacks]\nhours = "20:00-08:00"\n', "m.toml: callbacks.hours: '20:00-08:00' closes before it opens"),
    (BASE + '[callbacks]\ndays = ["monday"]\n', "m.toml: callbacks.days: must be a list of"),
    (BASE + '[callbacks]\nzone = "Mars/Olympus"\n', "m.toml: callbacks.zone: 'Mars/Olympus' is not an IANA"),
    (BASE + 'currency = "EURO"\n', "m.toml: roles.agent.currency: 'EURO' is not an ISO 4217"),
])
def test_a_bad_matrix_names_file_key_and_problem_in_one_line(text: str, message: str) -> None:
    with pytest.raises(MatrixError) as caught:
        parse_matrix(text, "m.toml")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_load_matrix_reports_a_missing_file_in_one_line(tmp_path) -> None:
    with pytest.raises(MatrixError, match=r"nope\.toml: cannot read the authority matrix"):
        load_matrix(tmp_path / "nope.toml")
    good = tmp_path / "good.toml"
    good.write_text(BASE, "utf-8")
    assert load_matrix(good).roles["agent"].refund is not None


# --------------------------------------------------------------------------- the evaluator


def test_a_refund_of_the_disputed_amount_is_suggested_and_allowed() -> None:
    bar = options(MATRIX, situation())
    refund = bar["refund"]
    assert refund.allowed
    assert refund.suggested == Proposal("refund", eur("39.90"))
    assert refund.verdict.limit == eur("50.00")
    assert refund.verdict.budget_left == eur("100.00")


def test_over_the_limit_is_refused_naming_the_limit_and_who_could_decide() -> None:
    verdict = check(MATRIX, situation(case=None), Proposal("refund", eur("80.00")))
    assert not verdict.allowed
    assert verdict.rule == "agent.refund.max"
    assert verdict.reason == "refund 80.00 EUR is over the agent limit of 50.00 EUR"
    assert verdict.escalate_to == "lead"
    lead = check(MATRIX, situation("lead", case=None), Proposal("refund", eur("80.00")))
    assert lead.allowed


def test_the_30_day_cap_counts_recent_decisions_but_not_undone_refused_or_old_ones() -> None:
    history = (past("voucher", "20.00", 3), past("voucher", "20.00", 10, "undone"),
               past("voucher", "20.00", 11, "refused"), past("voucher", "25.00", 31))
    assert spent_in_window(history, "voucher", "EUR", NOW) == eur("20.00")
    verdict = check(MATRIX, situation(decisions=history + (past("voucher", "15.00", 1, "pending"),)),
                    Proposal("voucher", eur("20.00")))
    assert not verdict.allowed
    assert verdict.rule == "agent.voucher.per_customer_30d"
    assert "15.00 EUR left" in (verdict.reason or "")


def test_a_refund_never_exceeds_what_is_still_disputed_on_the_case() -> None:
    done = (past("refund", "30.00", 1, case="k-1"),)
    verdict = check(MATRIX, situation(decisions=done), Proposal("refund", eur("20.00")))
    assert not verdict.allowed and verdict.rule == "case.disputed_amount"
    assert options(MATRIX, situation(decisions=done))["refund"].suggested == Proposal("refund", eur("9.90"))


def test_closed_cases_read_only_roles_and_unknown_roles_are_refused_with_reasons() -> None:
    closed = Case("k-2", "c-1", "old", CaseStatus.CLOSED, NOW - timedelta(days=90))
    assert check(MATRIX, situation(case=closed), Proposal("note")).reason == "case k-2 is closed"
    assert check(MATRIX, situation("supervisor"), Proposal("note")).rule == "supervisor.read_only"
    assert "not in the authority matrix" in (check(MATRIX, situation("intern"), Proposal("note")).reason or "")


def test_escalation_goes_to_the_next_role_and_only_that_role_approves() -> None:
    proposal = Proposal("escalate", escalates=Proposal("refund", eur("80.00")))
    verdict = check(MATRIX, situation(case=None), proposal)
    assert verdict.allowed and verdict.escalate_to == "lead"
    assert not check(MATRIX, situation("lead"), proposal).allowed  # nobody above a lead decides
    assert check_approval(MATRIX, situation("lead", case=None), "agent", Proposal("refund", eur("80.00"))).allowed
    assert not check_approval(MATRIX, situation("lead", case=None), "lead", Proposal("refund", eur("80.00"))).allowed


def test_an_escalation_the_role_above_could_not_approve_is_refused_at_once() -> None:
    def escalate(inner: Proposal) -> str | None:
        verdict = check(MATRIX, situation(case=None), Proposal("escalate", escalates=inner))
        assert not verdict.allowed
        return verdict.reason

    assert escalate(Proposal("refund", eur("-5.00"))) == (
        "the lead role could not approve it either: the amount must be more than zero")
    assert escalate(Proposal("refund", eur("800.00"))) == (
        "the lead role could not approve it either: refund 800.00 EUR is over the lead limit of 500.00 EUR")
    assert "already passed" in (escalate(Proposal("callback", at=NOW - timedelta(days=1))) or "")


def test_the_next_callback_slot_respects_notice_hours_days_and_booked_slots() -> None:
    slot = next_callback_slot(MATRIX, PETRA, NOW)
    assert slot == datetime(2026, 11, 23, 13, 15, tzinfo=timezone.utc)  # 14:15 Berlin, 10 min notice
    taken = frozenset({slot})
    assert next_callback_slot(MATRIX, PETRA, NOW, taken) == slot + timedelta(minutes=15)
    saturday_evening = datetime(2026, 11, 28, 18, 55, tzinfo=timezone.utc)  # 19:55 Berlin
    assert next_callback_slot(MATRIX, PETRA, saturday_evening) == datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)


def test_callback_hours_are_the_customers_own() -> None:
    tokyo = Customer("c-2", "Aiko", phone="+81 3 5555 0100", timezone="Asia/Tokyo")
    slot = next_callback_slot(MATRIX, tokyo, NOW)  # 22:00 in Tokyo: tomorrow 08:00 there
    assert slot == datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc)
    night = check(MATRIX, situation(customer=tokyo), Proposal("callback", at=NOW + timedelta(hours=1)))
    assert not night.allowed and night.rule == "callbacks.hours"


def test_an_agent_without_international_calls_is_refused_for_a_foreign_number() -> None:
    matrix = parse_matrix('home_country = "DE"\n[roles.agent]\ncallback = { allowed = true, international = false }\n'
                          'escalate_to = "lead"\n[roles.lead]\ncallback = { allowed = true, international = true }\n')
    abroad = Customer("c-3", "Emre", phone="+90 212 555 0100", timezone="Europe/Istanbul")
    at = next_callback_slot(matrix, abroad, NOW)
    verdict = check(matrix, situation(customer=abroad), Proposal("callback", at=at))
    assert not verdict.allowed and verdict.rule == "agent.callback.international" and verdict.escalate_to == "lead"
    assert check(matrix, situation(), Proposal("callback", at=next_callback_slot(matrix, PETRA, NOW))).allowed


@pytest.mark.parametrize(("phone", "abroad"), [
    ("+49 170 555 0199", False), ("0170 555 0199", False), ("0049 170 555 0199", False),
    ("+44 20 7946 0000", True), ("0044 20 7946 0000", True), ("+90 212 555 0100", True),
    ("+49 (0)170 555 0199", False), ("+44", True),
])
def test_a_number_abroad_is_recognised_with_plus_or_00(phone: str, abroad: bool) -> None:
    assert is_international(phone, "DE") is abroad


@pytest.mark.parametrize(("phone", "home", "abroad"), [
    ("011 44 20 7946 0000", "US", True), ("+1 416 555 0100", "US", False), ("(212) 555-0100", "CA", False),
    ("+352 621 555 010", "LU", False), ("00 41 44 555 01 00", "LU", True),
])
def test_every_country_phonenumbers_knows_can_be_home(phone: str, home: str, abroad: bool) -> None:
    """North America dials out with 011 and shares +1; countries beyond the old table of calling codes work."""
    assert is_international(phone, home) is abroad
    assert parse_matrix(f'home_country = "{home.lower()}"\n[roles.agent]\n').home_country == home


def test_no_phone_number_means_no_callback() -> None:
    verdict = check(MATRIX, situation(customer=Customer("c-4", "Mail Only")), Proposal("callback", at=NOW))
    assert not verdict.allowed and verdict.reason == "the customer has no phone number to call"


# --------------------------------------------------------------------------- the property

KIND = st.sampled_from(["refund", "voucher"])
CENTS = st.integers(min_value=-500, max_value=200_00)
STEP = st.tuples(KIND, CENTS, st.integers(min_value=0, max_value=40 * 24 * 60),
                 st.sampled_from(["pending", "queued", "confirmed", "undone"]), st.booleans())


@settings(max_examples=300, deadline=None)
@given(role=st.sampled_from(["agent", "lead"]), steps=st.lists(STEP, max_size=40))
def test_no_sequence_of_decisions_passes_a_limit_or_a_cap_and_refusals_say_why(role, steps) -> None:
    """Whatever is tried, in whatever order and spacing: allowed ones stay within every limit."""
    rules = MATRIX.roles[role]
    start = NOW - timedelta(days=40)
    taken: list[Decision] = []
    for index, (kind, cents, minute, later_state, on_case) in enumerate(sorted(steps, key=lambda s: s[2])):
        now = start + timedelta(minutes=minute)
        amount = Money(Decimal(cents).scaleb(-2), "EUR")
        case = FEE if on_case else None
        verdict = check(MATRIX, Situation(role, PETRA, case, tuple(taken), now), Proposal(kind, amount))
        if not verdict.allowed:
            assert verdict.reason and verdict.rule
            continue
        rule = rules.money_rule(kind)
        assert rule is not None
        assert Decimal(0) < amount.amount <= rule.max
        total = spent_in_window(taken, kind, "EUR", now) + amount
        assert total.amount <= rule.per_customer_30d
        decision = Decision(f"d-{index}", "c-1", kind, "a-7", now, "pending", case=case.id if case else None,
                            amount=amount)
        if on_case and kind == "refund":
            on_fee = sum((d.amount.amount for d in taken if d.case == "k-1" and d.kind == "refund"
                          and d.state != "undone" and d.amount), Decimal(0))
            assert on_fee + amount.amount <= FEE.disputed.amount  # type: ignore[union-attr]
        taken.append(decision)
        # The agent may undo it later: an undone decision frees its budget again.
        if later_state != "pending":
            taken[-1] = Decision(decision.id, decision.customer, kind, decision.agent, now, later_state,
                                 case=decision.case, amount=amount)
    for kind in ("refund", "voucher"):
        rule = rules.money_rule(kind)
        assert rule is not None
        for decision in taken:  # every 30-day window ending at a decision stays within the cap
            assert spent_in_window(taken, kind, "EUR", decision.at).amount <= rule.per_customer_30d
