"""The customer screen: a 100,000-entry timeline, the detail pane, hostile customer text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_tui_decisions import stories  # noqa: F401 - fixture
from tests.test_tui_support import (
    BIG_ID,
    FIVE_MB_ID,
    HOSTILE_BODIES,
    HOSTILE_ID,
    big_records,
    build,
    hostile_records,
    make_app,
    queue_records,
    screen_lines,
    screen_text,
    segments,
    settle,
    widget_strips,
)

BIG_COUNT = 100_000
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(big_records(BIG_COUNT), tmp_path_factory.mktemp("big") / "big.sqlite3")


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(hostile_records(), tmp_path_factory.mktemp("hostile") / "hostile.sqlite3")


async def _open(app, pilot, customer_id: str):  # noqa: ANN001, ANN202
    from agentdesk.tui.messages import OpenCustomer
    from agentdesk.tui.screens.customer import CustomerScreen

    await app.queue_painted.wait()
    app.post_message(OpenCustomer(customer_id))
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, CustomerScreen)
    await screen.timeline.wait_painted()
    await pilot.pause()
    return screen


async def test_100k_timeline_opens_at_the_end_and_home_jumps_to_the_start(big_store: Path) -> None:
    app = make_app(big_store)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open(app, pilot, BIG_ID)
        timeline = screen.timeline
        assert timeline.row_count == BIG_COUNT
        assert timeline.cursor == BIG_COUNT - 1
        # line API: no widget per row, whatever the length of the history
        assert len(screen.query("*")) < 40
        assert not timeline.children
        # only the last page was read to paint the end
        assert timeline.fetch_calls == 1
        assert timeline.loaded_pages() == [(BIG_COUNT - 1) // timeline.page_size]

        lines = screen_lines(app)
        first, last = timeline.visible_range
        assert last == BIG_COUNT - 1
        assert f"Timeline · 100,000 entries · {first + 1:,}–100,000" in "\n".join(lines)
        newest = next(line for line in lines if "entry number 99999" in line)
        assert "▶" in newest
        assert "entry number 99998" in "\n".join(lines)
        assert "Entry 100,000 of 100,000" in "\n".join(lines)

        await pilot.press("home")
        await timeline.wait_painted()
        await pilot.pause()
        assert timeline.cursor == 0 and timeline.first_visible_row == 0
        assert timeline.fetch_calls == 2  # one more page, nothing else
        assert 0 in timeline.loaded_pages()
        text = screen_text(app)
        assert "entry number 0 " in text or text.count("entry number 0") >= 1
        row0 = next(line for line in screen_lines(app) if "▶" in line)
        assert "entry number 0" in row0 and "2015-01-01 09:00" in row0  # 08:00 UTC in Berlin
        assert "Timeline · 100,000 entries · 1–" in text

        await pilot.press("G")
        await timeline.wait_painted()
        assert timeline.cursor == BIG_COUNT - 1
        assert timeline.fetch_calls == 2  # the last page is still cached

        await pilot.press("pageup", "pageup", "up", "up")  # k opens the knowledge articles here
        await timeline.wait_painted()
        assert timeline.cursor < BIG_COUNT - 40
        assert "▶" in next(line for line in screen_lines(app) if f"entry number {timeline.cursor} " in line + " ")

        await pilot.press("g")
        await pilot.press("j", "down")
        await timeline.wait_painted()
        assert timeline.cursor == 2


async def test_jump_to_an_unloaded_page_shows_placeholders_then_rows(big_store: Path) -> None:
    from agentdesk.tui.widgets.line_list import PLACEHOLDER

    app = make_app(big_store)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open(app, pilot, BIG_ID)
        timeline = screen.timeline
        timeline.move_cursor(50_000)
        # before the page arrives the rows in view are placeholders, never stale data
        placeholder_rows = [strip.text for strip in widget_strips(timeline)]
        assert any(PLACEHOLDER in row for row in placeholder_rows)
        await settle(app, pilot)
        rows = [strip.text for strip in widget_strips(timeline)]
        assert any("entry number 50000" in row for row in rows)
        assert not any(row.strip().endswith(PLACEHOLDER) and "entry" not in row for row in rows[:10])


async def test_detail_pane_shows_the_selected_entry_in_full(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(app, pilot, "c-3")
        lines = screen_lines(app)
        text = "\n".join(lines)
        # the header: name, owner, channel preference, location, both local times
        assert "Tobias Unruh" in lines[1] and "owner Jonas Weber" in lines[1]
        assert "location Oakland, US" in text
        assert "their time Tue 05:00 America/Los_Angeles (PDT)" in text
        assert "your time Tue 14:00 CEST" in text
        # side panel: the case and the overdue promise, in words
        assert "Double charge in June" in text and "disputed 39.90 EUR" in text
        assert "OVERDUE  by 1 h 00 min" in text and "refund 39.90 EUR" in text

        # timeline rows: direction as symbol + word, channel word, author names for agent ids
        outbound = next(line for line in lines if "Promised a refund" in line)
        assert "▸ out" in outbound and "phone" in outbound and "Jonas Weber" in outbound
        inbound = next(line for line in lines if "Where is my refund?" in line)
        assert "◂ in" in inbound and "email" in inbound and "Tobias Unruh" in inbound
        internal = next(line for line in lines if "refund_requested" in line)
        assert "◆ internal" in internal and "refund_requested: Refund 39.90" in internal

        # a call: the detail header gives duration and wait in minutes, both time zones, the case
        # (up past the event and the refund decision's line: same minute, and the line's id sorts first)
        await pilot.press("up", "up", "up")
        await settle(app, pilot)
        text = screen_text(app)
        assert "phone  ·  outbound, to the customer  ·  by Jonas Weber  ·  call 9 min  ·  waited 15 min" in text
        assert "customer's time" in text and "case k-3" in text

        await pilot.press("down", "down")  # past the decision's line again
        await settle(app, pilot)
        assert "◆ internal event refund_requested" in screen_text(app)


async def test_hostile_text_is_shown_literally_and_never_styles_the_next_row(hostile_store: Path) -> None:
    app = make_app(hostile_store)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open(app, pilot, HOSTILE_ID)
        timeline = screen.timeline
        assert timeline.row_count == 2 * len(HOSTILE_BODIES) + 1

        strips = widget_strips(timeline)
        texts = [strip.text for strip in strips]
        joined = "\n".join(texts)
        shown = {
            "h-markup": "[bold]not bold[/bold] and [red]not red[/]",
            "h-link": "[link=http://x]click[/link] here",
            "h-bracket": "unbalanced [ bracket and [/ closing",
            "h-ansi": "␛[31mred␛[0m and ␛]8;;http://evil␇link␛]8;;␇",
            "h-bidi": "abc‹U+202E›evil‹U+202C› def",
            "h-zero": "zero‹U+200B›width",
        }
        for text in shown.values():  # literally, as far as the row has room
            assert text[:24] in joined, text
        assert "Lxxxx" in joined  # the 10,000-character line, cut to the row
        assert "[i]Mallory[/i]" in joined  # hostile author, literally

        # in full in the detail pane
        for row in range(timeline.row_count):
            entry = timeline.item_at(row)
            if entry.id in shown:
                timeline.move_cursor(row)
                await pilot.pause()
                assert "".join(screen.detail.plain_lines()) == shown[entry.id]
        timeline.move_cursor(timeline.row_count - 1)
        await settle(app, pilot)
        strips = widget_strips(timeline)
        texts = [strip.text for strip in strips]

        # no ESC, control or bidi character reaches the terminal, anywhere on screen
        for line in screen_lines(app):
            assert not CONTROL.search(line), repr(line)
        for strip in strips:
            for segment in segments(strip):
                assert not CONTROL.search(segment.text), repr(segment.text)
                assert segment.style is None or segment.style.link is None

        # the plain row after each hostile one is styled exactly like a plain row after a plain one
        def signature(strip):  # noqa: ANN001, ANN202
            return [(segment.style.color, segment.style.bgcolor, segment.style.bold, segment.style.italic,
                     segment.style.underline, segment.style.reverse, segment.style.link)
                    for segment in segments(strip) if segment.style is not None]

        plain_rows = [i for i, text in enumerate(texts) if "plain after" in text and "▶" not in text]
        assert len(plain_rows) == len(HOSTILE_BODIES)
        reference = signature(strips[plain_rows[0]])
        for index in plain_rows:
            assert signature(strips[index]) == reference, texts[index]
        for index in plain_rows:
            hostile = strips[index - 1]
            for segment in segments(hostile):
                if segment.style is not None:
                    assert not segment.style.blink and segment.style.link is None

        # the header shows the hostile name literally too
        text = screen_text(app)
        assert "[bold]Mallory[/bold] ␛[31mO'Hostile‹U+202E›" in text
        assert "[link=http://x]Nowhere[/link]" in text


async def test_five_megabyte_body_opens_and_scrolls_in_the_detail_pane(hostile_store: Path) -> None:
    from agentdesk.tui.widgets.text_pane import PREVIEW_LINES

    app = make_app(hostile_store)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await _open(app, pilot, HOSTILE_ID)
        timeline = screen.timeline
        assert timeline.cursor_item.id == FIVE_MB_ID
        detail = screen.detail
        await settle(app, pilot)
        assert not detail.wrapping
        assert detail.line_count > PREVIEW_LINES
        head = [strip.text for strip in widget_strips(detail)]
        assert head[0].startswith("[bold]five megabytes[/bold] of text ␛[1m")
        for line in screen_lines(app):
            assert not CONTROL.search(line), repr(line)

        await pilot.press("enter")
        assert app.focused is detail
        await pilot.press("end")
        await pilot.pause()
        tail = [strip.text for strip in widget_strips(detail)]
        assert any(text.strip() for text in tail)
        assert detail.scroll_offset.y == detail.max_scroll_y > 1000
        await pilot.press("home")
        await pilot.pause()
        assert detail.scroll_offset.y == 0

        # the 10,000-character line wraps to the pane, nothing is lost
        await pilot.press("escape")
        long_row = next(row for row in range(timeline.row_count) if timeline.item_at(row).id == "h-long")
        timeline.move_cursor(long_row)
        await settle(app, pilot)
        lines = detail.plain_lines()
        width = detail.scrollable_content_region.width
        assert "".join(lines) == HOSTILE_BODIES["h-long"]
        assert all(len(line) <= width for line in lines)


def test_wrapping_is_cell_width_aware() -> None:
    from rich.cells import cell_len

    from agentdesk.tui.widgets.text_pane import wrap_spans

    text = "日本語のテキスト " * 20 + "\n" + "word " * 30 + "\n\nlast"
    spans = wrap_spans(text, 17)
    lines = [text[start:end] for start, end in spans]
    assert all(cell_len(line) <= 17 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert lines[-1] == "last" and lines[-2] == ""


async def test_at_80_columns_a_row_of_another_year_shows_its_year(stories) -> None:  # noqa: ANN001
    from tests.test_tui_decisions import open_customer
    from tests.test_tui_support import MovableClock, make_clocked_app, widget_strips

    app = make_clocked_app(stories, MovableClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, "c-1001")
        timeline = screen.timeline
        this_year = app.desk.viewer_now().year
        rows = [timeline.item_at(row) for row in range(timeline.row_count)]
        older = next(entry for entry in rows if entry is not None and entry.at.year < this_year)
        current = next(entry for entry in rows if entry is not None and entry.at.year == this_year)
        assert timeline._when(older, 11) == app.desk.to_viewer(older.at).strftime("%Y-%m-%d")
        assert timeline._when(current, 11) == app.desk.to_viewer(current.at).strftime("%m-%d %H:%M")
        await pilot.press("home")
        await pilot.pause()
        shown = "\n".join(strip.text for strip in widget_strips(timeline))
        assert app.desk.to_viewer(older.at).strftime("%Y-%m-%d") in shown


async def test_a_pause_of_more_than_a_day_between_rows_is_said_on_the_later_row(make_store) -> None:
    from tests.test_tui_support import ago, people

    customer = {"type": "customer", "id": "c-1", "name": "Petra Lindner", "timezone": "Europe/Berlin"}
    said = [("i-a", 1200 * 24, "letter", "in", "Letter."),
            ("i-b", 14 * 24 + 2, "chat", "in", "Hello."),
            ("i-c", 14 * 24 + 1, "chat", "out", "Hi."),
            ("i-d", 1, "sms", "in", "There?")]
    records = [*people(), customer, *(
        {"type": "interaction", "id": ident, "customer": "c-1", "channel": channel, "direction": direction,
         "at": ago(hours=hours), "author": "a-7" if direction == "out" else "Petra Lindner", "body": body}
        for ident, hours, channel, direction, body in said)]
    app = make_app(await make_store(records))
    async with app.run_test(size=(80, 24)) as pilot:
        from agentdesk.tui.messages import OpenCustomer

        await app.queue_painted.wait()
        app.post_message(OpenCustomer("c-1"))
        await settle(app, pilot)
        timeline = app.screen.timeline
        await timeline.wait_painted()
        rows = {body: strip.text for strip in widget_strips(timeline) for *_, body in said if body in strip.text}
        assert "later" not in rows["Letter."]  # the first row has nothing before it
        assert "— 3 years later — Hello." in rows["Hello."]
        assert "later" not in rows["Hi."]  # an hour after the row above
        assert "— 14 days later — There?" in rows["There?"]


def test_a_pause_in_words() -> None:
    from datetime import timedelta

    from agentdesk.domain.timefmt import later

    assert later(timedelta(days=1, hours=3)) == "1 day later"
    assert later(timedelta(days=59)) == "59 days later"
    assert later(timedelta(days=75)) == "2 months later"
    assert later(timedelta(days=400)) == "1 year later"
    assert later(timedelta(days=3700)) == "10 years later"
