"""The queue screen: fair order with reasons, search by name, e-mail and phone."""

from __future__ import annotations

import pytest

from tests.test_tui_support import make_app, people, queue_records, screen_lines, screen_text, settle

ORDER = ["Tobias Unruh", "Petra Lindner", "Ole Brandt", "Aylin Demir"]


def _row(lines: list[str], name: str) -> str:
    return next(line for line in lines if name in line)


async def test_fair_order_channels_deadlines_and_reasons_are_visible(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        lines = screen_lines(app)
        positions = [next(i for i, line in enumerate(lines) if name in line) for name in ORDER]
        assert positions == sorted(positions), "rows are not in fair order"
        assert "Ingrid Holm" not in screen_text(app)  # answered, not waiting

        header = next(line for line in lines if "Customer" in line and "Why this place" in line)
        assert "Waiting on" in header and "Waited" in header and "Nearest deadline" in header

        tobias = _row(lines, "Tobias Unruh")
        assert "▶" in tobias  # the cursor is marked by a symbol, not only by colour
        assert "1" in tobias.split("Tobias")[0]
        assert "email" in tobias and "20 min" in tobias
        assert "! overdue by 1 h 00 min" in tobias
        assert "refund 39.90 EUR overdue" in tobias

        petra = _row(lines, "Petra Lindner")
        assert "chat+sms" in petra and "3 h 00 min" in petra and "longest wait first" in petra
        ole = _row(lines, "Ole Brandt")
        assert "phone" in ole and "no service at all +2 h 00 min" in ole
        assert "!" not in ole  # no deadline: no overdue marker

        # the full reason of the selected customer is spelled out under the list
        expected = "#1 Tobias Unruh — e-mail 20 min; refund 39.90 EUR overdue by 1 h 00 min +3 h 00 min"
        assert expected in "\n".join(lines)

        await pilot.press("down")
        await settle(app, pilot)
        assert app.screen.queue.cursor_item.waiting.name == "Petra Lindner"
        await pilot.press("G")
        assert app.screen.queue.cursor_item.waiting.name == "Aylin Demir"
        await pilot.press("g")
        assert app.screen.queue.cursor_item.waiting.name == "Tobias Unruh"
        await pilot.press("end")
        await pilot.press("k")
        assert app.screen.queue.cursor_item.waiting.name == "Ole Brandt"


async def test_queue_usable_at_80_by_24(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        lines = screen_lines(app)
        assert all(len(line) <= 80 for line in lines)
        tobias = _row(lines, "Tobias Unruh")
        assert "email" in tobias and "! overdue by 1 h 00 min" in tobias
        assert any("Open customer" in line for line in lines)  # the footer still shows the keys


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_the_selected_customers_whole_reason_is_readable_at_any_width(make_store, size) -> None:
    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=size) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        region = app.screen.query_one("#why").region
        below = " ".join(line.strip() for line in screen_lines(app)[region.y:region.bottom] if line.strip())
        assert below == "#1 Tobias Unruh — e-mail 20 min; refund 39.90 EUR overdue by 1 h 00 min +3 h 00 min"
        queue_bottom = app.screen.queue.region.bottom
        await pilot.press("down", "down")
        await settle(app, pilot)
        below = " ".join(line.strip() for line in screen_lines(app)[region.y:region.bottom] if line.strip())
        assert below.startswith("#3 Ole Brandt — ") and "no service at all +2 h 00 min" in below
        assert app.screen.queue.region.bottom == queue_bottom  # the list keeps its height as the cursor moves


async def test_reload_keeps_the_cursor_on_the_same_customer(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await pilot.press("down", "down")
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert app.screen.queue.cursor_item.waiting.name == "Ole Brandt"


async def test_empty_queue_says_so(make_store) -> None:
    path = await make_store(people())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        text = screen_text(app)
        assert "Nobody is waiting right now" in text
        assert "0 waiting" in text
        await pilot.press("enter", "down", "home", "end", "pagedown")  # nothing to open, nothing breaks
        await settle(app, pilot)


@pytest.mark.parametrize(("query", "expected"), [
    ("Ingrid", "c-5"),                      # by name, someone who is not waiting
    ("ole@EXAMPLE.org", "c-2"),             # by e-mail, any case
    ("+49 30 555-0177", "c-4"),             # by phone, written differently
    ("555 0142", "c-3"),                    # by part of a phone number
])
async def test_search_then_enter_opens_that_customer(make_store, query: str, expected: str) -> None:
    from agentdesk.tui.screens.customer import CustomerScreen
    from agentdesk.tui.screens.queue import QueueScreen

    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        await pilot.press("slash")
        screen = app.screen
        assert isinstance(screen, QueueScreen) and screen.searching
        assert app.focused is screen.search_input
        await pilot.press(*query)
        await pilot.press("down")  # runs the search now (no waiting for the debounce) and moves to the results
        await settle(app, pilot)
        assert app.focused is screen.results
        hit = screen.results.cursor_item
        assert hit is not None and hit.customer.id == expected
        text = screen_text(app)
        assert "In queue" in text and "E-mail" in text and "Phone" in text
        assert ("● waiting" if expected != "c-5" else "not waiting") in text
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.customer_id == expected


async def test_search_debounces_typing_and_escape_returns_to_the_queue(make_store) -> None:
    from agentdesk.tui.screens.queue import QueueScreen

    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await pilot.press("slash", *"Lindner")
        assert screen.results.cursor_item is None  # typing is debounced …
        await app.workers.wait_for_complete()  # … inside the search worker, so this waits for it
        await pilot.pause()
        hit = screen.results.cursor_item
        assert hit is not None and hit.customer.name == "Petra Lindner"
        assert "Petra Lindner" in screen_text(app)

        await pilot.press("tab")  # tab also goes to the results
        assert app.focused is screen.results
        await pilot.press("up")  # up on the first result goes back to the field
        assert app.focused is screen.search_input

        await pilot.press("escape")
        await settle(app, pilot)
        assert not screen.searching
        assert app.focused is screen.queue
        assert "Tobias Unruh" in screen_text(app)

        # enter in the field opens the first result of what was typed
        await pilot.press("slash", *"holm", "enter")
        await settle(app, pilot)
        assert getattr(app.screen, "customer_id", None) == "c-5"


async def test_search_with_no_match_says_so(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await pilot.press("slash", *"zzzz", "down")
        await settle(app, pilot)
        assert "No customer matches 'zzzz'." in screen_text(app)
        await pilot.press("enter")  # nothing to open
        await settle(app, pilot)
        assert app.screen.searching


async def test_enter_right_after_down_opens_the_first_hit_once_it_arrives(make_store) -> None:
    """As a script would type it: no waiting between keys."""
    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await pilot.press("slash", *"Aylin", "down", "enter")
        await settle(app, pilot)
        assert getattr(app.screen, "customer_id", None) == "c-4"


async def test_back_from_a_customer_found_by_search_slash_goes_to_the_search_box_not_into_it(make_store) -> None:
    from agentdesk.tui.screens.customer import CustomerScreen
    from agentdesk.tui.screens.queue import QueueScreen

    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await pilot.press("slash", *"Petra")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CustomerScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and app.focused is not queue.search_input
        await pilot.press("slash")
        await settle(app, pilot)
        assert app.focused is queue.search_input and "/" not in queue.search_input.value
