"""Customer text is data: what a terminal would obey is shown, not obeyed."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdesk.domain.text import FORMAT_CHARACTER_RANGES, display_text, json_safe, one_line

HOSTILE = [
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://evil.invalid\x1b\\link\x1b]8;;\x1b\\",
    "abc\u202edcba",
    "pay\u200bpal",
    "bell\x07 and backspace\x08 and NUL\x00",
    "C1 CSI \x9b31m",
    "line\u2028separator",
    "carriage\rreturn",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_nothing_a_terminal_acts_on_survives(body: str) -> None:
    shown = display_text(body)
    for char in shown:
        assert char == "\n" or unicodedata.category(char) not in ("Cc", "Cf"), repr(char)


def test_stand_ins_are_visible_and_readable() -> None:
    assert display_text("\x1b[31mred") == "␛[31mred"
    assert display_text("abc\u202edcba") == "abc‹U+202E›dcba"
    assert display_text("pay\u200bpal") == "pay‹U+200B›pal"
    assert display_text("a\tb") == "a    b"
    assert display_text("one\r\ntwo") == "one\ntwo"


def test_markup_is_left_alone_as_plain_characters() -> None:
    text = "[bold]not bold[/bold] [link=http://x]click[/link] ["
    assert display_text(text) == text


def test_ordinary_text_is_returned_unchanged() -> None:
    text = "Grüße aus Nürnberg – 39,90 € 🙂\nZeile zwei"
    assert display_text(text) is text


def test_one_line_flattens_and_cuts() -> None:
    assert one_line("a\nb") == "a ⏎ b"
    assert one_line("x" * 10_000, 20) == "x" * 19 + "…"
    assert len(one_line("y" * 5_000_000, 80)) == 80


def test_format_character_list_covers_this_pythons_unicode() -> None:
    listed = {code for start, end in FORMAT_CHARACTER_RANGES for code in range(start, end + 1)}
    actual = {code for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"}
    assert actual <= listed


@given(st.text())
def test_display_text_never_leaves_controls(text: str) -> None:
    for char in display_text(text):
        assert char == "\n" or unicodedata.category(char) not in ("Cc", "Cf", "Cs")


@given(st.text())
def test_json_safe_round_trips_and_hides_controls(text: str) -> None:
    encoded = json_safe(json.dumps(text, ensure_ascii=False))
    assert json.loads(encoded) == text
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs") for ch in encoded)
