"""Focus is always visible (WCAG 2.4.7, 1.4.11) and the terminal's cursor follows it.

On every screen, in every theme, tab visits every area that takes focus; each one
looks different with focus than without it in what is drawn, not only in colour
(a heavy frame ``┏━┓`` instead of ``╭─╮``, or a ``▶``), and the cells that change
have at least 3:1 against what is behind them.

The terminal's own cursor (hidden by Textual, but moved after every update, and
followed by screen readers, braille displays and magnifiers) sits on the cursor
row of the focused list, and on the top line of the text pane.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widget import Widget

from agentdesk.tui.themes import THEMES, contrast_ratio
from tests.test_tui_support import MovableClock, build, make_clocked_app, screen_lines, screen_text, story_records
from tests.test_tui_themes import (
    GRAPHIC_RATIO,
    SIZE,
    cells,
    copy_store,
    escalate_for_the_lead,
    open_customer,
    opened,
    settle,
)

LEAD = "a-2"  # Markus Brandt: decides (higher limits) and approves, so every screen is reachable


@pytest.fixture(scope="module")
def built_stories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(story_records(), tmp_path_factory.mktemp("focus") / "stories.sqlite3")


@pytest.fixture
def stories(built_stories: Path, tmp_path: Path) -> Path:
    """A fresh copy for each test: an escalation taken in one does not show in the next."""
    return copy_store(built_stories, tmp_path)


def drawn(app, widget: Widget) -> dict[tuple[int, int], object]:  # noqa: ANN001
    """The cells of ``widget``'s region as drawn now; one cell more all round when its frame is its container's."""
    region = widget.region
    if not any(edge for edge, _color in widget.styles.border):
        region = region.grow((1, 1, 1, 1))
    return {(cell.x, cell.y): cell for cell in cells(app) if region.contains(cell.x, cell.y)}


async def places(app, pilot) -> AsyncIterator[str]:  # noqa: ANN001
    """Every screen, and the queue with its search open; yields the name of each."""
    await opened(app, pilot)
    yield "queue"
    await pilot.press("slash", *"Lind")
    await settle(app, pilot)
    yield "queue, searching"
    await pilot.press("escape", "escape")
    await settle(app, pilot)
    await pilot.press("w")
    await settle(app, pilot)
    yield "approvals"
    await pilot.press("escape")
    await settle(app, pilot)
    await open_customer(app, pilot, "c-1001")
    yield "customer"
    await pilot.press("a")
    await settle(app, pilot)
    yield "adjust dialog"
    await pilot.press("escape")
    await settle(app, pilot)
    app.screen.timeline.focus()
    await pilot.pause()
    await pilot.press("n")
    await settle(app, pilot)
    yield "prompt dialog"
    await pilot.press("escape")
    await settle(app, pilot)
    await pilot.press("question_mark")
    await settle(app, pilot)
    yield "help"
    await pilot.press("escape")
    await settle(app, pilot)
    app.notify("Queue reloaded.")
    await pilot.press("ctrl+n")
    await settle(app, pilot)
    yield "notices"
    await pilot.press("escape")
    await settle(app, pilot)


async def tab_through(app, pilot) -> list[Widget]:  # noqa: ANN001
    """Press tab until focus comes round again; the widgets it visited, in order."""
    visited: list[Widget] = [app.focused] if app.focused is not None else []
    for _ in range(len(app.screen.focus_chain) + 2):
        await pilot.press("tab")
        await settle(app, pilot)
        if app.focused is not None and app.focused not in visited:
            visited.append(app.focused)
    return visited


@pytest.mark.longest
@pytest.mark.parametrize("theme", list(THEMES))
async def test_every_focusable_area_shows_focus_in_shape_with_3_to_1(stories: Path, theme: str) -> None:
    await escalate_for_the_lead(stories)
    app = make_clocked_app(stories, MovableClock(), agent_id=LEAD, theme=theme)
    problems: list[str] = []
    checked: dict[str, list[str]] = {}
    async with app.run_test(size=SIZE) as pilot:
        async for place in places(app, pilot):
            chain = list(app.screen.focus_chain)
            assert chain, f"{place}: nothing takes focus"
            visited = await tab_through(app, pilot)
            if set(visited) != set(chain):
                problems.append(f"{place}: tab visits {visited}, the focus chain is {chain}")
            checked[place] = [repr(widget) for widget in chain]
            for widget in chain:
                widget.focus()
                await settle(app, pilot)
                with_focus = drawn(app, widget)
                app.screen.set_focus(None)  # nothing else changes with it
                await settle(app, pilot)
                without = drawn(app, widget)
                changed = [cell for key, cell in with_focus.items()
                           if key in without and cell.char != without[key].char]
                if not changed:
                    problems.append(f"{place}: {widget!r} looks the same with and without focus but for colour")
                    continue
                marks = [cell for cell in changed if not cell.char.isspace()]
                worst = min(contrast_ratio(cell.fg, cell.bg) for cell in marks)
                if worst < GRAPHIC_RATIO:
                    problems.append(f"{place}: {widget!r}'s focus mark has {worst:.2f}:1 against its background")
    assert {"queue", "queue, searching", "approvals", "customer", "adjust dialog", "prompt dialog",
            "help"} <= set(checked), checked
    assert not problems, problems


# --------------------------------------------------------------------------- the terminal's cursor


def cursor_on_marker(app) -> str:  # noqa: ANN001
    """The screen line from the terminal cursor on (it must start with the cursor row's ``▶``)."""
    x, y = app.cursor_position
    return screen_lines(app)[y][x:]


async def test_the_terminal_cursor_sits_on_the_cursor_row_of_the_focused_list(stories: Path) -> None:
    await escalate_for_the_lead(stories)
    app = make_clocked_app(stories, MovableClock(), agent_id=LEAD)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app, pilot)
        queue = app.screen.queue
        for keys in ((), ("down",), ("down", "down"), ("up",), ("end",), ("home",), ("pagedown",)):
            await pilot.press(*keys)
            await pilot.pause()
            line = cursor_on_marker(app)
            assert line.startswith("▶"), (keys, line)
            place = queue.cursor_item
            assert place is not None and place.waiting.name[:10] in line, (keys, line)

        await pilot.press("slash", *"Lind")
        await settle(app, pilot)
        await pilot.press("down")  # into the results
        await settle(app, pilot)
        assert app.focused is app.screen.results
        assert cursor_on_marker(app).startswith("▶ Petra Lindner")

        await pilot.press("escape", "escape", "w")
        await settle(app, pilot)
        assert cursor_on_marker(app).startswith("▶ Petra Lindner")  # the escalation waiting for approval
        await pilot.press("escape")
        await settle(app, pilot)

        screen = await open_customer(app, pilot, "c-1001")
        timeline = screen.timeline
        for keys in ((), ("up",), ("up", "up"), ("home",), ("down",), ("end",), ("pageup",)):
            await pilot.press(*keys)
            await asyncio.wait_for(timeline.wait_painted(), 10)
            await pilot.pause()
            line = cursor_on_marker(app)
            assert line.startswith("▶ "), (keys, line)
            entry = timeline.cursor_item
            assert entry is not None and entry.at.astimezone(app.desk.viewer_zone).strftime("%Y-%m-%d %H:%M") in line

        # the text pane: the cursor on its top line in view, as it scrolls
        await pilot.press("end", "enter")
        await settle(app, pilot)
        pane = screen.detail
        assert app.focused is pane
        for keys in ((), ("down",), ("pagedown",), ("home",)):
            await pilot.press(*keys)
            await pilot.pause()
            x, y = app.cursor_position
            region = pane.scrollable_content_region
            assert (x, y) == (region.x, region.y), keys
            top = pane.plain_lines()[int(pane.scroll_offset.y)]
            assert screen_lines(app)[y][x:].startswith(top[:20]), (keys, top)

        # back on the timeline: the cursor goes back to its row
        await pilot.press("escape")
        await pilot.pause()
        assert cursor_on_marker(app).startswith("▶ ")
        assert "Timeline" in screen_text(app)
