"""Decisions on the customer screen: the bar, one-key decisions, the undo window, adjust, escalate, approve.

Real store files (the demo's stories, a little bulk), the real ledger, a clock the
tests move by hand. Nothing sleeps: the countdown step (``CustomerScreen.tick``) is
called directly after the clock moved, and workers are awaited.

Story customers at the frozen now (Tue 14 Jul 2026 14:00 in Berlin):
``c-1001`` Petra Lindner (eSIM case, nothing disputed), ``c-1002`` Gerda Hofmann
(59.90 EUR disputed: over an agent's 50.00 limit), ``c-1003`` Sven Albrecht
(39.90 EUR disputed). ``a-7`` is an agent, ``a-2`` a lead.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.binding import Binding

from agentdesk.domain.entry_parse import EntryError, parse_money, parse_when
from agentdesk.domain.money import Money
from tests.test_tui_support import (
    FROZEN,
    MovableClock,
    make_clocked_app,
    queue_records,
    screen_text,
    story_records,
    widget_strips,
)

BERLIN = ZoneInfo("Europe/Berlin")
LA = ZoneInfo("America/Los_Angeles")
WAIT = 10  # seconds: a generous bound so a broken test fails instead of hanging


async def settle(app, pilot) -> None:  # noqa: ANN001
    """Let this test's workers finish (not the app's endless store watcher) and the screen catch up."""
    for _ in range(3):
        await pilot.pause()
        running = [worker for worker in app.workers if worker.group not in ("watch",)]
        await asyncio.wait_for(app.workers.wait_for_complete(running), WAIT)
    await pilot.pause()


async def open_customer(app, pilot, customer_id: str):  # noqa: ANN001, ANN202
    from agentdesk.tui.messages import OpenCustomer
    from agentdesk.tui.screens.customer import CustomerScreen

    await asyncio.wait_for(app.queue_painted.wait(), WAIT)
    await asyncio.wait_for(app.desk.wait_ledger(), WAIT)
    app.post_message(OpenCustomer(customer_id))
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, CustomerScreen)
    await asyncio.wait_for(screen.timeline.wait_painted(), WAIT)
    await pilot.pause()
    return screen


async def press_and_paint(app, pilot, screen, *keys: str) -> None:  # noqa: ANN001
    """Press a decision key and wait until its outcome is durable and painted, then for the re-read."""
    await pilot.press(*keys)
    await asyncio.wait_for(screen.decision_painted.wait(), WAIT)
    await settle(app, pilot)


def timeline_rows(app, needle: str) -> list[str]:  # noqa: ANN001
    """The decision rows drawn by the timeline (not the detail pane) that contain ``needle``."""
    timeline = app.get_screen("customer").timeline
    return [strip.text for strip in widget_strips(timeline) if needle in strip.text and "◆ decision" in strip.text]


@pytest.fixture
async def stories(make_store) -> Path:  # noqa: ANN001
    return await make_store(story_records())


# --------------------------------------------------------------------------- the bar


async def test_the_bar_lists_what_this_agent_may_decide_with_keys_suggestions_and_limits(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        bar = screen.decision_bar.plain
        assert "r refund 39.90 EUR (limit 50.00)" in bar
        assert "v voucher 15.00 EUR (limit 25.00)" in bar
        # the next free slot, 10 min notice, in the customer's zone and the viewer's
        assert "c callback Tue 14:15 their time (14:15 yours)" in bar
        assert "e escalate to lead" in bar and "n note" in bar and "a adjust" in bar
        text = screen_text(app)
        for item in ("r refund 39.90 EUR (limit 50.00)", "c callback Tue 14:15 their time (14:15 yours)"):
            assert item in text  # drawn whole, not clipped
        # the side panel: your authority here
        assert "Your authority · agent" in text
        assert "refund up to 50.00 EUR" in text and "100.00 EUR left here (30 days)" in text
        assert "voucher up to 25.00 EUR" in text and "escalates to lead" in text

        # a suggestion beyond the limit shows the refusal, names the limit and offers e
        from agentdesk.tui.messages import OpenCustomer

        app.post_message(OpenCustomer("c-1002"))
        await settle(app, pilot)
        bar = screen.decision_bar.plain
        assert "r refund 59.90 EUR: over your limit of 50.00 EUR · e escalate" in bar
        assert "e escalate refund 59.90 EUR to lead" in bar


async def test_nothing_is_clipped_at_80_columns(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        text = screen_text(app)
        for item in ("r refund 39.90 EUR (limit 50.00)", "v voucher 15.00 EUR (limit 25.00)",
                     "c callback Tue 14:15 their time (14:15 yours)", "e escalate to lead",
                     "n note", "a adjust"):
            assert item in text, item
        await press_and_paint(app, pilot, screen, "r")
        assert "PENDING  refund 39.90 EUR · queued in 10 s · u undo · s send now" in screen_text(app)


async def test_a_pending_decision_for_another_customer_names_that_customer(stories: Path) -> None:
    from agentdesk.tui.messages import OpenCustomer

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        await press_and_paint(app, pilot, screen, "v")
        assert "PENDING  voucher 15.00 EUR · queued in 10 s" in screen.decision_bar.plain
        assert "not this customer" not in screen.decision_bar.plain

        app.post_message(OpenCustomer("c-1001"))  # Petra Lindner, while Sven's voucher is in its undo window
        await settle(app, pilot)
        assert screen.customer_id == "c-1001"
        strip = screen.decision_bar.plain.splitlines()[0].strip()
        assert strip.startswith("PENDING  voucher 15.00 EUR for Sven Albrecht (not this customer) · queued in")
        assert "for Sven Albrecht (not this customer)" in screen_text(app)


# --------------------------------------------------------------------------- one key, undo, release


async def test_r_takes_the_suggested_refund_pending_then_u_takes_it_back(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        count = screen.timeline.row_count

        await pilot.press("r")
        await asyncio.wait_for(screen.decision_painted.wait(), WAIT)
        # said only after the ledger returned: the decision is on disk
        ledger = app.desk.ledger
        pending = await ledger.pending("a-7")
        assert [(d.kind, str(d.amount), d.state) for d in pending] == [("refund", "39.90 EUR", "pending")]
        assert "PENDING  refund 39.90 EUR · queued in 10 s · u undo · s send now" in screen_text(app)

        await settle(app, pilot)
        assert screen.timeline.row_count == count + 1
        [row] = timeline_rows(app, "refund 39.90 EUR")
        assert "[pending] refund 39.90 EUR" in row and "Jonas Weber" in row
        assert "60.10 EUR left here (30 days)" in screen_text(app)  # the pending refund counts

        # the countdown is text, and it counts
        app.clock.advance(seconds=3)
        screen.tick()
        await pilot.pause()
        assert "queued in 7 s" in screen.decision_bar.plain

        await press_and_paint(app, pilot, screen, "u")
        assert await ledger.pending("a-7") == []
        text = screen_text(app)
        assert "PENDING" not in screen.decision_bar.plain
        assert "UNDONE  refund 39.90 EUR · taken back, nothing was sent" in text
        assert screen.timeline.row_count == count
        assert timeline_rows(app, "refund 39.90 EUR") == []
        assert "r refund 39.90 EUR (limit 50.00)" in screen.decision_bar.plain  # offered again
        assert "100.00 EUR left here (30 days)" in text

        # nothing left to undo: said, not silently ignored
        await press_and_paint(app, pilot, screen, "u")
        assert "nothing to undo" in screen.decision_bar.plain


async def test_v_waits_out_the_window_then_is_queued_and_promised(stories: Path) -> None:
    clock = MovableClock()
    app = make_clocked_app(stories, clock)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        promises = len(screen.data.promises)
        assert "goodwill voucher" not in screen_text(app)
        await press_and_paint(app, pilot, screen, "v")
        assert "PENDING  voucher 15.00 EUR · queued in 10 s" in screen.decision_bar.plain
        assert "[pending] voucher 15.00 EUR" in timeline_rows(app, "voucher 15.00 EUR")[0]

        clock.advance(seconds=11)
        screen.tick()  # what the 1-second timer does; the release runs in a worker
        await settle(app, pilot)

        text = screen_text(app)
        assert "PENDING" not in screen.decision_bar.plain
        assert "QUEUED  voucher 15.00 EUR · queued for the backend" in text
        [row] = timeline_rows(app, "voucher 15.00 EUR")
        assert "[queued] voucher 15.00 EUR" in row
        assert f"Open promises · {promises + 1}" in text
        assert "goodwill voucher 15.00 EUR" in text and "due in 23 h 59 min" in text
        assert "u undo" not in screen.decision_bar.plain
        # a window that ended cannot be undone any more
        await press_and_paint(app, pilot, screen, "u")
        assert "nothing to undo" in screen.decision_bar.plain
        assert timeline_rows(app, "voucher 15.00 EUR")


NO_TOKEN = "http://127.0.0.1:9"
"""A backend this workstation has no token for: it syncs nothing, but what it decides waits for the backend."""


def with_a_backend():  # noqa: ANN201
    from agentdesk.desk.identity import BackendLink

    return BackendLink(NO_TOKEN, lambda: None)


async def backend_answers(path: Path, state: str, refusal: str | None = None,
                          kinds: tuple[str, ...] = ("decision", "approve")) -> list[str]:
    """Answer the outbox's mutations of ``kinds`` as the backend would, through the sync loop's own
    :meth:`Replica.answered`; returns the ids of the decisions answered.

    ``confirmed``: the decision and its promise as stored; ``refused``: the decision refused with
    ``refusal`` as the reason, its promise cancelled.
    """
    from agentdesk.sync.mutations import mutation_body
    from agentdesk.sync.replica import Replica

    answered = []
    async with Replica.open(path) as replica:
        for item in await replica.outbox():
            if item.kind not in kinds:
                continue
            body = mutation_body(item)
            decision = {**body["decision"], "state": state}
            if refusal is not None:
                decision["refusal"] = refusal
            promise = body["promise"]
            if promise is not None and state == "refused":
                promise = {**promise, "state": "cancelled"}
            await replica.answered([(item.id, [decision] + ([promise] if promise is not None else []), None)])
            answered.append(decision["id"])
    return answered


async def store_changed(app, pilot) -> None:  # noqa: ANN001
    """What the app's one-second look at the store does, now: the open screens read again."""
    assert await app.check_store()
    await settle(app, pilot)


