"""Every action by keyboard (WCAG 2.1.1, 2.1.2, 2.1.4): keys in force on every screen, remapped keys, no trap.

The workstation is driven only by key presses; which key to press is read from the
bindings in force, so the same walk runs with the default keys and with
``single_key_shortcuts = false``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from agentdesk.config import Settings, parse_settings
from agentdesk.tui.keymap import PLACES, declared_bindings, is_single_character, resolve_keymap
from tests.test_tui_approvals import LEAD, escalate_in, opened
from tests.test_tui_support import make_app, queue_records, screen_lines, screen_text, settle

NO_SINGLE_KEYS = parse_settings("single_key_shortcuts = false", "config.toml")

NOT_IN_FORCE_FOR_A_LEAD = {
    "customer.escalate": "the demo matrix gives a lead nobody to escalate to",
    "customer.undo": "in force only while a decision is pending (tested in test_tui_decisions)",
    "customer.send_now": "in force only while a decision is pending (tested in test_tui_decisions)",
}


async def press_action(app, pilot, binding_id: str) -> str:  # noqa: ANN001
    """Press the key in force for ``binding_id`` on the current screen; returns the key."""
    for key, active in app.screen.active_bindings.items():
        if active.binding.id == binding_id:
            await pilot.press(key)
            await settle(app, pilot)
            return key
    raise AssertionError(f"no key in force for {binding_id} on {type(app.screen).__name__}")


async def keys_in_force(app, pilot, place: str, *, single_keys: bool) -> dict[str, set[str]]:  # noqa: ANN001
    """Binding id → keys in force, over every place focus can go on the current screen (by tab alone).

    Also checks that the bindings found belong to the classes :data:`PLACES` names for ``place``,
    which the keymap's clash check relies on.
    """
    screen = app.screen
    owners: set[str] = set()
    found: dict[str, set[str]] = {}
    chain = list(screen.focus_chain)
    start = app.focused
    for _ in range(len(chain) or 1):
        focused = app.focused
        for key, active in screen.active_bindings.items():
            if isinstance(active.node, (Input, TextArea)) and not active.binding.id:
                continue  # Textual's own text-editing keys of an input field or text area
            assert active.binding.id, f"{key} -> {active.binding.action} on {type(active.node).__name__} has no id"
            found.setdefault(active.binding.id, set()).add(key)
            owners.add(type(active.node).__name__)
            if not single_keys and not isinstance(focused, (Input, TextArea)):
                assert not is_single_character(key), f"{key} ({active.binding.id}) types a character"
        if not chain:
            break
        await pilot.press("tab")
        await settle(app, pilot)
        assert app.screen is screen, "tab must move focus, never act"
    # No trap: tab went round and came back to where it started (WCAG 2.1.2).
    assert app.focused is start
    assert owners <= {name.partition(":")[2] for name in PLACES[place]}, owners
    return found


def expected(place: str) -> set[str]:
    return {bound.binding.id for bound in declared_bindings() if bound.place == place} - set(NOT_IN_FORCE_FOR_A_LEAD)


@pytest.mark.longest
@pytest.mark.parametrize("settings", [Settings(), NO_SINGLE_KEYS], ids=["default keys", "no single-key shortcuts"])
async def test_every_action_on_every_screen_has_a_key_in_force(make_store, settings: Settings) -> None:
    from agentdesk.tui.screens.adjust import AdjustScreen
    from agentdesk.tui.screens.approvals import ApprovalsScreen
    from agentdesk.tui.screens.contact import ContactScreen
    from agentdesk.tui.screens.customer import CustomerScreen
    from agentdesk.tui.screens.floor import FloorScreen
    from agentdesk.tui.screens.help import HelpScreen
    from agentdesk.tui.screens.knowledge import KnowledgeScreen
    from agentdesk.tui.screens.notices import NoticesScreen
    from agentdesk.tui.screens.prompt import PromptScreen
    from agentdesk.tui.screens.queue import QueueScreen
    from agentdesk.tui.screens.reply import ReplyScreen

    path = await make_store(queue_records())
    await escalate_in(path)
    single = settings.single_key_shortcuts
    app = make_app(path, agent_id=LEAD, keymap=resolve_keymap(settings))
    seen: dict[str, dict[str, set[str]]] = {place: {} for place in PLACES}

    def record(place: str, found: dict[str, set[str]]) -> None:
        for binding_id, keys in found.items():
            seen[place].setdefault(binding_id, set()).update(keys)

    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        record("the queue screen", await keys_in_force(app, pilot, "the queue screen", single_keys=single))
        await press_action(app, pilot, "queue.search")
        await pilot.press(*"Tobias")
        await settle(app, pilot)
        record("the queue screen", await keys_in_force(app, pilot, "the queue screen", single_keys=single))
        await press_action(app, pilot, "search.to_results")
        await press_action(app, pilot, "search.open")
        assert isinstance(app.screen, CustomerScreen)
        await app.screen.timeline.wait_painted()
        await press_action(app, pilot, "customer.read_entry")
        record("the customer screen", await keys_in_force(app, pilot, "the customer screen", single_keys=single))

        for binding_id, screen_type, place in [
            ("customer.adjust", AdjustScreen, "the adjust dialog"),
            ("customer.note", PromptScreen, "the question dialog"),
            ("customer.log_contact", ContactScreen, "the contact dialog"),
            ("customer.reply", ReplyScreen, "the reply editor"),
            ("customer.knowledge", KnowledgeScreen, "the knowledge screen"),
            ("app.help", HelpScreen, "the help screen"),
            ("app.notices", NoticesScreen, "the notices screen"),
        ]:
            await press_action(app, pilot, binding_id)
            await settle(app, pilot)  # the reply editor opens once its worker has read the customer
            assert isinstance(app.screen, screen_type), binding_id
            record(place, await keys_in_force(app, pilot, place, single_keys=single))
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, CustomerScreen), f"escape leaves {place}"

        if app.focused is not app.screen.timeline:
            await press_action(app, pilot, "customer.detail_back")
        await press_action(app, pilot, "customer.back")
        await press_action(app, pilot, "queue.approvals")
        assert isinstance(app.screen, ApprovalsScreen)
        record("the approvals screen", await keys_in_force(app, pilot, "the approvals screen", single_keys=single))
        await press_action(app, pilot, "approvals.back")
        await press_action(app, pilot, "queue.floor")
        await settle(app, pilot)
        assert isinstance(app.screen, FloorScreen)
        record("the floor screen", await keys_in_force(app, pilot, "the floor screen", single_keys=single))

    for place in PLACES:
        missing = expected(place) - set(seen[place])
        assert not missing, f"no key in force in {place} for {sorted(missing)}"


async def open_tobias(app, pilot) -> None:  # noqa: ANN001
    """Open Tobias Unruh (a case with 39.90 EUR disputed) from the queue, where he is first."""
    await opened(app, pilot)
    await press_action(app, pilot, "queue.open")
    await app.screen.timeline.wait_painted()
    await settle(app, pilot)


async def test_without_single_key_shortcuts_letters_do_nothing_and_chords_decide(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path, keymap=resolve_keymap(NO_SINGLE_KEYS), undo_window=None)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_tobias(app, pilot)
        bar = screen_text(app)
        assert "alt+r refund" in bar and "alt+v voucher 15.00 EUR" in bar and "alt+c callback" in bar
        assert "alt+e escalate" in bar and "alt+n note" in bar and "alt+a adjust" in bar
        assert "alt+q Quit" in screen_lines(app)[-1]

        await pilot.press("v", "c", "q")  # typed letters: nothing is decided, nothing quits
        await settle(app, pilot)
        assert await app.desk.ledger.pending("a-7") == []
        assert app.is_running

        await pilot.press("alt+v")
        await settle(app, pilot)
        pending = await app.desk.ledger.pending("a-7")
        assert [(decision.kind, str(decision.amount)) for decision in pending] == [("voucher", "15.00 EUR")]
        assert "alt+u undo" in screen_text(app) and "alt+s send now" in screen_text(app)

        await press_action(app, pilot, "app.help")
        text = screen_text(app)
        assert "alt+r" in text and "customer.refund" in text
        assert "f1" in text and "?" not in text.split("Keys in force")[1].split("\n")[0]


async def test_a_remapped_key_works_and_shows_everywhere_and_the_old_key_is_free(make_store) -> None:
    path = await make_store(queue_records())
    await escalate_in(path)
    settings = parse_settings('[keys]\ncustomer.voucher = "f5"\nqueue.approvals = "ctrl+a"\napp.help = "f2"\n',
                              "config.toml")
    app = make_app(path, agent_id=LEAD, keymap=resolve_keymap(settings), undo_window=None)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        assert "1 escalation waits for your approval · ^a to review" in screen_text(app)
        footer = screen_lines(app)[-1]
        assert "^a Approvals" in footer and "f2 Help" in footer

        await press_action(app, pilot, "queue.open")
        await app.screen.timeline.wait_painted()
        await settle(app, pilot)
        assert "f5 voucher 25.00 EUR" in screen_text(app)
        await pilot.press("v")
        await settle(app, pilot)
        assert await app.desk.ledger.pending(LEAD) == []
        await pilot.press("f5")
        await settle(app, pilot)
        assert [decision.kind for decision in await app.desk.ledger.pending(LEAD)] == ["voucher"]

        await pilot.press("f2")
        await settle(app, pilot)
        text = screen_text(app)
        assert "f5" in text and "customer.voucher" in text


@pytest.mark.parametrize(("keys", "complaint"), [
    ('customer.refnd = "f5"', "keys.customer.refnd: no key has this id"),
    ('customer.refund = "j"', "keys.customer.refund: 'j' is already the key of customer.cursor_down"),
    ('customer.refund = "ctrl+shoe"', "keys.customer.refund: 'ctrl+shoe': 'shoe' is not a key name"),
])
def test_a_bad_keymap_stops_the_start_in_one_line_naming_the_file(tmp_path: Path, keys: str, complaint: str) -> None:
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(f"[keys]\n{keys}\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "agentdesk", "demo", "--db", str(tmp_path / "demo.sqlite3")],
                            capture_output=True, text=True, timeout=60,
                            env={**__import__("os").environ, "AGENTDESK_CONFIG": str(config)})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"agentdesk: {config}: {complaint}"), result.stderr
    assert not (tmp_path / "demo.sqlite3").exists(), "the keymap is checked before the demo is built"


async def test_notices_stay_readable_after_their_notification_is_gone(make_store) -> None:
    """WCAG 2.2.1: a notification vanishes after seconds; the notices screen keeps it, in words."""
    from agentdesk.tui.screens.notices import NoticesScreen

    path = await make_store(queue_records())
    app = make_app(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await opened(app, pilot)
        app.notify("Callback due now: Petra Lindner", title="Callback", severity="warning", markup=False)
        app.notify("No customer [b]'x'[/b] in this store.", severity="error")
        app.clear_notifications()
        await settle(app, pilot)
        assert "Callback due now" not in screen_text(app)

        await press_action(app, pilot, "app.notices")
        assert isinstance(app.screen, NoticesScreen)
        lines = [line.strip(" │┃") for line in screen_lines(app)]
        errors = [line for line in lines if "ERROR" in line]
        warnings = [line for line in lines if "WARNING" in line]
        assert errors and errors[0].endswith("ERROR  No customer 'x' in this store.")
        assert warnings and "WARNING  Callback: Callback due now: Petra Lindner" in warnings[0]
        assert lines.index(errors[0]) < lines.index(warnings[0]), "newest first"
        assert "Recent notices · 2" in screen_text(app) and "esc or q closes" in screen_text(app)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, NoticesScreen)


async def test_quitting_with_a_decision_pending_warns_once_then_quits(make_store) -> None:
    path = await make_store(queue_records())
    app = make_app(path, undo_window=None)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await open_tobias(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        assert len(await app.desk.ledger.pending("a-7")) == 1
        await pilot.press("q")
        await settle(app, pilot)
        assert app.is_running
        assert "1 decision is still in the undo window and will be queued. Press q again to quit" in \
            app.notice_log.newest_first()[0].message
        await pilot.press("q")
        await settle(app, pilot)
    assert app.return_code == 0
