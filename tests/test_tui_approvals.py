"""Approvals for leads, the store watcher and callback alerts, driven through real store files.

An agent escalates (through the ledger, as the decision bar does); a lead's
workstation shows the waiting escalations and approves or declines them with one
key; the agent's workstation, on the same store file, is told once its watcher
notices the commit. Nothing sleeps: the tests call the app's one-look checks
(``check_store``, ``check_callbacks``) instead of waiting for their timers.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agentdesk.authority_file import demo_matrix
from agentdesk.domain.authority import Proposal
from agentdesk.domain.decision_text import call_time
from agentdesk.domain.money import Money
from agentdesk.store.ledger import Ledger
from tests.test_tui_support import (
    FROZEN,
    VIEWER,
    MovableClock,
    clock,
    make_app,
    make_clocked_app,
    queue_records,
    screen_lines,
    screen_text,
    settle,
)

AGENT = "a-7"  # Jonas Weber, agent
LEAD = "a-9"  # Mira Scholz, lead


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


async def escalate(ledger: Ledger, customer: str = "c-1", amount: str = "80.00", agent: str = AGENT):
    """Take a refund beyond the agent's limit, see it refused, escalate it (as the decision bar does)."""
    refused = await ledger.take(agent, customer, Proposal("refund", eur(amount)), undo_window=timedelta(0))
    assert refused.decision is None and refused.verdict.escalate_to == "lead"
    taken = await ledger.take(agent, customer, Proposal("escalate", escalates=refused.verdict.proposal,
                                                       reason=refused.verdict.reason), undo_window=timedelta(0))
    assert taken.decision is not None and taken.decision.approval == "waiting"
    return taken.decision


async def escalate_in(path: Path, **options):  # noqa: ANN003, ANN201
    async with Ledger.open(path, demo_matrix(), clock) as ledger:
        return await escalate(ledger, **options)


def notices(app) -> list[str]:  # noqa: ANN001
    return [notification.message for notification in app._notifications]


async def opened(app, pilot) -> None:  # noqa: ANN001
    await app.queue_painted.wait()
    await app.desk.wait_ledger()
    await settle(app, pilot)


async def look(app, pilot) -> None:  # noqa: ANN001
    """What the watcher does every second, once, now; then let the screens catch up.

    (The app's own one-second timer may have looked first; either way the change is
    delivered exactly once.)
    """
    await app.check_store()
    await settle(app, pilot)


# --- the lead's side ---------------------------------------------------------------


async def test_lead_sees_the_waiting_escalation_and_approves_it_with_one_key(make_store) -> None:
    from agentdesk.tui.screens.approvals import ApprovalsScreen
    from agentdesk.tui.screens.queue import QueueScreen

    path = await make_store(queue_records())
    escalation = await escalate_in(path, customer="c-2")
    app = make_app(path, agent_id=LEAD)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        assert "1 escalation waits for your approval · w to review" in screen_text(app)
        assert "Approvals" in screen_lines(app)[-1]  # the key is in the footer

        await pilot.press("w")
        await settle(app, pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        lines = screen_lines(app)
        header = next(line for line in lines if "Escalated by" in line)
        assert "Customer" in header and "Proposed" in header and "Waiting" in header and "Case" in header
        row = next(line for line in lines if "Ole Brandt" in line and "▶" in line)
        assert "Jonas Weber" in row and "refund 80.00 EUR" in row and "k-2 No dial tone" in row
        text = screen_text(app)
        assert "Jonas Weber asks the lead to approve refund 80.00 EUR for Ole Brandt" in text
        assert "Why (in Jonas Weber's escalation): “refund 80.00 EUR is over the agent limit of 50.00 EUR”" in text
        footer = screen_lines(app)[-1]
        assert "Approve" in footer and "Decline" in footer and "Decline with a reason" in footer
        await pilot.press("question_mark")  # help lists the keys with their ids
        await settle(app, pilot)
        text = screen_text(app)
        assert "approvals.approve" in text and "approvals.decline_with_reason" in text and "approvals.back" in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ApprovalsScreen)

        await pilot.press("y")
        await settle(app, pilot)
        text = screen_text(app)
        assert "Approved: refund 80.00 EUR for Ole Brandt queued, promise due Fri 17 Jul 14:00" in text
        assert "Jonas Weber is told." in text
        assert "No escalation waits for your approval" in text
        decided = await app.desk.ledger.decision(escalation.id)
        assert decided is not None and (decided.approval, decided.approval_by) == ("approved", LEAD)

        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        assert "for your approval" not in screen_text(app)