async def test_with_a_backend_the_strip_waits_for_it_then_follows_its_answer(stories: Path) -> None:
    clock = MovableClock()
    app = make_clocked_app(stories, clock, backend=with_a_backend())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        await press_and_paint(app, pilot, screen, "v")
        clock.advance(seconds=11)
        screen.tick()  # the window ends: queued, in the outbox
        await settle(app, pilot)
        assert "QUEUED  voucher 15.00 EUR · waiting for the backend" in screen_text(app)
        assert "queued for the backend" not in screen.decision_bar.plain

        await backend_answers(stories, "confirmed")
        await store_changed(app, pilot)
        [row] = timeline_rows(app, "voucher 15.00 EUR")
        assert "[confirmed] voucher 15.00 EUR" in row
        assert "CONFIRMED  voucher 15.00 EUR · by the backend" in screen_text(app)
        assert "QUEUED" not in screen.decision_bar.plain and "waiting" not in screen.decision_bar.plain

        await press_and_paint(app, pilot, screen, "c")
        await press_and_paint(app, pilot, screen, "s")  # sent now: queued at once
        assert "QUEUED  callback Tue 14:15 their time (14:15 yours) · waiting for the backend" in (
            screen.decision_bar.plain)
        await backend_answers(stories, "refused", refusal="no technician free that day")
        await store_changed(app, pilot)
        [row] = timeline_rows(app, "[refused: no technic")  # the row, cut to its width
        assert "callback Tue 1" in row
        assert ("REFUSED  callback Tue 14:15 their time (14:15 yours) · by the backend: no technician free "
                "that day") in screen_text(app)


