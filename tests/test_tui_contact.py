"""The workstation's log-a-contact key: a small keyboard-only dialog, the contact on the timeline at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_tui_decisions import open_customer, press_and_paint, settle, stories  # noqa: F401 - fixture
from tests.test_tui_support import MovableClock, make_clocked_app, screen_text, widget_strips


async def test_l_logs_a_letter_that_lands_on_the_timeline_and_in_the_outbox(stories: Path) -> None:
    from agentdesk.tui.screens.contact import ContactScreen

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        await pilot.press("l")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ContactScreen)
        assert "A contact with Petra Lindner" in screen_text(app)
        await pilot.press("right", "right", "left", "left")  # shop, phone, back to letter
        assert "[letter]" in screen_text(app)
        await pilot.press("enter", "right", "left", "tab")  # direction: out, back to in; on to the summary
        await pilot.press("enter")  # nothing typed: says so and stays open
        await pilot.pause()
        assert app.screen is dialog and "say in a few words" in screen_text(app)
        await pilot.press(*"Letter [bold]cancels[/bold] the contract")
        await press_and_paint(app, pilot, screen, "enter")
        assert app.screen is screen
        rows = [strip.text for strip in widget_strips(screen.timeline) if "cancels" in strip.text]
        assert rows and "◂ in" in rows[0] and "letter  Petra Lindner     Letter [bold]cancels[/bold]" in rows[0]
        assert "Letter [bold]cancels[/bold] the contract" in screen_text(app)  # whole, in the detail pane
        assert "LOGGED  letter in · Letter [bold]cancels[/bold] the contract · waits for an answer" \
            in screen.decision_bar.plain
    con = sqlite3.connect(stories)
    try:
        assert con.execute("SELECT kind FROM outbox").fetchall() == [("contact",)]
        assert con.execute("SELECT channel, direction, author FROM timeline_entry WHERE body LIKE 'Letter [bold]%'"
                           ).fetchall() == [("letter", "in", "Petra Lindner")]
    finally:
        con.close()


async def test_escape_logs_nothing_and_read_only_has_no_key(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        await pilot.press("l", "tab", "tab", *"a visit", "escape")
        await settle(app, pilot)
        assert app.screen is screen and "a visit" not in screen_text(app)
    read_only = make_clocked_app(stories, MovableClock(), read_only=True)
    async with read_only.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(read_only, pilot, "c-1001")
        await pilot.press("l")
        await settle(read_only, pilot)
        assert read_only.screen is screen
    con = sqlite3.connect(stories)
    try:
        assert con.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
    finally:
        con.close()