async def lead_with_a_backend(path: Path):  # noqa: ANN201
    from tests.test_tui_decisions import with_a_backend

    return make_app(path, agent_id=LEAD, backend=with_a_backend())


async def approve_first(app, pilot) -> None:  # noqa: ANN001
    await opened(app, pilot)
    await pilot.press("w")
    await settle(app, pilot)
    await pilot.press("y")
    await settle(app, pilot)


def approvals_row(app, needle: str = "Ole Brandt") -> str:  # noqa: ANN001
    from tests.test_tui_support import widget_strips

    return next(strip.text for strip in widget_strips(app.screen.approvals) if needle in strip.text)


async def test_with_a_backend_an_approval_is_sent_then_approved_once_the_backend_took_it(make_store) -> None:
    from tests.test_tui_decisions import backend_answers

    path = await make_store(queue_records())
    escalation = await escalate_in(path, customer="c-2")
    await backend_answers(path, "confirmed")  # the escalation reached the backend
    app = await lead_with_a_backend(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await approve_first(app, pilot)
        text = screen_text(app)
        assert ("Approval sent, waiting for the backend: refund 80.00 EUR for Ole Brandt; "
                "Jonas Weber is told once the backend has taken it.") in text
        assert "Approved" not in text and "is told." not in text
        row = approvals_row(app)
        assert "refund 80.00 EUR" in row and "approval sent, waiting for the backend" in row
        assert "You approved it: approval sent, waiting for the backend" in text
        assert "Waiting for your approval · 0" in text
        await pilot.press("y")  # decided already: nothing happens twice
        await settle(app, pilot)
        assert len(await app.desk.ledger.unsettled_approvals(LEAD, FROZEN - timedelta(days=1))) == 1

        await backend_answers(path, "confirmed")
        await look(app, pilot)
        text = screen_text(app)
        assert "Approved: refund 80.00 EUR for Ole Brandt, promise due Fri 17 Jul 14:00; Jonas Weber is told." in text
        assert "No escalation waits for your approval" in text
        decided = await app.desk.ledger.decision(escalation.id)
        assert decided is not None and decided.approval == "approved"


async def test_with_a_backend_a_refused_approval_stays_on_its_row_and_in_the_notices(make_store) -> None:
    from tests.test_tui_decisions import backend_answers

    path = await make_store(queue_records())
    await escalate_in(path, customer="c-2")
    await backend_answers(path, "confirmed")  # the escalation reached the backend
    app = await lead_with_a_backend(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await approve_first(app, pilot)
        reason = "declined meanwhile"
        assert await backend_answers(path, "refused", refusal=reason)
        await look(app, pilot)
        text = screen_text(app)
        assert (f"Not approved: the backend refused your approval of refund 80.00 EUR for Ole Brandt: {reason}."
                in text)
        assert "Approved" not in text
        assert f"approval refused by the backend: {reason}" in approvals_row(app)
        assert f"You approved it: approval refused by the backend: {reason}" in text

        await pilot.press("escape", "w")  # away and back: the row still says it
        await settle(app, pilot)
        assert f"approval refused by the backend: {reason}" in approvals_row(app)
    # the notices (ctrl+n) keep it, with the reason
    assert [(n.title, n.message) for n in app.notice_log.newest_first()] == [
        ("Refused by the backend", f"refund 80.00 EUR for Ole Brandt was not carried out: {reason}")]


async def test_enter_opens_the_customer_and_escape_comes_back_to_the_approvals(make_store) -> None:
    from agentdesk.tui.screens.approvals import ApprovalsScreen
    from agentdesk.tui.screens.customer import CustomerScreen

    path = await make_store(queue_records())
    await escalate_in(path)
    app = make_app(path, agent_id=LEAD)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.customer_id == "c-1"
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        assert app.screen.approvals.cursor_item is not None


async def test_a_lead_whose_own_limits_refuse_it_is_told_why_and_it_keeps_waiting(make_store) -> None:
    path = await make_store(queue_records())
    escalation = await escalate_in(path, customer="c-1", amount="400.00")
    async with Ledger.open(path, demo_matrix(), clock) as ledger:  # meanwhile, the lead spends most of the cap
        for amount in ("500.00", "200.00"):
            spent = await ledger.take(LEAD, "c-1", Proposal("refund", eur(amount)), undo_window=timedelta(0))
            assert spent.decision is not None
    app = make_app(path, agent_id=LEAD)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        text = screen_text(app)
        assert ("Not approved — your own limits refuse it: refund 400.00 EUR would exceed this customer's "
                "30-day cap of 1000.00 EUR (300.00 EUR left)") in text
        assert app.screen.last_outcome.endswith("It still waits.")
        assert app.screen.approvals.row_count == 1
        still = await app.desk.ledger.decision(escalation.id)
        assert still is not None and still.approval == "waiting"


async def test_decline_at_once_and_with_a_reason(make_store) -> None:
    from agentdesk.tui.screens.approvals import ApprovalsScreen
    from agentdesk.tui.screens.prompt import PromptScreen

    path = await make_store(queue_records())
    first = await escalate_in(path, customer="c-2")
    second = await escalate_in(path, customer="c-1")
    app = make_app(path, agent_id=LEAD)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        assert "2 escalations wait for your approval" in screen_text(app)
        await pilot.press("w")
        await settle(app, pilot)

        await pilot.press("d")  # the first (oldest, then by id) at once
        await settle(app, pilot)
        ledger = app.desk.ledger
        decided = {d.id: d for d in [await ledger.decision(first.id), await ledger.decision(second.id)]}
        declined_now = [d for d in decided.values() if d.approval == "declined"]
        assert len(declined_now) == 1 and declined_now[0].approval_reason == "declined by Mira Scholz"
        assert "Declined: refund 80.00 EUR for" in screen_text(app)
        assert app.screen.approvals.row_count == 1

        await pilot.press("D")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        assert "Jonas Weber sees the reason you give" in screen_text(app)
        await pilot.press("enter")  # no reason yet: it asks for one
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        assert "Type a reason first" in screen_text(app)
        await pilot.press(*"already refunded by the bank", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        assert "(already refunded by the bank); Jonas Weber is told." in screen_text(app)
        other = next(d for d in decided.values() if d.approval == "waiting")
        after = await app.desk.ledger.decision(other.id)
        assert after is not None and (after.approval, after.approval_reason) == (
            "declined", "already refunded by the bank")

        # escape in the dialog declines nothing
        await escalate(app.desk.ledger, customer="c-4")
        await look(app, pilot)
        await pilot.press("shift+d")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"no", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        assert app.screen.approvals.row_count == 1


async def test_approvals_fit_80_by_24(make_store) -> None:
    path = await make_store(queue_records())
    await escalate_in(path)
    app = make_app(path, agent_id=LEAD)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(app, pilot)
        assert any("1 escalation waits for your approval" in line for line in screen_lines(app))
        await pilot.press("w")
        await settle(app, pilot)
        lines = screen_lines(app)
        assert all(len(line) <= 80 for line in lines)
        row = next(line for line in lines if "Petra Lindner" in line and "▶" in line)
        assert "refund 80.00 EUR" in row and "Jonas Weber" in row
        assert "Why (in Jonas Weber's escalation)" in screen_text(app)
        assert "Approve" in lines[-1]


# --- the agent's side: the watcher ---------------------------------------------------


async def test_the_agent_is_told_once_when_another_workstation_approves(make_store) -> None:
    path = await make_store(queue_records())
    agent_app = make_app(path, agent_id=AGENT)
    lead_app = make_app(path, agent_id=LEAD)
    async with agent_app.run_test(size=(140, 40)) as agent:
        await opened(agent_app, agent)
        await escalate(agent_app.desk.ledger)  # from the agent's own workstation
        await look(agent_app, agent)  # its own ledger's commit is a change too: the queue re-reads
        assert not any("approved" in text for text in notices(agent_app))

        async with lead_app.run_test(size=(140, 40)) as lead:  # another workstation on the same file
            await opened(lead_app, lead)
            await lead.press("w")
            await settle(lead_app, lead)
            await lead.press("y")
            await settle(lead_app, lead)
            assert "Approved: refund 80.00 EUR for Petra Lindner" in screen_text(lead_app)

        await look(agent_app, agent)
        told = [text for text in notices(agent_app) if "approved your" in text]
        assert told == ["Mira Scholz approved your refund 80.00 EUR for Petra Lindner"]

        assert not await agent_app.check_store()  # nothing new: no second notice
        await look(agent_app, agent)
        assert len([text for text in notices(agent_app) if "approved your" in text]) == 1


async def test_the_agent_is_told_the_reason_of_a_decline(make_store) -> None:
    path = await make_store(queue_records())
    agent_app = make_app(path, agent_id=AGENT)
    async with agent_app.run_test(size=(140, 40)) as agent:
        await opened(agent_app, agent)
        escalation = await escalate(agent_app.desk.ledger, customer="c-1")
        async with Ledger.open(path, demo_matrix(), clock) as elsewhere:
            await elsewhere.decline(LEAD, escalation.id, "goodwill only after the technician's report")
        await look(agent_app, agent)
        assert ("Mira Scholz declined your refund 80.00 EUR for Petra Lindner: "
                "goodwill only after the technician's report") in notices(agent_app)


async def test_outcomes_decided_before_the_app_opened_are_not_announced(make_store) -> None:
    path = await make_store(queue_records())
    async with Ledger.open(path, demo_matrix(), clock) as ledger:
        escalation = await escalate(ledger)
        await ledger.approve(LEAD, escalation.id)
    app = make_app(path, agent_id=AGENT)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        await escalate(app.desk.ledger, customer="c-1")
        await look(app, pilot)
        assert not any("approved your" in text for text in notices(app))


async def test_a_change_by_another_workstation_refreshes_the_lead_queue_and_approvals_line(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path, agent_id=LEAD)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        assert "for your approval" not in screen_text(app)
        await escalate_in(path)
        await look(app, pilot)
        assert "1 escalation waits for your approval · w to review" in screen_text(app)


# --- callbacks falling due ---------------------------------------------------------------


async def test_a_due_callback_rings_once_and_heads_the_queue(make_store) -> None:
    path = await make_store(queue_records())
    moving = MovableClock()
    app = make_clocked_app(path, moving, agent_id=AGENT)
    bells: list[int] = []
    async with app.run_test(size=(140, 40)) as pilot:
        app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        await opened(app, pilot)
        ledger = app.desk.ledger
        slot = (await ledger.choices(AGENT, "c-4")).options["callback"].suggested
        assert slot is not None and slot.at == FROZEN + timedelta(minutes=15)
        taken = await ledger.take(AGENT, "c-4", slot, undo_window=timedelta(0))
        assert taken.decision is not None and taken.decision.state == "queued"
        assert await app.check_callbacks() == ()  # not due yet

        moving.advance(minutes=15)
        due = await app.check_callbacks()
        assert [callback.customer.name for callback in due] == ["Aylin Demir"]
        await settle(app, pilot)
        local = slot.at.astimezone(VIEWER)
        line = f"Callback due now: Aylin Demir on +49 30 555 0177 — {local:%H:%M} their time ({local:%H:%M} yours)"
        assert line in notices(app)
        assert bells == [1]
        assert app.screen.queue.item_at(0).waiting.customer_id == "c-4"
        assert "callback due" in app.screen.queue.item_at(0).reason

        moving.advance(minutes=1)
        assert await app.check_callbacks() == ()  # once only
        await settle(app, pilot)
        assert bells == [1]
        assert call_time(slot.at, "Europe/Berlin").endswith("14:15 (Europe/Berlin)")


async def test_a_callback_long_overdue_at_start_says_by_how_much(make_store) -> None:
    path = await make_store(queue_records())
    moving = MovableClock()
    async with Ledger.open(path, demo_matrix(), moving) as ledger:
        slot = (await ledger.choices(AGENT, "c-4")).options["callback"].suggested
        await ledger.take(AGENT, "c-4", slot, undo_window=timedelta(0))
    moving.advance(hours=1)
    app = make_clocked_app(path, moving, agent_id=AGENT)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)  # the first look runs once the store is open
        assert any(text.startswith("Callback overdue by 45 min: Aylin Demir") for text in notices(app))


# --- read-only and agents who approve nothing ------------------------------------------


async def test_read_only_and_plain_agents_have_no_approvals_key(make_store) -> None:
    path = await make_store(queue_records())
    await escalate_in(path)
    for options in ({"agent_id": LEAD, "read_only": True}, {"agent_id": AGENT}):
        app = make_app(path, **options)
        async with app.run_test(size=(140, 40)) as pilot:
            await opened(app, pilot)
            if options.get("read_only"):  # read-only starts on the floor; the queue is one escape away
                await settle(app, pilot)
                assert type(app.screen).__name__ == "FloorScreen"
                await pilot.press("escape")
                await settle(app, pilot)
            bound = {active.binding.id for active in app.screen.active_bindings.values()}
            assert "queue.approvals" not in bound
            assert "for your approval" not in screen_text(app)
            await pilot.press("w")
            await settle(app, pilot)
            assert type(app.screen).__name__ == "QueueScreen"
            if options.get("read_only"):
                assert app.desk.ledger is None
                assert await app.check_callbacks() == ()


def test_the_approvals_keys_have_ids_to_remap_them_by() -> None:
    """Ids and descriptions of every binding are checked for the whole UI in test_tui_app."""
    from agentdesk.tui.screens.approvals import ApprovalsScreen
    from agentdesk.tui.widgets.approval_list import ApprovalList

    ids = {binding.id for cls in (ApprovalsScreen, ApprovalList) for _key, binding in cls._merged_bindings}
    assert {"approvals.approve", "approvals.decline", "approvals.decline_with_reason", "approvals.back",
            "approvals.open_customer"} <= ids


async def test_at_80_by_24_the_approvals_footer_keeps_the_way_back_help_and_quit(make_store) -> None:
    from agentdesk.tui.screens.approvals import ApprovalsScreen

    path = await make_store(queue_records())
    await escalate_in(path, customer="c-2")
    app = make_app(path, agent_id=LEAD)
    async with app.run_test(size=(80, 24)) as pilot:
        await opened(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        footer = screen_lines(app)[-1]
        assert "esc Back to queue" in footer and "? Help" in footer and "q Quit" in footer
        assert "y Approve" in footer  # the key of the moment stays too

        await pilot.press("y")  # approved: the list is empty, its keys are not in force and make room
        await settle(app, pilot)
        footer = screen_lines(app)[-1]
        assert "esc Back to queue" in footer and "? Help" in footer and "q Quit" in footer