async def test_with_a_backend_an_escalation_is_sent_to_the_lead_only_once_the_backend_took_it(
        stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock(), backend=with_a_backend(), undo_window=timedelta(0))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1002")
        await press_and_paint(app, pilot, screen, "r")  # 59.90 EUR: over the limit
        await press_and_paint(app, pilot, screen, "e")
        bar = screen.decision_bar.plain
        assert "TAKEN  escalate to lead: refund 59.90 EUR · waiting for the backend, then goes to lead" in bar
        assert "sent to lead" not in bar
        await backend_answers(stories, "confirmed")
        await store_changed(app, pilot)
        assert "SENT  escalate to lead: refund 59.90 EUR · waiting for lead's approval" in screen.decision_bar.plain


async def test_without_a_time_limit_the_strip_says_so_and_s_sends_it(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock(), undo_window=None)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        await press_and_paint(app, pilot, screen, "c")
        bar = screen.decision_bar.plain
        assert "PENDING  callback Tue 14:15 their time (14:15 yours) · no time limit · u undo · s send now" in bar
        app.clock.advance(minutes=2)
        screen.tick()
        await settle(app, pilot)
        assert "no time limit" in screen.decision_bar.plain  # still pending: no window to end

        await press_and_paint(app, pilot, screen, "s")
        text = screen_text(app)
        assert "QUEUED  callback Tue 14:15" in text and "PENDING" not in screen.decision_bar.plain
        [row] = timeline_rows(app, "[queued] callback")
        assert "[queued] callback Tue 14 Jul 14:15" in row
        assert "callback on +49 170 555 0199" in text  # the promise, in the side panel


