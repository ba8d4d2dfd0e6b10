"""The workstation's reply key: an editor saying to whom and where, the SMS length as you type, one key to
send, escape keeping a draft that outlives the app; read-only has no key."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import TextArea

from tests.smtp_server import plain_smtp_server  # noqa: F401 - fixture
from tests.test_tui_decisions import open_customer, press_and_paint, settle, stories  # noqa: F401 - fixture
from tests.test_tui_support import MovableClock, make_clocked_app, screen_text, widget_strips


def rows(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


async def test_m_writes_an_e_mail_that_lands_queued_on_the_timeline_and_in_the_outbox(stories: Path) -> None:
    from agentdesk.tui.screens.reply import ReplyScreen

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        await pilot.press("m")
        await settle(app, pilot)
        editor = app.screen
        assert isinstance(editor, ReplyScreen)
        shown = screen_text(app)
        assert "To Petra Lindner · e-mail to p.lindner@example.net · ^o for SMS" in shown
        assert "subject: Re: " in shown and "Jonas Weber" in shown
        await pilot.press("ctrl+s")  # nothing written: says so, stays open
        await pilot.pause()
        assert app.screen is editor and "the reply is empty" in screen_text(app)
        await pilot.press(*"Your eSIM is [bold]active[/bold] now.")
        await press_and_paint(app, pilot, screen, "ctrl+s")
        assert app.screen is screen
        found = [strip.text for strip in widget_strips(screen.timeline) if "[queued]" in strip.text]
        assert found and "▸ out" in found[0] and "email" in found[0] and "[queued] Your eSIM is [bold]" \
            in found[0]
        assert "QUEUED  reply by e-mail to p.lindner@example.net" in screen.decision_bar.plain
    (kind, body), = rows(stories, "SELECT kind, body FROM outbox")
    sent = json.loads(body)["interaction"]
    assert kind == "reply" and sent["body"].startswith("Your eSIM is [bold]active[/bold] now.\n\n-- \nJonas Weber\n")
    assert (sent["channel"], sent["to"], sent["delivery"]) == ("email", "p.lindner@example.net", "queued")


async def test_the_other_channel_counts_sms_parts_and_escape_keeps_a_draft_across_a_restart(stories: Path) -> None:
    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        await pilot.press("m")
        await settle(app, pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "SMS to +49 170 555 0199 · ^o for e-mail" in screen_text(app)
        assert "SMS: 1 part with the signature" in screen_text(app)
        await pilot.press(*"Grüße ")
        # pilot.press("😀") inserts nothing into a TextArea (seen with Textual 8): the emoji comes as a paste would
        app.screen.query_one(TextArea).insert("😀")
        await pilot.pause()
        assert "UCS-2" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen and "draft kept: m opens it again" in screen.decision_bar.plain
    assert rows(stories, "SELECT channel, text FROM reply_draft") == [("sms", "Grüße 😀")]
    assert rows(stories, "SELECT count(*) FROM outbox") == [(0,)]

    again = make_clocked_app(stories, MovableClock())
    async with again.run_test(size=(140, 40)) as pilot:
        await open_customer(again, pilot, "c-1001")
        await pilot.press("m")
        await settle(again, pilot)
        shown = screen_text(again)
        assert "your draft, as you left it" in shown and "Grüße 😀" in shown and "SMS to +49 170 555 0199" in shown


async def test_read_only_has_no_reply_key(stories: Path) -> None:
    read_only = make_clocked_app(stories, MovableClock(), read_only=True)
    async with read_only.run_test(size=(140, 40)) as pilot:
        screen = await open_customer(read_only, pilot, "c-1001")
        assert "Reply" not in screen_text(read_only)
        await pilot.press("m")
        await settle(read_only, pilot)
        assert read_only.screen is screen


async def test_ctrl_g_inserts_a_knowledge_article_into_the_reply(make_store, tmp_path: Path) -> None:
    from agentdesk.demo.build import DEMO_KNOWLEDGE
    from agentdesk.interchange.articles import import_folder
    from agentdesk.tui.screens.knowledge import KnowledgeScreen
    from agentdesk.tui.screens.reply import ReplyScreen, ReplyText
    from tests.test_tui_support import story_records

    path = await make_store(story_records())
    assert (await import_folder(DEMO_KNOWLEDGE, path)).refused == []
    app = make_clocked_app(path, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        await open_customer(app, pilot, "c-1005")
        await pilot.press("m")
        await settle(app, pilot)
        editor = app.screen
        assert isinstance(editor, ReplyScreen) and "^g inserts an article" in screen_text(app)
        await pilot.press(*"Hello Mr Brandes, ")
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        assert isinstance(app.screen, KnowledgeScreen)
        await pilot.press(*"mirror", "enter", "enter")  # two enters: to the articles found, then pick
        await settle(app, pilot)
        assert app.screen is editor
        text = editor.query_one(ReplyText).text
        # plain text, as the customer will read it: no Markdown heading, a paragraph on one line, list items kept
        # the article starts a paragraph of its own
        assert text.startswith("Hello Mr Brandes, \n\nA loose mirror housing is a breakdown under Camper Assistance "
                               "Plus, day or night.\n\n1. Ask where the vehicle stands right now")
        assert "#" not in text
        assert ("\n2. Ask whether the glass is intact and whether the driver can see behind the vehicle. Tape is a "
                "stop-gap for a few kilometres in daylight, not for a night drive: say so plainly.\n3. ") in text


@pytest.mark.parametrize("keys", ["default", "no single-key shortcuts"])
async def test_compose_switch_insert_send_and_see_sent_from_a_real_backend(make_store, tmp_path: Path,
                                                                           plain_smtp_server, keys: str) -> None:
    """The whole way, keyboard only: m, other channel and back, an article, ctrl+s; the backend (a real serve
    with an SMTP server on loopback) sends it and the timeline says sent."""
    from agentdesk.demo.build import DEMO_KNOWLEDGE
    from agentdesk.interchange.articles import import_folder
    from agentdesk.tui.keymap import resolve_keymap
    from agentdesk.tui.screens.knowledge import KnowledgeScreen
    from agentdesk.tui.screens.reply import ReplyScreen
    from tests.test_tui_keys import NO_SINGLE_KEYS
    from tests.test_tui_sync import Backend, make_app, records, until

    backend = Backend(tmp_path)
    channels = tmp_path / "channels.toml"
    channels.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {plain_smtp_server.port}\nsecurity = "none"\n'
                        'from = "service@example.com"\n', encoding="utf-8")
    backend.server.flags = ["--channels", str(channels)]
    backend.server.start()
    try:
        backend.seed(records())
        path = await make_store(records())
        assert (await import_folder(DEMO_KNOWLEDGE, path)).refused == []
        options = {"keymap": resolve_keymap(NO_SINGLE_KEYS)} if keys != "default" else {}
        app = make_app(path, backend.link(), **options)
        reply_key = "m" if keys == "default" else "alt+m"
        async with app.run_test(size=(140, 40)) as pilot:
            from tests.test_tui_sync import open_customer as open_synced

            screen = await open_synced(app, pilot, "c-1")
            await pilot.press(reply_key)
            await until(pilot, lambda: isinstance(app.screen, ReplyScreen))
            editor = app.screen
            await pilot.press("ctrl+o")
            await until(pilot, lambda: "SMS to +49 170 555 0199" in screen_text(app))
            await pilot.press("ctrl+o")
            await until(pilot, lambda: "e-mail to p.lindner@example.net" in screen_text(app))
            await pilot.press(*"Dear Ms Lindner, ", "ctrl+g")
            await until(pilot, lambda: isinstance(app.screen, KnowledgeScreen))
            await pilot.press(*"esim", "enter", "enter")
            await until(pilot, lambda: app.screen is editor)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.screen is screen)
            await until(pilot, lambda: any("[sent] Dear Ms Lindner" in strip.text
                                           for strip in widget_strips(screen.timeline)))
        (mail,) = plain_smtp_server.received
        # the article went in as a paragraph of its own
        assert mail.get_content().replace("\r\n", "\n").startswith("Dear Ms Lindner,\n\nWhen a physical SIM")
    finally:
        backend.server.stop()
