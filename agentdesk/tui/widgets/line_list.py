"""A long list drawn with Textual's line API: one strip per visible row, nothing else.

:class:`LineList` is the base of every long list in the workstation (the queue,
search results, the timeline). It knows how many rows there are, renders only
the rows in view (``render_line``), and gets the items either from a list held
in memory (:meth:`LineList.set_items`) or page by page from an async loader
(:meth:`LineList.set_source`) that runs in a worker:

* pages of :attr:`LineList.page_size` rows are fetched when a row in view needs
  them; pages missing side by side are fetched with one call; a page already on
  its way is never asked for twice;
* fetched pages live in an LRU of :attr:`LineList.max_pages` pages, rendered
  strips in a second LRU;
* a row whose page is still loading shows a placeholder ``…``;
* the cursor row carries a visible ``▶`` marker besides its highlight, so it is
  found without colour; while the list has focus the terminal's own cursor sits
  on that marker (:meth:`LineList.place_terminal_cursor`).

Workers only fetch and post a message; the message handlers own the state.

After every :meth:`~LineList.set_source`, :meth:`~LineList.set_items` or jump,
the list posts :class:`LineList.Painted` once the rows in view have been drawn
with data (the message is posted from ``call_after_refresh``), and
:meth:`LineList.wait_painted` returns then. Benchmarks and tests wait on either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, Generic, TypeVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Offset, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

ItemT = TypeVar("ItemT")

Loader = Callable[[int, int], Awaitable[Sequence[ItemT]]]
"""``await loader(offset, limit)``: the items ``offset … offset + limit - 1`` (fewer at the end)."""

CURSOR_MARKER = "▶ "
NO_MARKER = "  "
MARKER_WIDTH = 2
PLACEHOLDER = "…"


def list_bindings(scope: str, *, open_description: str = "Open", noun: str = "row",
                  open_keys: str = "enter", open_id: str = "open") -> list[BindingType]:
    """The movement keys of a line list, with ids under ``scope`` (e.g. ``queue.cursor_down``)."""
    return [
        Binding("up,k", "cursor_up", f"Previous {noun}", show=False, id=f"{scope}.cursor_up"),
        Binding("down,j", "cursor_down", f"Next {noun}", show=False, id=f"{scope}.cursor_down"),
        Binding("pageup", "page_up", "Page up", show=False, id=f"{scope}.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id=f"{scope}.page_down"),
        Binding("home,g", "jump_start", "Jump to start", show=False, id=f"{scope}.jump_start"),
        Binding("end,G", "jump_end", "Jump to end", show=False, id=f"{scope}.jump_end"),
        Binding(open_keys, "select", open_description, id=f"{scope}.{open_id}"),
    ]


class LineList(ScrollView, Generic[ItemT], can_focus=True, inherit_bindings=False):
    """A cursor list over ``row_count`` rows, rendered line by line."""

    DEFAULT_CSS = """
    LineList {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;  /* always there: opening a long list needs no second layout */
        scrollbar-size-vertical: 1;
        & > .line-list--header {
            color: $text-muted;
            background: $boost;
            text-style: bold;
        }
        & > .line-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .line-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .line-list--placeholder {
            color: $text-muted;
        }
        & > .line-list--message {
            color: $text-muted;
            text-style: italic;
        }
        & > .line-list--muted {
            color: $text-muted;
        }
        & > .line-list--accent {
            color: $text-accent;
        }
        & > .line-list--warning {
            color: $text-warning;
            text-style: bold;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-list--header",
        "line-list--cursor",
        "line-list--placeholder",
        "line-list--message",
        "line-list--muted",
        "line-list--accent",
        "line-list--warning",
    }

    BINDINGS: ClassVar[list[BindingType]] = list_bindings("list")

    page_size: ClassVar[int] = 200
    """Rows fetched per page."""
    max_pages: ClassVar[int] = 50
    """Pages kept in the LRU."""
    header_rows: ClassVar[int] = 0
    """1 when the list draws a column header (see :meth:`render_header`) above the rows."""
    rows_before: ClassVar[int] = 0
    """Rows above a row that its drawing reads (the timeline's gap marker reads the one before): fetched with
    the rows in view, and a row is kept in the strip cache only once they are loaded."""

    loading_message: str = "Loading…"
    empty_message: str = "Nothing here."

    # --- messages -----------------------------------------------------------------

    class Highlighted(Message):
        """The cursor moved (``item`` is None while its page is loading; it is posted again when it arrives)."""

        def __init__(self, line_list: LineList, row: int, item: object | None) -> None:
            super().__init__()
            self.line_list = line_list
            self.row = row
            self.item = item

        @property
        def control(self) -> LineList:
            return self.line_list

    class Selected(Message):
        """Enter (or a double click) on a row whose item is loaded."""

        def __init__(self, line_list: LineList, row: int, item: object) -> None:
            super().__init__()
            self.line_list = line_list
            self.row = row
            self.item = item

        @property
        def control(self) -> LineList:
            return self.line_list

    class Painted(Message):
        """The rows in view were drawn with data after an open (set_source / set_items) or a jump."""

        def __init__(self, line_list: LineList, first: int, last: int, serial: int) -> None:
            super().__init__()
            self.line_list = line_list
            self.first = first
            """First row in view (0-based)."""
            self.last = last
            """Last row in view (0-based, inclusive; -1 when the list is empty)."""
            self.serial = serial

        @property
        def control(self) -> LineList:
            return self.line_list

    class _PagesLoaded(Message, bubble=False):
        def __init__(self, generation: int, first_page: int, pages: int, items: list) -> None:
            super().__init__()
            self.generation = generation
            self.first_page = first_page
            self.pages = pages
            self.items = items

    class _PagesFailed(Message, bubble=False):
        def __init__(self, generation: int, first_page: int, pages: int, error: BaseException) -> None:
            super().__init__()
            self.generation = generation
            self.first_page = first_page
            self.pages = pages
            self.error = error

    # --- set-up -------------------------------------------------------------------

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._count = 0
        self._ready = False
        self._items: Sequence[ItemT] | None = None
        self._loader: Loader | None = None
        self._pages: LRUCache[int, list[ItemT]] = LRUCache(self.max_pages)
        self._in_flight: set[int] = set()
        self._strips: LRUCache[tuple, Strip] = LRUCache(1024)
        self._generation = 0
        self.cursor = 0
        self.fetch_calls = 0
        """How many reads of rows were made, preloaded ones included (for tests and benchmarks)."""
        self._paint_requested = 0
        self._painted = 0
        self._paint_scheduled = 0
        self._paint_event = asyncio.Event()
        self._base_style: Style | None = None
        self._text_styles: dict[str, Style] = {}
        self._pending_scroll: str | None = None

    # --- data ---------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return self._count

    @property
    def is_ready(self) -> bool:
        """True once a source or items were given (the list may still be empty)."""
        return self._ready

    def set_items(self, items: Sequence[ItemT], cursor: int | str | None = None) -> None:
        """Show ``items`` held in memory. ``cursor``: a row, ``"start"``, ``"end"`` or None (keep the row)."""
        self._reset(len(items))
        self._items = items
        self._place_cursor(cursor)

    def set_source(self, count: int, loader: Loader, cursor: int | str | None = "start",
                   preloaded: tuple[int, Sequence[ItemT]] | None = None) -> None:
        """Show ``count`` rows fetched lazily by ``loader``.

        ``preloaded`` is ``(offset, items)`` read by the caller together with the
        count (offset on a page boundary, e.g. from :meth:`tail_window`): those
        pages are cached at once, so the first paint needs no further read.
        """
        self._reset(count)
        self._loader = loader
        if preloaded is not None:
            offset, items = preloaded
            if offset % self.page_size:
                raise ValueError(f"preloaded rows must start on a page boundary, not {offset}")
            self.fetch_calls += 1
            first_page = offset // self.page_size
            for index in range(0, max(len(items), 1), self.page_size):
                chunk = list(items[index:index + self.page_size])
                if chunk:
                    self._pages.set(first_page + index // self.page_size, chunk)
        self._place_cursor(cursor)

    @classmethod
    def tail_window(cls, count: int, rows: int = 80) -> tuple[int, int]:
        """``(offset, limit)`` of the whole pages holding the last ``rows`` rows: one read paints the end."""
        if count <= 0:
            return 0, 0
        first_page = max(count - rows, 0) // cls.page_size
        last_page = (count - 1) // cls.page_size
        return first_page * cls.page_size, (last_page - first_page + 1) * cls.page_size

    def item_at(self, row: int) -> ItemT | None:
        """The item of ``row`` if it is loaded (never triggers a fetch)."""
        if not 0 <= row < self._count:
            return None
        if self._items is not None:
            return self._items[row]
        page = self._pages.get(row // self.page_size)
        if page is None:
            return None
        index = row % self.page_size
        return page[index] if index < len(page) else None

    @property
    def cursor_item(self) -> ItemT | None:
        return self.item_at(self.cursor)

    def loaded_pages(self) -> list[int]:
        return sorted(self._pages.keys())

    def _reset(self, count: int) -> None:
        self._generation += 1
        self._count = count
        self._ready = True
        self._items = None
        self._loader = None
        self._pages.clear()
        self._in_flight.clear()
        self._strips.clear()
        self._set_height(count + self.header_rows)

    def _set_height(self, rows: int) -> None:
        """The virtual height; the width stays 0 (rows are cut to the view), so a resize needs no relayout."""
        if self.virtual_size.height != rows or self.virtual_size.width:
            self.virtual_size = Size(0, rows)

    def _place_cursor(self, cursor: int | str | None) -> None:
        if cursor == "start":
            row = 0
        elif cursor == "end":
            row = self._count - 1
        elif cursor is None:
            row = self.cursor
        else:
            row = int(cursor)
        self._request_paint()
        self.move_cursor(row, force=True, anchor="end" if cursor == "end" else None)
        self.scrolled()
        self.refresh()

    # --- geometry -----------------------------------------------------------------

    @property
    def view_rows(self) -> int:
        """How many data rows fit in view."""
        return max(self.scrollable_content_region.height - self.header_rows, 0)

    @property
    def first_visible_row(self) -> int:
        return int(self.scroll_offset.y)

    @property
    def visible_range(self) -> tuple[int, int]:
        """First and last row in view (inclusive); ``(0, -1)`` when nothing is."""
        first = min(self.first_visible_row, max(self._count - 1, 0))
        last = min(first + self.view_rows, self._count) - 1
        return first, last

    # --- cursor -------------------------------------------------------------------

    def move_cursor(self, row: int, *, force: bool = False, anchor: str | None = None) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view."""
        row = max(0, min(row, self._count - 1)) if self._count else 0
        old = self.cursor
        self.cursor = row
        if old != row or force:
            self._refresh_row(old)
            self._refresh_row(row)
            self.post_message(self.Highlighted(self, row, self.item_at(row)))
        self.scroll_cursor_into_view(anchor=anchor)
        self._fetch_window()  # now, not at the next paint: the read overlaps the redraw
        self.place_terminal_cursor()

    def scroll_cursor_into_view(self, anchor: str | None = None) -> None:
        view = self.view_rows
        if view <= 0:
            # not laid out yet: done at the first paint, before any row is fetched
            self._pending_scroll = anchor or "visible"
            return
        self._pending_scroll = None
        top = self.first_visible_row
        row = self.cursor
        if anchor == "end":
            target = row - view + 1
        elif row < top:
            target = row
        elif row >= top + view:
            target = row - view + 1
        else:
            return
        self.scroll_to(y=max(target, 0), animate=False, immediate=True, force=True)

    def _refresh_row(self, row: int) -> None:
        self.refresh_line(row + self.header_rows)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self._request_paint()
        self.move_cursor(self.cursor - max(self.view_rows - 1, 1))

    def action_page_down(self) -> None:
        self._request_paint()
        self.move_cursor(self.cursor + max(self.view_rows - 1, 1))

    def action_jump_start(self) -> None:
        self._request_paint()
        self.move_cursor(0)
        self.scroll_to(y=0, animate=False, immediate=True, force=True)
        self._fetch_window()
        self._check_painted()

    def action_jump_end(self) -> None:
        self._request_paint()
        self.move_cursor(self._count - 1, anchor="end")
        self._check_painted()

    def action_select(self) -> None:
        item = self.cursor_item
        if item is not None:
            self.post_message(self.Selected(self, self.cursor, item))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = self.first_visible_row + offset.y - self.header_rows
        if offset.y < self.header_rows or not 0 <= row < self._count:
            return
        self.move_cursor(row)
        if event.chain >= 2:
            self.action_select()

    # --- painting signal ----------------------------------------------------------

    def _request_paint(self) -> None:
        self._paint_requested += 1
        self._paint_event.clear()

    def _window_loaded(self) -> bool:
        if not self._ready:
            return False
        if self._items is not None or self._count == 0:
            return True
        first, last = self.visible_range
        first = max(first - self.rows_before, 0)
        for page in range(first // self.page_size, last // self.page_size + 1):
            if page not in self._pages:
                return False
        return True

    def _check_painted(self) -> None:
        serial = self._paint_requested
        if serial <= self._painted or serial <= self._paint_scheduled:
            return
        if self.size.height <= 0 or not self._window_loaded():
            return
        self._paint_scheduled = serial
        self.call_after_refresh(self._announce_painted, serial)

    def _announce_painted(self, serial: int) -> None:
        if serial < self._paint_requested and not self._window_loaded():
            return
        self._painted = max(self._painted, serial)
        if self._painted >= self._paint_requested:
            self._paint_event.set()
        first, last = self.visible_range
        self.post_message(self.Painted(self, first, last, serial))

    @property
    def painted(self) -> bool:
        """True when the rows in view have been drawn with data since the last open or jump."""
        return self._ready and self._painted >= self._paint_requested

    async def wait_painted(self) -> None:
        """Return once the rows in view were drawn with data after the last open or jump."""
        while not self.painted:
            await self._paint_event.wait()

    # --- fetching -----------------------------------------------------------------

    def _fetch_window(self) -> None:
        """Ask for the pages of the rows in view that are neither cached nor on their way."""
        if self._loader is None or self._count == 0:
            return
        first, last = self.visible_range
        if last < first:
            return
        first = max(first - self.rows_before, 0)
        run: list[int] = []
        for page in range(first // self.page_size, last // self.page_size + 1):
            if page in self._pages or page in self._in_flight:
                if run:
                    self._fetch(run[0], len(run))
                    run = []
                continue
            run.append(page)
        if run:
            self._fetch(run[0], len(run))

    def _fetch(self, first_page: int, pages: int) -> None:
        loader = self._loader
        assert loader is not None
        generation = self._generation
        self._in_flight.update(range(first_page, first_page + pages))
        self.fetch_calls += 1
        self.run_worker(
            self._load(loader, generation, first_page, pages),
            group="line-list-pages",
            exit_on_error=False,
            description=f"rows {first_page * self.page_size}+{pages * self.page_size}",
        )

    async def _load(self, loader: Loader, generation: int, first_page: int, pages: int) -> None:
        """Worker: fetch, then hand the rows to the widget by message. Touches no widget state."""
        try:
            items = list(await loader(first_page * self.page_size, pages * self.page_size))
        except Exception as error:  # noqa: BLE001 - shown to the user, the list stays usable
            self.post_message(self._PagesFailed(generation, first_page, pages, error))
            return
        self.post_message(self._PagesLoaded(generation, first_page, pages, items))

    def _on_line_list__pages_loaded(self, message: _PagesLoaded) -> None:
        if message.generation != self._generation:
            return
        size = self.page_size
        for index in range(message.pages):
            page = message.first_page + index
            self._in_flight.discard(page)
            chunk = message.items[index * size:(index + 1) * size]
            if chunk or page * size < self._count:
                self._pages.set(page, chunk)
        first_row = message.first_page * size
        self.refresh()
        if first_row <= self.cursor < first_row + message.pages * size:
            self.post_message(self.Highlighted(self, self.cursor, self.item_at(self.cursor)))
        self._check_painted()

    def _on_line_list__pages_failed(self, message: _PagesFailed) -> None:
        if message.generation != self._generation:
            return
        for page in range(message.first_page, message.first_page + message.pages):
            self._in_flight.discard(page)
        self.notify(f"Could not read rows: {message.error}", severity="error", markup=False)

    # --- rendering ----------------------------------------------------------------

    def render_header(self, width: int) -> Text:
        """The column header (when :attr:`header_rows` is 1), after the marker column."""
        return Text()

    def render_row(self, item: ItemT, row: int, width: int) -> Text:
        """One row, ``width`` cells wide, after the marker column. Build it from plain strings."""
        return Text(str(item))

    def row_style(self, item: ItemT, row: int) -> Style | None:
        """A style under the whole row (e.g. for internal events); None for the default."""
        return None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._text_styles.clear()

    def _on_focus(self, event: events.Focus) -> None:
        self._refresh_row(self.cursor)
        self.place_terminal_cursor()

    def _on_blur(self, event: events.Blur) -> None:
        self._refresh_row(self.cursor)

    def _on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.scroll_cursor_into_view()
        self.scrolled()
        self._check_painted()
        self.place_terminal_cursor()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.scrolled()
            self.place_terminal_cursor()

    # --- the terminal's cursor ----------------------------------------------------

    @property
    def cursor_screen_offset(self) -> Offset:
        """The screen cell of the cursor row's ``▶`` (kept inside the rows in view when the row is not)."""
        region = self.scrollable_content_region
        first = region.y + self.header_rows
        last = max(region.bottom - 1, first)
        return Offset(region.x, min(max(first + self.cursor - self.first_visible_row, first), last))

    def place_terminal_cursor(self) -> None:
        """While this list has focus, the terminal's own cursor sits on the cursor row.

        Textual keeps the terminal's cursor hidden, but moves it to
        ``App.cursor_position`` after every update of the screen (as its ``Input``
        and ``TextArea`` do for their text cursor): screen readers, braille displays
        and magnifiers that follow the cursor then follow the cursor row.
        """
        if self.has_focus and self.is_attached and self.app.screen is self.screen:
            self.app.cursor_position = self.cursor_screen_offset

    def scrolled(self) -> None:
        """Called when the rows in view changed; subclasses update titles here."""

    def render_lines(self, crop):  # noqa: ANN001, ANN201 - Textual's signature
        if self._pending_scroll is not None and self.view_rows > 0:
            anchor = self._pending_scroll
            self.scroll_cursor_into_view(anchor=None if anchor == "visible" else anchor)
        self._fetch_window()
        self._base_style = self.rich_style  # computed once per paint, not once per line
        self.place_terminal_cursor()  # the list may have moved on screen since (a layout)
        strips = super().render_lines(crop)
        self._check_painted()
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base_style or self.rich_style
        if y < self.header_rows:
            text = Text(NO_MARKER, end="", no_wrap=True)
            text.append_text(self.render_header(max(self.scrollable_content_region.width - MARKER_WIDTH, 0)))
            text.stylize_before(self.get_component_rich_style("line-list--header"))
            return self._finish(text, width, base)
        row = self.first_visible_row + y - self.header_rows
        if not self._ready:
            return self._message_line(self.loading_message, y, width, base)
        if self._count == 0:
            return self._message_line(self.empty_message, y, width, base)
        if row >= self._count:
            return Strip.blank(width, base)
        is_cursor = row == self.cursor
        key = (self._generation, row, width)
        if not is_cursor:
            cached = self._strips.get(key)
            if cached is not None:
                return cached
        item = self.item_at(row)
        content_width = max(self.scrollable_content_region.width - MARKER_WIDTH, 0)
        text = Text(CURSOR_MARKER if is_cursor else NO_MARKER, end="", no_wrap=True)
        if item is None:
            text.append(PLACEHOLDER, self.component_text_style("line-list--placeholder"))
        else:
            text.append_text(self.render_row(item, row, content_width))
            under = self.row_style(item, row)
            if under is not None:
                text.stylize_before(under)
        if is_cursor:
            # on top of the row's own colours, so the highlighted row always reads clearly
            text.pad_right(max(content_width + MARKER_WIDTH - text.cell_len, 0))
            text.stylize(self.get_component_rich_style("line-list--cursor"))
        strip = self._finish(text, width, base)
        if item is not None and not is_cursor and self._rows_before_loaded(row):
            self._strips.set(key, strip)
        return strip

    def _rows_before_loaded(self, row: int) -> bool:
        return all(self.item_at(before) is not None for before in range(max(row - self.rows_before, 0), row))

    def _message_line(self, message: str, y: int, width: int, base: Style) -> Strip:
        if y != self.header_rows:
            return Strip.blank(width, base)
        text = Text(NO_MARKER + message, end="", no_wrap=True)
        text.stylize_before(self.get_component_rich_style("line-list--message"))
        return self._finish(text, width, base)

    def _finish(self, text: Text, width: int, base: Style) -> Strip:
        text.stylize_before(base)
        text.truncate(width, overflow="crop")
        strip = Strip(text.render(self.app.console), text.cell_len)
        return strip.crop_extend(0, width, base)

    # helpers for subclasses ---------------------------------------------------------

    def style(self, component: str) -> Style:
        """A component's text style (no background) by its short name: ``muted``, ``accent``, ``warning``."""
        return self.component_text_style(f"line-list--{component}")

    def component_text_style(self, component: str) -> Style:
        """The colour and text attributes of a component class, without its background.

        Row parts carry only these, so the row's background (plain, or the cursor's
        highlight) shows through every cell of the row.
        """
        style = self._text_styles.get(component)
        if style is None:
            full = self.get_component_rich_style(component)
            style = self._text_styles[component] = Style(
                color=full.color, bold=full.bold, italic=full.italic, dim=full.dim,
                underline=full.underline, strike=full.strike, reverse=full.reverse)
        return style
