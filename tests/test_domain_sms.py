"""SMS length: GSM-7 or UCS-2, units and parts, with known values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdesk.domain.sms import GSM7_BASIC, GSM7_EXTENSION, SmsLength, segments


@pytest.mark.parametrize(("text", "expected"), [
    ("", SmsLength("GSM-7", 0, 0, 160)),
    ("a" * 160, SmsLength("GSM-7", 160, 1, 0)),
    ("a" * 161, SmsLength("GSM-7", 161, 2, 145)),
    ("a" * 306, SmsLength("GSM-7", 306, 2, 0)),
    ("a" * 307, SmsLength("GSM-7", 307, 3, 152)),
    ("€", SmsLength("GSM-7", 2, 1, 158)),
    ("a" * 158 + "€", SmsLength("GSM-7", 160, 1, 0)),
    ("a" * 159 + "€", SmsLength("GSM-7", 161, 2, 145)),
    ("Grüße aus Nürnberg", SmsLength("GSM-7", 18, 1, 142)),
    ("ç", SmsLength("GSM-7", 1, 1, 159)),
    ("Ça va? {ok} [x] ~ | ^ \\", SmsLength("GSM-7", 31, 1, 129)),
    ("😀", SmsLength("UCS-2", 2, 1, 68)),
    ("a😀", SmsLength("UCS-2", 3, 1, 67)),
    ("ж" * 70, SmsLength("UCS-2", 70, 1, 0)),
    ("ж" * 71, SmsLength("UCS-2", 71, 2, 63)),
    ("Grüße € 😀", SmsLength("UCS-2", 10, 1, 60)),  # in UCS-2 the euro sign is one unit like any other
])
def test_known_lengths(text: str, expected: SmsLength):
    assert segments(text) == expected


def test_a_character_never_straddles_two_parts():
    # 152 units, then the euro sign's two would cross the 153 boundary: it starts the second part
    assert segments("a" * 152 + "€" + "a" * 7) == SmsLength("GSM-7", 161, 2, 144)
    # the same for an emoji's two UTF-16 units at the 67 boundary
    assert segments("ж" * 66 + "😀" + "ж" * 4) == SmsLength("UCS-2", 72, 2, 61)


def test_the_gsm_tables_are_the_default_alphabet_and_its_extension():
    assert len(GSM7_BASIC) == 127 + 1  # 128 codes less the escape, and 0x09 read as both Ç and ç
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert {"`", "À", "\x1b", "\t"}.isdisjoint(GSM7_BASIC | GSM7_EXTENSION)


@given(st.text(max_size=1200))
def test_parts_hold_every_unit_and_leave_what_they_say(text: str):
    length = segments(text)
    single, part = (160, 153) if length.encoding == "GSM-7" else (70, 67)
    capacity = single if length.segments <= 1 else part * length.segments
    assert length.units + length.left_in_segment <= capacity
    if length.segments > 1:
        assert length.units > single
        assert capacity - length.units - length.left_in_segment < length.segments  # a unit lost at most per boundary
