"""The workstation as a whole: start-up, keys, help, the command palette."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Input, Static, TextArea

from tests.test_tui_support import make_app, queue_records, screen_text, settle

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic")


def test_importing_the_app_keeps_the_orm_out() -> None:
    code = (
        "import sys, agentdesk.tui.app, agentdesk.tui.screens.queue, agentdesk.tui.screens.customer, "
        "agentdesk.tui.screens.help\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parent.parent)
    assert result.stdout.strip() == "", f"imported before the first paint: {result.stdout}"


def _tui_classes() -> list[type[DOMNode]]:
    """Every widget and screen class defined in agentdesk.tui, found by walking the package."""
    import importlib
    import pkgutil

    import agentdesk.tui

    found = []
    for module_info in pkgutil.walk_packages(agentdesk.tui.__path__, "agentdesk.tui."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_binding_has_an_id_and_a_description() -> None:
    classes = _tui_classes()
    assert {"AgentDeskApp", "QueueScreen", "CustomerScreen", "HelpScreen", "TimelineView",
            "QueueList", "SearchResults", "EntryBody", "SearchInput", "DecisionBar", "AdjustScreen",
            "ApprovalsScreen"} <= {cls.__name__ for cls in classes}
    for cls in classes:
        own = [binding for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", []))]
        for binding in own:
            assert binding.id, f"{cls.__name__}: {binding.key} -> {binding.action} has no id"
            assert binding.description, f"{cls.__name__}: {binding.id} has no description"
            scope = binding.id.split(".")[0]
            assert scope in {"app", "screen", "queue", "search", "customer", "approvals", "prompt", "help",
                             "list", "pane", "notices", "floor", "knowledge"}, binding.id
        if issubclass(cls, (Input, TextArea)):
            continue  # Textual's Input and TextArea keep their own text-editing keys
        for _key, binding in cls._merged_bindings:
            assert binding.id and binding.description, f"{cls.__name__} inherits {binding} without id"


async def test_keyboard_only_flow_queue_customer_help_and_back(make_store) -> None:
    from agentdesk.tui.screens.customer import CustomerScreen
    from agentdesk.tui.screens.help import HelpScreen
    from agentdesk.tui.screens.queue import QueueScreen

    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        first = app.screen.queue.cursor_item
        assert first is not None and first.waiting.name == "Tobias Unruh"

        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.customer_id == "c-3"
        await app.screen.timeline.wait_painted()
        assert app.focused is app.screen.timeline

        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Jump to start" in text and "customer.jump_start" in text
        assert "Back to queue" in text and "customer.back" in text
        # tab reads the entry here (it moves into the detail pane), so it is not offered as "next area"
        assert "Nothing traps the keyboard here: shift+tab previous area · esc back to queue." in text
        assert "esc or q or ? or f1 closes" in text

        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, CustomerScreen)

        await pilot.press("enter")  # into the detail pane …
        await settle(app, pilot)
        assert app.focused is app.screen.detail
        await pilot.press("escape")  # … escape goes back to the timeline first …
        await settle(app, pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.focused is app.screen.timeline
        await pilot.press("escape")  # … then to the queue
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)

        await pilot.press("f1")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "queue.open" in screen_text(app)
        await pilot.press("q")  # q closes the help, it does not quit
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_help_is_generated_from_the_bindings_and_follows_the_keymap(make_store) -> None:
    from agentdesk.tui.screens.help import HelpScreen, binding_rows

    path = await make_store(queue_records())
    app = make_app(path)
    app.set_keymap({"customer.jump_start": "ctrl+home", "app.help": "f2"})
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await pilot.press("enter")
        await settle(app, pilot)
        customer = app.screen
        rows = binding_rows(customer)
        in_force = {active.binding.id for active in customer.active_bindings.values()
                    if active.binding.description}
        assert {row.binding_id for row in rows} == in_force
        jump = next(row for row in rows if row.binding_id == "customer.jump_start")
        assert jump.keys == [app.get_key_display(Binding("ctrl+home", "x"))]

        await pilot.press("f2")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-list", Static).render())  # all of it, also what is scrolled away
        for row in rows:
            assert row.description in text
            assert row.binding_id in text
        line = next(line for line in text.splitlines() if "customer.jump_start" in line)
        assert app.get_key_display(Binding("ctrl+home", "x")) in line
        assert "home, g" not in line

        # the remapped key works, the old one no longer does
        await pilot.press("escape")
        await settle(app, pilot)
        timeline = customer.timeline
        assert timeline.cursor == timeline.row_count - 1
        await pilot.press("home")
        await settle(app, pilot)
        assert timeline.cursor == timeline.row_count - 1
        await pilot.press("ctrl+home")
        await settle(app, pilot)
        assert timeline.cursor == 0


async def test_command_palette_offers_the_screens_actions(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        titles = {command.title: command for command in app.get_system_commands(app.screen)}
        assert {"Search", "Reload queue", "Open customer", "Help", "Quit", "Theme"} <= set(titles)
        assert "queue.search" in titles["Search"].help and "/" in titles["Search"].help

        await pilot.press("enter")
        await settle(app, pilot)
        titles = {command.title: command for command in app.get_system_commands(app.screen)}
        assert {"Jump to start", "Jump to end", "Back to queue", "Read entry"} <= set(titles)
        assert "customer.jump_start" in titles["Jump to start"].help

        # running one from the palette does what the key does
        await app.screen.timeline.wait_painted()
        await titles["Jump to start"].callback()
        await settle(app, pilot)
        assert app.screen.timeline.cursor == 0

        await pilot.press("ctrl+p")
        await settle(app, pilot)
        assert "CommandPalette" in type(app.screen).__name__


async def test_header_shows_person_role_and_read_only_badge(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path, read_only=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        floor = screen_text(app).splitlines()[0]
        assert "READ-ONLY" in floor and "Floor" in floor  # read-only starts on the floor, badge and all
        await pilot.press("escape")
        await settle(app, pilot)
        header = screen_text(app).splitlines()[0]
        assert "agentdesk" in header
        assert "Jonas Weber" in header and "agent" in header
        assert "READ-ONLY" in header
        assert "4 waiting" in header
        assert "Tue 14 Jul 14:00 CEST" in header  # the frozen clock, in the viewer's zone


async def test_no_agent_selected(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path, agent_id=None)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        header = screen_text(app).splitlines()[0]
        assert "no agent selected" in header
        assert "READ-ONLY" not in header


async def test_exit_after_first_paint_hook(make_store, monkeypatch: pytest.MonkeyPatch) -> None:
    path = await make_store(queue_records())
    monkeypatch.setenv("AGENTDESK_EXIT_AFTER_FIRST_PAINT", "1")
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await pilot.pause()
    assert app.queue_painted.is_set()
    assert app.return_code == 0


async def test_a_store_that_cannot_be_opened_exits_with_a_reason(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-store.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    app = make_app(bad)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
    assert app.return_code == 1


async def test_the_next_customer_replaces_the_last_one_on_the_reused_screen(make_store) -> None:
    from agentdesk.tui.screens.customer import CustomerScreen
    from agentdesk.tui.screens.queue import QueueScreen

    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        await pilot.press("enter")  # Tobias Unruh, first in the queue
        await settle(app, pilot)
        first_screen = app.screen
        await first_screen.timeline.wait_painted()
        await pilot.press("enter")  # leave the focus in the detail pane
        await settle(app, pilot)
        await pilot.press("escape", "escape")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)

        await pilot.press("down", "enter")  # Petra Lindner, second
        await settle(app, pilot)
        assert app.screen is first_screen and isinstance(app.screen, CustomerScreen)
        await app.screen.timeline.wait_painted()
        text = screen_text(app)
        assert "Petra Lindner" in text and "Still waiting" in text
        assert "Tobias" not in text and "Where is my refund" not in text
        assert app.screen.timeline.row_count == 2 and app.screen.timeline.cursor == 1
        assert app.focused is app.screen.timeline


async def test_a_read_only_workstation_reads_through_a_connection_that_refuses_writes(make_store) -> None:
    import sqlite3

    import pytest

    path = await make_store(queue_records())
    app = make_app(path, read_only=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        reader = await app.desk.wait_ready()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):  # even a bug here writes nothing
            await reader._db.execute("DELETE FROM customer")
        assert app.desk.ledger is None  # and there is no write path to begin with
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM customer").fetchone()[0] > 0
    finally:
        con.close()


async def test_an_unknown_agent_is_told_whom_as_can_name(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path, agent_id="lead")
    async with app.run_test(size=(140, 40)) as pilot:
        await app.queue_painted.wait()
        await settle(app, pilot)
        assert "no agent 'lead'" in screen_text(app).splitlines()[0]
        told = [n.message for n in app._notifications]
        assert any("--as takes one of: a-7 Jonas Weber (agent)" in message for message in told), told
