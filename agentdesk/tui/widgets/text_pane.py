"""A long text, wrapped to the pane's width and drawn with the line API.

A 5 MB body must scroll without 5 MB of widgets, and without blocking the UI
while it is wrapped: the first screenfuls are wrapped at once, the whole text in
a thread worker that hands back line spans (start, end) by message. Wrapping is
measured in terminal cells (wide characters count two), so lines never spill.

The text given is customer data: it passes through
:func:`agentdesk.domain.text.display_text` and is drawn as plain ``Text``.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import ClassVar

from rich.cells import cell_len, get_character_cell_size
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Offset, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agentdesk.domain.text import display_text

PREVIEW_CHARS = 64_000
"""Text wrapped at once when a long text arrives; the rest follows from a thread."""
PREVIEW_LINES = 300


def iter_wrap(text: str, width: int) -> Iterator[tuple[int, int]]:
    """Spans ``(start, end)`` of ``text`` lines wrapped to ``width`` cells, at spaces where possible."""
    width = max(width, 1)
    all_ascii = text.isascii()
    pos = 0
    length = len(text)
    while True:
        newline = text.find("\n", pos)
        end = length if newline == -1 else newline
        if all_ascii or text[pos:end].isascii():
            yield from _wrap_ascii(text, pos, end, width)
        else:
            yield from _wrap_cells(text, pos, end, width)
        if newline == -1:
            return
        pos = newline + 1


def _wrap_ascii(text: str, start: int, end: int, width: int) -> Iterator[tuple[int, int]]:
    pos = start
    while end - pos > width:
        cut = text.rfind(" ", pos + 1, pos + width + 1)
        if cut == -1:
            yield pos, pos + width
            pos += width
        else:
            yield pos, cut
            pos = cut + 1
    yield pos, end


def _wrap_cells(text: str, start: int, end: int, width: int) -> Iterator[tuple[int, int]]:
    pos = start
    cells = 0
    last_space = -1
    index = start
    while index < end:
        char = text[index]
        size = get_character_cell_size(char)
        if cells + size > width and index > pos:
            if last_space > pos:
                yield pos, last_space
                pos = last_space + 1
            else:
                yield pos, index
                pos = index
            cells = cell_len(text[pos:index])
            last_space = -1
            continue
        if char == " ":
            last_space = index
        cells += size
        index += 1
    yield pos, end


def wrap_spans(text: str, width: int, limit: int | None = None) -> list[tuple[int, int]]:
    spans = iter_wrap(text, width)
    return list(spans if limit is None else islice(spans, limit))


def pane_bindings(scope: str) -> list[BindingType]:
    return [
        Binding("up,k", "line_up", "Scroll up", show=False, id=f"{scope}_up"),
        Binding("down,j", "line_down", "Scroll down", show=False, id=f"{scope}_down"),
        Binding("pageup", "page_up", "Page up", show=False, id=f"{scope}_page_up"),
        Binding("pagedown,space", "page_down", "Page down", show=False, id=f"{scope}_page_down"),
        Binding("home,g", "top", "Top of text", show=False, id=f"{scope}_top"),
        Binding("end,G", "bottom", "End of text", show=False, id=f"{scope}_bottom"),
    ]


class TextPane(ScrollView, can_focus=True, inherit_bindings=False):
    """Shows one (possibly huge) text, wrapped lazily."""

    DEFAULT_CSS = """
    TextPane {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        & > .text-pane--placeholder {
            color: $text-muted;
            text-style: italic;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"text-pane--placeholder"}
    BINDINGS: ClassVar[list[BindingType]] = pane_bindings("pane.text")

    class _Wrapped(Message, bubble=False):
        def __init__(self, token: int, text: str, spans: list[tuple[int, int]]) -> None:
            super().__init__()
            self.token = token
            self.text = text
            self.spans = spans

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._raw: str | None = None
        self._text = ""
        self._spans: list[tuple[int, int]] = []
        self._width = 0
        self._token = 0
        self._complete = True
        self._placeholder = ""
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(512)
        self._base_style: Style | None = None

    @property
    def line_count(self) -> int:
        return len(self._spans)

    @property
    def wrapping(self) -> bool:
        """True while a thread is still wrapping a long text."""
        return not self._complete

    def set_text(self, text: str | None, placeholder: str = "") -> None:
        """Show ``text`` (customer data) from its first line; None shows ``placeholder``."""
        self._raw = text
        self._placeholder = placeholder
        self.scroll_to(y=0, animate=False, immediate=True, force=True)
        self._rewrap()

    def plain_lines(self) -> list[str]:
        """The wrapped lines as shown (for tests and copying)."""
        return [self._text[start:end] for start, end in self._spans]

    def _content_width(self) -> int:
        return self.scrollable_content_region.width

    def _rewrap(self) -> None:
        self._token += 1
        self._strips.clear()
        width = self._width = self._content_width()
        if width <= 0:
            return  # not laid out yet: wrapped on the first resize
        raw = self._raw
        if raw is None:
            self._text, self._spans, self._complete = "", [], True
        elif len(raw) <= PREVIEW_CHARS:
            self._text = display_text(raw)
            self._spans = wrap_spans(self._text, width)
            self._complete = True
        else:
            self._text = display_text(raw[:PREVIEW_CHARS])
            self._spans = wrap_spans(self._text, width, PREVIEW_LINES)
            self._complete = False
            self._wrap_in_thread(self._token, raw, width)
        self.virtual_size = Size(0, len(self._spans))
        self.refresh()
        self.scrolled()

    def _wrap_in_thread(self, token: int, raw: str, width: int) -> None:
        def work() -> None:
            text = display_text(raw)
            spans = wrap_spans(text, width)
            self.post_message(self._Wrapped(token, text, spans))

        self.run_worker(work, thread=True, group="text-pane-wrap", exclusive=True,
                        exit_on_error=False, description="wrap a long text")

    def _on_text_pane__wrapped(self, message: _Wrapped) -> None:
        if message.token != self._token:
            return
        self._text = message.text
        self._spans = message.spans
        self._complete = True
        self._strips.clear()
        self.virtual_size = Size(0, len(self._spans))
        self.refresh()
        self.scrolled()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.scrolled()

    def scrolled(self) -> None:
        """Called when the lines in view or their number changed; see :attr:`position_text`."""

    @property
    def position_text(self) -> str:
        """``lines 1–7 of 60,241`` (``… so far, wrapping`` while a thread still wraps)."""
        count = len(self._spans)
        if count <= self.scrollable_content_region.height and self._complete:
            return ""  # all of it is in view
        first = int(self.scroll_offset.y) + 1
        last = min(first + max(self.scrollable_content_region.height, 1) - 1, count)
        more = " so far, wrapping…" if not self._complete else ""
        return f"lines {first:,}–{last:,} of {count:,}{more}"

    def _on_resize(self, event: events.Resize) -> None:
        if self._content_width() != self._width:
            self._rewrap()
        self.place_terminal_cursor()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # --- the terminal's cursor ----------------------------------------------------

    @property
    def cursor_screen_offset(self) -> Offset:
        """The screen cell where the top line in view starts."""
        region = self.scrollable_content_region
        return Offset(region.x, region.y)

    def place_terminal_cursor(self) -> None:
        """While the pane has focus, the terminal's (hidden) cursor sits on its top line in view.

        Textual moves the terminal's cursor to ``App.cursor_position`` after every
        update of the screen; screen readers, braille displays and magnifiers that
        follow the cursor then follow the text being read.
        """
        if self.has_focus and self.is_attached and self.app.screen is self.screen:
            self.app.cursor_position = self.cursor_screen_offset

    def _on_focus(self, event: events.Focus) -> None:
        self.place_terminal_cursor()

    def render_lines(self, crop):  # noqa: ANN001, ANN201 - Textual's signature
        if self._content_width() != self._width:
            self._rewrap()  # first paint after a resize: wrap now rather than a message later
        self._base_style = self.rich_style  # computed once per paint, not once per line
        self.place_terminal_cursor()  # the pane may have moved on screen since (a layout)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base_style or self.rich_style
        row = int(self.scroll_offset.y) + y
        if not self._spans:
            if y == 0 and self._placeholder:
                text = Text(self._placeholder, end="", no_wrap=True)
                text.stylize_before(self.get_component_rich_style("text-pane--placeholder"))
                return self._finish(text, width, base)
            return Strip.blank(width, base)
        if row >= len(self._spans):
            return Strip.blank(width, base)
        key = (self._token, row, width)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        start, end = self._spans[row]
        strip = self._finish(Text(self._text[start:end], end="", no_wrap=True), width, base)
        self._strips.set(key, strip)
        return strip

    def _finish(self, text: Text, width: int, base: Style) -> Strip:
        text.stylize_before(base)
        text.truncate(width, overflow="crop")
        return Strip(text.render(self.app.console), text.cell_len).crop_extend(0, width, base)

    # --- keys -------------------------------------------------------------------

    def action_line_up(self) -> None:
        self.scroll_to(y=self.scroll_offset.y - 1, animate=False, immediate=True, force=True)

    def action_line_down(self) -> None:
        self.scroll_to(y=self.scroll_offset.y + 1, animate=False, immediate=True, force=True)

    def action_page_up(self) -> None:
        step = max(self.scrollable_content_region.height - 1, 1)
        self.scroll_to(y=self.scroll_offset.y - step, animate=False, immediate=True, force=True)

    def action_page_down(self) -> None:
        step = max(self.scrollable_content_region.height - 1, 1)
        self.scroll_to(y=self.scroll_offset.y + step, animate=False, immediate=True, force=True)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def action_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