async def test_a_note_is_written_through_a_one_line_dialog(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        await pilot.press("n")
        await pilot.pause()
        assert "Internal note on Petra Lindner" in screen_text(app)
        await pilot.press("enter")  # empty: says so, stays open
        await pilot.pause()
        assert "write the note first" in screen_text(app)
        await pilot.press(*"QR code [bold]by SMS[/bold]")
        await press_and_paint(app, pilot, screen, "enter")
        [row] = timeline_rows(app, "QR code")
        assert "[pending] note · QR code [bold]by SMS" in row  # typed text is never markup
        assert "note · QR code [bold]by SMS[/bold]" in screen_text(app)  # whole, in the detail pane
        assert "PENDING  note" in screen.decision_bar.plain


# --------------------------------------------------------------------------- adjust, refuse, escalate, approve


async def test_adjust_over_the_limit_is_refused_then_escalated_and_the_lead_approves_it(stories: Path) -> None:
    from agentdesk.tui.screens.adjust import AdjustScreen

    clock = MovableClock()
    app = make_clocked_app(stories, clock)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        # nothing is disputed on Petra's case: the bar asks for an amount
        assert "r refund: enter an amount (limit 50.00)" in screen.decision_bar.plain
        await pilot.press("a")
        await pilot.pause()
        adjust = app.screen
        assert isinstance(adjust, AdjustScreen)
        await pilot.press("r")  # the kind; on to the amount
        await pilot.press(*"80")
        await pilot.pause()
        text = screen_text(app)
        assert "= refund 80.00 EUR" in text
        assert "✗ REFUSED: over your limit of 50.00 EUR · rule agent.refund.max" in text
        assert "enter takes nothing · ^e escalates it to lead now" in text
        assert "your limit 50.00 EUR · 100.00 EUR left for this customer (30 days)" in text

        await press_and_paint(app, pilot, screen, "enter")
        assert app.screen is screen
        assert await app.desk.ledger.pending("a-7") == []  # nothing taken
        bar = screen.decision_bar.plain
        assert ("REFUSED  refund 80.00 EUR: over your limit of 50.00 EUR · rule agent.refund.max · "
                "e escalate to lead") in bar
        assert "e escalate refund 80.00 EUR to lead" in bar

        await press_and_paint(app, pilot, screen, "e")
        [row] = timeline_rows(app, "[waiting for approval] escalate")
        assert "◆ decision refund" not in row
        assert "escalate to lead: refund 80.00 EUR" in screen_text(app)  # the detail pane, in full
        assert "PENDING  escalate to lead: refund 80.00 EUR · goes to lead in 10 s" in screen.decision_bar.plain
        assert "REFUSED" not in screen.decision_bar.plain  # escalated: the refusal is settled
        clock.advance(seconds=11)
        screen.tick()
        await settle(app, pilot)
        assert "PENDING" not in screen.decision_bar.plain
        assert "QUEUED  escalate to lead: refund 80.00 EUR · sent to lead for approval" in screen.decision_bar.plain

    # the lead, on another workstation on the same store, approves it
    lead = make_clocked_app(stories, clock, agent_id="a-2")
    async with lead.run_test(size=(140, 40)) as pilot:
        await asyncio.wait_for(lead.queue_painted.wait(), WAIT)
        await asyncio.wait_for(lead.desk.wait_ledger(), WAIT)
        [waiting] = await lead.desk.ledger.waiting_approvals("a-2")
        assert (waiting.proposal_kind, str(waiting.amount), waiting.customer) == ("refund", "80.00 EUR", "c-1001")
        taken = await lead.desk.ledger.approve("a-2", waiting.id)
        assert taken.decision is not None and taken.decision.agent == "a-2"

    # the agent opens the customer again: approved, and the lead's refund is queued and promised
    again = make_clocked_app(stories, clock)
    async with again.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(again, pilot, "c-1001")
        [escalation] = timeline_rows(again, "escalate")
        assert "[approved] escalate" in escalation
        [refund] = timeline_rows(again, "Markus Brandt")
        assert "[queued] refund 80.00 EUR" in refund
        assert "refund 80.00 EUR" in str(screen.query_one("#promises").render())


async def test_e_escalates_exactly_the_refused_suggestion(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1002")
        await press_and_paint(app, pilot, screen, "r")
        assert ("REFUSED  refund 59.90 EUR: over your limit of 50.00 EUR · rule agent.refund.max · "
                "e escalate to lead") in screen.decision_bar.plain
        assert await app.desk.ledger.pending("a-7") == []
        await press_and_paint(app, pilot, screen, "e")
        [escalation] = await app.desk.ledger.pending("a-7")
        assert (escalation.kind, escalation.proposal_kind, str(escalation.amount), escalation.escalate_to) == (
            "escalate", "refund", "59.90 EUR", "lead")
        assert escalation.reason == "refund 59.90 EUR is over the agent limit of 50.00 EUR"
        # asked once is enough: the bar says it waits, and e does not ask again
        bar = screen.decision_bar.plain
        assert "r refund 59.90 EUR: over your limit of 50.00 EUR · waiting for lead's approval" in bar
        assert "e escalate to lead" in bar and "e escalate refund" not in bar
        await pilot.press("s")  # sent: now it is before the lead
        await settle(app, pilot)
        assert "waiting for lead's approval" in screen.decision_bar.plain
        await pilot.press("e")
        await pilot.pause()
        from agentdesk.tui.screens.adjust import AdjustScreen

        assert isinstance(app.screen, AdjustScreen) and app.screen.mode == "escalate"
        await pilot.press("escape")


async def test_adjust_a_callback_time_in_the_customers_zone_and_escape_changes_nothing(make_store) -> None:
    from agentdesk.tui.screens.adjust import AdjustScreen

    path = await make_store(queue_records())
    app = make_clocked_app(path, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-3")  # Tobias, in Oakland: 05:00 there, 14:00 here
        bar_before = screen.decision_bar.plain
        assert "c callback Tue 08:00 their time (17:00 yours)" in bar_before
        await pilot.press("a", "c")
        await pilot.pause()
        assert isinstance(app.screen, AdjustScreen)
        await pilot.press(*"tomorrow 09:00")
        await pilot.pause()
        text = screen_text(app)
        assert "= Wed 15 Jul 09:00 their time (PDT) · 18:00 your time (CEST)" in text
        assert "✓ within your authority · enter takes it" in text
        await pilot.press(*["backspace"] * 14, *"21:00")
        await pilot.pause()
        assert "outside callback hours" in screen_text(app) and "enter takes nothing" in screen_text(app)
        await pilot.press(*["backspace"] * 5, *"soon")
        await pilot.pause()
        assert "'soon' is not a time of day" in screen_text(app)

        await pilot.press("escape")  # always leaves, changes nothing
        await pilot.pause()
        assert app.screen is screen
        assert await app.desk.ledger.pending("a-7") == []
        assert screen.decision_bar.plain == bar_before


async def test_adjust_takes_an_edited_amount_within_the_limit(stories: Path) -> None:
    from agentdesk.tui.screens.adjust import AdjustScreen

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        await pilot.press("a", "v")
        await pilot.press(*"12,50")  # refused as agentdesk decide --amount 12,50 refuses it, in the same words
        await pilot.pause()
        assert "'12,50' has a comma: write 12.50 (a point before the cents)" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AdjustScreen)  # nothing was taken
        await pilot.press(*["backspace"] * 3, *".50")
        await pilot.pause()
        assert "= voucher 12.50 EUR" in screen_text(app)
        await press_and_paint(app, pilot, screen, "enter")
        assert "PENDING  voucher 12.50 EUR" in screen.decision_bar.plain


# --------------------------------------------------------------------------- read-only, keys


async def test_read_only_has_no_ledger_and_no_decision_keys(stories: Path) -> None:
    from agentdesk.tui.screens.customer import DECISION_ACTIONS

    app = make_clocked_app(stories, MovableClock(), read_only=True)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        assert app.desk.ledger is None
        assert screen.decision_bar.plain == "READ-ONLY · decisions are not available"
        in_force = {active.binding.action for active in screen.active_bindings.values()}
        assert not in_force & DECISION_ACTIONS
        await pilot.press("r", "v", "c", "e", "n", "a", "u", "s")
        await settle(app, pilot)
        assert app.screen is screen  # no dialog opened
        assert "[pending]" not in screen_text(app)
        assert "READ-ONLY · decisions are not available" in screen_text(app)
        palette = {command.title for command in app.get_system_commands(screen)}
        assert "Refund (suggested amount)" not in palette


async def test_without_an_agent_the_bar_says_why(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock(), agent_id=None)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        assert screen.decision_bar.plain.startswith("no agent selected · decisions are not available")
        assert "take_refund" not in {a.binding.action for a in screen.active_bindings.values()}


async def test_a_read_only_role_decides_nothing_even_without_the_flag(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock(), agent_id="a-1")  # Katrin Hoffmann, supervisor
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        assert screen.decision_bar.plain == "READ-ONLY · the supervisor role decides nothing"
        assert "take_refund" not in {a.binding.action for a in screen.active_bindings.values()}
        await pilot.press("r", "v")
        await settle(app, pilot)
        assert "[pending]" not in screen_text(app)


async def test_decision_keys_are_listed_in_help_and_follow_the_keymap(stories: Path) -> None:
    from agentdesk.tui.screens.help import binding_rows

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        ids = {row.binding_id for row in binding_rows(screen)}
        assert {"customer.refund", "customer.voucher", "customer.callback", "customer.escalate", "customer.note",
                "customer.adjust", "customer.undo", "customer.send_now"} <= ids
        app.set_keymap({"customer.refund": "f5"})
        await pilot.pause()
        assert "f5 refund 39.90 EUR (limit 50.00)" in screen.decision_bar.plain
        await press_and_paint(app, pilot, screen, "f5")
        assert "PENDING  refund 39.90 EUR" in screen.decision_bar.plain


def test_every_new_binding_has_an_id_and_a_description() -> None:
    import inspect

    from textual.dom import DOMNode

    import agentdesk.tui.screens.adjust
    import agentdesk.tui.screens.customer
    import agentdesk.tui.widgets.decision_bar

    for module in (agentdesk.tui.screens.adjust, agentdesk.tui.screens.customer, agentdesk.tui.widgets.decision_bar):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not (issubclass(cls, DOMNode) and cls.__module__ == module.__name__):
                continue
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
                assert binding.id and binding.id.startswith("customer."), f"{cls.__name__}: {binding}"
                assert binding.description, binding.id


# --------------------------------------------------------------------------- typed entries (pure)


def test_amounts_as_typed() -> None:
    assert parse_money("39.90", "EUR") == Money(Decimal("39.90"), "EUR")
    assert parse_money(" 39.9 ", "EUR") == Money(Decimal("39.9"), "EUR")
    assert parse_money("80 eur", "EUR") == Money(Decimal("80"), "EUR")
    for bad, says in (("", "enter an amount"), ("-5", "more than zero"), ("0", "more than zero"),
                      ("1.234", "2 decimals"), ("12 USD", "not USD"), ("twelve", "not an amount"),
                      ("39,90", "'39,90' has a comma: write 39.90"), ("1.500,00", "not an amount")):
        with pytest.raises(EntryError, match=says):
            parse_money(bad, "EUR")


def test_times_as_typed_in_the_customers_zone() -> None:
    now = FROZEN  # Tue 14 Jul 2026, 14:00 in Berlin, 05:00 in Oakland
    assert parse_when("15:30", BERLIN, now) == datetime(2026, 7, 14, 15, 30, tzinfo=BERLIN)
    assert parse_when("09:00", BERLIN, now) == datetime(2026, 7, 15, 9, 0, tzinfo=BERLIN)  # passed: tomorrow
    assert parse_when("tomorrow 09:00", BERLIN, now) == datetime(2026, 7, 15, 9, 0, tzinfo=BERLIN)
    assert parse_when("today 18:00", LA, now) == datetime(2026, 7, 14, 18, 0, tzinfo=LA)
    assert parse_when("Mon 10:15", BERLIN, now) == datetime(2026, 7, 20, 10, 15, tzinfo=BERLIN)
    assert parse_when("tue 15:00", BERLIN, now) == datetime(2026, 7, 14, 15, 0, tzinfo=BERLIN)
    assert parse_when("tuesday 13:00", BERLIN, now) == datetime(2026, 7, 21, 13, 0, tzinfo=BERLIN)
    assert parse_when("2026-07-15 10:00", LA, now) == datetime(2026, 7, 15, 10, 0, tzinfo=LA)
    assert parse_when("2026-07-15T10:00+00:00", LA, now) == datetime(2026, 7, 15, 10, 0, tzinfo=timezone.utc)
    for bad in ("", "soon", "25:00", "Mon", "2026-07-15", "next week 10:00"):
        with pytest.raises(EntryError):
            parse_when(bad, BERLIN, now)
    assert parse_when("15:30", BERLIN, now) - now == timedelta(hours=1, minutes=30)


async def test_keys_typed_ahead_of_a_dialog_never_decide_behind_it(stories: Path) -> None:
    from textual import events

    from agentdesk.tui.screens.adjust import AdjustScreen

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        # all at once, as a fast typist or a terminal multiplexer delivers them
        for key in ("a", "v", "u", "r"):
            app.post_message(events.Key(key, key))
        await settle(app, pilot)
        assert isinstance(app.screen, AdjustScreen)
        assert len([s for s in app.screen_stack if isinstance(s, AdjustScreen)]) == 1
        assert await app.desk.ledger.pending("a-7") == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_decisions_run_from_the_command_palette(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Voucher (suggested")
        await settle(app, pilot)
        await pilot.press("enter")
        await asyncio.wait_for(screen.decision_painted.wait(), WAIT)
        await settle(app, pilot)
        assert "PENDING  voucher 15.00 EUR" in screen.decision_bar.plain


async def test_the_bar_wraps_whole_items_and_never_loses_text() -> None:
    from rich.text import Text
    from textual.app import App, ComposeResult

    from agentdesk.tui.widgets.decision_bar import DecisionBar, Group

    class BarApp(App[None]):
        def compose(self) -> ComposeResult:
            yield DecisionBar(id="bar")

    app = BarApp()
    async with app.run_test(size=(40, 10)):
        bar = app.query_one(DecisionBar)
        options = ["r refund 39.90 EUR (limit 50.00)", "v voucher 15.00 EUR", "x" * 10 + " " + "y" * 45]
        pending = ["PENDING refund 39.90 EUR", "queued in 9 s", "u undo", "s send now"]
        bar.show([[Text(item) for item in options], Group([Text(item) for item in pending], sep=" · ")])
        lines = [line.plain for line in bar.lines(30)]
        assert all(len(line) <= 30 for line in lines), lines
        assert "v voucher 15.00 EUR" in lines[1]  # whole items stay whole
        assert lines[-3:] == ["PENDING refund 39.90 EUR", "· queued in 9 s · u undo", "· s send now"]
        squashed = "".join(lines).replace(" ", "").replace("·", "")
        for item in options + pending:
            assert item.replace(" ", "") in squashed  # nothing cut off


async def test_keys_pressed_while_a_decision_is_saved_run_after_it_in_order(stories: Path) -> None:
    from textual import events

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1003")
        ledger = app.desk.ledger
        # r then u at once: the refund is taken, then taken back (u waits for r's write)
        for key in ("r", "u"):
            app.post_message(events.Key(key, key))
        await settle(app, pilot)
        assert await ledger.pending("a-7") == []
        assert "UNDONE  refund 39.90 EUR" in screen.decision_bar.plain
        # a double press is one decision, not two
        for key in ("v", "v"):
            app.post_message(events.Key(key, key))
        await settle(app, pilot)
        assert [(d.kind, str(d.amount)) for d in await ledger.pending("a-7")] == [("voucher", "15.00 EUR")]


def test_the_live_verdict_knows_limits_budget_and_what_is_still_disputed() -> None:
    from dataclasses import replace

    from agentdesk.authority_file import demo_matrix
    from agentdesk.domain.authority import Option, Proposal, Situation, options
    from agentdesk.domain.entry_parse import preview
    from agentdesk.domain.model import Case, CaseStatus, Customer, Decision

    matrix = demo_matrix()
    customer = Customer("c-1", "Petra Lindner", phone="+49 170 555 0199", timezone="Europe/Berlin")
    case = Case("k-1", "c-1", "double charge", CaseStatus.OPEN, FROZEN - timedelta(days=2),
                disputed=Money(Decimal("39.90"), "EUR"))
    earlier = [Decision("d-0", "c-1", "refund", "a-7", FROZEN - timedelta(days=3), "queued", case="k-0",
                        amount=Money(Decimal("50.00"), "EUR")),
               Decision("d-1", "c-1", "refund", "a-7", FROZEN - timedelta(days=1), "queued", case="k-1",
                        amount=Money(Decimal("20.00"), "EUR"))]
    situation = Situation("agent", customer, case, earlier, FROZEN)
    offered: dict[str, Option] = options(matrix, situation)
    assert str(offered["refund"].suggested.amount) == "19.90 EUR"  # what is still disputed

    undisputed = Case("k-2", "c-1", "goodwill", CaseStatus.OPEN, FROZEN - timedelta(days=1))

    def verdict(amount: str, on: Case = case):  # noqa: ANN202
        proposal = Proposal("refund", Money(Decimal(amount), "EUR"))
        return preview(matrix, replace(situation, case=on), proposal, FROZEN)

    assert verdict("15.00").allowed
    over_limit = verdict("60.00", on=undisputed)
    assert (over_limit.allowed, over_limit.rule, str(over_limit.limit)) == (False, "agent.refund.max", "50.00 EUR")
    assert over_limit.escalate_to == "lead"
    over_budget = verdict("35.00", on=undisputed)  # 70.00 of 100.00 spent in 30 days
    assert (over_budget.allowed, over_budget.rule) == (False, "agent.refund.per_customer_30d")
    assert "30.00 EUR left" in over_budget.reason
    for amount in ("25.00", "60.00"):  # more than is disputed: no limit matters, nobody could
        over_disputed = verdict(amount)
        assert (over_disputed.allowed, over_disputed.rule) == (False, "case.disputed_amount")
        assert "19.90 EUR still disputed on case k-1" in over_disputed.reason
        assert over_disputed.escalate_to is None
