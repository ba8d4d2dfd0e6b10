"""The keymap: the settings' ``[keys]`` and ``single_key_shortcuts`` resolved against every binding."""

from __future__ import annotations

import pytest

from agentdesk.config import parse_settings
from agentdesk.tui.keymap import (
    KeymapError,
    chord_for,
    declared_bindings,
    is_single_character,
    key_problem,
    normalise_key,
    resolve_keymap,
)


def resolve(text: str) -> dict[str, str]:
    return resolve_keymap(parse_settings(text, "/home/u/.config/agentdesk/config.toml"))


def test_no_remapping_is_an_empty_keymap() -> None:
    assert resolve("") == {}


@pytest.mark.parametrize(("typed", "key"), [
    ("?", "question_mark"), ("/", "slash"), ("F5", "f5"), ("Ctrl+R", "ctrl+r"), ("G", "G"), ("alt+x", "alt+x"),
    (" pageup ", "pageup"), ("ctrl+/", "ctrl+slash"),
])
def test_keys_are_read_as_textual_names_them(typed: str, key: str) -> None:
    assert normalise_key(typed) == key
    assert key_problem(key) is None


@pytest.mark.parametrize(("key", "problem"), [
    ("ctrl+shoe", "'shoe' is not a key name"),
    ("cmd+r", "'cmd' is not a modifier"),
    ("ctrl+ctrl+r", "a modifier is named twice"),
])
def test_keys_textual_would_never_deliver_are_named(key: str, problem: str) -> None:
    assert problem in (key_problem(key) or "")


@pytest.mark.parametrize(("key", "single"), [
    ("r", True), ("G", True), ("shift+d", True), ("slash", True), ("question_mark", True), ("space", True),
    ("alt+r", False), ("ctrl+f", False), ("f1", False), ("enter", False), ("escape", False), ("tab", False),
    ("pagedown", False),
])
def test_which_keys_type_a_character(key: str, single: bool) -> None:
    assert is_single_character(key) is single


def test_chords_stand_in_for_letters_and_the_slash() -> None:
    assert [chord_for(key) for key in ("r", "D", "shift+d", "slash")] == ["alt+r", "alt+shift+d", "alt+shift+d",
                                                                        "ctrl+f"]
    with pytest.raises(KeymapError, match="no chord stands in for the one-character key 'comma'"):
        chord_for("comma")


def test_remapping_by_id_replaces_the_keys_of_that_id() -> None:
    assert resolve('[keys]\n"customer.refund" = "F5"\ncustomer.voucher = ["f6", "ctrl+v"]\n') == {
        "customer.refund": "f5", "customer.voucher": "f6,ctrl+v"}


def test_keeping_a_default_key_is_no_clash() -> None:
    assert resolve('[keys]\ncustomer.refund = "r"\n') == {"customer.refund": "r"}


@pytest.mark.parametrize(("keys", "message"), [
    ('customer.refnd = "f5"',
     "keys.customer.refnd: no key has this id (the help screen, ? or f1, lists every id)"),
    ('customer.refund = "j"',
     "keys.customer.refund: 'j' is already the key of customer.cursor_down (Next entry) on the customer "
     "screen; give one of them another key"),
    ('customer.refund = "f5"\ncustomer.voucher = "f5"',
     "keys.customer.refund: 'f5' is already the key of customer.voucher"),
    ('app.quit = "r"', "keys.app.quit: 'r' is already the key of customer.refund"),
    ('customer.voucher = "?"', "keys.customer.voucher: '?' is already the key of app.help (Help)"),
    ('customer.refund = "escape"', "keys.customer.refund: 'esc' is already the key of customer.back"),
    ('customer.refund = "ctrl+shoe"', "keys.customer.refund: 'ctrl+shoe': 'shoe' is not a key name"),
])
def test_unknown_and_clashing_ids_are_one_line_naming_the_file(keys: str, message: str) -> None:
    with pytest.raises(KeymapError) as caught:
        resolve(f"[keys]\n{keys}\n")
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"/home/u/.config/agentdesk/config.toml: {message}"), text


def test_a_clash_in_another_place_is_no_clash() -> None:
    """``alt+r`` refunds on the customer screen and picks the refund in the adjust dialog: never both in force."""
    assert resolve('[keys]\ncustomer.refund = "alt+r"\ncustomer.adjust_refund = "alt+r"\n') == {
        "customer.refund": "alt+r", "customer.adjust_refund": "alt+r"}


def test_without_single_key_shortcuts_no_binding_keeps_a_character_key() -> None:
    keymap = resolve("single_key_shortcuts = false\n")
    for bound in declared_bindings():
        keys = keymap.get(bound.binding.id, ",".join(bound.keys)).split(",")
        assert keys and not any(is_single_character(key) for key in keys), (bound.binding.id, keys)
    # Keys with another way in lose only the letter; single letters become alt chords.
    assert keymap["customer.cursor_down"] == "down"
    assert keymap["help.close"] == "escape,f1"
    assert keymap["app.help"] == "f1"
    assert keymap["customer.refund"] == "alt+r"
    assert keymap["approvals.decline_with_reason"] == "alt+shift+d"
    assert keymap["queue.search"] == "ctrl+f"
    assert "customer.back" not in keymap  # escape is no character key


def test_without_single_key_shortcuts_a_remapped_letter_is_refused() -> None:
    with pytest.raises(KeymapError, match=r"keys\.customer\.refund: 'x' types a character, but "
                                          r"single_key_shortcuts = false; use a chord such as 'alt\+x'$"):
        resolve('single_key_shortcuts = false\n[keys]\ncustomer.refund = "x"\n')
    assert resolve('single_key_shortcuts = false\n[keys]\ncustomer.refund = "f5"\n')["customer.refund"] == "f5"


def test_every_class_with_keys_is_in_a_place() -> None:
    """A screen or widget missing from PLACES would escape the clash check; bases count through their subclasses."""
    from agentdesk.tui.keymap import PLACES, place_classes
    from tests.test_tui_app import _tui_classes

    placed = [cls for place in PLACES for cls in place_classes(place)]
    for cls in _tui_classes():
        if cls.__dict__.get("BINDINGS"):
            assert any(issubclass(other, cls) for other in placed), f"{cls.__name__} is in no place of PLACES"
