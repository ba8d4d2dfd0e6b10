"""Customer text is data: make it safe to show on a terminal, and still readable.

Bodies are stored exactly as received. Only what is *shown* passes through here:
control characters become visible control pictures (ESC shows as ``␛``), and
invisible format characters (bidi overrides, zero-width marks) become a visible
``‹U+202E›`` tag, so nothing can reorder, hide or restyle the text around it.
Markup is not a concern of this module: the UI never parses customer text as
markup in the first place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TAB_WIDTH = 4

# Unicode general category Cf (format characters), as ranges. Spelled out rather
# than derived from unicodedata at start-up, which would cost a scan of every
# code point; a test checks the list against this Python's unicodedata.
FORMAT_CHARACTER_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
    (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _char_class() -> str:
    parts = [r"\x00-\x09\x0b-\x1f\x7f-\x9f", "\u2028\u2029", r"\ud800-\udfff"]
    for start, end in FORMAT_CHARACTER_RANGES:
        parts.append(re.escape(chr(start)) if start == end else f"{re.escape(chr(start))}-{re.escape(chr(end))}")
    return "[" + "".join(parts) + "]"


_UNSAFE = re.compile(_char_class())


def _stand_in(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char == "\t":
        return " " * TAB_WIDTH
    if char == "\r":
        return ""  # CRLF becomes LF; a lone CR would rewind the line
    if code < 0x20:
        return chr(0x2400 + code)  # control pictures: ␀ … ␟, ␛ for ESC
    if code == 0x7F:
        return "␡"
    if code in (0x2028, 0x2029):
        return "\n"
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"  # a lone surrogate from a lenient decoder
    return f"‹U+{code:04X}›"


def display_text(text: str) -> str:
    """Text that is safe to draw: no control sequences, no invisible layout tricks.

    Newlines survive; tabs become spaces; everything else that a terminal would
    act on is shown as a visible stand-in.
    """
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_stand_in, text)


def one_line(text: str, limit: int | None = None) -> str:
    """The text on one line (line breaks shown as ``⏎``), cut to ``limit`` characters with ``…``."""
    if limit is not None and len(text) > limit * 2:
        text = text[: limit * 2]  # enough source for the visible part; avoids scanning megabytes
    flat = display_text(text).replace("\n", " ⏎ ")
    if limit is not None and len(flat) > limit:
        return flat[: max(limit - 1, 0)] + "…"
    return flat


def json_safe(encoded: str) -> str:
    """JSON text with every character a terminal would act on written as a ``\\uXXXX`` escape.

    ``json.dumps`` escapes C0 controls but passes C1 controls and bidi overrides
    through; the escaped form parses back to exactly the same string.
    """
    if _UNSAFE.search(encoded) is None:
        return encoded
    return _UNSAFE.sub(_json_escape, encoded)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def known_agents_words(agents: Sequence[tuple[str, str, str]], limit: int = 12) -> str:
    """``a-1 Katrin Hoffmann (supervisor), a-2 Markus Brandt (lead), … and 14 more``: whom ``--as`` can name."""
    shown = [f"{one_line(ident, 30)} {one_line(name, 40)} ({one_line(role, 20)})"
             for ident, name, role in agents[:limit]]
    more = f" and {len(agents) - limit} more" if len(agents) > limit else ""
    return (", ".join(shown) + more) if shown else "none (import agent records first)"
