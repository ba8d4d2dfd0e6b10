"""The fair queue: waiting time, deadlines and urgency, and a reason for every place."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from agentdesk.domain.model import Channel, Urgency
from agentdesk.domain.queue import Waiting, order_queue

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


def waiting(cid: str, minutes: int, **kw) -> Waiting:
    return Waiting(cid, f"Name {cid}", NOW - timedelta(minutes=minutes), (Channel.CHAT,), **kw)


def test_longest_wait_goes_first_with_its_reason() -> None:
    places = order_queue([waiting("c-1", 10), waiting("c-2", 90)], NOW)
    assert [p.waiting.customer_id for p in places] == ["c-2", "c-1"]
    assert places[0].reason == "waiting 1 h 30 min; longest wait first"
    assert [p.position for p in places] == [1, 2]


def test_no_service_at_all_moves_up_and_says_so() -> None:
    places = order_queue([waiting("c-1", 100), waiting("c-2", 40, urgency=Urgency.NO_SERVICE)], NOW)
    assert places[0].waiting.customer_id == "c-2"
    assert "no service at all +2 h 00 min" in places[0].reason


def test_a_missed_deadline_moves_up_and_says_so() -> None:
    late = waiting("c-1", 5, deadline=NOW - timedelta(minutes=20), deadline_what="callback")
    places = order_queue([waiting("c-2", 150), late], NOW)
    assert places[0].waiting.customer_id == "c-1"
    assert "callback overdue by 20 min" in places[0].reason


def test_urgency_credit_is_bounded_so_nobody_waits_forever() -> None:
    old = waiting("c-old", 60 * 6)
    urgent = [waiting(f"c-{n}", 1, urgency=Urgency.NO_SERVICE) for n in range(50)]
    assert order_queue([*urgent, old], NOW)[0].waiting.customer_id == "c-old"


def test_ties_are_broken_by_id_so_the_order_is_stable() -> None:
    places = order_queue([waiting("c-b", 30), waiting("c-a", 30)], NOW)
    assert [p.waiting.customer_id for p in places] == ["c-a", "c-b"]


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(list(Urgency)),
                          st.one_of(st.none(), st.integers(-600, 600))), max_size=40))
def test_order_is_by_effective_wait_and_every_place_has_a_reason(rows) -> None:
    items = [
        waiting(f"c-{i}", minutes, urgency=urgency,
                deadline=None if due is None else NOW + timedelta(minutes=due))
        for i, (minutes, urgency, due) in enumerate(rows)
    ]
    places = order_queue(items, NOW)
    assert sorted(p.waiting.customer_id for p in places) == sorted(i.customer_id for i in items)
    effective = [p.effective for p in places]
    assert effective == sorted(effective, reverse=True)
    assert all(p.reason.startswith("waiting ") for p in places)


# ---------------------------------------------------------------------------
# Promised callbacks head the queue

CET = timezone(timedelta(hours=1))


def callback(cid: str, due_in_minutes: int, waited_minutes: int | None = None) -> Waiting:
    """A customer with a callback due; ``waited_minutes`` None: they have not written in."""
    due = (NOW + timedelta(minutes=due_in_minutes)).astimezone(CET)
    if waited_minutes is None:
        return Waiting(cid, f"Name {cid}", due, (), callback_due=due, callback_what="callback about the invoice")
    return waiting(cid, waited_minutes, callback_due=due, callback_what="callback")


def test_a_due_callback_heads_the_queue_before_any_wait_or_urgency() -> None:
    items = [
        waiting("c-old", 600),
        waiting("c-urgent", 200, urgency=Urgency.NO_SERVICE),
        callback("c-call", 10),
    ]
    places = order_queue(items, NOW)
    assert [p.waiting.customer_id for p in places] == ["c-call", "c-old", "c-urgent"]
    assert places[0].reason == "callback due 15:10"  # in the offset the promise carries (14:10 UTC)


def test_due_callbacks_go_earliest_first_and_say_how_late_they_are() -> None:
    places = order_queue([callback("c-soon", 5), callback("c-late", -25), callback("c-later", -3)], NOW)
    assert [p.waiting.customer_id for p in places] == ["c-late", "c-later", "c-soon"]
    assert [p.reason for p in places] == [
        "callback due 14:35 — overdue 25 min",
        "callback due 14:57 — overdue 3 min",
        "callback due 15:05",
    ]


def test_a_callback_for_a_customer_who_also_wrote_in_says_both() -> None:
    (place,) = order_queue([callback("c-1", -5, waited_minutes=40)], NOW)
    assert place.reason == "callback due 14:55 — overdue 5 min; waiting 40 min"
    assert place.waited == timedelta(minutes=40)


def test_a_callback_further_ahead_than_the_lead_time_does_not_jump_the_queue() -> None:
    later = callback("c-later", 16, waited_minutes=5)
    places = order_queue([waiting("c-1", 30), later], NOW)
    assert [p.waiting.customer_id for p in places] == ["c-1", "c-later"]
    assert places[1].reason == "waiting 5 min; longest wait first"
    assert order_queue([callback("c-edge", 15)], NOW)[0].reason == "callback due 15:15"


def test_a_callback_missed_by_more_than_half_a_day_names_its_day() -> None:
    (place,) = order_queue([callback("c-late", -25 * 60)], NOW)
    due = (NOW - timedelta(hours=25)).astimezone(CET)
    assert place.reason == f"callback due {due:%a %d %b %H:%M} — overdue 1 d 1 h"


# ---------------------------------------------------------------------------
# The reason starts with what waits, and for how long


def test_the_reason_names_what_waits_and_for_how_long() -> None:
    email = waiting("c-1", 12, oldest_channel=Channel.EMAIL)
    missed = waiting("c-2", 3, oldest_channel=Channel.PHONE, oldest_missed_call=True)
    sms = waiting("c-3", 65, oldest_channel=Channel.SMS)
    letter = waiting("c-4", 2 * 24 * 60, oldest_channel=Channel.LETTER)
    reasons = {p.waiting.customer_id: p.reason for p in order_queue([email, missed, sms, letter], NOW)}
    assert reasons == {"c-1": "e-mail 12 min; longest wait first",
                       "c-2": "missed call 3 min; longest wait first",
                       "c-3": "SMS 1 h 05 min; longest wait first",
                       "c-4": "letter 2 d; longest wait first"}


def test_what_waits_comes_before_the_credits() -> None:
    call = waiting("c-1", 40, oldest_channel=Channel.PHONE, urgency=Urgency.NO_SERVICE,
                   deadline=NOW - timedelta(minutes=20), deadline_what="refund 39.90 EUR")
    (place,) = order_queue([call], NOW)
    assert place.reason == ("call 40 min; no service at all +2 h 00 min; "
                            "refund 39.90 EUR overdue by 20 min +3 h 00 min")


def test_a_callback_reason_says_what_else_waits() -> None:
    due = NOW - timedelta(minutes=5)
    item = Waiting("c-1", "Name", NOW - timedelta(minutes=40), (Channel.SHOP,), callback_due=due,
                   oldest_channel=Channel.SHOP)
    assert order_queue([item], NOW)[0].reason == "callback due 13:55 — overdue 5 min; shop visit 40 min"
