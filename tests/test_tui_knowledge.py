"""Knowledge articles in the workstation: the side panel's articles for the open cases, ``k`` to search and
read them, and another screen picking one (what the reply editor inserts). Pilot on real store files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rich.text import Text

from agentdesk.demo.build import DEMO_KNOWLEDGE
from agentdesk.interchange.articles import import_folder
from agentdesk.tui.keymap import resolve_keymap
from tests.test_tui_decisions import WAIT, open_customer
from tests.test_tui_keys import NO_SINGLE_KEYS
from tests.test_tui_support import MovableClock, make_clocked_app, screen_text, settle, story_records

HOSTILE = ("---\ntitle: 'Mirror [bold]markup[/bold] test'\ntags: [mirror]\n---\n"
           "\x1b[31mred\x1b[0m [link=x]click[/link]\n")


@pytest.fixture
async def stories(make_store, tmp_path: Path) -> Path:
    """The demo's stories, the demo's articles, and one article whose text looks like markup."""
    path = await make_store(story_records())
    assert (await import_folder(DEMO_KNOWLEDGE, path)).refused == []
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    assert (await import_folder(folder, path)).refused == []
    return path


async def test_the_side_panel_lists_the_articles_for_the_open_case(stories: Path) -> None:
    from agentdesk.tui.widgets.knowledge_panel import KnowledgePanel

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(160, 70)) as pilot:
        screen = await open_customer(app, pilot, "c-1005")  # the camper van's mirror, story 5
        await settle(app, pilot)
        panel = screen.query_one(KnowledgePanel)
        found = [article.id for article in panel.articles]
        assert found[0] == "camper-mirror" and "callbacks-at-night" in found  # its product and its subject
        assert panel.border_title == f"Articles · {len(panel.articles)}"
        shown = panel.content
        assert isinstance(shown, Text)  # plain text, never markup
        assert shown.plain.splitlines()[0] == ("Camper mirror loose or broken on the road — A loose mirror housing "
                                               "is a breakdown under Camper Assistance Plus, day or night.")
        assert shown.plain.splitlines()[-1] == "k searches every article"
        screen.query_one("#side").scroll_end(animate=False)
        await pilot.pause()
        assert "Articles · " in screen_text(app)
        await open_customer(app, pilot, "c-1001")  # the eSIM story: the panel follows the customer
        await settle(app, pilot)
        assert [article.id for article in panel.articles] == ["esim-reactivation"]


async def test_k_searches_reads_an_article_as_literal_text_and_escape_closes(stories: Path) -> None:
    from agentdesk.tui.screens.knowledge import ArticleBody, ArticleList, KnowledgeQuery, KnowledgeScreen

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        customer = await open_customer(app, pilot, "c-1005")
        await pilot.press("k")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, KnowledgeScreen)
        assert isinstance(app.focused, KnowledgeQuery)
        results = screen.query_one(ArticleList)
        assert results.row_count == 6 and results.border_title == "Every article"
        assert "↓ to the articles · esc closes" in screen_text(app)  # the keys in force, as the keymap has them
        await pilot.press(*'"mirr" -')  # quotes and a minus are no syntax: the word is mirr
        await settle(app, pilot)
        assert screen.shown_query == '"mirr" -'
        found = [results.item_at(row).id for row in range(results.row_count)]
        assert sorted(found) == ["camper-mirror", "hostile"]
        assert "Camper mirror loose or broken on the road" in screen_text(app)
        await pilot.press("tab", *["down"] * found.index("hostile"), "enter")  # to the results; read the hostile one
        await settle(app, pilot)
        body = screen.query_one(ArticleBody)
        assert app.focused is body
        lines = body.plain_lines()
        assert lines[0] == "Mirror [bold]markup[/bold] test"
        assert "␛[31mred␛[0m [link=x]click[/link]" in lines  # customer-facing text is data, never markup
        assert "[link=x]click[/link]" in screen_text(app)
        assert "esc back to the list" in screen_text(app)
        await pilot.press("escape")  # from the article back to the list
        await settle(app, pilot)
        assert app.focused is results and app.screen is screen
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is customer


async def test_another_screen_picks_an_article_and_gets_its_text(stories: Path) -> None:
    from agentdesk.tui.screens.knowledge import KnowledgeScreen

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(140, 40)) as pilot:
        customer = await open_customer(app, pilot, "c-1005")
        picked: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        app.push_screen(KnowledgeScreen(app.desk, pick=True, query="night callback"), picked.set_result)
        await settle(app, pilot)
        assert "Pick an article to insert" in screen_text(app)
        await pilot.press("enter", "enter")  # the search field hands over to the results; enter picks
        text = await asyncio.wait_for(picked, WAIT)
        assert text is not None and text.startswith("A 24/7 promise means the callback happens when the customer "
                                                     "needs it, not when the office opens.\n\n- A callback is")
        assert "#" not in text
        await settle(app, pilot)
        assert app.screen is customer
        nothing: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        app.push_screen(KnowledgeScreen(app.desk, pick=True), nothing.set_result)
        await settle(app, pilot)
        await pilot.press("escape")
        assert await asyncio.wait_for(nothing, WAIT) is None


async def test_without_single_key_shortcuts_a_chord_opens_the_articles(stories: Path) -> None:
    from agentdesk.tui.screens.knowledge import KnowledgeScreen

    app = make_clocked_app(stories, MovableClock(), keymap=resolve_keymap(NO_SINGLE_KEYS))
    async with app.run_test(size=(140, 40)) as pilot:
        customer = await open_customer(app, pilot, "c-1005")
        await pilot.press("k")
        await settle(app, pilot)
        assert app.screen is customer
        await pilot.press("alt+k")
        await settle(app, pilot)
        assert isinstance(app.screen, KnowledgeScreen)
        await pilot.press(*"kassel")  # letters type into the search field
        await settle(app, pilot)
        assert app.screen.shown_query == "kassel"


async def test_two_quick_enters_after_the_words_pick_the_first_article(stories: Path) -> None:
    """Both enters arrive before the focus has moved to the articles (typed quickly, or pasted): still two."""
    from textual.widgets import Input

    from agentdesk.tui.screens.knowledge import KnowledgeQuery, KnowledgeScreen

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_customer(app, pilot, "c-1005")
        picked: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        app.push_screen(KnowledgeScreen(app.desk, pick=True), picked.set_result)
        await settle(app, pilot)
        await pilot.press(*"night callback")
        field = app.screen.query_one(KnowledgeQuery)
        for _ in range(2):  # both enters queued before either is handled
            field.post_message(Input.Submitted(field, field.value))
        text = await asyncio.wait_for(picked, WAIT)
        assert text is not None and text.startswith("A 24/7 promise means the callback happens")
